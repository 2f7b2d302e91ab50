"""Use cases of the persisted log: append inside the caller's transaction, seal (sign a tree
head), serve proofs and receipts, and verify everything from storage.

Appends lock the single ``log_state`` row, so entries get gap-free indexes in commit order on
both backends, and an entry commits together with the change it records or not at all.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from datacoop.algorithms import ledger
from datacoop.clock import Clock
from datacoop.errors import NotFound, ValidationFailed
from datacoop.log.kinds import FIELDS, EntryKind
from datacoop.log.models import LogEntry, LogNode, LogState, TreeHeadRecord
from datacoop.log.signer import Signer

ENTRY_VERSION = 1


def _ms(clock: Clock) -> int:
    return int(clock.now().timestamp() * 1000)


def commitment(salt: bytes, value: Any) -> str:
    """A salted SHA-256 commitment to a JSON value (an answer): reveals nothing without the salt.

    ``SHA-256(salt || canonical_json({"v": 1, "value": value}))``, hex.
    """
    return hashlib.sha256(salt + ledger.canonical_json({"v": 1, "value": value})).hexdigest()


def _lock_state(session: Session) -> LogState:
    state = session.scalar(select(LogState).where(LogState.id == 1).with_for_update())
    assert state is not None, "log_state row missing: database not migrated"
    return state


def append(session: Session, clock: Clock, kind: EntryKind, **fields: Any) -> LogEntry:
    """Append one entry in the caller's transaction; returns it with its index."""
    if set(fields) != FIELDS[kind]:
        raise ValueError(f"{kind}: fields {sorted(fields)} != {sorted(FIELDS[kind])}")
    state = _lock_state(session)
    index = state.size
    body = {"v": ENTRY_VERSION, "kind": kind.value, "ts": _ms(clock), **fields}
    data = ledger.canonical_json(body)
    leaf = ledger.leaf_hash(data)
    entry = LogEntry(
        index=index,
        kind=kind.value,
        payload=data.decode("utf-8"),
        leaf_hash=leaf,
        created_at=clock.now(),
    )
    session.add(entry)
    # Store every perfect subtree this leaf completes, bottom-up.
    right = leaf
    for level, idx in ledger.nodes_completed_by(index + 1)[1:]:
        left = _lookup(session, [(level - 1, 2 * idx)])[(level - 1, 2 * idx)]
        right = ledger.node_hash(left, right)
        session.add(LogNode(level=level, index=idx, hash=right))
    state.size = index + 1
    session.flush()
    session.info["log_appended"] = True  # the unit of work seals (signs) before commit
    return entry


def size(session: Session) -> int:
    state = session.get(LogState, 1)
    return 0 if state is None else state.size


