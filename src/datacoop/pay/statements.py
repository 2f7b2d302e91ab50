"""Statements: what a member earned in a project, and what a project cost its requester.

Both read the postings (never a separate tally), so they always agree with the ledger. A
member's payouts are not per project (a batch pays their whole payable balance), so the
earnings statement shows them across projects, in the project's currency.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datacoop.clock import Clock
from datacoop.members.models import Member
from datacoop.pay import postings, rules, settlement
from datacoop.pay import services as pay
from datacoop.pay.models import (
    Account,
    AccountKind,
    PiecePayment,
    Posting,
    PostingLine,
    Rejection,
    RejectionState,
)
from datacoop.payouts.models import BatchState, PayoutBatch, PayoutLine
from datacoop.projects.models import Project
from datacoop.projects.rules import require_manage
from datacoop.work.models import Assignment, Submission


@dataclass(frozen=True)
class PayoutRow:
    """One of the member's payouts: their line in a batch (all projects, one currency)."""

    batch_id: int
    state: str  # "open": on its way (in clearing); "paid": the bank executed it
    amount: int
    created_at: datetime
    paid_at: datetime | None


@dataclass(frozen=True)
class EarningsStatement:
    """One member's pay in one project. Amounts in minor units of ``currency``.

    ``piece_pay`` is net of ``withheld`` (piece pay taken back after steward-confirmed fraud
    in this project), and ``top_ups`` net of ``clawed_back`` (top-ups the member's honest work
    no longer justified after that fraud). The payout fields are the member's, across all projects in
    ``currency``: ``payable_balance`` is what they are owed now and not yet in a batch (below
    zero when a withholding came after a payout: later earnings make it up first, and no
    batch pays them until it is above zero; nothing is ever claimed back from outside).
    """

    project_id: int
    member_id: int
    currency: str
    items_submitted: int
    items_paid: int  # submissions whose piece pay is posted
    active_ms: int  # measured time counted at settlement (finished tasks, expired leases)
    piece_pay: int
    top_ups: int
    floor_hourly: int
    withheld: int = 0
    clawed_back: int = 0
    payable_balance: int = 0
    payouts: tuple[PayoutRow, ...] = field(default=())

    @property
    def paid_out(self) -> int:
        """Paid out by batches the bank executed."""
        return sum(p.amount for p in self.payouts if p.state == BatchState.paid.value)

    @property
    def payout_open(self) -> int:
        """In batches made but not yet confirmed paid: on its way to the member."""
        return sum(p.amount for p in self.payouts if p.state == BatchState.open.value)

    @property
    def total_paid(self) -> int:
        return self.piece_pay + self.top_ups

    @property
    def effective_hourly(self) -> int | None:
        return rules.effective_hourly(self.total_paid, self.active_ms)


def earnings(session: Session, clock: Clock, member: Member, project: Project) -> EarningsStatement:
    """The caller's own earnings statement for a project."""
    return earnings_all(session, clock, member, [project])[0]


def earnings_all(
    session: Session, clock: Clock, member: Member, projects: Sequence[Project]
) -> list[EarningsStatement]:
    """The member's earnings statement in each of ``projects``, in that order.

    The same figures as ``earnings`` for each project, from a fixed number of queries however
    many projects there are: each reads only the member's own rows (their submissions, their
    assignments, the lines of their payable accounts) through indexes led by the member,
    grouped by project. Asking per project instead sums every member's lines of the project
    to pick one (``settlement.paid_by_member``), and re-reads the policy, balance and payouts.
    """
    if not projects:
        return []
    ids = sorted({p.id for p in projects})
    now = clock.now()
    submitted, pieces = _submissions_by_project(session, member.id, ids)
    active = _active_ms_by_project(session, member.id, ids, now)
    lines = _payable_lines(session, member.id)
    # What the payable account of each currency received from each project, per posting
    # kind; its balance is the sum of all its lines (payouts, which name no project, too).
    by_kind: dict[tuple[int | None, str], int] = defaultdict(int)
    balance: dict[str, int] = defaultdict(int)
    for (currency, project_id, kind), total in lines.items():
        by_kind[(project_id, kind)] += total
        balance[currency] += total
    floor = pay.current_policy(session).floor_hourly
    payouts = {c: payouts_of(session, member.id, c) for c in sorted({p.currency for p in projects})}
    result = []
    for project in projects:
        paid_items, piece = pieces.get(project.id, (0, 0))
        withheld = by_kind.get((project.id, pay.WITHHOLD), 0)  # negative
        clawed = by_kind.get((project.id, pay.CLAWBACK), 0)  # negative
        result.append(
            EarningsStatement(
                project_id=project.id,
                member_id=member.id,
                currency=project.currency,
                items_submitted=submitted.get(project.id, 0),
                items_paid=paid_items,
                active_ms=active.get(project.id, 0),
                piece_pay=piece + withheld,
                top_ups=by_kind.get((project.id, pay.TOP_UP), 0) + clawed,
                floor_hourly=floor,
                withheld=-withheld,
                clawed_back=-clawed,
                payable_balance=balance.get(project.currency, 0),
                payouts=payouts[project.currency],
            )
        )
    return result


