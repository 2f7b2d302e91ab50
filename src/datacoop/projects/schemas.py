"""Response bodies for the projects API. The create body is a free-form spec object checked
by :func:`datacoop.projects.rules.validate_spec`, shared with the CLI."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SPEC_EXAMPLE = {
    "title": "Colours",
    "instructions": "Pick the colour.",
    "task_type": "single_choice",
    "labels": ["red", "blue"],
    "overlap": 3,
    "pay_per_item": 5,
    "estimated_seconds": 10,
    "currency": "USD",
}


class ProjectOut(BaseModel):
    id: int
    title: str
    task_type: str
    config: dict[str, Any]
    overlap: int
    lease_seconds: int
    pay_per_item: int = Field(description="Minor units (cents) per answer.")
    estimated_seconds: int
    implied_hourly: int = Field(description="pay_per_item * 3600 / estimated_seconds, minor units.")
    currency: str
    sensitivity: str
    dynamic_overlap: dict[str, Any] | None = None
    instructions: str
    instructions_version: int
    created_at: datetime


class ProjectPage(BaseModel):
    data: list[ProjectOut]
    next_after: int | None


class ProjectPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(default=None, max_length=200)
    instructions: str | None = None


class InstructionOut(BaseModel):
    version: int
    text: str
    created_at: datetime


class ImportOut(BaseModel):
    id: int
    format: str
    filename: str | None
    item_count: int
    sha256: str
    created_at: datetime


class ItemOut(BaseModel):
    id: int
    external_id: str | None
    data: dict[str, Any]
    is_gold: bool
    gold: Any = None
    answer_count: int


class ItemPage(BaseModel):
    data: list[ItemOut]
    next_after: int | None
