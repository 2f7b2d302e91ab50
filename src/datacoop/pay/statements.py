"""Statements: what a member earned in a project, and what a project cost its requester.

Both read the postings (never a separate tally), so they always agree with the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datacoop.clock import Clock
from datacoop.members.models import Member
from datacoop.pay import postings, rules, settlement
from datacoop.pay import services as pay
from datacoop.pay.models import Account, AccountKind, PiecePayment, Posting, PostingLine
from datacoop.projects.models import Project
from datacoop.projects.rules import require_manage
from datacoop.work.models import Submission


@dataclass(frozen=True)
class EarningsStatement:
    """One member's pay in one project. Amounts in minor units of ``currency``."""

    project_id: int
    member_id: int
    currency: str
    items_submitted: int
    items_paid: int  # submissions whose piece pay is posted
    active_ms: int  # measured time counted at settlement (finished tasks, expired leases)
    piece_pay: int
    top_ups: int
    floor_hourly: int

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
    active = settlement.active_ms_by_member(session, project.id, clock.now()).get(member.id, 0)
    return EarningsStatement(
        project_id=project.id,
        member_id=member.id,
        currency=project.currency,
        items_submitted=int(submitted),
        items_paid=int(paid_items),
        active_ms=active,
        piece_pay=int(piece) + withheld,  # withheld (fraud) is negative
        top_ups=top_ups,
        floor_hourly=pay.current_policy(session).floor_hourly,
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

    @property
    def effective_hourly(self) -> int | None:
        return rules.effective_hourly(self.piece_pay + self.top_ups, self.active_ms)


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
    deposits = _moved(session, project.id, AccountKind.escrow).get(pay.DEPOSIT, 0)
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
        top_ups=to_members.get(pay.TOP_UP, 0),
        fees=fees,
        escrow=postings.balance_of(
            session, AccountKind.escrow, project.currency, project_id=project.id
        ).amount,
        fee_bps=status.fee_bps,
        members_paid=members_paid,
        items_paid=int(items_paid or 0),
        active_ms=active,
    )
