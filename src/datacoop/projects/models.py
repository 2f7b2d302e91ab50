"""Tables for projects, their instruction versions, items and imports."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from datacoop.db.base import Base, JSONType


class Sensitivity(enum.StrEnum):
    none = "none"
    sensitive = "sensitive"
    disturbing = "disturbing"


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (
        CheckConstraint("overlap >= 1", name="overlap_positive"),
        CheckConstraint("pay_per_item >= 0", name="pay_nonnegative"),
        CheckConstraint("estimated_seconds >= 1", name="estimate_positive"),
        CheckConstraint("lease_seconds >= 10", name="lease_minimum"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    task_type: Mapped[str] = mapped_column(String(40))
    config: Mapped[dict[str, Any]] = mapped_column(JSONType)
    overlap: Mapped[int] = mapped_column(Integer)
    lease_seconds: Mapped[int] = mapped_column(Integer)
    # Money is integer minor units (cents); never a float.
    pay_per_item: Mapped[int] = mapped_column(BigInteger)
    estimated_seconds: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    sensitivity: Mapped[Sensitivity] = mapped_column(
        Enum(Sensitivity, native_enum=False, length=20)
    )
    instructions_version: Mapped[int] = mapped_column(Integer, default=1)
    # {"confidence": 0.95, "max_overlap": 5} when dynamic overlap is on; None otherwise.
    dynamic_overlap: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime]


class InstructionVersion(Base):
    """Every version of a project's instructions is kept; work records which one it saw."""

    __tablename__ = "instruction_versions"
    __table_args__ = (UniqueConstraint("project_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class ItemImport(Base):
    """One accepted import of items (the file's hash, format and row count)."""

    __tablename__ = "item_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    filename: Mapped[str | None] = mapped_column(String(300))
    format: Mapped[str] = mapped_column(String(20))
    item_count: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class Item(Base):
    """A unit of work. ``gold`` is a hidden known answer, never shown to members."""

    __tablename__ = "items"
    __table_args__ = (Index("ix_items_project_open", "project_id", "answer_count", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    import_id: Mapped[int] = mapped_column(ForeignKey("item_imports.id"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    gold: Mapped[Any | None] = mapped_column(JSONType)
    is_gold: Mapped[bool] = mapped_column(Boolean, default=False)
    # Accepted submissions so far; live leases are counted from the assignments table.
    answer_count: Mapped[int] = mapped_column(Integer, default=0)
    # How many answers this item should get: the project's overlap, or, with dynamic overlap,
    # more while its label is uncertain (up to max_overlap) and no more once it is confident.
    wanted: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime]
