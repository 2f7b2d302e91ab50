"""Tables for aggregation runs, their labels, and per-project worker skills."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from datacoop.db.base import Base, JSONType


class AggregationRun(Base):
    """One aggregation of a project's answers, re-runnable to the same result.

    The input is every submission whose log index is below ``tree_size`` (the log's size
    when the run started), so a re-run reads exactly the same answers in the same order.
    """

    __tablename__ = "aggregation_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    method: Mapped[str] = mapped_column(String(20))
    params: Mapped[dict[str, Any]] = mapped_column(JSONType)
    seed: Mapped[int] = mapped_column(BigInteger)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    answers: Mapped[int] = mapped_column(Integer)
    items: Mapped[int] = mapped_column(Integer)
    summary: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_by: Mapped[int] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime]


class AggregatedLabel(Base):
    __tablename__ = "aggregated_labels"

    run_id: Mapped[int] = mapped_column(ForeignKey("aggregation_runs.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)
    label: Mapped[Any] = mapped_column(JSONType)
    confidence: Mapped[float | None] = mapped_column(Float)


class WorkerSkill(Base):
    """A member's estimated accuracy in one project (from the newest aggregation run), used
    by dynamic overlap to judge how confident an item's label already is."""

    __tablename__ = "worker_skills"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    skill: Mapped[float] = mapped_column(Float)
    run_id: Mapped[int] = mapped_column(ForeignKey("aggregation_runs.id"))
