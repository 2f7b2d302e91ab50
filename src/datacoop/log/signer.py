"""The signing seam: a real key on disk, and an in-memory key for tests; one contract."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from datacoop.algorithms.ledger import (
    TreeHead,
    generate_private_key,
    load_private_key_pem,
    public_key_to_pem,
    sign_tree_head,
)
from datacoop.errors import DatacoopError


class Signer(Protocol):
    def sign(self, head: TreeHead) -> bytes: ...

    def public_key(self) -> Ed25519PublicKey: ...


class KeyMissing(DatacoopError):
    code = "signing_key_missing"


class KeySigner:
    """Signs with an Ed25519 private key held in memory."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key

    def sign(self, head: TreeHead) -> bytes:
        return sign_tree_head(head, self._key)

    def public_key(self) -> Ed25519PublicKey:
        return self._key.public_key()

    def public_pem(self) -> str:
        return public_key_to_pem(self.public_key()).decode()


def file_signer(path: Path) -> KeySigner:
    """The instance's key, read from the file ``datacoop init`` wrote."""
    try:
        return KeySigner(load_private_key_pem(path.read_bytes()))
    except FileNotFoundError as exc:
        raise KeyMissing(
            f"no log signing key at {path}: run `datacoop init` (or set DATACOOP_SIGNING_KEY_PATH)"
        ) from exc


def memory_signer() -> KeySigner:
    """A fresh random key that lives only in this process (tests, benchmarks)."""
    return KeySigner(generate_private_key())
