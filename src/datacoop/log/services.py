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
from hashlib import sha256
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
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


_STATE = cast(Table, LogState.__table__)
_ENTRIES = cast(Table, LogEntry.__table__)
_NODES = cast(Table, LogNode.__table__)
_HEADS = cast(Table, TreeHeadRecord.__table__)
# Prebuilt Core statements (the hot path appends and seals once per submission): no ORM
# unit of work, and their compiled forms and cache keys are reused.
_LOCK_STATE_SQL = (
    select(_STATE.c.size, _STATE.c.frontier, _STATE.c.signed)
    .where(_STATE.c.id == 1)
    .with_for_update()
)
_SET_SIZE_SQL = (
    update(_STATE)
    .where(_STATE.c.id == 1)
    .values(size=bindparam("new_size"), frontier=bindparam("new_frontier"))
)
_SET_SIGNED_SQL = update(_STATE).where(_STATE.c.id == 1).values(signed=bindparam("new_signed"))
_INSERT_ENTRY_SQL = insert(_ENTRIES)
_INSERT_NODE_SQL = insert(_NODES)
_INSERT_HEAD_SQL = insert(_HEADS)


@dataclass
class _State:
    """The locked ``log_state`` row, as this transaction sees (and writes) it."""

    size: int
    frontier: bytes
    signed: int


def _lock_state(session: Session) -> _State:
    row = session.connection().execute(_LOCK_STATE_SQL).first()
    assert row is not None, "log_state row missing: database not migrated"
    return _State(int(row[0]), bytes(row[1] or b""), int(row[2]))


def append(session: Session, clock: Clock, kind: EntryKind, **fields: Any) -> int:
    """Append one entry in the caller's transaction; returns its index."""
    return append_many(session, clock, [(kind, fields)])[0]


@dataclass
class _Fresh:
    """What this transaction's appends computed, kept for seal and receipts (no re-reads)."""

    state: _State | None  # the locked state row, once this transaction appended
    roots: dict[int, bytes]  # tree size -> root
    proofs: dict[int, list[bytes]]  # index -> inclusion proof in the tree of size index + 1
    payloads: dict[int, str]  # index -> canonical JSON


def _fresh(session: Session) -> _Fresh:
    fresh = session.info.get("log_fresh")
    if fresh is None:
        fresh = session.info["log_fresh"] = _Fresh(None, {}, {}, {})
    assert isinstance(fresh, _Fresh)
    return fresh


def next_index(session: Session) -> int:
    """The index the next append in this transaction gets. Locks the log state (as an append
    does), so it stays the next index until this transaction appends or ends."""
    fresh = _fresh(session)
    state = fresh.state or _lock_state(session)
    fresh.state = state
    return state.size


def append_many(
    session: Session, clock: Clock, entries: Sequence[tuple[EntryKind, dict[str, Any]]]
) -> list[int]:
    """Append entries in order, in the caller's transaction: one locked read of the log state,
    bulk inserts, one update.

    The state row holds the tree's right edge (the roots of its perfect subtrees, largest
    first: O(log n) hashes). Each new leaf completes subtrees on that stack, exactly as RFC
    9162 shapes the tree; the leaves it pops are the left siblings on the new leaf's path, so
    the root of every new size and the newest leaf's inclusion proof come for free.
    """
    for kind, fields in entries:
        if set(fields) != FIELDS[kind]:
            raise ValueError(f"{kind}: fields {sorted(fields)} != {sorted(FIELDS[kind])}")
    if not entries:
        return []
    fresh = _fresh(session)
    state = fresh.state or _lock_state(session)
    fresh.state = state
    start = state.size
    frontier = _decode_frontier(state.frontier, start)
    ts, now = _ms(clock), clock.now()
    rows: list[dict[str, Any]] = []
    nodes: list[dict[str, Any]] = []
    for offset, (kind, fields) in enumerate(entries):
        index = start + offset
        data = ledger.canonical_json({"v": ENTRY_VERSION, "kind": kind.value, "ts": ts, **fields})
        leaf = ledger.leaf_hash(data)
        payload = data.decode("utf-8")
        rows.append(
            {
                "idx": index,
                "kind": kind.value,
                "payload": payload,
                "leaf_hash": leaf,
                "created_at": now,
            }
        )
        siblings: list[bytes] = []
        level, h = 0, leaf
        while frontier and frontier[-1][0] == level:
            left = frontier.pop()[1]
            siblings.append(left)
            h = ledger.node_hash(left, h)
            level += 1
            nodes.append({"level": level, "idx": (index + 1 >> level) - 1, "hash": h})
        # PATH(index, D[index+1]): siblings bottom-up, then the left subtrees smallest first.
        fresh.proofs[index] = siblings + [x for _, x in reversed(frontier)]
        frontier.append((level, h))
        fresh.roots[index + 1] = ledger.fold_subtree_hashes([x for _, x in frontier])
        fresh.payloads[index] = payload
    conn = session.connection()
    conn.execute(_INSERT_ENTRY_SQL, rows)
    if nodes:
        conn.execute(_INSERT_NODE_SQL, nodes)
    state.size = start + len(entries)
    state.frontier = b"".join(x for _, x in frontier)
    conn.execute(_SET_SIZE_SQL, {"new_size": state.size, "new_frontier": state.frontier})
    session.info["log_appended"] = True  # the unit of work seals (signs) before commit
    return [r["idx"] for r in rows]