def _submissions_by_project(
    session: Session, member_id: int, project_ids: list[int]
) -> tuple[dict[int, int], dict[int, tuple[int, int]]]:
    """Per project: the member's submissions, and (how many have their piece recorded, the
    pieces' sum). Read from the member's submissions (``ix_submissions_member``) joined to
    their piece payments by primary key: a piece payment is always its submission's member
    and project (settlement and a fraud withholding both copy them from the submission)."""
    rows = session.execute(
        select(
            Submission.project_id,
            func.count(),
            func.count(PiecePayment.submission_id),
            func.coalesce(func.sum(PiecePayment.amount), 0),
        )
        .outerjoin(PiecePayment, PiecePayment.submission_id == Submission.id)
        .where(Submission.member_id == member_id, Submission.project_id.in_(project_ids))
        .group_by(Submission.project_id)
    ).all()
    submitted = {int(p): int(n) for p, n, _, _ in rows}
    pieces = {int(p): (int(paid), int(total or 0)) for p, _, paid, total in rows}
    return submitted, pieces


def _active_ms_by_project(
    session: Session, member_id: int, project_ids: list[int], now: datetime
) -> dict[int, int]:
    """The member's counted time per project: ``settlement.active_ms_by_member``'s rule for
    one member in many projects, through ``ix_assignments_member_project``. Counted:
    ``settlement.counted_time``; not confirmed as fraud (``settlement.fraud_clause``, as the
    member's own fraud rejections: SQLite, unanalysed, runs the correlated form through the
    rejections' state index, every confirmed fraud once per assignment)."""
    counted = settlement.counted_time(now)
    fraud = select(Rejection.assignment_id).where(
        Rejection.member_id == member_id, Rejection.state == RejectionState.fraud_confirmed
    )
    rows = session.execute(
        select(Assignment.project_id, func.sum(Assignment.active_ms))
        .where(
            Assignment.member_id == member_id,
            Assignment.project_id.in_(project_ids),
            counted,
            Assignment.id.not_in(fraud),  # never NULL: NOT IN is NOT EXISTS here
        )
        .group_by(Assignment.project_id)
    ).all()
    return {int(p): int(ms or 0) for p, ms in rows}


def _payable_lines(session: Session, member_id: int) -> dict[tuple[str, int | None, str], int]:
    """``(currency, project, posting kind) -> sum`` of every line into the member's payable
    accounts. The accounts are looked up first, so the lines are found by their account
    (``pay_posting_lines.account_id``): the member's lines only, never a project's."""
    accounts = dict(
        session.execute(
            select(Account.id, Account.currency).where(
                Account.member_id == member_id, Account.kind == AccountKind.payable
            )
        ).all()
    )
    if not accounts:
        return {}
    rows = session.execute(
        select(
            PostingLine.account_id, Posting.project_id, Posting.kind, func.sum(PostingLine.amount)
        )
        .join(Posting, Posting.id == PostingLine.posting_id)
        .where(PostingLine.account_id.in_(list(accounts)))
        .group_by(PostingLine.account_id, Posting.project_id, Posting.kind)
    ).all()
    totals: dict[tuple[str, int | None, str], int] = defaultdict(int)
    for account_id, project_id, kind, total in rows:
        key = (
            str(accounts[account_id]),
            None if project_id is None else int(project_id),
            str(kind),
        )
        totals[key] += int(total or 0)
    return dict(totals)


def payouts_of(session: Session, member_id: int, currency: str) -> tuple[PayoutRow, ...]:
    """The member's payout lines in ``currency``, oldest first."""
    rows = session.execute(
        select(
            PayoutBatch.id,
            PayoutBatch.state,
            PayoutLine.amount,
            PayoutBatch.created_at,
            PayoutBatch.paid_at,
        )
        .join(PayoutBatch, PayoutBatch.id == PayoutLine.batch_id)
        .where(PayoutLine.member_id == member_id, PayoutLine.currency == currency)
        .order_by(PayoutBatch.id)
    ).all()
    return tuple(
        PayoutRow(int(b), BatchState(state).value, int(amount), created, paid)
        for b, state, amount, created, paid in rows
    )


@dataclass(frozen=True)
class CostStatement:
    """What a project cost its requester so far, and where the money is."""

    project_id: int
    currency: str
    state: str
    deposited: int
    piece_pay: int
    top_ups: int
    fees: int
    escrow: int  # deposited - paid - fees; below zero: owed by the requester
    fee_bps: int
    members_paid: int
    items_paid: int
    active_ms: int
    withheld: int = 0  # piece pay taken back from members (confirmed fraud), back in escrow
    clawed_back: int = 0  # top-ups taken back from members (confirmed fraud), back in escrow
    rate_rises: int = 0  # the part of top_ups that brought pieces up to the risen rate
    pay_per_item: int = 0
    piece_rate: int = 0  # the rate now, risen when the median time exceeds the estimate
    # Unspent escrow refunded to the requester (pay/refunds.py). ``deposited`` stays what
    # was deposited, so escrow == deposited − refunded − piece_pay − top_ups − fees.
    refunded: int = 0

    @property
    def effective_hourly(self) -> int | None:
        return rules.effective_hourly(self.piece_pay + self.top_ups, self.active_ms)

    @property
    def floor_top_ups(self) -> int:
        """The rest of the top-ups: measured time brought up to the floor."""
        return self.top_ups - self.rate_rises

    @property
    def owed_by_requester(self) -> int:
        return max(0, -self.escrow)


