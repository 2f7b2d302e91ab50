"""Request and response bodies of the payouts API. Account numbers and phone numbers go
out shortened to their last four characters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from datacoop.pay.schemas import MoneyOut


class MethodIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(description="sepa, mobile_money or other")
    account_holder: str | None = Field(
        default=None, description="The account holder's name (required for sepa)."
    )
    iban: str | None = Field(default=None, description="sepa: the IBAN, checked by schwifty.")
    bic: str | None = Field(
        default=None, description="sepa: optional; derived from the IBAN where possible."
    )
    provider: str | None = Field(default=None, description="mobile_money: e.g. M-Pesa.")
    phone: str | None = Field(
        default=None, description="mobile_money: international format, +254712345678."
    )
    instructions: str | None = Field(default=None, description="other: how to pay you.")

    def fields(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump(exclude={"kind"}).items() if v is not None}


class MethodOut(BaseModel):
    kind: str
    details: dict[str, Any] = Field(description="The method's fields, account numbers masked.")
    updated_at: datetime


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    currency: str = Field(default="EUR", description="ISO 4217; one batch per currency.")
    minimum: StrictInt = Field(
        default=0, ge=0, description="Pay only balances of at least this (minor units)."
    )


class LineOut(BaseModel):
    id: int
    member: str = Field(description="The member's pseudonym.")
    method: str
    amount: MoneyOut
    details: dict[str, Any]
    in_sepa_file: bool


class BatchOut(BaseModel):
    id: int
    currency: str
    state: str = Field(description="open (posted to clearing) or paid")
    total: MoneyOut
    line_count: int
    created_at: datetime
    paid_at: datetime | None
    lines: list[LineOut] | None = None


class MyPayoutOut(BaseModel):
    batch_id: int
    state: str
    method: str
    amount: MoneyOut
    created_at: datetime
    paid_at: datetime | None
    log_index: int = Field(description="The index of the payout's pay:posted log entry.")
    log_label: str | None = Field(
        description="How that entry names you: payable:SHA-256(salt || canonical_json("
        '{"v": 1, "batch": batch_id, "member": your pseudonym})).'
    )
    label_salt: str | None = Field(
        description="The 16-byte salt, hex: yours only; with it anyone can check the label."
    )
