"""Refunds: unspent escrow back to the requester who funded it.

A refund settles the project first, so every member is paid for all counted work (floor
top-ups included) before any money leaves, then moves to the requester's funding account
what the escrow holds beyond what the project still owes:

    refundable = max(0, escrow − required)

where ``required`` is what ``services.funding_status`` says the tasks still to pay for need
at ``task_cost`` (fee included): tasks not yet handed out (none once the project is
closed), open leases, and submissions not yet settled. One ``refund`` posting (escrow →
funding), appended to the log like every posting.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from datacoop.clock import Clock
from datacoop.errors import Conflict
from datacoop.members.models import Member
from datacoop.pay import postings, settlement
from datacoop.pay import services as pay
from datacoop.pay.models import AccountKind, FundingState
from datacoop.pay.money import Money
from datacoop.projects.models import Project
from datacoop.projects.rules import require_manage


@dataclass(frozen=True)
class Refund:
    """What one refund moved, and what the escrow keeps for the work still owed."""

    project_id: int
    currency: str
    amount: int  # moved from the escrow to the requester's funding account
    posting_id: int
    kept: int  # ``required``: what open leases, unsettled work (and, unless closed, the
    # tasks still to hand out) need, at task_cost each
    escrow_after: int  # == kept
    state: str
    settlement: settlement.Settlement  # what the settlement before the refund paid


def refund(session: Session, clock: Clock, member: Member, project: Project) -> Refund:
    """Settle the project, then refund its requester the escrow beyond ``required``.

    ``409 nothing_to_refund`` when the escrow holds no more than the project still needs
    (and nothing moves); only the project's requester (or a steward) may ask.
    """
    require_manage(member, project)
    # The project_pay row lock, taken before anything is read: a concurrent refund,
    # settlement, deposit or reservation of this project waits for this one's commit and
    # then sees its result (PostgreSQL; SQLite serialises writers anyway). So a lease
    # handed out concurrently is either counted below as open, or, once it gets the row,
    # finds the capacity recounted after the refund (and, if the project is closed, no
    # capacity at all): a refund never takes money that a reserved task needs.
    pp = pay.require_pay(session, project)
    paid = settlement.settle_project(session, clock, project)
    status = pay.funding_status(session, project)
    # Open appeals put nothing at risk: a rejection moves no money, and confirmed fraud
    # moves withheld pay from the member back INTO the escrow, never out of it; that money
    # can be refunded by a later refund.
    amount = max(0, status.escrow - status.required)
    if amount == 0:
        raise Conflict(
            f"nothing to refund: the escrow holds {Money(status.escrow, project.currency)} "
            f"and the work still owed needs {Money(status.required, project.currency)}",
            code="nothing_to_refund",
            details={
                "escrow": status.escrow,
                "required": status.required,
                "currency": project.currency,
            },
        )
    currency = project.currency
    posting = postings.post(
        session,
        clock,
        pay.REFUND,
        [
            postings.Line(
                postings.account(
                    session, clock, AccountKind.escrow, currency, project_id=project.id
                ),
                -amount,
            ),
            postings.Line(
                postings.account(
                    session, clock, AccountKind.funding, currency, member_id=project.owner_id
                ),
                amount,
            ),
        ],
        project_id=project.id,
    )
    if pp.state is not FundingState.draft:
        # What is left covers exactly the tasks still to hand out, so hand-outs go on.
        pay.recount_capacity(session, pp, project)
    after = pay.funding_status(session, project)
    return Refund(
        project_id=project.id,
        currency=currency,
        amount=amount,
        posting_id=posting.id,
        kept=after.required,
        escrow_after=after.escrow,
        state=after.state,
        settlement=paid,
    )
