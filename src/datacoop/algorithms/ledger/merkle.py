"""Merkle tree hashing, inclusion and consistency proofs: RFC 9162 §2.1, exactly.

Notation (RFC 9162 §2.1.1): ``D[n] = {d(0), ..., d(n-1)}`` is the list of leaf inputs (here the
canonical JSON bytes of the entries), ``D[k1:k2]`` the sub-list ``d(k1) .. d(k2-1)``, and for
``n > 1`` ``k`` is the largest power of two strictly smaller than ``n``::

    MTH({})     = SHA-256()
    MTH({d(0)}) = SHA-256(0x00 || d(0))                              leaf hash
    MTH(D[n])   = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))        node hash

Two families of functions:

* in-memory: ``root_hash``, ``inclusion_proof``, ``consistency_proof`` take the raw leaf inputs;
  the ``*_from_hashes`` variants take precomputed leaf hashes ``MTH({d(i)})``;
* storage-shaped: ``inclusion_proof_nodes`` / ``consistency_proof_nodes`` name the leaf ranges
  ``[start, end)`` whose MTH make up a proof. A store that keeps the hash of every *completed
  perfect subtree* -- node ``(level h, index i)`` = MTH of leaves ``[i*2^h, (i+1)*2^h)``, level 0
  being the leaf hashes -- can then serve any proof with O(log n) lookups (``assemble_proof``).

Verifiers (``verify_inclusion``, ``verify_consistency``) follow RFC 9162 §2.1.3.2 and §2.1.4.2
step by step and never raise: any malformed input gives ``False``. Generators raise
``ValueError`` on out-of-range arguments.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "assemble_proof",
    "consistency_proof",
    "consistency_proof_from_hashes",
    "consistency_proof_nodes",
    "fold_subtree_hashes",
    "inclusion_proof",
    "inclusion_proof_from_hashes",
    "inclusion_proof_nodes",
    "is_perfect",
    "leaf_hash",
    "node_hash",
    "node_key",
    "node_range",
    "nodes_completed_by",
    "proof_node_keys",
    "range_hash_nodes",
    "root_from_hashes",
    "root_hash",
    "verify_consistency",
    "verify_inclusion",
]

#: Size in bytes of every hash (SHA-256).
HASH_SIZE = 32
#: MTH({}) = SHA-256() -- the root hash of the empty tree (RFC 9162 §2.1.1).
EMPTY_ROOT = hashlib.sha256(b"").digest()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

Range = tuple[int, int]
NodeKey = tuple[int, int]


# --------------------------------------------------------------------------------------------
# Hashing (RFC 9162 §2.1.1)
# --------------------------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """``MTH({d}) = SHA-256(0x00 || d)``: the hash of one leaf input (RFC 9162 §2.1.1)."""
    return hashlib.sha256(_LEAF_PREFIX + bytes(data)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``: the hash of an interior node (RFC 9162 §2.1.1)."""
    return hashlib.sha256(_NODE_PREFIX + bytes(left) + bytes(right)).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n > 1``): RFC 9162's ``k``."""
    return 1 << ((n - 1).bit_length() - 1)


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes | bytearray) and len(value) == HASH_SIZE


def _check_hashes(hashes: Sequence[bytes]) -> list[bytes]:
    out = []
    for i, h in enumerate(hashes):
        if not _is_hash(h):
            raise ValueError(f"hashes[{i}] is not a {HASH_SIZE}-byte hash")
        out.append(bytes(h))
    return out


def _fold_levels(hashes: list[bytes]) -> bytes:
    """MTH of a non-empty list of leaf hashes, computed bottom-up.

    Pairing neighbours level by level and carrying an unpaired last node up unchanged builds
    exactly the RFC tree (the left subtree of every node is the largest perfect one).
    """
    level = hashes
    while len(level) > 1:
        level = _next_level(level)
    return level[0]


def _next_level(level: list[bytes]) -> list[bytes]:
    """One level up: ``node_hash`` of each pair, an unpaired last node carried up unchanged."""
    sha256, prefix = hashlib.sha256, _NODE_PREFIX
    paired = [
        sha256(prefix + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)
    ]
    if len(level) % 2:
        paired.append(level[-1])
    return paired


