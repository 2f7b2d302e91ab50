"""Workers review requesters, on Turkopticon's four dimensions, beside figures the platform
computes itself: effective hourly pay, days to payment, rejection rate.

A member who worked for a requester may rate them 1-5 on communicativity, generosity,
fairness and promptness: one review per member and requester, which they may edit. Members
see aggregates only, never who wrote what: the reviewer is stored solely to keep one review
each. An average over fewer than ``K_REVIEWS`` reviews is withheld (``disclosure.rules``),
and so is an objective figure resting on fewer than ``K_REVIEWS`` members.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from datacoop.clock import Clock
from datacoop.disclosure.rules import Figure, publish
from datacoop.errors import NotFound, PermissionDenied, ValidationFailed
from datacoop.members.models import Member, Role
from datacoop.pay import rules
from datacoop.pay import services as pay
from datacoop.pay.models import (
    Account,
    AccountKind,
    PiecePayment,
    Posting,
    PostingLine,
    Rejection,
    RejectionState,
    RequesterFigures,
    RequesterReview,
)
from datacoop.projects.models import Project
from datacoop.work.models import Assignment, Submission

DIMENSIONS = ("communicativity", "generosity", "fairness", "promptness")
K_REVIEWS = 3  # fewer reviews (or members) than this: say so instead of a number
SECONDS_PER_DAY = 86_400


def check_ratings(ratings: dict[str, Any]) -> dict[str, int]:
    """Each dimension an integer from 1 to 5; every bad field named."""
    errors = []
    for name in DIMENSIONS:
        value = ratings.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            errors.append({"field": name, "message": "must be an integer from 1 to 5"})
    if errors:
        raise ValidationFailed(
            "; ".join(f"{e['field']}: {e['message']}" for e in errors), details=errors
        )
    return {name: int(ratings[name]) for name in DIMENSIONS}


def get_requester(session: Session, requester_id: int) -> Member:
    found = session.get(Member, requester_id)
    if found is None or found.role is not Role.requester:
        raise NotFound(f"no requester with id {requester_id}")
    return found


def _worked_for(session: Session, member_id: int, requester_id: int) -> bool:
    owned = select(Project.id).where(Project.owner_id == requester_id)
    return bool(
        session.scalar(
            select(
                exists().where(Submission.member_id == member_id, Submission.project_id.in_(owned))
            )
        )
    )


def review(
    session: Session, clock: Clock, reviewer: Member, requester_id: int, ratings: dict[str, Any]
) -> RequesterReview:
    """Add or edit the reviewer's one review of a requester they have worked for."""
    values = check_ratings(ratings)
    requester = get_requester(session, requester_id)
    if not _worked_for(session, reviewer.id, requester.id):
        raise PermissionDenied("you can review only requesters you have worked for")
    now = clock.now()
    found = own_review(session, reviewer, requester.id)
    if found is None:
        new = RequesterReview(
            requester_id=requester.id,
            reviewer_id=reviewer.id,
            created_at=now,
            updated_at=now,
            **values,
        )
        try:
            with session.begin_nested():  # a concurrent first review by the same member
                session.add(new)
            return new
        except IntegrityError:
            found = own_review(session, reviewer, requester.id)
            assert found is not None
    for name, value in values.items():
        setattr(found, name, value)
    found.updated_at = now
    session.flush()
    return found


def own_review(session: Session, reviewer: Member, requester_id: int) -> RequesterReview | None:
    return session.scalar(
        select(RequesterReview).where(
            RequesterReview.requester_id == requester_id,
            RequesterReview.reviewer_id == reviewer.id,
        )
    )


def own_reviews(
    session: Session, reviewer: Member, requester_ids: set[int]
) -> dict[int, RequesterReview]:
    """The reviewer's own reviews of these requesters, in one query (the dashboard's forms)."""
    if not requester_ids:
        return {}
    found = session.scalars(
        select(RequesterReview).where(
            RequesterReview.reviewer_id == reviewer.id,
            RequesterReview.requester_id.in_(sorted(requester_ids)),
        )
    )
    return {r.requester_id: r for r in found}


