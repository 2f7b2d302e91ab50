"""Request and response bodies for the quality API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AggregateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: str = Field(
        default="ds", description="mv, wawa, zbs, ds, onecoin, glad, mace, kos, mmsr"
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="The method's hyper-parameters."
    )
    seed: int = Field(default=0, ge=0, le=2**62)


class RunOut(BaseModel):
    id: int
    project_id: int
    method: str
    params: dict[str, Any]
    seed: int
    tree_size: int = Field(description="The log's size when the run read its input.")
    answers: int
    items: int
    summary: dict[str, Any]
    created_at: datetime


class LabelOut(BaseModel):
    item_id: int
    label: Any
    confidence: float | None


class RunDetailOut(RunOut):
    labels: list[LabelOut]
    next_after: int | None


class RerunOut(BaseModel):
    run_id: int
    identical: bool
    answers: int
    differing_items: list[int]


class QualityOut(BaseModel):
    project_id: int
    latest_run: RunOut | None
    contributors: list[dict[str, Any]]