def root_from_hashes(hashes: Sequence[bytes]) -> bytes:
    """``MTH(D[n])`` from the leaf hashes ``MTH({d(i)})`` (RFC 9162 §2.1.1); empty -> SHA-256()."""
    checked = _check_hashes(hashes)
    if not checked:
        return EMPTY_ROOT
    return _fold_levels(checked)


def root_hash(leaves: Sequence[bytes]) -> bytes:
    """``MTH(D[n])`` of the leaf inputs (not yet hashed), RFC 9162 §2.1.1.

    The empty tree's root is ``SHA-256()`` = ``e3b0c442...b855``.
    """
    return root_from_hashes([leaf_hash(d) for d in leaves])


# --------------------------------------------------------------------------------------------
# Proof generation from leaf hashes (RFC 9162 §2.1.3.1 and §2.1.4.1)
# --------------------------------------------------------------------------------------------


def inclusion_proof_from_hashes(index: int, hashes: Sequence[bytes]) -> list[bytes]:
    """``PATH(m, D[n])`` with ``m = index``, ``n = len(hashes)``, from leaf hashes.

    RFC 9162 §2.1.3.1: ``PATH(0, {d(0)}) = {}``; for ``n > 1``,
    ``PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])`` if ``m < k``, else
    ``PATH(m - k, D[k:n]) : MTH(D[0:k])``. The result lists sibling hashes from the leaf up.
    Raises ``ValueError`` unless ``0 <= index < len(hashes)``.
    """
    checked = _check_hashes(hashes)
    if not _is_count(index) or index >= len(checked):
        raise ValueError(f"leaf index {index!r} is outside a tree of size {len(checked)}")
    proof: list[bytes] = []
    level = checked
    position = index
    while len(level) > 1:
        sibling = position ^ 1
        if sibling < len(level):  # no sibling: the node is carried up unchanged
            proof.append(level[sibling])
        level = _next_level(level)
        position >>= 1
    return proof


def consistency_proof_from_hashes(first: int, second: int, hashes: Sequence[bytes]) -> list[bytes]:
    """``PROOF(m, D[n])`` with ``m = first``, ``n = second``, from leaf hashes (RFC 9162 §2.1.4.1).

    ``PROOF(m, D[n]) = SUBPROOF(m, D[n], true)``; ``SUBPROOF(m, D[m], true) = {}``,
    ``SUBPROOF(m, D[m], false) = {MTH(D[m])}``; for ``m < n``:
    ``SUBPROOF(m, D[n], b) = SUBPROOF(m, D[0:k], b) : MTH(D[k:n])`` if ``m <= k``, else
    ``SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])``.

    ``hashes`` are the leaf hashes of the second tree (``len(hashes) >= second``; extra ones are
    ignored). ``first == second`` and ``first == 0`` give the empty proof. Raises ``ValueError``
    unless ``0 <= first <= second <= len(hashes)``.
    """
    if not (_is_count(first) and _is_count(second)) or not first <= second <= len(hashes):
        raise ValueError(
            f"need 0 <= first <= second <= {len(hashes)} leaves, got first={first!r}, "
            f"second={second!r}"
        )
    checked = _check_hashes(hashes[:second])
    if first in (0, second):
        return []

    def mth(lo: int, hi: int) -> bytes:
        return _fold_levels(checked[lo:hi])

    def subproof(m: int, lo: int, hi: int, complete: bool) -> list[bytes]:
        n = hi - lo
        if m == n:
            return [] if complete else [mth(lo, hi)]
        k = _split(n)
        if m <= k:
            return subproof(m, lo, lo + k, complete) + [mth(lo + k, hi)]
        return subproof(m - k, lo + k, hi, False) + [mth(lo, lo + k)]

    return subproof(first, 0, second, True)


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """``PATH(index, D[n])`` (RFC 9162 §2.1.3.1) for the leaf inputs ``leaves`` (not hashed).

    Raises ``ValueError`` unless ``0 <= index < len(leaves)``.
    """
    return inclusion_proof_from_hashes(index, [leaf_hash(d) for d in leaves])


