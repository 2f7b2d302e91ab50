"""Signed tree heads (Ed25519) and self-contained receipts.

A tree head commits to the whole log at a moment: ``(tree_size, root_hash, timestamp)``. The
log signs, with Ed25519 (RFC 8032, no pre-hashing, no context), exactly these bytes::

    tree_head_message(head) = canonical_json({"v": 1, "tree_size": <int>,
                                              "root_hash": <64 lower-case hex chars>,
                                              "timestamp": <int, ms since the Unix epoch>})

i.e. ``{"root_hash":"…","timestamp":…,"tree_size":…,"v":1}`` with no whitespace.

A *receipt* is a JSON object anyone can check offline against the log's public key::

    {"entry": {...},                         # the entry object itself
     "leaf_index": 17,
     "inclusion_proof": ["<hex>", ...],      # PATH(leaf_index, D[tree_size]), leaf first
     "tree_head": {"tree_size": 40, "root_hash": "<hex>", "timestamp": 1700000000000,
                   "signature": "<standard base64, padded, of the 64-byte signature>"}}

``verify_receipt`` recomputes ``leaf_hash(canonical_json(entry))``, checks the inclusion proof
against ``tree_head.root_hash`` (RFC 9162 §2.1.3.2) and the signature over the tree head.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from .canonical import canonical_json
from .merkle import HASH_SIZE, leaf_hash, verify_inclusion

__all__ = [
    "SIGNATURE_SIZE",
    "TreeHead",
    "build_receipt",
    "generate_private_key",
    "load_private_key_pem",
    "load_public_key_pem",
    "private_key_to_pem",
    "public_key_to_pem",
    "sign_tree_head",
    "tree_head_from_json",
    "tree_head_message",
    "tree_head_to_json",
    "verify_receipt",
    "verify_tree_head",
]

#: Length in bytes of an Ed25519 signature.
SIGNATURE_SIZE = 64

_HEX_HASH = re.compile(r"[0-9a-fA-F]{64}\Z")


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


@dataclass(frozen=True)
class TreeHead:
    """The state of the log at ``timestamp``: its size and Merkle root (RFC 9162 §4.10 analogue).

    ``tree_size`` >= 0, ``root_hash`` = MTH of the first ``tree_size`` entries (32 bytes),
    ``timestamp`` = milliseconds since the Unix epoch (int >= 0). Invalid values raise
    ``ValueError`` at construction.
    """

    tree_size: int
    root_hash: bytes
    timestamp: int

    def __post_init__(self) -> None:
        if not _is_count(self.tree_size):
            raise ValueError(f"tree_size must be an integer >= 0, got {self.tree_size!r}")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != HASH_SIZE:
            raise ValueError(f"root_hash must be {HASH_SIZE} bytes")
        if not _is_count(self.timestamp):
            raise ValueError(f"timestamp must be integer milliseconds >= 0, got {self.timestamp!r}")


def tree_head_message(head: TreeHead) -> bytes:
    """The exact bytes signed for a tree head.

    ``canonical_json({"v": 1, "tree_size": n, "root_hash": hex(root), "timestamp": ms})``, e.g.
    ``b'{"root_hash":"e3b0...b855","timestamp":1700000000000,"tree_size":0,"v":1}'``.
    """
    return canonical_json(
        {
            "v": 1,
            "tree_size": head.tree_size,
            "root_hash": head.root_hash.hex(),
            "timestamp": head.timestamp,
        }
    )


def sign_tree_head(head: TreeHead, private_key: Ed25519PrivateKey) -> bytes:
    """Ed25519 signature (64 bytes) over ``tree_head_message(head)``."""
    return private_key.sign(tree_head_message(head))


def verify_tree_head(head: TreeHead, signature: bytes, public_key: Ed25519PublicKey) -> bool:
    """Whether ``signature`` is ``public_key``'s Ed25519 signature over ``tree_head_message(head)``.

    Never raises for a bad head or signature (returns ``False``).
    """
    try:
        if not isinstance(head, TreeHead):
            return False
        if not isinstance(signature, bytes | bytearray) or len(signature) != SIGNATURE_SIZE:
            return False
        public_key.verify(bytes(signature), tree_head_message(head))
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------


def generate_private_key() -> Ed25519PrivateKey:
    """A fresh Ed25519 signing key."""
    return Ed25519PrivateKey.generate()


def private_key_to_pem(private_key: Ed25519PrivateKey) -> bytes:
    """Unencrypted PKCS#8 PEM (``-----BEGIN PRIVATE KEY-----``). Keep it secret."""
    return private_key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def public_key_to_pem(public_key: Ed25519PublicKey) -> bytes:
    """SubjectPublicKeyInfo PEM (``-----BEGIN PUBLIC KEY-----``): what verifiers are given."""
    return public_key.public_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    )


