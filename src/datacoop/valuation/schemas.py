"""Request and response bodies for the valuation API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ValueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: str = Field(default="knn", description="knn or knn-contributors")
    k: int | None = Field(
        default=None, description="Neighbours (default 5 for knn; knn-contributors is K = 1)."
    )
    validation: str = Field(default="gold", description="gold or holdout")
    holdout: float | None = Field(
        default=None, description="Fraction of items held out (holdout; default 0.2)."
    )
    seed: int = Field(default=0, ge=0, le=2**62)
    features: str = Field(default="auto", description="Feature spec, e.g. numeric:x,y+text:t.")
    aggregation_run: int | None = Field(
        default=None, description="Holdout labels from this run (default: the newest)."
    )


class HistogramOut(BaseModel):
    edges: list[float]
    counts: list[int]


class DistributionOut(BaseModel):
    """The values of a run without who got which."""

    count: int
    total: float
    mean: float | None
    quantiles: dict[str, float] = Field(description="min, p10, p25, p50, p75, p90, max")
    histogram: HistogramOut | None


class RunOut(BaseModel):
    id: int
    project_id: int
    method: str
    params: dict[str, Any]
    seed: int
    validation: str
    tree_size: int = Field(description="The log's size when the run read its input.")
    aggregation_run_id: int | None
    points: int = Field(description="Answers valued.")
    items: int
    contributors: int
    validation_items: int
    excluded_answers: int = Field(description="Answers on validation items (not valued).")
    log_index: int = Field(description="Index of its valuation:computed log entry.")
    created_at: datetime
    distribution: DistributionOut


class RerunOut(BaseModel):
    run_id: int
    identical: bool
    points: int
    differing_contributors: int
    max_abs_difference: float


class MyValueOut(BaseModel):
    run_id: int
    project_id: int
    method: str
    created_at: datetime
    contributor_id: str | None
    value: float | None
    n_points: int
    rank: int | None = Field(description="1 is the highest value; ties share a rank.")
    percentile: float | None = Field(description="% of contributors whose value is <= yours.")
    contributors: int
