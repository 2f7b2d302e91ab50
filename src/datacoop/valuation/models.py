"""Tables for valuation runs and the value of each contributor in a run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from datacoop.db.base import Base, JSONType


class ValuationRun(Base):
    """One valuation of a project's answers, re-runnable to the same values.

    The input is every answer whose log index is below ``tree_size``; the validation set is
    the project's gold items (``validation = "gold"``) or a seeded random split of the items
    labelled by aggregation run ``aggregation_run_id`` (``"holdout"``). ``params`` holds
    ``k``, the resolved feature spec and, for a holdout, its fraction.
    """

    __tablename__ = "valuation_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    method: Mapped[str] = mapped_column(String(30))
    params: Mapped[dict[str, Any]] = mapped_column(JSONType)
    seed: Mapped[int] = mapped_column(BigInteger)
    validation: Mapped[str] = mapped_column(String(10))
    tree_size: Mapped[int] = mapped_column(BigInteger)
    aggregation_run_id: Mapped[int | None] = mapped_column(ForeignKey("aggregation_runs.id"))
    points: Mapped[int] = mapped_column(Integer)  # answers valued (training points)
    items: Mapped[int] = mapped_column(Integer)  # distinct items among them
    contributors: Mapped[int] = mapped_column(Integer)
    validation_items: Mapped[int] = mapped_column(Integer)
    excluded_answers: Mapped[int] = mapped_column(Integer)  # answers on validation items
    log_index: Mapped[int] = mapped_column(BigInteger)  # its ``valuation:computed`` entry
    created_by: Mapped[int] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime]


class ContributorValue(Base):
    """A member's value in one run: the sum over their answers (``knn``) or their
    contributor-level Shapley value (``knn-contributors``), and how many answers it covers."""

    __tablename__ = "contributor_values"

    run_id: Mapped[int] = mapped_column(ForeignKey("valuation_runs.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    n_points: Mapped[int] = mapped_column(Integer)
