"""Request and response bodies of the pay API. Amounts go in as decimal strings ("15.00")
and come out as integer minor units with their currency (and a display string)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from datacoop.pay.money import Money


class MoneyOut(BaseModel):
    amount: int = Field(description="Integer minor units (cents for USD).")
    currency: str
    display: str = Field(description='For people: "15.00 USD".')

    @classmethod
    def of(cls, amount: int | None, currency: str) -> MoneyOut | None:
        if amount is None:
            return None
        money = Money(amount, currency)
        return cls(amount=money.amount, currency=money.currency, display=money.format())


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    floor_hourly: str | None = Field(
        default=None, description='The hourly floor, a decimal string such as "15.00".'
    )
    fee_bps: StrictInt | None = Field(
        default=None, description="The fee in basis points (1500 = 15%)."
    )
    auto_approve_days: StrictInt | None = None
    appeal_days: StrictInt | None = Field(
        default=None, description="How many days a member may appeal a rejection."
    )
    payout_threshold: str | None = Field(
        default=None,
        description='The smallest balance a payout batch pays, e.g. "5.00"; "0.00" = none.',
    )


class PolicyOut(BaseModel):
    id: int
    currency: str
    floor_hourly: MoneyOut
    hard_minimum_hourly: MoneyOut
    fee_bps: int
    fee_cap_bps: int
    auto_approve_days: int
    appeal_days: int
    payout_threshold: MoneyOut
    created_at: datetime


class FundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: str = Field(description='A decimal string such as "150.00"; never a number.')
    currency: str | None = Field(default=None, description="Default: the project's currency.")


class FundingOut(BaseModel):
    project_id: int
    state: str = Field(description="off (no pay), draft, launched, paused or closed")
    fee_bps: int
    escrow: MoneyOut
    task_base: MoneyOut = Field(description="max(piece rate, floor × estimate) per task")
    task_cost: MoneyOut = Field(description="task_base plus the fee")
    tasks_needed: int
    required: MoneyOut = Field(description="What the escrow must hold to launch.")
    shortfall: MoneyOut
    reserved_tasks: int
    funded_tasks: int


class MemberSettlementOut(BaseModel):
    contributor_id: str
    items: int
    piece: MoneyOut
    top_up: MoneyOut
    fee: MoneyOut


class SettlementOut(BaseModel):
    project_id: int
    floor_hourly: MoneyOut
    postings: list[int]
    members: list[MemberSettlementOut]
    piece_total: MoneyOut
    top_up_total: MoneyOut
    fee_total: MoneyOut
    escrow_after: MoneyOut
    owed_by_requester: MoneyOut
    state: str


class StatementPayoutOut(BaseModel):
    batch_id: int
    state: str = Field(description="open (on its way) or paid (the bank executed it)")
    amount: MoneyOut
    created_at: datetime
    paid_at: datetime | None


class EarningsOut(BaseModel):
    project_id: int
    items_submitted: int
    items_paid: int
    active_seconds: int
    piece_pay: MoneyOut = Field(description="Net of withheld piece pay.")
    top_ups: MoneyOut = Field(description="Net of clawed-back top-ups.")
    total_paid: MoneyOut
    effective_hourly: MoneyOut | None = Field(description="None before any measured time.")
    floor_hourly: MoneyOut
    withheld: MoneyOut = Field(description="Piece pay taken back in this project (fraud).")
    clawed_back: MoneyOut = Field(
        description="Top-ups taken back in this project: what honest work no longer justified "
        "after confirmed fraud."
    )
    payable_balance: MoneyOut = Field(
        description="Owed to you now across projects, not yet in a batch; may be below zero."
    )
    paid_out: MoneyOut = Field(description="Across projects: batches the bank executed.")
    payout_open: MoneyOut = Field(description="Across projects: batches on their way.")
    payouts: list[StatementPayoutOut] = Field(description="Your payouts, oldest first.")


class CostOut(BaseModel):
    project_id: int
    state: str
    fee_bps: int
    deposited: MoneyOut
    piece_pay: MoneyOut
    top_ups: MoneyOut = Field(description="Net of clawed-back top-ups.")
    fees: MoneyOut
    escrow: MoneyOut
    members_paid: int
    items_paid: int
    active_seconds: int
    effective_hourly: MoneyOut | None
    withheld: MoneyOut = Field(description="Piece pay taken back from members, into escrow.")
    clawed_back: MoneyOut = Field(
        description="Top-ups taken back from members after confirmed fraud, into escrow."
    )
    rate_rises: MoneyOut = Field(description="The part of top_ups paying the risen piece rate.")
    floor_top_ups: MoneyOut = Field(description="The rest: measured time up to the floor.")
    pay_per_item: MoneyOut
    piece_rate: MoneyOut = Field(description="The piece rate now (risen or not).")
    owed_by_requester: MoneyOut = Field(description="What the escrow is below zero.")
    refunded: MoneyOut = Field(
        description="Unspent escrow refunded to the requester; deposited is not net of it."
    )


# -- rejections and appeals ------------------------------------------------------------------


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(
        description="wrong_answer, ignored_instructions, gibberish or suspected_fraud"
    )
    evidence: str = Field(description="What in the answer shows the reason; required.")


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    statement: str = Field(description="The member's side; required.")


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: str = Field(description="upheld, overturned or fraud_confirmed")
    note: str = Field(description="The steward's reasons; required.")


class ApprovalOut(BaseModel):
    submission_id: int
    project_id: int
    approved_at: datetime
    automatic: bool = Field(description="Approved after auto_approve_days, by nobody.")
    approved_by: str | None = Field(
        description="The approving member's pseudonym; null when automatic."
    )


class RejectionOut(BaseModel):
    """A rejection as its member, its requester or a steward sees it: the member appears
    only by their per-project contributor id."""

    id: int
    submission_id: int
    project_id: int
    contributor_id: str
    reason: str
    evidence: str
    state: str = Field(description="open, appealed, upheld, overturned or fraud_confirmed")
    created_at: datetime
    appeal_deadline: datetime
    appeal: str | None
    appealed_at: datetime | None
    decided_at: datetime | None
    decision_note: str | None
    withheld: MoneyOut
    clawed_back: MoneyOut = Field(description="Top-ups taken back (fraud_confirmed only).")


# -- requester reviews -----------------------------------------------------------------------


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    communicativity: Any = Field(description="1-5")
    generosity: Any = Field(description="1-5")
    fairness: Any = Field(description="1-5")
    promptness: Any = Field(description="1-5")


class OwnReviewOut(BaseModel):
    requester_id: int
    communicativity: int
    generosity: int
    fairness: int
    promptness: int
    updated_at: datetime


class FigureOut(BaseModel):
    value: Any = Field(description="The figure, or null when withheld or not yet known.")
    note: str | None = Field(description='Why there is no number, e.g. "fewer than 3 — hidden".')


class RequesterReviewsOut(BaseModel):
    """Aggregates only: no reviewer is ever named."""

    requester_id: int
    pseudonym: str
    reviews: int
    ratings: dict[str, FigureOut]
    effective_hourly: FigureOut = Field(description="value: money, or null")
    days_to_payment: FigureOut
    rejection_rate: FigureOut


# -- refunds and closing ---------------------------------------------------------------------


class RefundOut(BaseModel):
    """One refund: the settlement it ran first, and what moved back to the requester."""

    project_id: int
    amount: MoneyOut = Field(description="Moved from the escrow to the requester.")
    kept: MoneyOut = Field(
        description="What the escrow keeps: open leases, unsettled work and, unless the "
        "project is closed, the tasks still to hand out, at task_cost each."
    )
    escrow_after: MoneyOut
    posting: int = Field(description="The refund posting's id.")
    state: str
    settlement: SettlementOut = Field(description="The settlement run before the refund.")