# (account kind, the account's member, posting kind) -> the sum of a project's lines.
Moved = dict[tuple[AccountKind, int | None, str], int]


def _moved(session: Session, project_id: int) -> Moved:
    """Every line of the project's postings, summed per account kind, member and posting kind.

    One query driven by the project's postings (``pay_postings.project_id``), so it reads
    this project's lines only: starting from an account instead (the cooperative's fee
    account, say) walks that account's lines in every project."""
    rows = session.execute(
        select(Account.kind, Account.member_id, Posting.kind, func.sum(PostingLine.amount))
        .select_from(Posting)
        .join(PostingLine, PostingLine.posting_id == Posting.id)
        .join(Account, Account.id == PostingLine.account_id)
        .where(Posting.project_id == project_id)
        .group_by(Account.kind, Account.member_id, Posting.kind)
    ).all()
    return {
        (AccountKind(acct), None if m is None else int(m), str(kind)): int(total or 0)
        for acct, m, kind, total in rows
    }


def _into(moved: Moved, account_kind: AccountKind) -> dict[str, int]:
    """Per posting kind, what went into accounts of ``account_kind``."""
    out: dict[str, int] = defaultdict(int)
    for (acct, _, kind), total in moved.items():
        if acct is account_kind:
            out[kind] += total
    return dict(out)


def _to_members(moved: Moved, kinds: tuple[str, ...]) -> dict[int, int]:
    """``settlement.paid_by_member`` from the rows of ``_moved``: per member whose payable
    account has a line of one of ``kinds``, the sum of those lines."""
    out: dict[int, int] = defaultdict(int)
    for (acct, member_id, kind), total in moved.items():
        if acct is AccountKind.payable and member_id is not None and kind in kinds:
            out[member_id] += total
    return dict(out)


def cost(session: Session, clock: Clock, member: Member, project: Project) -> CostStatement:
    """The requester's (or a steward's) cost statement for a project."""
    require_manage(member, project)
    status = pay.funding_status(session, project)
    moved = _moved(session, project.id)
    to_members = _into(moved, AccountKind.payable)
    into_escrow = _into(moved, AccountKind.escrow)
    deposits = into_escrow.get(pay.DEPOSIT, 0)
    fees = sum(_into(moved, AccountKind.fee).values())
    items_paid = session.scalar(select(func.count()).where(PiecePayment.project_id == project.id))
    members_paid = len(_to_members(moved, (pay.PIECE, pay.TOP_UP)))
    active = sum(settlement.active_ms_by_member(session, project.id, clock.now()).values())
    rate = settlement.current_piece_rate(session, project)
    return CostStatement(
        project_id=project.id,
        currency=project.currency,
        state=status.state,
        deposited=deposits,
        piece_pay=to_members.get(pay.PIECE, 0) + to_members.get(pay.WITHHOLD, 0),
        top_ups=to_members.get(pay.TOP_UP, 0) + to_members.get(pay.CLAWBACK, 0),
        fees=fees,
        escrow=postings.balance_of(
            session, AccountKind.escrow, project.currency, project_id=project.id
        ).amount,
        fee_bps=status.fee_bps,
        members_paid=members_paid,
        items_paid=int(items_paid or 0),
        active_ms=active,
        withheld=-to_members.get(pay.WITHHOLD, 0),
        clawed_back=-to_members.get(pay.CLAWBACK, 0),
        rate_rises=_rate_rises(session, project, rate, moved),
        pay_per_item=project.pay_per_item,
        piece_rate=rate,
        refunded=-into_escrow.get(pay.REFUND, 0),
    )


def _rate_rises(session: Session, project: Project, rate: int, moved: Moved) -> int:
    """How much of the top-ups paid the piece-rate rise, at today's rate (``rate``): per
    member, min(their top-ups net of clawbacks, rate × pieces not withheld − piece pay kept).
    The top-up is one posting per member for the floor and the rise together, so this splits
    it after the fact: what the rise alone would have asked for, at most what was topped up."""
    if rate <= project.pay_per_item:
        return 0
    pieces = settlement.paid_pieces_by_member(session, project.id)
    kept = _to_members(moved, (pay.PIECE, pay.WITHHOLD))
    top_ups = _to_members(moved, (pay.TOP_UP, pay.CLAWBACK))
    return sum(
        min(top_up, max(0, rate * pieces.get(m, 0) - kept.get(m, 0)))
        for m, top_up in top_ups.items()
    )