def consistency_proof(first: int, second: int, leaves: Sequence[bytes]) -> list[bytes]:
    """``PROOF(first, D[second])`` (RFC 9162 §2.1.4.1); ``leaves`` are the second tree's inputs.

    ``len(leaves) >= second`` (extra leaves are ignored). Raises ``ValueError`` unless
    ``0 <= first <= second <= len(leaves)``.
    """
    if not (_is_count(first) and _is_count(second)) or not first <= second <= len(leaves):
        raise ValueError(
            f"need 0 <= first <= second <= {len(leaves)} leaves, got first={first!r}, "
            f"second={second!r}"
        )
    return consistency_proof_from_hashes(first, second, [leaf_hash(d) for d in leaves[:second]])


# --------------------------------------------------------------------------------------------
# Verification (RFC 9162 §2.1.3.2 and §2.1.4.2)
# --------------------------------------------------------------------------------------------


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Check that ``leaf_hash`` sits at ``index`` in the tree of ``tree_size`` with root ``root``.

    RFC 9162 §2.1.3.2: fail if ``index >= tree_size``; ``fn = index``, ``sn = tree_size - 1``,
    ``r = leaf_hash``; for each ``p`` in ``proof``: fail if ``sn == 0``; if ``LSB(fn)`` or
    ``fn == sn``: ``r = HASH(0x01 || p || r)`` and, if ``LSB(fn)`` is not set, shift ``fn``
    and ``sn`` right until ``LSB(fn)`` is set or ``fn == 0``; otherwise
    ``r = HASH(0x01 || r || p)``; then shift ``fn`` and ``sn`` right once. Succeed iff
    ``sn == 0`` and ``r == root``.

    Never raises: wrong types, negative or out-of-range numbers, hashes that are not 32 bytes,
    or a proof of the wrong length all give ``False``.
    """
    try:
        if not (_is_hash(leaf_hash) and _is_hash(root)):
            return False
        if not (_is_count(index) and _is_count(tree_size)) or index >= tree_size:
            return False
        fn, sn = index, tree_size - 1
        r = bytes(leaf_hash)
        for p in proof:
            if not _is_hash(p) or sn == 0:
                return False
            if fn & 1 or fn == sn:
                r = node_hash(p, r)
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
            else:
                r = node_hash(r, p)
            fn >>= 1
            sn >>= 1
        return sn == 0 and r == bytes(root)
    except Exception:  # pragma: no cover - defensive: a verifier answers, it does not raise
        return False


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Check that the tree of size ``first`` (root ``first_root``) is a prefix of the tree of
    size ``second`` (root ``second_root``).

    For ``0 < first < second``, RFC 9162 §2.1.4.2: fail on an empty proof; if ``first`` is a
    power of two, prepend ``first_root`` to the proof; ``fn = first - 1``, ``sn = second - 1``;
    while ``LSB(fn)``: shift both right; ``fr = sr = proof[0]``; for each further ``c``: fail if
    ``sn == 0``; if ``LSB(fn)`` or ``fn == sn``: ``fr = HASH(0x01 || c || fr)``,
    ``sr = HASH(0x01 || c || sr)`` and, if ``LSB(fn)`` is not set, shift both right until
    ``LSB(fn)`` is set or ``fn == 0``; otherwise ``sr = HASH(0x01 || sr || c)``; then shift both
    right once. Succeed iff ``fr == first_root``, ``sr == second_root`` and ``sn == 0``.

    Edge cases the RFC leaves to the implementation: ``first == second`` holds iff the proof is
    empty and the roots are equal; ``first == 0`` holds iff the proof is empty and
    ``first_root`` is the empty-tree root ``SHA-256()``. Never raises; bad input gives ``False``.
    """
    try:
        if not (_is_hash(first_root) and _is_hash(second_root)):
            return False
        if not (_is_count(first) and _is_count(second)) or first > second:
            return False
        path = list(proof)
        if not all(_is_hash(c) for c in path):
            return False
        path = [bytes(c) for c in path]
        first_root, second_root = bytes(first_root), bytes(second_root)
        if first == second:
            return not path and first_root == second_root
        if first == 0:
            return not path and first_root == EMPTY_ROOT
        if not path:
            return False
        if first & (first - 1) == 0:
            path.insert(0, first_root)
        fn, sn = first - 1, second - 1
        while fn & 1:
            fn >>= 1
            sn >>= 1
        fr = sr = path[0]
        for c in path[1:]:
            if sn == 0:
                return False
            if fn & 1 or fn == sn:
                fr = node_hash(c, fr)
                sr = node_hash(c, sr)
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
            else:
                sr = node_hash(sr, c)
            fn >>= 1
            sn >>= 1
        return fr == first_root and sr == second_root and sn == 0
    except Exception:  # pragma: no cover - defensive: a verifier answers, it does not raise
        return False


