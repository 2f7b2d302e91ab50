"""Members for service-level tests: registered directly, with a fast password hasher."""

from __future__ import annotations

import itertools

from datacoop.clock import Clock
from datacoop.members import services as members
from datacoop.members.models import Member, Role
from datacoop.members.passwords import make_hasher

PASSWORD = "correct horse battery"
# Argon2 at its cheapest: these tests register hundreds of members and never test hashing.
FAST_HASHER = make_hasher(1, 8)
_numbers = itertools.count()


def register(session, clock: Clock, role: Role = Role.member) -> Member:
    """A new member with a unique email (``person<N>@example.org``) in ``role``."""
    return members.register(
        session,
        clock,
        FAST_HASHER,
        email=f"person{next(_numbers)}@example.org",
        password=PASSWORD,
        display_name="someone",
        role=role,
    )