def _lookup(session: Session, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    keys = list(dict.fromkeys(keys))
    out: dict[tuple[int, int], bytes] = {}
    leaves = [i for level, i in keys if level == 0]
    inner = [(level, i) for level, i in keys if level > 0]
    if leaves:
        for idx, h in session.execute(
            select(LogEntry.index, LogEntry.leaf_hash).where(LogEntry.index.in_(leaves))
        ):
            out[(0, idx)] = h
    if inner:
        for level, idx, h in session.execute(
            select(LogNode.level, LogNode.index, LogNode.hash).where(
                tuple_(LogNode.level, LogNode.index).in_(inner)
            )
        ):
            out[(level, idx)] = h
    missing = [k for k in keys if k not in out]
    if missing:
        raise NotFound(f"log storage is missing subtree {missing[0]}")
    return out


def _assemble(session: Session, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    table = _lookup(session, ledger.proof_node_keys(ranges))
    return ledger.assemble_proof(ranges, lambda level, idx: table[(level, idx)])


def root_at(session: Session, tree_size: int) -> bytes:
    if tree_size == 0:
        return ledger.EMPTY_ROOT
    ranges = [(0, tree_size)]
    table = _lookup(session, ledger.proof_node_keys(ranges))
    parts = [table[ledger.node_key(a, b)] for a, b in ledger.range_hash_nodes(0, tree_size)]
    return ledger.fold_subtree_hashes(parts)


def _check_size(session: Session, tree_size: int, name: str) -> int:
    current = size(session)
    if not 0 <= tree_size <= current:
        raise ValidationFailed.field(name, f"must be between 0 and the log size {current}")
    return current


def inclusion_proof(session: Session, index: int, tree_size: int) -> list[bytes]:
    _check_size(session, tree_size, "tree_size")
    if not 0 <= index < tree_size:
        raise ValidationFailed.field("index", f"must be below tree_size {tree_size}")
    return _assemble(session, ledger.inclusion_proof_nodes(index, tree_size))


def consistency_proof(session: Session, first: int, second: int) -> list[bytes]:
    _check_size(session, second, "second")
    if not 0 <= first <= second:
        raise ValidationFailed.field("first", "must be between 0 and second")
    return _assemble(session, ledger.consistency_proof_nodes(first, second))


def seal(session: Session, clock: Clock, signer: Signer) -> TreeHeadRecord | None:
    """Sign a tree head for every size not yet signed, up to the current size.

    Called in the transaction that appended (by the unit of work, before commit), so every
    committed entry ``i`` is covered by its own signed head of size ``i + 1``: a receipt can be
    issued at once, and verification can name the exact first bad index.
    """
    current = size(session)
    if current == 0:
        return None
    last = session.scalar(select(func.max(TreeHeadRecord.tree_size))) or 0
    record = None
    for tree_size in range(last + 1, current + 1):
        head = ledger.TreeHead(
            tree_size=tree_size, root_hash=root_at(session, tree_size), timestamp=_ms(clock)
        )
        record = TreeHeadRecord(
            tree_size=tree_size,
            root_hash=head.root_hash,
            timestamp=head.timestamp,
            signature=signer.sign(head),
        )
        session.add(record)
    session.flush()
    return record or session.get(TreeHeadRecord, current)


def latest_tree_head(session: Session) -> TreeHeadRecord:
    record = session.scalar(
        select(TreeHeadRecord).order_by(TreeHeadRecord.tree_size.desc()).limit(1)
    )
    if record is None:
        raise NotFound("the log has no signed tree head yet")
    return record


def tree_heads(session: Session, *, after: int = 0, limit: int = 100) -> list[TreeHeadRecord]:
    return list(
        session.scalars(
            select(TreeHeadRecord)
            .where(TreeHeadRecord.tree_size > after)
            .order_by(TreeHeadRecord.tree_size)
            .limit(limit)
        )
    )


def get_entry(session: Session, index: int) -> LogEntry:
    entry = session.get(LogEntry, index)
    if entry is None:
        raise NotFound(f"no log entry at index {index}")
    return entry


def head_json(record: TreeHeadRecord) -> dict[str, Any]:
    head = ledger.TreeHead(
        tree_size=record.tree_size, root_hash=record.root_hash, timestamp=record.timestamp
    )
    return ledger.tree_head_to_json(head, record.signature)


def receipt(session: Session, index: int, head: TreeHeadRecord) -> dict[str, Any]:
    """Everything a member needs to check offline that entry ``index`` is in the log."""
    entry = get_entry(session, index)
    proof = inclusion_proof(session, index, head.tree_size)
    return {
        "entry": json.loads(entry.payload),
        "leaf_index": index,
        "inclusion_proof": [h.hex() for h in proof],
        "tree_head": head_json(head),
    }


@dataclass(frozen=True)
class Problem:
    index: int
    message: str


def verify(session: Session, public_key: Any, *, batch: int = 10_000) -> list[Problem]:
    """Recompute every leaf, every stored subtree and every signed root from storage.

    Returns the problems sorted by index; the first names the first bad index. Detects an
    altered payload or hash, a removed, inserted or reordered entry, a wrong stored subtree,
    and a tree head whose root or signature does not match. Since every size has its own
    signed head, the first failing head of size ``n`` after a good one pins index ``n - 1``.
    """
    leaves, problems = _verify_leaves(session, batch)
    problems += _verify_heads(session, leaves, public_key)
    bad = sorted({p.index for p in problems})
    problems += _verify_nodes(session, leaves, bad)
    problems.sort(key=lambda p: p.index)
    return problems


def _verify_leaves(session: Session, batch: int) -> tuple[list[bytes], list[Problem]]:
    problems: list[Problem] = []
    expected = size(session)
    leaves: list[bytes] = []
    after = -1
    while True:
        rows = session.execute(
            select(LogEntry.index, LogEntry.payload, LogEntry.leaf_hash)
            .where(LogEntry.index > after)
            .order_by(LogEntry.index)
            .limit(batch)
        ).all()
        if not rows:
            break
        for index, payload, stored in rows:
            position = len(leaves)
            if index != position:
                problems.append(
                    Problem(
                        position, f"entry {position} is missing or moved (found index {index} next)"
                    )
                )
            data = payload.encode("utf-8")
            leaf = ledger.leaf_hash(data)
            if leaf != stored:
                problems.append(Problem(position, "payload does not match its stored leaf hash"))
            try:
                if ledger.canonical_json(json.loads(payload)) != data:
                    problems.append(Problem(position, "payload is not in canonical form"))
            except ValueError:
                problems.append(Problem(position, "payload is not valid canonical JSON"))
            leaves.append(leaf)
        after = rows[-1][0]
    if len(leaves) != expected:
        problems.append(
            Problem(
                min(len(leaves), expected),
                f"storage holds {len(leaves)} entries but the log size is {expected}",
            )
        )
    return leaves, problems


def _verify_heads(session: Session, leaves: list[bytes], public_key: Any) -> list[Problem]:
    """Check each signed head against roots recomputed in one pass over the leaves."""
    problems: list[Problem] = []
    stack: list[tuple[int, bytes]] = []  # the perfect subtrees of the prefix, largest first
    consumed = 0
    failing = False
    for record in session.scalars(select(TreeHeadRecord).order_by(TreeHeadRecord.tree_size)):
        n = record.tree_size
        head = ledger.TreeHead(tree_size=n, root_hash=record.root_hash, timestamp=record.timestamp)
        if not ledger.verify_tree_head(head, record.signature, public_key):
            problems.append(Problem(n - 1, f"signed tree head {n} has a bad signature"))
            continue
        if n > len(leaves):
            problems.append(
                Problem(len(leaves), f"signed tree head {n} covers entries that are missing")
            )
            continue
        while consumed < n:
            level, h = 0, leaves[consumed]
            while stack and stack[-1][0] == level:
                h = ledger.node_hash(stack.pop()[1], h)
                level += 1
            stack.append((level, h))
            consumed += 1
        if ledger.fold_subtree_hashes([h for _, h in stack]) != record.root_hash:
            if not failing:  # the first failing head after a good one pins the index
                problems.append(
                    Problem(n - 1, f"entries up to {n - 1} do not match signed tree head {n}")
                )
            failing = True
        else:
            failing = False
    return problems


def _verify_nodes(session: Session, leaves: list[bytes], bad: list[int]) -> list[Problem]:
    """Check stored subtrees (used to serve proofs). A wrong node is reported at the first
    already-known bad index inside its range, else at the range's start."""
    problems: list[Problem] = []
    stored = {
        (lv, i): h
        for lv, i, h in session.execute(select(LogNode.level, LogNode.index, LogNode.hash))
    }
    level_hashes, level = leaves, 0
    while len(level_hashes) > 1:
        level_hashes = [
            ledger.node_hash(level_hashes[i], level_hashes[i + 1])
            for i in range(0, len(level_hashes) - 1, 2)
        ]
        level += 1
        for i, h in enumerate(level_hashes):
            if stored.pop((level, i), None) != h:
                lo, hi = i << level, (i + 1) << level
                pos = bisect.bisect_left(bad, lo)
                at = bad[pos] if pos < len(bad) and bad[pos] < hi else lo
                problems.append(
                    Problem(
                        at,
                        f"stored subtree ({level}, {i}) over entries {lo}..{hi - 1} is wrong or missing",
                    )
                )
    for lv, i in stored:
        problems.append(Problem(i << lv, f"stored subtree ({lv}, {i}) should not exist"))
    return problems