# --------------------------------------------------------------------------------------------
# Storage-shaped proofs: which subtree hashes a proof needs
# --------------------------------------------------------------------------------------------


def is_perfect(start: int, end: int) -> bool:
    """Whether leaves ``[start, end)`` form a perfect subtree: ``end - start = 2^h`` and
    ``start`` is a multiple of ``2^h``. Such a range is stored node ``(h, start >> h)``."""
    size = end - start
    return start >= 0 and size > 0 and size & (size - 1) == 0 and start % size == 0


def node_key(start: int, end: int) -> NodeKey:
    """The ``(level, index)`` of the perfect subtree over leaves ``[start, end)``.

    ``level = log2(end - start)``, ``index = start >> level``. Raises ``ValueError`` if the range
    is not a perfect subtree (see ``is_perfect``).
    """
    if not is_perfect(start, end):
        raise ValueError(f"[{start}, {end}) is not a perfect subtree")
    level = (end - start).bit_length() - 1
    return level, start >> level


def node_range(level: int, index: int) -> Range:
    """The leaves ``[index * 2^level, (index + 1) * 2^level)`` under node ``(level, index)``."""
    if not (_is_count(level) and _is_count(index)):
        raise ValueError(f"bad node ({level!r}, {index!r})")
    return index << level, (index + 1) << level


def nodes_completed_by(tree_size: int) -> list[NodeKey]:
    """The nodes that become complete when the tree grows from ``tree_size - 1`` to ``tree_size``.

    Appending leaf ``i = tree_size - 1`` completes node ``(h, tree_size / 2^h - 1)`` for every
    ``h`` with ``2^h`` dividing ``tree_size``: ``(0, i)`` is the leaf hash itself and
    ``(h, j) = node_hash((h-1, 2j), (h-1, 2j+1))``. Listed bottom-up, so a store can compute and
    insert them in order. Storing these for every append gives every completed perfect subtree.
    """
    if not _is_count(tree_size) or tree_size == 0:
        raise ValueError(f"tree_size must be a positive integer, got {tree_size!r}")
    out: list[NodeKey] = []
    level = 0
    while tree_size % (1 << level) == 0:
        out.append((level, (tree_size >> level) - 1))
        level += 1
    return out


def inclusion_proof_nodes(index: int, tree_size: int) -> list[Range]:
    """The leaf ranges ``[start, end)`` whose MTH, in this order, are ``PATH(index, D[tree_size])``.

    Follows RFC 9162 §2.1.3.1's recursion on ranges (sibling ranges, leaf first). Every range is
    either a perfect subtree (``is_perfect``: look up ``node_key(start, end)``) or -- at most one
    range per proof -- an *imperfect right edge* ending at ``tree_size`` whose MTH is the fold of
    the perfect subtrees ``range_hash_nodes(start, end)`` (see ``fold_subtree_hashes``).
    Raises ``ValueError`` unless ``0 <= index < tree_size``.
    """
    if not (_is_count(index) and _is_count(tree_size)) or index >= tree_size:
        raise ValueError(f"leaf index {index!r} is outside a tree of size {tree_size!r}")
    out: list[Range] = []
    lo, hi = 0, tree_size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo += k
    out.reverse()
    return out


