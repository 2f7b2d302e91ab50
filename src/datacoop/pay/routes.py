"""JSON API of pay: the policy, funding and launch, settlement, statements."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session

from datacoop.disclosure.rules import Figure
from datacoop.members.models import Member
from datacoop.members.services import contributor_for
from datacoop.pay import appeals, refunds, reviews, services, settlement, statements
from datacoop.pay.models import PayPolicy, Rejection
from datacoop.pay.money import Money
from datacoop.pay.schemas import (
    AppealIn,
    ApprovalOut,
    CostOut,
    DecisionIn,
    EarningsOut,
    FigureOut,
    FundIn,
    FundingOut,
    MemberSettlementOut,
    MoneyOut,
    OwnReviewOut,
    PolicyIn,
    PolicyOut,
    RefundOut,
    RejectIn,
    RejectionOut,
    RequesterReviewsOut,
    ReviewIn,
    SettlementOut,
    StatementPayoutOut,
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
        appeal_days=p.appeal_days,
        payout_threshold=_m(p.payout_threshold, p.currency),
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
    threshold = (
        None
        if body.payout_threshold is None
        else Money.parse(body.payout_threshold, currency, field="payout_threshold")
    )
    policy = services.set_policy(
        db,
        ctx.clock,
        member,
        floor_hourly=floor,
        fee_bps=body.fee_bps,
        auto_approve_days=body.auto_approve_days,
        appeal_days=body.appeal_days,
        payout_threshold=threshold,
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


@router.post("/projects/{project_id}/pay/close", response_model=FundingOut)
def close(project_id: int, member: CurrentMember, ctx: Ctx, db: DB) -> FundingOut:
    """Close the project for good: no new tasks; closing again returns the same state."""
    project = services.get_project_for_pay(db, project_id)
    return funding_out(services.close(db, ctx.clock, member, project))


@router.post("/projects/{project_id}/pay/refund", response_model=RefundOut)
def refund(project_id: int, member: CurrentMember, ctx: Ctx, db: DB) -> RefundOut:
    """Settle, then refund the escrow beyond what the work still owed needs; 409
    ``nothing_to_refund`` when there is nothing beyond it."""
    project = services.get_project_for_pay(db, project_id)
    r = refunds.refund(db, ctx.clock, member, project)
    return RefundOut(
        project_id=r.project_id,
        amount=_m(r.amount, r.currency),
        kept=_m(r.kept, r.currency),
        escrow_after=_m(r.escrow_after, r.currency),
        posting=r.posting_id,
        state=r.state,
        settlement=settlement_out(db, r.settlement),
    )


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
        withheld=_m(s.withheld, c),
        clawed_back=_m(s.clawed_back, c),
        rate_rises=_m(s.rate_rises, c),
        floor_top_ups=_m(s.floor_top_ups, c),
        pay_per_item=_m(s.pay_per_item, c),
        piece_rate=_m(s.piece_rate, c),
        owed_by_requester=_m(s.owed_by_requester, c),
        refunded=_m(s.refunded, c),
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
        withheld=_m(s.withheld, c),
        clawed_back=_m(s.clawed_back, c),
        payable_balance=_m(s.payable_balance, c),
        paid_out=_m(s.paid_out, c),
        payout_open=_m(s.payout_open, c),
        payouts=[
            StatementPayoutOut(
                batch_id=p.batch_id,
                state=p.state,
                amount=_m(p.amount, c),
                created_at=p.created_at,
                paid_at=p.paid_at,
            )
            for p in s.payouts
        ],
    )


# -- rejections and appeals ----------------------------------------------------------------


def rejection_out(db: Session, ctx_clock: Any, r: Rejection) -> RejectionOut:
    project = services.get_project_for_pay(db, r.project_id)
    return RejectionOut(
        id=r.id,
        submission_id=r.submission_id,
        project_id=r.project_id,
        contributor_id=contributor_for(db, ctx_clock, r.project_id, r.member_id).contributor_id,
        reason=r.reason.value,
        evidence=r.evidence,
        state=r.state.value,
        created_at=r.created_at,
        appeal_deadline=r.appeal_deadline,
        appeal=r.appeal,
        appealed_at=r.appealed_at,
        decided_at=r.decided_at,
        decision_note=r.decision_note,
        withheld=_m(r.withheld, project.currency),
        clawed_back=_m(r.clawed_back, project.currency),
    )


@router.post("/submissions/{submission_id}/rejection", response_model=RejectionOut, status_code=201)
def reject(
    submission_id: int, body: RejectIn, member: CurrentMember, ctx: Ctx, db: DB
) -> RejectionOut:
    """Reject a submission (its project's requester), with a reason code and evidence."""
    r = appeals.reject(
        db, ctx.clock, member, submission_id, reason=body.reason, evidence=body.evidence
    )
    return rejection_out(db, ctx.clock, r)


@router.post("/submissions/{submission_id}/approval", response_model=ApprovalOut)
def approve(submission_id: int, member: CurrentMember, ctx: Ctx, db: DB) -> ApprovalOut:
    """Approve a submission before auto-approval (its project's requester): no longer
    rejectable. Approving again returns the same approval."""
    a = appeals.approve(db, ctx.clock, member, submission_id)
    by = None if a.approved_by is None else db.get(Member, a.approved_by)
    return ApprovalOut(
        submission_id=a.submission_id,
        project_id=a.project_id,
        approved_at=a.approved_at,
        automatic=a.approved_by is None,
        approved_by=None if by is None else by.pseudonym,  # never an email
    )


@router.get("/projects/{project_id}/rejections", response_model=list[RejectionOut])
def project_rejections(
    project_id: int, member: CurrentMember, ctx: Ctx, db: DB
) -> list[RejectionOut]:
    """The project's rejections and where their appeals stand (its requester)."""
    project = services.get_project_for_pay(db, project_id)
    return [rejection_out(db, ctx.clock, r) for r in appeals.rejections_in(db, member, project)]


@router.get("/rejections/mine", response_model=list[RejectionOut])
def my_rejections(member: CurrentMember, ctx: Ctx, db: DB) -> list[RejectionOut]:
    """Your rejected submissions, with reasons, evidence and where each appeal stands."""
    return [rejection_out(db, ctx.clock, r) for r in appeals.rejections_of(db, member)]


@router.post("/rejections/{rejection_id}/appeal", response_model=RejectionOut)
def appeal(
    rejection_id: int, body: AppealIn, member: CurrentMember, ctx: Ctx, db: DB
) -> RejectionOut:
    """Appeal your rejection, within the appeal window."""
    r = appeals.appeal(db, ctx.clock, member, rejection_id, statement=body.statement)
    return rejection_out(db, ctx.clock, r)


@router.get("/appeals", response_model=list[RejectionOut])
def appeals_queue(member: CurrentMember, ctx: Ctx, db: DB) -> list[RejectionOut]:
    """Appeals waiting for a steward, oldest first (stewards)."""
    return [rejection_out(db, ctx.clock, r) for r in appeals.queue(db, member)]


@router.post("/rejections/{rejection_id}/decision", response_model=RejectionOut)
def decide(
    rejection_id: int, body: DecisionIn, member: CurrentMember, ctx: Ctx, db: DB
) -> RejectionOut:
    """A steward decides: upheld, overturned, or (after the window) fraud_confirmed."""
    r = appeals.decide(db, ctx.clock, member, rejection_id, outcome=body.outcome, note=body.note)
    return rejection_out(db, ctx.clock, r)


# -- requester reviews ---------------------------------------------------------------------


def _figure(f: Figure[Any], money: str | None = None) -> FigureOut:
    value = f.value
    if money is not None and value is not None:
        value = _m(int(value), money).model_dump()
    return FigureOut(value=value, note=f.reason or None)


@router.put("/requesters/{requester_id}/review", response_model=OwnReviewOut)
def put_review(
    requester_id: int, body: ReviewIn, member: CurrentMember, ctx: Ctx, db: DB
) -> OwnReviewOut:
    """Add or edit your review of a requester you worked for (1-5 on each dimension)."""
    r = reviews.review(db, ctx.clock, member, requester_id, body.model_dump())
    return OwnReviewOut(
        requester_id=r.requester_id,
        communicativity=r.communicativity,
        generosity=r.generosity,
        fairness=r.fairness,
        promptness=r.promptness,
        updated_at=r.updated_at,
    )


@router.get("/requesters/{requester_id}/reviews", response_model=RequesterReviewsOut)
def requester_reviews(
    requester_id: int, member: CurrentMember, ctx: Ctx, db: DB
) -> RequesterReviewsOut:
    """Aggregated reviews of a requester and the platform's own figures; never a reviewer."""
    s = reviews.summary(db, ctx.clock, requester_id)
    return RequesterReviewsOut(
        requester_id=s.requester_id,
        pseudonym=s.pseudonym,
        reviews=s.reviews,
        ratings={name: _figure(f) for name, f in s.ratings.items()},
        effective_hourly=_figure(s.effective_hourly, s.currency),
        days_to_payment=_figure(s.days_to_payment),
        rejection_rate=_figure(s.rejection_rate),
    )
