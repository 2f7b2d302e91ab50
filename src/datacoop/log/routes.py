"""Public JSON API of the log: tree heads, the public key, entries and proofs.

These need no account: anyone may check that the log was never rewritten.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from datacoop.log import services
from datacoop.web.deps import DB, Ctx

router = APIRouter(prefix="/log", tags=["log"])


@router.get("/public-key", response_class=PlainTextResponse)
def public_key(ctx: Ctx) -> str:
    """The Ed25519 public key (PEM) that signs every tree head."""
    from datacoop.algorithms.ledger import public_key_to_pem

    return public_key_to_pem(ctx.signer.public_key()).decode()


@router.get("/tree-heads/latest")
def latest(db: DB) -> dict[str, Any]:
    """The newest signed tree head: ``{tree_size, root_hash, timestamp, signature}``."""
    return services.head_json(services.latest_tree_head(db))


@router.get("/tree-heads")
def history(
    db: DB, after: int = Query(0, ge=0), limit: int = Query(100, ge=1, le=1000)
) -> dict[str, Any]:
    """Signed tree heads by size, keyset-paginated (``after`` is a tree size)."""
    rows = services.tree_heads(db, after=after, limit=limit)
    return {
        "data": [services.head_json(r) for r in rows],
        "next_after": rows[-1].tree_size if len(rows) == limit else None,
    }


@router.get("/entries/{index}")
def entry(index: int, db: DB) -> dict[str, Any]:
    """One entry, its canonical bytes (as text) and its leaf hash."""
    e = services.get_entry(db, index)
    return {
        "index": e.index,
        "kind": e.kind,
        "entry": json.loads(e.payload),
        "canonical": e.payload,
        "leaf_hash": e.leaf_hash.hex(),
    }


@router.get("/proofs/inclusion")
def inclusion(db: DB, index: int = Query(ge=0), tree_size: int = Query(ge=1)) -> dict[str, Any]:
    """RFC 9162 inclusion proof of entry ``index`` in the tree of size ``tree_size``."""
    proof = services.inclusion_proof(db, index, tree_size)
    return {"index": index, "tree_size": tree_size, "proof": [h.hex() for h in proof]}


@router.get("/proofs/consistency")
def consistency(db: DB, first: int = Query(ge=0), second: int = Query(ge=0)) -> dict[str, Any]:
    """RFC 9162 consistency proof that the tree of size ``second`` extends ``first``."""
    proof = services.consistency_proof(db, first, second)
    return {"first": first, "second": second, "proof": [h.hex() for h in proof]}