def _decode_frontier(blob: bytes, tree_size: int) -> list[tuple[int, bytes]]:
    """The stored right edge: one hash per set bit of the size, largest subtree first."""
    levels = [b for b in range(tree_size.bit_length() - 1, -1, -1) if tree_size >> b & 1]
    if len(blob) != 32 * len(levels):
        raise ValueError("log_state.frontier does not match the log size")
    return [(lv, blob[32 * i : 32 * i + 32]) for i, lv in enumerate(levels)]


def _frontier(session: Session, tree_size: int) -> list[tuple[int, bytes]]:
    """The perfect subtrees covering leaves [0, tree_size), largest first, from stored nodes."""
    if tree_size == 0:
        return []
    parts = ledger.range_hash_nodes(0, tree_size)
    table = _lookup(session, [ledger.node_key(a, b) for a, b in parts])
    return [(ledger.node_key(a, b)[0], table[ledger.node_key(a, b)]) for a, b in parts]


def size(session: Session) -> int:
    return int(session.scalar(select(LogState.size).where(LogState.id == 1)) or 0)


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
    by_level: dict[int, list[int]] = {}
    for level, i in inner:
        by_level.setdefault(level, []).append(i)
    for level, indexes in by_level.items():
        # One primary-key lookup per level: a (level, idx) IN (...) tuple makes SQLite scan.
        for idx, h in session.execute(
            select(LogNode.index, LogNode.hash).where(
                LogNode.level == level, LogNode.index.in_(indexes)
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
    # If this transaction appended, it already holds the state row (and its lock).
    state = _fresh(session).state or _lock_state(session)
    current, last = state.size, state.signed
    if current == 0:
        return None
    if last >= current:
        head = session.info.get("log_head")
        if isinstance(head, TreeHeadRecord) and head.tree_size == current:
            return head
        return session.get(TreeHeadRecord, current)
    roots = _fresh(session).roots
    if not all(n in roots for n in range(last + 1, current + 1)):
        roots = _roots_from_storage(session, last, current)
    timestamp = _ms(clock)
    heads: list[TreeHeadRecord] = []
    for tree_size in range(last + 1, current + 1):
        head = ledger.TreeHead(tree_size=tree_size, root_hash=roots[tree_size], timestamp=timestamp)
        heads.append(
            TreeHeadRecord(
                tree_size=tree_size,
                root_hash=head.root_hash,
                timestamp=timestamp,
                signature=signer.sign(head),
            )
        )
    conn = session.connection()
    conn.execute(
        _INSERT_HEAD_SQL,
        [
            {
                "tree_size": h.tree_size,
                "root_hash": h.root_hash,
                "timestamp": h.timestamp,
                "signature": h.signature,
            }
            for h in heads
        ],
    )
    state.signed = current
    conn.execute(_SET_SIGNED_SQL, {"new_signed": current})
    session.info["log_appended"] = False  # sealed: the unit of work need not seal again
    session.info["log_head"] = heads[-1]
    return heads[-1]


def _roots_from_storage(session: Session, last: int, current: int) -> dict[int, bytes]:
    """Roots of sizes last+1..current, for entries appended by an earlier transaction that
    had no signer: fold the stored leaves onto the stored right edge at ``last``."""
    frontier = _frontier(session, last)
    leaves = session.scalars(
        select(LogEntry.leaf_hash)
        .where(LogEntry.index >= last, LogEntry.index < current)
        .order_by(LogEntry.index)
    ).all()
    roots: dict[int, bytes] = {}
    for offset, leaf in enumerate(leaves):
        level, h = 0, leaf
        while frontier and frontier[-1][0] == level:
            h = ledger.node_hash(frontier.pop()[1], h)
            level += 1
        frontier.append((level, h))
        roots[last + offset + 1] = ledger.fold_subtree_hashes([x for _, x in frontier])
    return roots


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
    fresh = _fresh(session)
    if index in fresh.payloads and head.tree_size == index + 1:
        payload, proof = fresh.payloads[index], fresh.proofs[index]  # just appended: no reads
    else:
        payload = get_entry(session, index).payload
        proof = inclusion_proof(session, index, head.tree_size)
    return {
        "entry": json.loads(payload),
        "leaf_index": index,
        "inclusion_proof": [h.hex() for h in proof],
        "tree_head": head_json(head),
    }


@dataclass(frozen=True)
class Problem:
    index: int
    message: str


def verify(
    session: Session, public_key: Any, *, thorough: bool = False, batch: int = 50_000
) -> list[Problem]:
    """Recompute every leaf and every stored subtree from storage and check them against the
    signed tree heads. Returns the problems sorted by index; the first names the first bad
    index.

    Finds an altered payload or leaf hash, a removed, inserted or reordered entry, a wrong
    stored subtree, and a head whose root or signature does not match. By default the newest
    head is checked, and when its root does not match, the heads are bisected for the first
    one that fails: every size has its own head, so a failing head of size ``n`` after a good
    one pins index ``n - 1``. That is O(n) hashing and O(log n) signature checks.
    ``thorough`` also checks every head's signature and root and that every payload is in
    canonical form (O(n) signature checks: slower).
    """
    leaves, problems = _verify_leaves(session, batch, thorough)
    levels = _levels(leaves)
    problems += _verify_frontier(session, levels)
    problems += _verify_heads(session, levels, public_key, thorough)
    bad = sorted({p.index for p in problems})
    problems += _verify_nodes(session, levels, bad)
    problems.sort(key=lambda p: p.index)
    return problems


def _verify_leaves(
    session: Session, batch: int, thorough: bool
) -> tuple[list[bytes], list[Problem]]:
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
                    Problem(position, f"entry {position} is missing or moved (found {index} next)")
                )
            data = payload.encode("utf-8")
            leaf = sha256(b"\x00" + data).digest()  # leaf_hash, inlined: this loop is hot
            if leaf != stored:
                problems.append(Problem(position, "payload does not match its stored leaf hash"))
            if thorough:
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


def _verify_frontier(session: Session, levels: list[list[bytes]]) -> list[Problem]:
    state = session.get(LogState, 1)
    if state is None or state.size != len(levels[0]) or state.size == 0:
        return []  # a size mismatch is reported with the leaves
    parts = [ledger.node_key(a, b) for a, b in ledger.range_hash_nodes(0, state.size)]
    expected = b"".join(levels[h][i] for h, i in parts)
    if bytes(state.frontier) != expected:
        return [Problem(state.size - 1, "the stored right edge of the tree (log_state) is wrong")]
    return []


def _levels(leaves: list[bytes]) -> list[list[bytes]]:
    """Every complete perfect subtree's hash, recomputed: ``levels[h][i]`` is node (h, i)."""
    levels = [leaves]
    while len(levels[-1]) > 1:
        below = levels[-1]
        # node_hash, inlined: this is the hot loop of verification.
        levels.append(
            [
                sha256(b"\x01" + below[i] + below[i + 1]).digest()
                for i in range(0, len(below) - 1, 2)
            ]
        )
    return levels


def _prefix_root(levels: list[list[bytes]], n: int) -> bytes | None:
    """MTH of leaves [0, n) from recomputed levels; None if fewer than n leaves exist."""
    if n > len(levels[0]):
        return None
    parts = [ledger.node_key(a, b) for a, b in ledger.range_hash_nodes(0, n)]
    return ledger.fold_subtree_hashes([levels[h][i] for h, i in parts])


def _head_problem(record: TreeHeadRecord, levels: list[list[bytes]], public_key: Any) -> str | None:
    n = record.tree_size
    head = ledger.TreeHead(tree_size=n, root_hash=record.root_hash, timestamp=record.timestamp)
    if not ledger.verify_tree_head(head, record.signature, public_key):
        return f"signed tree head {n} has a bad signature"
    root = _prefix_root(levels, n)
    if root is None:
        return f"signed tree head {n} covers entries that are missing"
    if root != record.root_hash:
        return f"entries up to {n - 1} do not match signed tree head {n}"
    return None


def _verify_heads(
    session: Session, levels: list[list[bytes]], public_key: Any, thorough: bool
) -> list[Problem]:
    problems: list[Problem] = []
    if thorough:
        previous_ok = True
        for record in session.scalars(select(TreeHeadRecord).order_by(TreeHeadRecord.tree_size)):
            message = _head_problem(record, levels, public_key)
            if message and (previous_ok or "signature" in message):
                problems.append(Problem(record.tree_size - 1, message))
            previous_ok = message is None
        return problems
    sizes = _HeadSizes(session)
    if not len(sizes):
        return problems

    def fails(position: int) -> str | None:
        record = session.get(TreeHeadRecord, sizes[position])
        assert record is not None
        return _head_problem(record, levels, public_key)

    message = fails(len(sizes) - 1)
    if message is None:
        return problems
    # Heads of size <= the first bad index pass and every later one fails: bisect for it.
    lo, hi = 0, len(sizes) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if fails(mid):
            hi = mid
        else:
            lo = mid + 1
    first = fails(lo) or message
    problems.append(Problem(sizes[lo] - 1, first))
    if lo != len(sizes) - 1:
        problems.append(Problem(sizes[len(sizes) - 1] - 1, message))
    return problems


class _HeadSizes:
    """The signed head sizes, in order, without loading them all when they are gap-free
    (1..n, as sealing writes them); falls back to a loaded list otherwise."""

    def __init__(self, session: Session) -> None:
        low, high, count = session.execute(
            select(
                func.min(TreeHeadRecord.tree_size),
                func.max(TreeHeadRecord.tree_size),
                func.count(),
            )
        ).one()
        self._count = int(count)
        self._dense = count == 0 or (low == 1 and high == count)
        self._sizes: list[int] = []
        if not self._dense:
            self._sizes = list(
                session.scalars(select(TreeHeadRecord.tree_size).order_by(TreeHeadRecord.tree_size))
            )

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, position: int) -> int:
        return position + 1 if self._dense else self._sizes[position]


