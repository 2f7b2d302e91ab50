"""Password hashing (argon2id via argon2-cffi) and random secrets."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


def make_hasher(time_cost: int = 3, memory_kib: int = 65536) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)


def hash_password(hasher: PasswordHasher, password: str) -> str:
    return hasher.hash(password)


def check_password(hasher: PasswordHasher, stored_hash: str, password: str) -> bool:
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_secret(prefix: str) -> str:
    """A bearer secret: ``prefix`` + 32 random bytes, URL-safe. High entropy, so SHA-256 at
    rest is enough (no need for a slow hash: nobody can guess the preimage)."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_pseudonym(rng: secrets.SystemRandom | None = None) -> str:
    """A public name with no link to the person: ``m-`` + 12 hex digits."""
    return "m-" + secrets.token_hex(6)


def new_contributor_id() -> str:
    """A per-project worker id: ``c-`` + 16 hex digits; unlinkable across projects."""
    return "c-" + secrets.token_hex(8)
