"""JSON API of pay: the policy, funding and launch, settlement, statements."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from datacoop.pay import services, settlement, statements
from datacoop.pay.models import PayPolicy
from datacoop.pay.money import Money
from datacoop.pay.schemas import (
    CostOut,
    EarningsOut,
    FundIn,
    FundingOut,
    MemberSettlementOut,
    MoneyOut,
    PolicyIn,
    PolicyOut,
    SettlementOut,
)
from datacoop.web.deps import DB, Ctx, CurrentMember

router = APIRouter(tags=["pay"])


def _m(amount: int, currency: str) -> MoneyOut:
    out = MoneyOut.of(amount, currency)
    assert out is not None
    return out


def policy_out(p: PayPolicy) -> PolicyOut:
    return PolicyOut(
        id=p.id,
        currency=p.currency,
        floor_hourly=_m(p.floor_hourly, p.currency),
        hard_minimum_hourly=_m(p.hard_minimum_hourly, p.currency),
        fee_bps=p.fee_bps,
        fee_cap_bps=p.fee_cap_bps,
        auto_approve_days=p.auto_approve_days,
        created_at=p.created_at,
    )


def funding_out(s: services.FundingStatus) -> FundingOut:
    c = s.currency
    return FundingOut(
        project_id=s.project_id,
        state=s.state,
        fee_bps=s.fee_bps,
        escrow=_m(s.escrow, c),
        task_base=_m(s.task_base, c),
        task_cost=_m(s.task_cost, c),
        tasks_needed=s.tasks_needed,
        required=_m(s.required, c),
        shortfall=_m(s.shortfall, c),
        reserved_tasks=s.reserved_tasks,
        funded_tasks=s.funded_tasks,
    )


def settlement_out(db: Session, s: settlement.Settlement) -> SettlementOut:
    c = s.currency
    who = settlement.contributor_ids(db, s.project_id, [m.member_id for m in s.members])
    return SettlementOut(
        project_id=s.project_id,
        floor_hourly=_m(s.floor_hourly, c),
        postings=s.postings,
        members=[
            MemberSettlementOut(
                contributor_id=who[m.member_id],
                items=m.items,
                piece=_m(m.piece, c),
                top_up=_m(m.top_up, c),
                fee=_m(m.fee, c),
            )
            for m in s.members
        ],
        piece_total=_m(s.piece_total, c),
        top_up_total=_m(s.top_up_total, c),
        fee_total=_m(s.fee_total, c),
        escrow_after=_m(s.escrow_after, c),
        owed_by_requester=_m(s.owed_by_requester, c),
        state=s.state,
    )


@router.get("/pay/policy", response_model=PolicyOut)
def get_policy(member: CurrentMember, db: DB) -> PolicyOut:
    """The pay policy in force: floor, hard minimum, fee and its cap, auto-approval."""
    return policy_out(services.current_policy(db))


@router.put("/pay/policy", response_model=PolicyOut)
def set_policy(body: PolicyIn, member: CurrentMember, ctx: Ctx, db: DB) -> PolicyOut:
    """A new policy version (stewards). A floor below the hard minimum is refused."""
    currency = services.current_policy(db).currency
    floor = (
        None
        if body.floor_hourly is None
        else Money.parse(body.floor_hourly, currency, field="floor_hourly")
    )
    policy = services.set_policy(
        db,
        ctx.clock,
        member,
        floor_hourly=floor,
        fee_bps=body.fee_bps,
        auto_approve_days=body.auto_approve_days,
    )
    return policy_out(policy)


@router.get("/projects/{project_id}/pay", response_model=FundingOut)
def funding(project_id: int, member: CurrentMember, db: DB) -> FundingOut:
    """Where the project's money stands and what launching it needs."""
    project = services.get_project_for_pay(db, project_id)
    return funding_out(services.funding_status(db, project))


@router.post("/projects/{project_id}/pay/fund", response_model=FundingOut)
def fund(project_id: int, body: FundIn, member: CurrentMember, ctx: Ctx, db: DB) -> FundingOut:
    """Deposit into the project's escrow (its requester). Turns pay on for the project."""
    project = services.get_project_for_pay(db, project_id)
    amount = Money.parse(body.amount, body.currency or project.currency)
    return funding_out(services.fund(db, ctx.clock, member, project, amount))


@router.post("/projects/{project_id}/pay/launch", response_model=FundingOut)
def launch(project_id: int, member: CurrentMember, ctx: Ctx, db: DB) -> FundingOut:
    """Start (or resume) handing out work; 409 ``underfunded`` with the shortfall otherwise."""
    project = services.get_project_for_pay(db, project_id)
    return funding_out(services.launch(db, ctx.clock, member, project))


@router.post("/projects/{project_id}/pay/settle", response_model=SettlementOut)
def settle(project_id: int, member: CurrentMember, ctx: Ctx, db: DB) -> SettlementOut:
    """Post piece pay for new accepted work and top everyone up to the floor."""
    project = services.get_project_for_pay(db, project_id)
    return settlement_out(db, settlement.settle(db, ctx.clock, member, project))


@router.get("/projects/{project_id}/pay/statement", response_model=CostOut)
def cost_statement(project_id: int, member: CurrentMember, ctx: Ctx, db: DB) -> CostOut:
    """The requester's cost statement."""
    project = services.get_project_for_pay(db, project_id)
    s = statements.cost(db, ctx.clock, member, project)
    c = s.currency
    return CostOut(
        project_id=s.project_id,
        state=s.state,
        fee_bps=s.fee_bps,
        deposited=_m(s.deposited, c),
        piece_pay=_m(s.piece_pay, c),
        top_ups=_m(s.top_ups, c),
        fees=_m(s.fees, c),
        escrow=_m(s.escrow, c),
        members_paid=s.members_paid,
        items_paid=s.items_paid,
        active_seconds=s.active_ms // 1000,
        effective_hourly=MoneyOut.of(s.effective_hourly, c),
    )


@router.get("/projects/{project_id}/pay/statement/me", response_model=EarningsOut)
def earnings_statement(project_id: int, member: CurrentMember, ctx: Ctx, db: DB) -> EarningsOut:
    """Your own earnings in the project."""
    project = services.get_project_for_pay(db, project_id)
    s = statements.earnings(db, ctx.clock, member, project)
    c = s.currency
    return EarningsOut(
        project_id=s.project_id,
        items_submitted=s.items_submitted,
        items_paid=s.items_paid,
        active_seconds=s.active_ms // 1000,
        piece_pay=_m(s.piece_pay, c),
        top_ups=_m(s.top_ups, c),
        total_paid=_m(s.total_paid, c),
        effective_hourly=MoneyOut.of(s.effective_hourly, c),
        floor_hourly=_m(s.floor_hourly, c),
    )