def consistency_proof_nodes(first: int, second: int) -> list[Range]:
    """The leaf ranges whose MTH, in this order, are ``PROOF(first, D[second])``.

    Follows RFC 9162 §2.1.4.1's SUBPROOF recursion on ranges. As for ``inclusion_proof_nodes``,
    every range is a perfect subtree except at most one imperfect right edge ending at
    ``second``. Empty for ``first == 0`` or ``first == second``. Raises ``ValueError`` unless
    ``0 <= first <= second``.
    """
    if not (_is_count(first) and _is_count(second)) or first > second:
        raise ValueError(f"need 0 <= first <= second, got first={first!r}, second={second!r}")
    if first in (0, second):
        return []
    out: list[Range] = []
    lo, hi = 0, second
    complete = True
    while True:
        n, m = hi - lo, first - lo
        if m == n:
            if not complete:
                out.append((lo, hi))
            break
        k = _split(n)
        if m <= k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo += k
            complete = False
    out.reverse()
    return out


def range_hash_nodes(start: int, end: int) -> list[Range]:
    """The perfect subtrees, left to right, whose fold is MTH of leaves ``[start, end)``.

    Valid for the ranges that appear in RFC trees: ``start`` must be a multiple of the largest
    power of two ``<= end - start`` (true of every range the ``*_nodes`` functions return, and
    of ``[0, n)`` -- ``range_hash_nodes(0, n)`` are the roots whose fold is the tree head of size
    ``n``). The sizes are the binary digits of ``end - start``, largest first, so there are at
    most ``log2(n) + 1`` of them. ``MTH = fold_subtree_hashes([hash of each, in order])``.
    Raises ``ValueError`` for an empty or unaligned range.
    """
    if not (_is_count(start) and _is_count(end)) or end <= start:
        raise ValueError(f"[{start!r}, {end!r}) is not a non-empty leaf range")
    size = end - start
    if start % (1 << (size.bit_length() - 1)):
        raise ValueError(f"[{start}, {end}) is not aligned like a subtree of an RFC 9162 tree")
    out: list[Range] = []
    pos = start
    while pos < end:
        step = 1 << ((end - pos).bit_length() - 1)
        out.append((pos, pos + step))
        pos += step
    return out


def fold_subtree_hashes(hashes: Sequence[bytes]) -> bytes:
    """Combine the hashes of ``range_hash_nodes(start, end)`` into MTH of ``[start, end)``.

    Right fold: ``fold([h1, ..., hr]) = node_hash(h1, node_hash(h2, ... node_hash(h(r-1), hr)))``
    (RFC 9162 §2.1.1: the left subtree is always the largest perfect one). Raises
    ``ValueError`` on an empty list.
    """
    if not hashes:
        raise ValueError("nothing to fold")
    acc = bytes(hashes[-1])
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def proof_node_keys(ranges: Iterable[Range]) -> list[NodeKey]:
    """Every stored node ``(level, index)`` needed to hash ``ranges``, without repeats, in order.

    For a batched lookup (``WHERE (level, index) IN ...``) before ``assemble_proof``.
    """
    seen: dict[NodeKey, None] = {}
    for start, end in ranges:
        for part in range_hash_nodes(start, end):
            seen.setdefault(node_key(*part))
    return list(seen)


def assemble_proof(ranges: Iterable[Range], lookup: Callable[[int, int], bytes]) -> list[bytes]:
    """Turn proof ranges into proof hashes using ``lookup(level, index)`` for stored nodes.

    A perfect range is one lookup; an imperfect right edge is the fold of the lookups for
    ``range_hash_nodes(start, end)``. With the ``*_nodes`` functions this is O(log n) lookups.
    """
    out: list[bytes] = []
    for start, end in ranges:
        if is_perfect(start, end):
            out.append(bytes(lookup(*node_key(start, end))))
        else:
            parts = [lookup(*node_key(a, b)) for a, b in range_hash_nodes(start, end)]
            out.append(fold_subtree_hashes(parts))
    return out
