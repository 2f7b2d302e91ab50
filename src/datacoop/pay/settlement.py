"""Settlement: piece pay for accepted work and top-ups to the floor on measured time.

Everything here is cumulative and idempotent: a submission is paid its piece rate once (the
``pay_piece_payments`` primary key), and a top-up is what the floor on all counted time asks
minus everything already paid, so settling again posts only what new work earned.

The top-up also brings each member's pieces up to the risen piece rate when the project's
median measured time exceeds its estimate (``rules.risen_piece_rate``). Submissions a steward
confirmed as fraud (``appeals``) earn neither piece, time, nor a say in the median; the
top-ups already paid for them are clawed back (``clawback_due``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, func, insert, select
from sqlalchemy.orm import Session

from datacoop.clock import Clock
from datacoop.members.models import Contributor, Member
from datacoop.pay import appeals, postings, rules
from datacoop.pay import services as pay
from datacoop.pay.models import (
    Account,
    AccountKind,
    FundingState,
    PiecePayment,
    Posting,
    PostingLine,
    Rejection,
    RejectionState,
)
from datacoop.projects.models import Project
from datacoop.projects.rules import require_manage
from datacoop.work.models import Assignment, AssignmentState, Submission


@dataclass
class MemberSettlement:
    member_id: int
    items: int = 0
    piece: int = 0
    top_up: int = 0  # to the floor, or to a risen piece rate on every piece, whichever is more
    fee: int = 0


@dataclass
class Settlement:
    """What one settlement posted. Settling again at once posts nothing."""

    project_id: int
    currency: str
    floor_hourly: int
    postings: list[int] = field(default_factory=list)
    members: list[MemberSettlement] = field(default_factory=list)
    escrow_after: int = 0
    state: str = ""

    @property
    def piece_total(self) -> int:
        return sum(m.piece for m in self.members)

    @property
    def top_up_total(self) -> int:
        return sum(m.top_up for m in self.members)

    @property
    def fee_total(self) -> int:
        return sum(m.fee for m in self.members)

    @property
    def owed_by_requester(self) -> int:
        """When the escrow went below zero: what the requester owes (members were paid)."""
        return max(0, -self.escrow_after)


def counted_time(now: Any) -> Any:
    """Assignments whose measured time counts at settlement: finished (submitted or skipped)
    or whose lease is over. A live lease still being worked is counted next time. The one
    statement of the rule: settlement, statements and requester figures all use it."""
    return (Assignment.state != AssignmentState.leased) | (Assignment.expires_at <= now)


def counted_time_clause(project_id: int, now: Any) -> Any:
    """``counted_time`` in one project."""
    return (Assignment.project_id == project_id) & counted_time(now)


def fraud_clause() -> Any:
    """Assignments whose submission a steward confirmed as fraud: their time is not paid."""
    return exists().where(
        Rejection.assignment_id == Assignment.id,
        Rejection.state == RejectionState.fraud_confirmed,
    )


def active_ms_by_member(session: Session, project_id: int, now: Any) -> dict[int, int]:
    rows = session.execute(
        select(Assignment.member_id, func.sum(Assignment.active_ms))
        .where(counted_time_clause(project_id, now), ~fraud_clause())
        .group_by(Assignment.member_id)
    ).all()
    return {int(m): int(ms or 0) for m, ms in rows}


def paid_by_member(session: Session, project_id: int, kinds: tuple[str, ...]) -> dict[int, int]:
    """What each member's payable account received from this project's postings of ``kinds``."""
    rows = session.execute(
        select(Account.member_id, func.sum(PostingLine.amount))
        .join(Posting, Posting.id == PostingLine.posting_id)
        .join(Account, Account.id == PostingLine.account_id)
        .where(
            Posting.project_id == project_id,
            Posting.kind.in_(kinds),
            Account.kind == AccountKind.payable,
        )
        .group_by(Account.member_id)
    ).all()
    return {int(m): int(total or 0) for m, total in rows if m is not None}


def settle(session: Session, clock: Clock, member: Member, project: Project) -> Settlement:
    """Pay every accepted submission not yet paid its piece rate, then top each member up to
    the floor on their measured active time (skipped tasks and expired leases included).

    effective hourly = everything paid ÷ active hours; top-up = max(0, ⌈floor × hours⌉ −
    paid). Both are cumulative, so a second settlement posts only what new work earned.
    Members are paid in full even when the escrow runs short: the fee is waived first, then
    the escrow goes below zero (the requester owes it) and the project pauses.
    """
    require_manage(member, project)
    return settle_project(session, clock, project)


def settle_all(session: Session, clock: Clock) -> list[Settlement]:
    """The periodic settlement, as the cooperative (no acting member): settle every project
    ``pay.due_for_settlement`` names, so members are paid and the reservations that skipped
    tasks and expired leases hold come back without the requester acting. Run it weekly
    (``datacoop pay settle --all``, which commits after each project so that no project's
    row stays locked while the others settle). Id order: two runs cannot deadlock."""
    return [settle_project(session, clock, p) for p in pay.due_for_settlement(session)]


def settle_project(session: Session, clock: Clock, project: Project) -> Settlement:
    """``settle`` without the permission check: for the cooperative's periodic settlement
    and for a refund (``refunds.refund``), whose callers checked who may act."""
    pp = pay.require_pay(session, project)
    policy = pay.current_policy(session)
    pay.require_pay_currency(project, policy)
    now = clock.now()
    result = Settlement(project.id, project.currency, policy.floor_hourly)
    appeals.auto_approve(session, clock, project.id)

    unpaid: dict[int, list[int]] = defaultdict(list)
    for sub_id, member_id in session.execute(
        select(Submission.id, Submission.member_id)
        .where(
            Submission.project_id == project.id,
            ~exists().where(PiecePayment.submission_id == Submission.id),
        )
        .order_by(Submission.id)
    ):
        unpaid[int(member_id)].append(int(sub_id))
    active = active_ms_by_member(session, project.id, now)
    paid = paid_by_member(session, project.id, PAID_KINDS)
    rate = current_piece_rate(session, project)
    pieces = paid_pieces_by_member(session, project.id)

    plan: list[tuple[MemberSettlement, str, int]] = []
    for member_id in sorted(set(unpaid) | set(active)):
        line = MemberSettlement(member_id, items=len(unpaid.get(member_id, [])))
        line.piece = line.items * project.pay_per_item
        line.top_up = rules.top_up(
            policy.floor_hourly,
            active.get(member_id, 0),
            paid.get(member_id, 0) + line.piece,
            at_rate=rate * (pieces.get(member_id, 0) + line.items),
        )
        result.members.append(line)
        plan += [(line, pay.PIECE, line.piece), (line, pay.TOP_UP, line.top_up)]
    plan = [(line, kind, amount) for line, kind, amount in plan if amount > 0]
    if project.pay_per_item == 0:  # settled, though nothing moves: never counted again
        _record_pieces(session, project, unpaid, None)

    escrow_account = postings.account(
        session, clock, AccountKind.escrow, project.currency, project_id=project.id
    )
    fee_account = postings.account(session, clock, AccountKind.fee, project.currency)
    escrow = postings.balance(session, escrow_account).amount
    fees = rules.allocate_fees([amount for _, _, amount in plan], pp.fee_bps, escrow)
    for (line, kind, amount), fee in zip(plan, fees, strict=True):
        payable = postings.account(
            session, clock, AccountKind.payable, project.currency, member_id=line.member_id
        )
        posting = postings.post(
            session,
            clock,
            kind,
            [
                postings.Line(escrow_account, -(amount + fee)),
                postings.Line(payable, amount),
                postings.Line(fee_account, fee),
            ],
            project_id=project.id,
        )
        line.fee += fee
        result.postings.append(posting.id)
        if kind == pay.PIECE:
            _record_pieces(session, project, {line.member_id: unpaid[line.member_id]}, posting.id)
    result.members = [m for m in result.members if m.piece or m.top_up]
    session.flush()
    result.escrow_after = postings.balance(session, escrow_account).amount
    pay.reprice(pp, project, policy)
    pp.settled_at = now
    if pp.state is not FundingState.draft:
        pay.recount_capacity(session, pp, project)
    result.state = pp.state.value
    # reviews imports this module (PAID_KINDS, fraud_clause): import it late. The owner's
    # dashboard figures move only when money does, so they are recomputed here, not per view.
    from datacoop.pay import reviews

    reviews.refresh_figures(session, clock, project.owner_id)
    return result


# Everything that counts as paid to a member in a project, for the floor: withheld pay and
# clawed-back top-ups (both negative) are not counted as paid, so honest time stays paid at
# the floor. A clawback must count here: it lowers ``paid`` exactly to what honest work
# justifies, so the next top-up is zero and never pays the clawed amount again.
PAID_KINDS = (pay.PIECE, pay.TOP_UP, pay.WITHHOLD, pay.CLAWBACK)


def clawback_due(session: Session, clock: Clock, project: Project, member_id: int) -> int:
    """How much of the member's top-ups in the project their honest work no longer justifies,
    once a fraud was confirmed and its piece withheld (``rules.clawback``): everything paid
    (net of withholdings and earlier clawbacks) beyond max(the floor on honest counted time,
    honest pieces at the piece rate risen on honest work, piece pay kept), at most their
    top-ups net of earlier clawbacks. Uses the figures settlement uses, so settling after it
    posts no top-up for what was taken back."""
    policy = pay.current_policy(session)
    active = active_ms_by_member(session, project.id, clock.now()).get(member_id, 0)
    paid = paid_by_member(session, project.id, PAID_KINDS).get(member_id, 0)
    top_ups = paid_by_member(session, project.id, (pay.TOP_UP, pay.CLAWBACK)).get(member_id, 0)
    kept = paid_by_member(session, project.id, (pay.PIECE, pay.WITHHOLD)).get(member_id, 0)
    rate = current_piece_rate(session, project)
    pieces = paid_pieces_by_member(session, project.id).get(member_id, 0)
    return rules.clawback(
        policy.floor_hourly, active, paid, top_ups, at_rate=rate * pieces, kept=kept
    )


def current_piece_rate(session: Session, project: Project) -> int:
    """The project's piece rate risen to the median measured time of its submissions
    (those not confirmed as fraud), when that exceeds the estimate (``rules.risen_piece_rate``)."""
    times = session.scalars(
        select(Submission.active_ms).where(
            Submission.project_id == project.id,
            ~exists().where(
                Rejection.submission_id == Submission.id,
                Rejection.state == RejectionState.fraud_confirmed,
            ),
        )
    ).all()
    return rules.risen_piece_rate(
        project.pay_per_item, project.estimated_seconds, [int(t) for t in times]
    )


def paid_pieces_by_member(session: Session, project_id: int) -> dict[int, int]:
    """How many of each member's submissions were paid a piece and not withheld."""
    rows = session.execute(
        select(PiecePayment.member_id, func.count())
        .where(
            PiecePayment.project_id == project_id,
            PiecePayment.amount > 0,
            ~exists().where(
                Rejection.submission_id == PiecePayment.submission_id,
                Rejection.state == RejectionState.fraud_confirmed,
            ),
        )
        .group_by(PiecePayment.member_id)
    ).all()
    return {int(m): int(n) for m, n in rows}


def _record_pieces(
    session: Session, project: Project, unpaid: dict[int, list[int]], posting_id: int | None
) -> None:
    rows = [
        {
            "submission_id": sub_id,
            "posting_id": posting_id,
            "member_id": member_id,
            "project_id": project.id,
            "amount": project.pay_per_item,
        }
        for member_id, subs in unpaid.items()
        for sub_id in subs
    ]
    if rows:
        session.execute(insert(PiecePayment), rows)


def contributor_ids(session: Session, project_id: int, member_ids: list[int]) -> dict[int, str]:
    """Per-project contributor ids: what a requester sees instead of who was paid."""
    rows = session.execute(
        select(Contributor.member_id, Contributor.contributor_id).where(
            Contributor.project_id == project_id, Contributor.member_id.in_(member_ids)
        )
    ).all()
    return {int(m): str(c) for m, c in rows}