@dataclass(frozen=True)
class RequesterSummary:
    """What members see about a requester: aggregates only, never a reviewer."""

    requester_id: int
    pseudonym: str
    currency: str
    reviews: int
    ratings: dict[str, Figure[float]]  # mean of each dimension, 2 decimals
    effective_hourly: Figure[int]  # minor units per hour, over every member paid
    days_to_payment: Figure[float]  # median, submission to its piece payment
    rejection_rate: Figure[float]  # rejections that stand ÷ submissions


def summary(session: Session, clock: Clock, requester_id: int) -> RequesterSummary:
    """One requester's summary (``summaries`` of one); 404 when it is not a requester."""
    found = summaries(session, clock, [requester_id]).get(requester_id)
    if found is None:
        raise NotFound(f"no requester with id {requester_id}")
    return found


def summaries(
    session: Session, clock: Clock, requester_ids: Iterable[int]
) -> dict[int, RequesterSummary]:
    """The summary of every requester among ``requester_ids`` (other ids are left out), in
    a fixed number of statements however many there are: a page lists many requesters.

    Ratings and rejections are counted live; effective hourly and days to payment are
    read from ``RequesterFigures``, i.e. as of the requester's last settlement (or fraud
    decision): they change only then, and recomputing them on every view read every
    payment and assignment of the requester. ``clock`` is kept for callers: the time
    those figures counted up to is the settlement's."""
    ids = sorted(set(requester_ids))
    if not ids:
        return {}
    requesters = session.scalars(
        select(Member).where(Member.id.in_(ids), Member.role == Role.requester)
    ).all()
    if not requesters:
        return {}
    ids = [r.id for r in requesters]
    currency = pay.current_policy(session).currency
    ratings = _ratings(session, ids)
    rejections = _rejections(session, ids)
    figures = {
        f.requester_id: f
        for f in session.scalars(
            select(RequesterFigures).where(RequesterFigures.requester_id.in_(ids))
        )
    }
    found = {}
    for r in requesters:
        count, means = ratings.get(r.id, (0, {}))
        figure = figures.get(r.id)
        if figure is not None and figure.currency != currency:
            figure = None  # the policy's currency changed since: nothing in it settled yet
        found[r.id] = RequesterSummary(
            requester_id=r.id,
            pseudonym=r.pseudonym,
            currency=currency,
            reviews=count,
            ratings={
                name: publish(means.get(name), people=count, k=K_REVIEWS) for name in DIMENSIONS
            },
            effective_hourly=_effective_hourly(figure),
            days_to_payment=_days_to_payment(figure),
            rejection_rate=rejections.get(r.id, publish(None, people=0, k=K_REVIEWS)),
        )
    return found


def _ratings(session: Session, ids: list[int]) -> dict[int, tuple[int, dict[str, float]]]:
    """Per requester: how many reviews, and each dimension's mean to 2 decimals. Sums, not
    SQL ``AVG``: PostgreSQL averages integers as ``numeric``, and integer sum ÷ count in
    Python is the same float on both backends (and the same as ``statistics.fmean``)."""
    rows = session.execute(
        select(
            RequesterReview.requester_id,
            func.count(),
            *(func.sum(getattr(RequesterReview, d)) for d in DIMENSIONS),
        )
        .where(RequesterReview.requester_id.in_(ids))
        .group_by(RequesterReview.requester_id)
    ).all()
    return {
        int(rid): (
            int(n),
            {
                name: round(int(total) / int(n), 2)
                for name, total in zip(DIMENSIONS, sums, strict=True)
            },
        )
        for rid, n, *sums in rows
        if n
    }


def _rejections(session: Session, ids: list[int]) -> dict[int, Figure[float]]:
    """Per requester: rejections that stand ÷ submissions over their projects, from as many
    members as submitted. Overturned rejections count neither against the member nor for
    the requester's rate."""
    rejected = {
        int(owner): int(n)
        for owner, n in session.execute(
            select(Project.owner_id, func.count())
            .select_from(Rejection)
            .join(Project, Project.id == Rejection.project_id)
            .where(Project.owner_id.in_(ids), Rejection.state != RejectionState.overturned)
            .group_by(Project.owner_id)
        )
    }
    found = {}
    for owner, submitted, people in session.execute(
        select(Project.owner_id, func.count(), func.count(func.distinct(Submission.member_id)))
        .select_from(Submission)
        .join(Project, Project.id == Submission.project_id)
        .where(Project.owner_id.in_(ids))
        .group_by(Project.owner_id)
    ):
        value = round(rejected.get(int(owner), 0) / int(submitted), 3) if submitted else None
        found[int(owner)] = publish(value, people=int(people), k=K_REVIEWS)
    return found


