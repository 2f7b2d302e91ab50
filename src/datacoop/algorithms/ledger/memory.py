"""An append-only, in-memory RFC 9162 log that keeps every completed perfect subtree.

``MemoryLog`` stores the hash of node ``(level h, index i)`` -- the MTH of leaves
``[i*2^h, (i+1)*2^h)`` -- for every perfect subtree that is complete, in ``levels[h][i]``. Level 0
holds the leaf hashes. This is the same layout the persisted log keeps in its tables (see
``docs/ledger.md``, "Serving proofs from storage"), so any root of a past size, inclusion proof
or consistency proof needs O(log n) list lookups and at most one short fold, never a rehash of
the leaves:

* append: push the leaf hash to level 0 and, while the new node's index is odd, hash it with its
  left sibling into the level above (on average one node hash per leaf);
* root of size ``n``: ``fold_subtree_hashes`` of the nodes ``range_hash_nodes(0, n)``, one per set
  bit of ``n``;
* proofs: ``inclusion_proof_nodes`` / ``consistency_proof_nodes`` + ``assemble_proof``.

Memory: level ``h`` holds ``floor(n / 2^h)`` hashes, so the log keeps fewer than ``2n`` hashes in
all. Each is a 32-byte ``bytes`` object (65 bytes on CPython 3.11 including its header) plus an
8-byte slot in its list: about 145 bytes per leaf. Measured (``benchmarks/log.py``): the process
grows by ~180 MB per million leaves, ~1.8 GB for ten million (list over-allocation and the
allocator add to the raw figure). The leaf inputs themselves are not kept.

Results equal the pure functions of ``merkle.py`` (``root_hash``, ``inclusion_proof``,
``consistency_proof``) bit for bit. Not thread-safe: serialise appends yourself if several
threads share one log. Standard library only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from .merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    assemble_proof,
    consistency_proof_nodes,
    fold_subtree_hashes,
    inclusion_proof_nodes,
    node_key,
    range_hash_nodes,
)

__all__ = ["MemoryLog"]

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_data(data: object, where: str) -> bytes:
    # Refuse ints and str explicitly: bytes(5) would silently be five zero bytes.
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ValueError(f"{where}: leaf input must be bytes, got {type(data).__name__}")
    return bytes(data)


class MemoryLog:
    """An RFC 9162 Merkle log held in memory, with O(log n) roots and proofs for any past size.

    ``levels[h][i]`` is the hash of the completed perfect subtree ``(h, i)``; ``len(log)`` is the
    number of leaves. Every method that takes a tree size accepts ``None`` for the current one
    and raises ``ValueError`` for sizes or indexes outside the log.
    """

    __slots__ = ("_levels",)

    def __init__(self) -> None:
        self._levels: list[list[bytes]] = [[]]

    def __len__(self) -> int:
        return len(self._levels[0])

    def __repr__(self) -> str:
        return f"MemoryLog(size={len(self)})"

    # ----------------------------------------------------------------------------------------
    # Appending
    # ----------------------------------------------------------------------------------------

    def append(self, data: bytes) -> int:
        """Append one leaf input (not yet hashed: ``MTH({d}) = SHA-256(0x00 || d)`` is computed
        here); returns its index."""
        return self._push(hashlib.sha256(_LEAF_PREFIX + _check_data(data, "data")).digest())

    def append_hash(self, leaf_hash: bytes) -> int:
        """Append a leaf whose hash ``SHA-256(0x00 || d)`` is already known; returns its index.

        The hash is trusted as given: a log built from wrong leaf hashes is internally
        consistent but proves nothing about the leaf inputs.
        """
        if not isinstance(leaf_hash, bytes | bytearray) or len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"leaf_hash must be a {HASH_SIZE}-byte hash")
        return self._push(bytes(leaf_hash))

    def extend(self, items: Iterable[bytes]) -> int:
        """Append many leaf inputs (not hashed) in order; returns the new size.

        Atomic: every item is checked and hashed before the log changes, so a bad item leaves
        the log as it was. Faster than repeated ``append``: the new parents are computed one
        level at a time.
        """
        sha256, prefix = hashlib.sha256, _LEAF_PREFIX
        hashes = []
        for position, data in enumerate(items):
            hashes.append(sha256(prefix + _check_data(data, f"items[{position}]")).digest())
        return self._extend_hashes(hashes)

    def extend_hashes(self, leaf_hashes: Iterable[bytes]) -> int:
        """Append many known leaf hashes in order (see ``append_hash``); returns the new size.

        Atomic like ``extend``.
        """
        hashes = []
        for position, h in enumerate(leaf_hashes):
            if not isinstance(h, bytes | bytearray) or len(h) != HASH_SIZE:
                raise ValueError(f"leaf_hashes[{position}] is not a {HASH_SIZE}-byte hash")
            hashes.append(bytes(h))
        return self._extend_hashes(hashes)

    def _push(self, h: bytes) -> int:
        levels = self._levels
        index = len(levels[0])
        levels[0].append(h)
        sha256, prefix = hashlib.sha256, _NODE_PREFIX
        level, i = 0, index
        while i & 1:  # a right child: its parent is now complete
            h = sha256(prefix + levels[level][i - 1] + h).digest()
            level += 1
            i >>= 1
            if level == len(levels):
                levels.append([])
            levels[level].append(h)
        return index

    def _extend_hashes(self, hashes: list[bytes]) -> int:
        levels = self._levels
        levels[0].extend(hashes)
        sha256, prefix = hashlib.sha256, _NODE_PREFIX
        level = 0
        # Level h + 1 must hold floor(len(level h) / 2) nodes; compute the missing ones.
        while len(levels[level]) >= 2:
            below = levels[level]
            if level + 1 == len(levels):
                levels.append([])
            above = levels[level + 1]
            done, complete = len(above), len(below) // 2
            if done == complete:
                break  # nothing new at this level, so nothing new above it either
            above.extend(
                [
                    sha256(prefix + below[2 * j] + below[2 * j + 1]).digest()
                    for j in range(done, complete)
                ]
            )
            level += 1
        return len(levels[0])

    # ----------------------------------------------------------------------------------------
    # Roots and proofs
    # ----------------------------------------------------------------------------------------

    def _size(self, tree_size: int | None, name: str = "tree_size") -> int:
        current = len(self._levels[0])
        if tree_size is None:
            return current
        if not _is_count(tree_size) or tree_size > current:
            raise ValueError(f"{name} {tree_size!r} is not between 0 and the log size {current}")
        return tree_size

    def _lookup(self, level: int, index: int) -> bytes:
        return self._levels[level][index]

    def leaf_hash(self, index: int) -> bytes:
        """The stored leaf hash ``MTH({d(index)})``."""
        if not _is_count(index) or index >= len(self._levels[0]):
            raise ValueError(f"leaf index {index!r} is outside a log of size {len(self)}")
        return self._levels[0][index]

    def root(self, tree_size: int | None = None) -> bytes:
        """``MTH(D[tree_size])`` (default: the current size); ``SHA-256()`` for size 0."""
        n = self._size(tree_size)
        if n == 0:
            return EMPTY_ROOT
        levels = self._levels
        parts = []
        for start, end in range_hash_nodes(0, n):
            level, index = node_key(start, end)
            parts.append(levels[level][index])
        return fold_subtree_hashes(parts)

    def inclusion_proof(self, index: int, tree_size: int | None = None) -> list[bytes]:
        """``PATH(index, D[tree_size])`` (RFC 9162 §2.1.3.1); default size: the current one.

        Raises ``ValueError`` unless ``0 <= index < tree_size <= len(self)``.
        """
        n = self._size(tree_size)
        if not _is_count(index) or index >= n:
            raise ValueError(f"leaf index {index!r} is outside a tree of size {n}")
        return assemble_proof(inclusion_proof_nodes(index, n), self._lookup)

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        """``PROOF(first, D[second])`` (RFC 9162 §2.1.4.1); default ``second``: the current size.

        Empty for ``first == 0`` or ``first == second``. Raises ``ValueError`` unless
        ``0 <= first <= second <= len(self)``.
        """
        m = self._size(second, "second")
        if not _is_count(first) or first > m:
            raise ValueError(f"first {first!r} is not between 0 and second {m}")
        return assemble_proof(consistency_proof_nodes(first, m), self._lookup)
