"""Tables for people and their credentials."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from datacoop.db.base import Base


class Role(enum.StrEnum):
    member = "member"
    requester = "requester"
    steward = "steward"


class Member(Base):
    """A person with an account. ``pseudonym`` is public; email and name never leave the app."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    pseudonym: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]


class ApiToken(Base):
    """A bearer token for the API. Only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class WebSession(Base):
    """A browser session (cookie). Stored server-side so any app process can serve it."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class Contributor(Base):
    """A member's identity inside one project.

    Requesters see only ``contributor_id``, which differs per project, so they cannot link
    one worker's answers across projects.
    """

    __tablename__ = "contributors"
    __table_args__ = (
        UniqueConstraint("project_id", "member_id"),
        Index("ix_contributors_member", "member_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    contributor_id: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime]
