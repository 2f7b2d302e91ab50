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
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from datacoop.clock import Clock
from datacoop.disclosure.rules import Figure, publish
from datacoop.errors import NotFound, PermissionDenied, ValidationFailed
from datacoop.members.models import Member, Role
from datacoop.pay import appeals, rules, settlement
from datacoop.pay import services as pay
from datacoop.pay.models import (
    Account,
    AccountKind,
    PiecePayment,
    Posting,
    PostingLine,
    RequesterReview,
)
from datacoop.projects.models import Project
from datacoop.work.models import Submission

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
    requester = get_requester(session, requester_id)
    currency = pay.current_policy(session).currency
    rows = session.execute(
        select(*(getattr(RequesterReview, d) for d in DIMENSIONS)).where(
            RequesterReview.requester_id == requester.id
        )
    ).all()
    ratings = {
        name: publish(
            round(statistics.fmean(r[i] for r in rows), 2) if rows else None,
            people=len(rows),
            k=K_REVIEWS,
        )
        for i, name in enumerate(DIMENSIONS)
    }
    projects = list(session.scalars(select(Project).where(Project.owner_id == requester.id)))
    return RequesterSummary(
        requester_id=requester.id,
        pseudonym=requester.pseudonym,
        currency=currency,
        reviews=len(rows),
        ratings=ratings,
        effective_hourly=_effective_hourly(session, clock, projects, currency),
        days_to_payment=_days_to_payment(session, projects),
        rejection_rate=_rejection_rate(session, requester.id, projects),
    )


def _effective_hourly(
    session: Session, clock: Clock, projects: list[Project], currency: str
) -> Figure[int]:
    ids = [p.id for p in projects]
    paid = session.execute(
        select(Account.member_id, func.sum(PostingLine.amount))
        .join(Posting, Posting.id == PostingLine.posting_id)
        .join(Account, Account.id == PostingLine.account_id)
        .where(
            Posting.project_id.in_(ids),
            Posting.kind.in_(settlement.PAID_KINDS),
            Account.kind == AccountKind.payable,
            Account.currency == currency,
        )
        .group_by(Account.member_id)
    ).all()
    active = 0
    now = clock.now()
    for project_id in ids:
        active += sum(settlement.active_ms_by_member(session, project_id, now).values())
    total = sum(int(t or 0) for _, t in paid)
    return publish(rules.effective_hourly(total, active), people=len(paid), k=K_REVIEWS)


def _days_to_payment(session: Session, projects: list[Project]) -> Figure[float]:
    rows = session.execute(
        select(PiecePayment.member_id, Submission.created_at, Posting.created_at)
        .join(Submission, Submission.id == PiecePayment.submission_id)
        .join(Posting, Posting.id == PiecePayment.posting_id)
        .where(PiecePayment.project_id.in_([p.id for p in projects]))
    ).all()
    if not rows:
        return publish(None, people=0, k=K_REVIEWS)
    days = [(paid - made).total_seconds() / SECONDS_PER_DAY for _, made, paid in rows]
    people = len({m for m, _, _ in rows})
    return publish(round(statistics.median(days), 1), people=people, k=K_REVIEWS)


def _rejection_rate(session: Session, requester_id: int, projects: list[Project]) -> Figure[float]:
    rejected, submitted = appeals.rejection_rate(session, requester_id)
    people = (
        session.scalar(
            select(func.count(func.distinct(Submission.member_id))).where(
                Submission.project_id.in_([p.id for p in projects])
            )
        )
        or 0
    )
    value = round(rejected / submitted, 3) if submitted else None
    return publish(value, people=int(people), k=K_REVIEWS)
