"""Statements: what a member earned in a project, and what a project cost its requester.

Both read the postings (never a separate tally), so they always agree with the ledger. A
member's payouts are not per project (a batch pays their whole payable balance), so the
earnings statement shows them across projects, in the project's currency.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datacoop.clock import Clock
from datacoop.members.models import Member
from datacoop.pay import postings, rules, settlement
from datacoop.pay import services as pay
from datacoop.pay.models import Account, AccountKind, PiecePayment, Posting, PostingLine
from datacoop.payouts.models import BatchState, PayoutBatch, PayoutLine
from datacoop.projects.models import Project
from datacoop.projects.rules import require_manage
from datacoop.work.models import Submission


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
    submitted = (
        session.scalar(
            select(func.count()).where(
                Submission.project_id == project.id, Submission.member_id == member.id
            )
        )
        or 0
    )
    paid_items, piece = session.execute(
        select(func.count(), func.coalesce(func.sum(PiecePayment.amount), 0)).where(
            PiecePayment.project_id == project.id, PiecePayment.member_id == member.id
        )
    ).one()
    top_ups = settlement.paid_by_member(session, project.id, (pay.TOP_UP,)).get(member.id, 0)
    withheld = settlement.paid_by_member(session, project.id, (pay.WITHHOLD,)).get(member.id, 0)
    clawed = settlement.paid_by_member(session, project.id, (pay.CLAWBACK,)).get(member.id, 0)
    active = settlement.active_ms_by_member(session, project.id, clock.now()).get(member.id, 0)
    owed = postings.balance_of(session, AccountKind.payable, project.currency, member_id=member.id)
    return EarningsStatement(
        project_id=project.id,
        member_id=member.id,
        currency=project.currency,
        items_submitted=int(submitted),
        items_paid=int(paid_items),
        active_ms=active,
        piece_pay=int(piece) + withheld,  # withheld (fraud) is negative
        top_ups=top_ups + clawed,  # clawed back (fraud) is negative
        floor_hourly=pay.current_policy(session).floor_hourly,
        withheld=-withheld,
        clawed_back=-clawed,
        payable_balance=owed.amount,
        payouts=payouts_of(session, member.id, project.currency),
    )


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


def _moved(session: Session, project_id: int, account_kind: AccountKind) -> dict[str, int]:
    """Per posting kind, the sum of this project's lines into accounts of ``account_kind``."""
    rows = session.execute(
        select(Posting.kind, func.sum(PostingLine.amount))
        .join(Posting, Posting.id == PostingLine.posting_id)
        .join(Account, Account.id == PostingLine.account_id)
        .where(Posting.project_id == project_id, Account.kind == account_kind)
        .group_by(Posting.kind)
    ).all()
    return {str(kind): int(total or 0) for kind, total in rows}


def cost(session: Session, clock: Clock, member: Member, project: Project) -> CostStatement:
    """The requester's (or a steward's) cost statement for a project."""
    require_manage(member, project)
    status = pay.funding_status(session, project)
    to_members = _moved(session, project.id, AccountKind.payable)
    into_escrow = _moved(session, project.id, AccountKind.escrow)
    deposits = into_escrow.get(pay.DEPOSIT, 0)
    fees = sum(_moved(session, project.id, AccountKind.fee).values())
    items_paid = session.scalar(select(func.count()).where(PiecePayment.project_id == project.id))
    members_paid = len(settlement.paid_by_member(session, project.id, (pay.PIECE, pay.TOP_UP)))
    active = sum(settlement.active_ms_by_member(session, project.id, clock.now()).values())
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
        rate_rises=_rate_rises(session, project),
        pay_per_item=project.pay_per_item,
        piece_rate=settlement.current_piece_rate(session, project),
        refunded=-into_escrow.get(pay.REFUND, 0),
    )


def _rate_rises(session: Session, project: Project) -> int:
    """How much of the top-ups paid the piece-rate rise, at today's rate: per member,
    min(their top-ups net of clawbacks, rate × pieces not withheld − piece pay kept). The top-up is one
    posting per member for the floor and the rise together, so this splits it after the
    fact: what the rise alone would have asked for, at most what was topped up."""
    rate = settlement.current_piece_rate(session, project)
    if rate <= project.pay_per_item:
        return 0
    pieces = settlement.paid_pieces_by_member(session, project.id)
    kept = settlement.paid_by_member(session, project.id, (pay.PIECE, pay.WITHHOLD))
    top_ups = settlement.paid_by_member(session, project.id, (pay.TOP_UP, pay.CLAWBACK))
    return sum(
        min(top_up, max(0, rate * pieces.get(m, 0) - kept.get(m, 0)))
        for m, top_up in top_ups.items()
    )
