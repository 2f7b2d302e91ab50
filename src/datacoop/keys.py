"""The log's Ed25519 signing key, kept in a file (mode 0600) outside the database."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from datacoop.algorithms.ledger.signing import (
    generate_private_key,
    load_private_key_pem,
    private_key_to_pem,
    public_key_to_pem,
)


def create_signing_key(path: Path) -> Ed25519PrivateKey:
    """Write a new key; refuses to overwrite one (a new key would orphan old tree heads)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = generate_private_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(private_key_to_pem(key))
    public_path(path).write_bytes(public_key_to_pem(key.public_key()))
    return key


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    return load_private_key_pem(path.read_bytes())


def public_path(private_path: Path) -> Path:
    return private_path.with_name(private_path.stem + ".pub.pem")
