"""Request and response bodies for the work API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class TaskOut(BaseModel):
    """What a member needs to work one item. Never carries the gold answer."""

    assignment_id: int
    project_id: int
    item_id: int
    data: dict[str, Any]
    task_type: str
    config: dict[str, Any]
    instructions: str
    instructions_version: int
    sensitivity: str
    leased_at: datetime
    expires_at: datetime
    active_seconds: float


class HeartbeatOut(BaseModel):
    assignment_id: int
    active_seconds: float = Field(description="Active time counted so far.")
    expires_at: datetime
    expired: bool


class SubmitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    assignment_id: int | None = None
    item_id: int | None = None
    answer: Any
    idempotency_key: str | None = Field(
        default=None,
        max_length=100,
        description="Also accepted as the Idempotency-Key header. Retries with the same key "
        "return the original submission.",
    )


class SubmissionOut(BaseModel):
    id: int
    assignment_id: int
    project_id: int
    item_id: int
    answer: Any
    active_seconds: float
    wall_seconds: float
    late: bool
    status: str = "accepted"
    created_at: datetime
    log_index: int | None = None
    receipt: dict[str, Any] | None = Field(
        default=None,
        description="The log entry, its index, an inclusion proof and a signed tree head; "
        "check it offline with `datacoop receipt verify`.",
    )


class SubmissionPage(BaseModel):
    data: list[SubmissionOut]
    next_after: int | None


class ProgressOut(BaseModel):
    project_id: int
    items: int
    items_complete: int
    answers: int
    answers_wanted: int
    live_leases: int
    contributors: int
    active_seconds_total: int