def _effective_hourly(figures: RequesterFigures | None) -> Figure[int]:
    if figures is None:
        return publish(None, people=0, k=K_REVIEWS)
    value = rules.effective_hourly(figures.paid_total, figures.active_ms)
    return publish(value, people=figures.paid_members, k=K_REVIEWS)


def _days_to_payment(figures: RequesterFigures | None) -> Figure[float]:
    if figures is None or figures.payment_delay_median_s is None:
        return publish(None, people=0, k=K_REVIEWS)
    days = round(figures.payment_delay_median_s / SECONDS_PER_DAY, 1)
    return publish(days, people=figures.payment_people, k=K_REVIEWS)


# -- the settled figures -------------------------------------------------------------------


def refresh_figures(session: Session, clock: Clock, requester_id: int) -> RequesterFigures:
    """Recompute a requester's settled figures over all their projects and store them; run
    by settlement and by a fraud decision, the only changes that move them. A few grouped
    statements whatever the number of projects; flushes, never commits.

    effective hourly = Σ paid to members' payable accounts (piece, top-up, withheld and
    clawed back: ``settlement.PAID_KINDS``, the policy's currency) ÷ counted active time
    (finished assignments and expired leases, fraud excluded, up to now); days to payment
    = the median, over piece payments, of the payment's time minus the submission's.
    """
    # settlement imports this module (it refreshes the figures): import it late.
    from datacoop.pay import settlement

    currency = pay.current_policy(session).currency
    now = clock.now()
    owned = select(Project.id).where(Project.owner_id == requester_id)
    per_member = (
        select(func.sum(PostingLine.amount).label("total"))
        .join(Posting, Posting.id == PostingLine.posting_id)
        .join(Account, Account.id == PostingLine.account_id)
        .where(
            Posting.project_id.in_(owned),
            Posting.kind.in_(settlement.PAID_KINDS),
            Account.kind == AccountKind.payable,
            Account.currency == currency,
        )
        .group_by(Account.member_id)
        .subquery()
    )
    paid_members, paid_total = session.execute(
        select(func.count(), func.coalesce(func.sum(per_member.c.total), 0))
    ).one()
    active_ms = session.scalar(
        select(func.coalesce(func.sum(Assignment.active_ms), 0)).where(
            Assignment.project_id.in_(owned),
            settlement.counted_time(now),
            ~settlement.fraud_clause(),
        )
    )
    delays, people = _payment_delays(session, owned)
    values = {
        "currency": currency,
        "paid_total": int(paid_total or 0),
        "paid_members": int(paid_members or 0),
        "active_ms": int(active_ms or 0),
        "payment_delay_median_s": round(statistics.median(delays)) if delays else None,
        "payment_people": people,
        "computed_at": now,
    }
    found = session.get(RequesterFigures, requester_id)
    if found is None:
        found = RequesterFigures(requester_id=requester_id, **values)
        try:
            with session.begin_nested():  # two of the requester's projects settling at once
                session.add(found)
            return found
        except IntegrityError:
            found = session.get(RequesterFigures, requester_id, populate_existing=True)
            assert found is not None
    for name, value in values.items():
        setattr(found, name, value)
    session.flush()
    return found


def _payment_delays(session: Session, owned: Any) -> tuple[list[float], int]:
    """Seconds from each paid submission to its piece payment, and from how many members.
    Differences are taken in Python: date arithmetic differs between the backends, and this
    runs at settlement, not per view."""
    rows = session.execute(
        select(PiecePayment.member_id, Submission.created_at, Posting.created_at)
        .join(Submission, Submission.id == PiecePayment.submission_id)
        .join(Posting, Posting.id == PiecePayment.posting_id)
        .where(PiecePayment.project_id.in_(owned))
    ).all()
    delays = [(paid - made).total_seconds() for _, made, paid in rows]
    return delays, len({m for m, _, _ in rows})
