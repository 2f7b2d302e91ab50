"""Named authorization rules about members. Pure: they look at objects, not the database."""

from __future__ import annotations

import re

from datacoop.errors import PermissionDenied, ValidationFailed
from datacoop.members.models import Member, Role

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s.]{1,63}$")
MIN_PASSWORD = 10


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL_RE.match(email):
        raise ValidationFailed.field("email", "is not a valid email address")
    return email


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed.field("password", f"must be at least {MIN_PASSWORD} characters")
    if len(password) > 1000:
        raise ValidationFailed.field("password", "must be at most 1000 characters")


def can_create_projects(member: Member) -> bool:
    return member.role in (Role.requester, Role.steward)


def require_can_create_projects(member: Member) -> None:
    if not can_create_projects(member):
        raise PermissionDenied("only requesters and stewards can create projects")


def require_steward(member: Member) -> None:
    if member.role is not Role.steward:
        raise PermissionDenied("this needs the steward role")


def require_not_own_role(actor: Member, member_id: int) -> None:
    """A steward cannot change their own role: the last steward must not lock everyone out."""
    if actor.id == member_id:
        raise PermissionDenied("you cannot change your own role; ask another steward")