def _pem_bytes(data: bytes | str) -> bytes:
    return data.encode("ascii") if isinstance(data, str) else bytes(data)


def load_private_key_pem(data: bytes | str) -> Ed25519PrivateKey:
    """Load an unencrypted PKCS#8 PEM Ed25519 private key; ``ValueError`` for anything else."""
    try:
        key = serialization.load_pem_private_key(_pem_bytes(data), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ValueError(f"not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"expected an Ed25519 private key, got {type(key).__name__}")
    return key


def load_public_key_pem(data: bytes | str) -> Ed25519PublicKey:
    """Load a SubjectPublicKeyInfo PEM Ed25519 public key; ``ValueError`` for anything else."""
    try:
        key = serialization.load_pem_public_key(_pem_bytes(data))
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ValueError(f"not a PEM public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"expected an Ed25519 public key, got {type(key).__name__}")
    return key


# --------------------------------------------------------------------------------------------
# JSON shapes: tree heads and receipts
# --------------------------------------------------------------------------------------------


def tree_head_to_json(head: TreeHead, signature: bytes) -> dict[str, Any]:
    """``{"tree_size", "root_hash": hex, "timestamp", "signature": base64}`` for a signed head."""
    return {
        "tree_size": head.tree_size,
        "root_hash": head.root_hash.hex(),
        "timestamp": head.timestamp,
        "signature": base64.b64encode(bytes(signature)).decode("ascii"),
    }


def _parse_tree_head(obj: object, problems: list[str]) -> tuple[TreeHead, bytes] | None:
    if not isinstance(obj, Mapping):
        problems.append("malformed: tree_head is not a JSON object")
        return None
    start = len(problems)
    tree_size, timestamp = obj.get("tree_size"), obj.get("timestamp")
    root_hex, sig_b64 = obj.get("root_hash"), obj.get("signature")
    if not _is_count(tree_size):
        problems.append("malformed: tree_head.tree_size must be an integer >= 0")
    if not isinstance(root_hex, str) or not _HEX_HASH.match(root_hex):
        problems.append("malformed: tree_head.root_hash must be 64 hex characters")
    if not _is_count(timestamp):
        problems.append("malformed: tree_head.timestamp must be an integer >= 0 (milliseconds)")
    signature = b""
    try:
        if not isinstance(sig_b64, str):
            raise ValueError
        signature = base64.b64decode(sig_b64.encode("ascii"), validate=True)
        if len(signature) != SIGNATURE_SIZE:
            raise ValueError
    except (ValueError, binascii.Error, UnicodeEncodeError):
        problems.append(
            f"malformed: tree_head.signature must be base64 of a {SIGNATURE_SIZE}-byte "
            "Ed25519 signature"
        )
    if len(problems) > start:
        return None
    assert isinstance(tree_size, int) and isinstance(timestamp, int)
    assert isinstance(root_hex, str)
    return TreeHead(tree_size, bytes.fromhex(root_hex), timestamp), signature


def tree_head_from_json(obj: Mapping[str, Any]) -> tuple[TreeHead, bytes]:
    """Parse ``tree_head_to_json`` output back into ``(head, signature)``; ``ValueError`` if bad.

    The signature is not checked here; use ``verify_tree_head``.
    """
    problems: list[str] = []
    parsed = _parse_tree_head(obj, problems)
    if parsed is None:
        raise ValueError("; ".join(p.removeprefix("malformed: ") for p in problems))
    return parsed


def build_receipt(
    entry: Mapping[str, Any],
    leaf_index: int,
    inclusion_proof: Sequence[bytes],
    head: TreeHead,
    signature: bytes,
) -> dict[str, Any]:
    """The receipt object (see module docstring) that ``verify_receipt`` checks.

    ``entry`` is passed through ``canonical_json`` first, so an entry that could never verify
    (floats, no ``"v"``) raises ``ValueError`` here rather than producing a dud receipt.
    """
    canonical_json(entry)
    return {
        "entry": entry,
        "leaf_index": leaf_index,
        "inclusion_proof": [bytes(h).hex() for h in inclusion_proof],
        "tree_head": tree_head_to_json(head, signature),
    }


def verify_receipt(receipt: Mapping[str, Any], public_key: Ed25519PublicKey) -> list[str]:
    """Check a receipt; return the problems found (an empty list means valid).

    1. ``leaf = leaf_hash(canonical_json(receipt["entry"]))``;
    2. ``verify_inclusion(leaf, leaf_index, tree_head.tree_size, proof, tree_head.root_hash)``
       (RFC 9162 §2.1.3.2);
    3. ``verify_tree_head(tree_head, signature, public_key)``.

    Never raises on a malformed receipt: structural problems are reported as
    ``"malformed: ..."`` (and the checks that need the missing parts are skipped). Fields other
    than the four above are ignored -- they are not covered by anything signed.
    ``public_key`` must be an ``Ed25519PublicKey`` (``TypeError`` otherwise: a caller bug).
    """
    if not isinstance(public_key, Ed25519PublicKey):
        raise TypeError("public_key must be an Ed25519PublicKey")
    try:
        return _verify_receipt(receipt, public_key)
    except Exception as exc:  # pragma: no cover - defensive: report, never raise
        return [f"malformed: could not be checked ({type(exc).__name__})"]


def _verify_receipt(receipt: object, public_key: Ed25519PublicKey) -> list[str]:
    if not isinstance(receipt, Mapping):
        return ["malformed: receipt is not a JSON object"]
    problems: list[str] = []
    missing = [
        name
        for name in ("entry", "leaf_index", "inclusion_proof", "tree_head")
        if name not in receipt
    ]
    problems.extend(f"malformed: missing field {name!r}" for name in missing)

    entry_leaf: bytes | None = None
    if "entry" in receipt:
        entry = receipt["entry"]
        if not isinstance(entry, Mapping):
            problems.append("malformed: entry is not a JSON object")
        else:
            try:
                entry_leaf = leaf_hash(canonical_json(entry))
            except ValueError as exc:
                problems.append(f"malformed: entry: {exc}")

    leaf_index = receipt.get("leaf_index")
    if "leaf_index" in receipt and not _is_count(leaf_index):
        problems.append("malformed: leaf_index must be an integer >= 0")

    proof: list[bytes] = []
    if "inclusion_proof" in receipt:
        raw_proof = receipt["inclusion_proof"]
        if not isinstance(raw_proof, list | tuple):
            problems.append("malformed: inclusion_proof must be a list of hex strings")
        else:
            for i, item in enumerate(raw_proof):
                if isinstance(item, str) and _HEX_HASH.match(item):
                    proof.append(bytes.fromhex(item))
                else:
                    problems.append(f"malformed: inclusion_proof[{i}] must be 64 hex characters")

    parsed = None
    if "tree_head" in receipt:
        parsed = _parse_tree_head(receipt["tree_head"], problems)

    if problems:
        return problems
    assert entry_leaf is not None and parsed is not None and isinstance(leaf_index, int)
    head, signature = parsed

    if leaf_index >= head.tree_size:
        problems.append(
            f"leaf_index {leaf_index} is not inside the tree head's tree of size {head.tree_size}"
        )
    elif not verify_inclusion(entry_leaf, leaf_index, head.tree_size, proof, head.root_hash):
        problems.append(
            "inclusion proof does not lead from the entry to tree_head.root_hash "
            "(entry, leaf_index, inclusion_proof or tree head altered)"
        )
    if not verify_tree_head(head, signature, public_key):
        problems.append("tree head signature does not verify with the log's public key")
    return problems
