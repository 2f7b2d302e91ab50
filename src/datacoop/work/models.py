"""Tables for assignments (leases) and submissions."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from datacoop.db.base import Base, JSONType


class AssignmentState(enum.StrEnum):
    leased = "leased"  # handed out; "live" while expires_at is in the future
    submitted = "submitted"
    skipped = "skipped"


class Assignment(Base):
    """An item handed to one member, with a lease.

    One row per (item, member) ever: that uniqueness is what guarantees a member never gets
    an item twice, even under concurrent requests.
    """

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("item_id", "member_id"),
        Index("ix_assignments_item_state", "item_id", "state", "expires_at"),
        Index("ix_assignments_member_project", "member_id", "project_id", "state"),
        # The time counted per project (settlement, requester figures) without reading
        # every assignment of the cooperative.
        Index("ix_assignments_project_state", "project_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    state: Mapped[AssignmentState] = mapped_column(
        Enum(AssignmentState, native_enum=False, length=20)
    )
    instructions_version: Mapped[int] = mapped_column(Integer)
    leased_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    # Active time: sum of gaps between consecutive heartbeats that are <= 30 s apart,
    # counted only inside the lease. Milliseconds, an integer.
    active_ms: Mapped[int] = mapped_column(Integer, default=0)
    last_beat_at: Mapped[datetime]
    heartbeats: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[datetime | None]


class Submission(Base):
    """An accepted answer. Never deleted; a late one (after its lease) is still accepted."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("member_id", "idempotency_key"),
        Index("ix_submissions_project", "project_id", "id"),
        Index("ix_submissions_member", "member_id", "id"),
        # Submissions and distinct members per requester (the rejection rate on the
        # dashboard) from the index alone, without reading every submission row.
        Index("ix_submissions_project_member", "project_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    answer: Mapped[Any] = mapped_column(JSONType)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    active_ms: Mapped[int] = mapped_column(Integer)
    wall_ms: Mapped[int] = mapped_column(Integer)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    # The log commits to the answer as SHA-256(salt || answer); the salt stays here, so the
    # member can later prove what they answered, and deleting it makes the entry unlinkable.
    answer_salt: Mapped[str] = mapped_column(String(32), server_default="")
    log_index: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
