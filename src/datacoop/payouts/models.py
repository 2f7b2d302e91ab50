"""Tables for members' payout methods, payout batches and the lines of each batch."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Enum, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from datacoop.db.base import Base, JSONType


class PayoutKind(enum.StrEnum):
    sepa = "sepa"  # a SEPA credit transfer: account holder, IBAN, optional BIC
    mobile_money = "mobile_money"  # a provider and a phone number
    other = "other"  # free-text instructions for the treasurer


class PayoutMethod(Base):
    """How one member wants to be paid. ``details`` holds the method's fields (IBAN, phone,
    ...): personal data that stays in this table and the batch lines, never in the log."""

    __tablename__ = "payout_methods"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    kind: Mapped[PayoutKind] = mapped_column(Enum(PayoutKind, native_enum=False, length=20))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class BatchState(enum.StrEnum):
    open = "open"  # posted payable → clearing; the export is waiting to be executed
    paid = "paid"  # a steward confirmed the bank executed it: clearing → paid out


class PayoutBatch(Base):
    """One payout run in one currency.

    ``open_key`` is the batch's currency while it is open and NULL once paid. Its unique
    constraint is the database-level guard that makes concurrent requests create one batch:
    at most one batch per currency can be open. ``request_key`` (the Idempotency-Key of the
    request that created it) makes a retried request return the same batch.
    """

    __tablename__ = "payout_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[BatchState] = mapped_column(Enum(BatchState, native_enum=False, length=20))
    open_key: Mapped[str | None] = mapped_column(String(20), unique=True)
    request_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    total: Mapped[int] = mapped_column(BigInteger)
    line_count: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime]
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    paid_at: Mapped[datetime | None]


class PayoutLine(Base):
    """One member's payout in a batch, with the payout method as it was when the batch was
    made (so a later change of IBAN cannot redirect money already on its way)."""

    __tablename__ = "payout_lines"
    __table_args__ = (UniqueConstraint("batch_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("payout_batches.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[PayoutKind] = mapped_column(Enum(PayoutKind, native_enum=False, length=20))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType)
    posting_id: Mapped[int] = mapped_column(ForeignKey("pay_postings.id"))
    # The 16-byte salt (hex) of the line's log label ``rules.payout_label``: shown to the
    # member only, so they can recompute their label; NULL for lines made before 0009.
    label_salt: Mapped[str | None] = mapped_column(String(32))