def _verify_nodes(session: Session, levels: list[list[bytes]], bad: list[int]) -> list[Problem]:
    """Check stored subtrees (used to serve proofs). A wrong node is reported at the first
    already-known bad index inside its range, else at the range's start."""
    problems: list[Problem] = []
    for level in range(1, len(levels)):
        expected = levels[level]
        seen = 0
        for idx, h in session.execute(
            select(LogNode.index, LogNode.hash)
            .where(LogNode.level == level)
            .order_by(LogNode.index)
        ):
            if idx < len(expected) and expected[idx] == h:
                seen += 1
                continue
            problems.append(
                _node_problem(
                    level, idx, bad, "is wrong" if idx < len(expected) else "should not exist"
                )
            )
        if seen != len(expected):
            stored = set(session.scalars(select(LogNode.index).where(LogNode.level == level)))
            for idx in range(len(expected)):
                if idx not in stored:
                    problems.append(_node_problem(level, idx, bad, "is missing"))
    extra = session.scalars(select(LogNode.level).where(LogNode.level >= len(levels)).distinct())
    for level in extra:
        problems.append(Problem(0, f"stored subtrees at level {level} should not exist"))
    return problems


def _node_problem(level: int, idx: int, bad: list[int], what: str) -> Problem:
    lo, hi = idx << level, (idx + 1) << level
    pos = bisect.bisect_left(bad, lo)
    at = bad[pos] if pos < len(bad) and bad[pos] < hi else lo
    return Problem(at, f"stored subtree ({level}, {idx}) over entries {lo}..{hi - 1} {what}")
