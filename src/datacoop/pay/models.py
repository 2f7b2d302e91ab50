"""Tables for the pay policy, accounts, postings and their lines, each project's funding
state, and which submissions have had their piece pay."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from datacoop.db.base import Base


class PayPolicy(Base):
    """One version of the cooperative's pay policy; the newest row is the one in force.

    Rows are never changed, only added, so every settlement can name the policy it used.
    Members will vote on new versions (governance); until then a steward sets them.
    """

    __tablename__ = "pay_policies"
    __table_args__ = (
        CheckConstraint("floor_hourly >= hard_minimum_hourly", name="floor_above_minimum"),
        CheckConstraint("fee_bps >= 0 AND fee_bps <= fee_cap_bps", name="fee_within_cap"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    floor_hourly: Mapped[int] = mapped_column(BigInteger)  # minor units per hour
    hard_minimum_hourly: Mapped[int] = mapped_column(BigInteger)
    fee_bps: Mapped[int] = mapped_column(Integer)  # the fee charged, basis points of pay
    fee_cap_bps: Mapped[int] = mapped_column(Integer)
    auto_approve_days: Mapped[int] = mapped_column(Integer)
    # How long a member may appeal a rejection (added by migration 0008).
    appeal_days: Mapped[int] = mapped_column(Integer, default=14, server_default="14")
    # The smallest payable balance a payout batch pays out (minor units); 0 = no minimum.
    # Below it a balance simply waits for the next batch (added by migration 0010).
    payout_threshold: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime]


class AccountKind(enum.StrEnum):
    funding = "funding"  # a requester's money from outside (negative: what they put in)
    escrow = "escrow"  # one per project: funded, not yet paid out
    payable = "payable"  # one per member: earned, owed to them until paid out
    fee = "fee"  # the cooperative's fee income
    reserve = "reserve"  # the cooperative's reserve
    clearing = "clearing"  # payout clearing: money on its way to members' banks
    paid_out = "paid_out"  # what left the cooperative to members' banks (payouts executed)


class Account(Base):
    """A ledger account. ``key`` names it uniquely, e.g. ``escrow:project:7:USD``."""

    __tablename__ = "pay_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[AccountKind] = mapped_column(Enum(AccountKind, native_enum=False, length=20))
    currency: Mapped[str] = mapped_column(String(3))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    created_at: Mapped[datetime]


class Posting(Base):
    """A balanced set of lines: the lines' amounts sum to zero. Never changed or deleted.

    ``key`` (optional, unique) makes a posting idempotent: a second posting with the same
    key is refused, so a retried request cannot move money twice.
    """

    __tablename__ = "pay_postings"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # deposit, piece, top_up, ...
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    key: Mapped[str | None] = mapped_column(String(120), unique=True)
    log_index: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]


class PostingLine(Base):
    """One account's share of a posting: positive adds to the account's balance."""

    __tablename__ = "pay_posting_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    posting_id: Mapped[int] = mapped_column(ForeignKey("pay_postings.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("pay_accounts.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)


class FundingState(enum.StrEnum):
    draft = "draft"  # pay is on, money may be in escrow, no work handed out yet
    launched = "launched"  # work is handed out while the escrow covers it
    paused = "paused"  # the escrow ran short: no new work until funded and relaunched
    # Its requester closed it, for good: no new work; open leases may still be finished and
    # are paid, and only what they and unsettled work need stays in escrow (pay/refunds.py).
    closed = "closed"


class ProjectPay(Base):
    """A project's funding state. A project without this row predates pay (or never turned
    it on) and works as before; with it, no task is handed out unless its pay is reserved.

    Reservation counts tasks: ``reserved_tasks`` assignments have been handed out and
    ``funded_tasks`` is how many the escrow has covered so far, each at ``task_cost``.
    """

    __tablename__ = "project_pay"
    __table_args__ = (CheckConstraint("reserved_tasks <= funded_tasks", name="reserved_funded"),)

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    state: Mapped[FundingState] = mapped_column(Enum(FundingState, native_enum=False, length=20))
    fee_bps: Mapped[int] = mapped_column(Integer)  # disclosed when pay was turned on
    task_cost: Mapped[int] = mapped_column(BigInteger)  # reserved per task, fee included
    reserved_tasks: Mapped[int] = mapped_column(BigInteger, default=0)
    funded_tasks: Mapped[int] = mapped_column(BigInteger, default=0)
    policy_id: Mapped[int] = mapped_column(ForeignKey("pay_policies.id"))
    created_at: Mapped[datetime]
    launched_at: Mapped[datetime | None]
    settled_at: Mapped[datetime | None]


class PiecePayment(Base):
    """The piece pay of one accepted submission. One row per submission ever: the primary
    key is what makes paying a submission twice impossible."""

    __tablename__ = "pay_piece_payments"

    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    # None when the piece rate is zero: the submission is settled, but no money moved.
    posting_id: Mapped[int | None] = mapped_column(ForeignKey("pay_postings.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)


# -- rejections, appeals, approvals (pay/appeals.py) -------------------------------------


class RejectionReason(enum.StrEnum):
    """The closed set of reasons a requester may give; each needs evidence."""

    wrong_answer = "wrong_answer"
    ignored_instructions = "ignored_instructions"
    gibberish = "gibberish"
    suspected_fraud = "suspected_fraud"


class RejectionState(enum.StrEnum):
    open = "open"  # the member may appeal until appeal_deadline
    appealed = "appealed"  # waiting for a steward
    upheld = "upheld"  # a steward kept the rejection (pay stays)
    overturned = "overturned"  # a steward withdrew the rejection
    # A steward confirmed fraud: the piece pay is withheld, and the top-ups the member's
    # honest work no longer justifies are clawed back.
    fraud_confirmed = "fraud_confirmed"


class Rejection(Base):
    """A requester's rejection of one submission, its appeal and a steward's decision.

    A rejection alone moves no money: honest work stays paid. Only ``fraud_confirmed``,
    decided by a steward after the appeal window, withholds the submission's piece pay
    (``withheld``) and claws back the part of the member's top-ups in the project that their
    honest work no longer justifies (``clawed_back``; ``appeals.decide``).
    """

    __tablename__ = "pay_rejections"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), unique=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    reason: Mapped[RejectionReason] = mapped_column(
        Enum(RejectionReason, native_enum=False, length=30)
    )
    evidence: Mapped[str] = mapped_column(Text)
    state: Mapped[RejectionState] = mapped_column(
        Enum(RejectionState, native_enum=False, length=20), index=True
    )
    created_at: Mapped[datetime]
    appeal_deadline: Mapped[datetime]
    appeal: Mapped[str | None] = mapped_column(Text)
    appealed_at: Mapped[datetime | None]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    withheld: Mapped[int] = mapped_column(BigInteger, default=0)
    clawed_back: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class Approval(Base):
    """A submission that can no longer be rejected: approved by its requester
    (``approved_by``), or automatically after ``auto_approve_days`` (``approved_by`` NULL)."""

    __tablename__ = "pay_approvals"

    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    approved_at: Mapped[datetime]
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))


# -- workers review requesters (pay/reviews.py) ------------------------------------------


class RequesterReview(Base):
    """One member's review of one requester (Turkopticon's dimensions, 1-5 each).

    ``reviewer_id`` is stored only so a member has one review per requester, which they may
    edit; it is never returned by any API: members see aggregates only.
    """

    __tablename__ = "pay_requester_reviews"
    __table_args__ = (
        UniqueConstraint("requester_id", "reviewer_id"),
        CheckConstraint(
            "communicativity BETWEEN 1 AND 5 AND generosity BETWEEN 1 AND 5 "
            "AND fairness BETWEEN 1 AND 5 AND promptness BETWEEN 1 AND 5",
            name="ratings_1_to_5",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    communicativity: Mapped[int] = mapped_column(Integer)
    generosity: Mapped[int] = mapped_column(Integer)
    fairness: Mapped[int] = mapped_column(Integer)
    promptness: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class RequesterFigures(Base):
    """A requester's figures that only settlement and a confirmed fraud change, over all
    their projects: written by ``reviews.refresh_figures``, read by every dashboard view.

    Effective hourly is ``paid_total`` ÷ ``active_ms`` (from ``paid_members`` members);
    days to payment is the median delay from a submission to its piece payment (from
    ``payment_people`` members), kept in whole seconds and shown in days. No row: never
    settled, nothing to show yet.
    """

    __tablename__ = "pay_requester_figures"

    requester_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))  # the policy's when computed
    paid_total: Mapped[int] = mapped_column(BigInteger)  # minor units, every member paid
    paid_members: Mapped[int] = mapped_column(Integer)
    active_ms: Mapped[int] = mapped_column(BigInteger)  # counted time, fraud excluded
    payment_delay_median_s: Mapped[int | None] = mapped_column(BigInteger)
    payment_people: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime]
