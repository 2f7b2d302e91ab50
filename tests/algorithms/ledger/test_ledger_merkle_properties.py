"""Property tests of the Merkle library against a naive oracle written from RFC 9162 §2.1.

The oracle below is the RFC's recursive definitions (MTH, PATH, SUBPROOF) transcribed literally
over leaf ranges ``[lo, hi)`` of one fixed list of distinct leaves, using ``hashlib`` directly.
MTH of a range does not depend on the tree it sits in, so it is memoised across tree sizes.

A note on "wrong tree size": RFC 9162 proofs do not bind the tree size by themselves -- the
signed tree head does. A proof for leaf 0 of a 3-leaf tree, ``[h1, h2]``, also verifies "as" leaf
0 of a 4-leaf tree with the same root, because the verifier cannot tell a leaf hash ``h2`` from
a node hash ``MTH(d2, d3)``. So wrong (index, size) probes are checked exactly: verification
succeeds iff the RFC shape of the computation (how the proof elements combine into the roots)
is the same as for the true parameters, which the oracle computes symbolically; otherwise it
must fail. Every probe is also counted, so the tests prove most wrong sizes fail.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datacoop.algorithms.ledger import (
    EMPTY_ROOT,
    assemble_proof,
    consistency_proof,
    consistency_proof_from_hashes,
    consistency_proof_nodes,
    fold_subtree_hashes,
    inclusion_proof,
    inclusion_proof_from_hashes,
    inclusion_proof_nodes,
    is_perfect,
    leaf_hash,
    node_hash,
    node_key,
    node_range,
    nodes_completed_by,
    proof_node_keys,
    range_hash_nodes,
    root_from_hashes,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

MAX = 300
HYPOTHESIS = settings(max_examples=150, deadline=None, database=None)

_rng = random.Random(9162)
# Distinct leaves of varied lengths (index-tagged so no two are equal), including an empty one.
LEAVES: list[bytes] = [b""] + [
    i.to_bytes(2, "big") + _rng.randbytes(_rng.randrange(0, 40)) for i in range(1, MAX + 1)
]
HASHES: list[bytes] = [leaf_hash(d) for d in LEAVES]


# ------------------------------------------------------------------------------------------
# The oracle: RFC 9162 §2.1, naively.
# ------------------------------------------------------------------------------------------


def largest_power_of_two_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


@cache
def mth(lo: int, hi: int) -> bytes:
    """MTH(D[lo:hi]) by the RFC's recursive definition."""
    n = hi - lo
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + LEAVES[lo]).digest()
    k = largest_power_of_two_below(n)
    return hashlib.sha256(b"\x01" + mth(lo, lo + k) + mth(lo + k, hi)).digest()


def path_ranges(m: int, lo: int, hi: int) -> list[tuple[int, int]]:
    """PATH(m, D[lo:hi]) as the ranges whose MTH it lists."""
    n = hi - lo
    if n == 1:
        return []
    k = largest_power_of_two_below(n)
    if m < k:
        return path_ranges(m, lo, lo + k) + [(lo + k, hi)]
    return path_ranges(m - k, lo + k, hi) + [(lo, lo + k)]


def subproof_ranges(m: int, lo: int, hi: int, b: bool) -> list[tuple[int, int]]:
    """SUBPROOF(m, D[lo:hi], b) as ranges."""
    n = hi - lo
    if m == n:
        return [] if b else [(lo, hi)]
    k = largest_power_of_two_below(n)
    if m <= k:
        return subproof_ranges(m, lo, lo + k, b) + [(lo + k, hi)]
    return subproof_ranges(m - k, lo + k, hi, False) + [(lo, lo + k)]


def oracle_path(m: int, n: int) -> list[bytes]:
    return [mth(*r) for r in path_ranges(m, 0, n)]


def oracle_proof(m: int, n: int) -> list[bytes]:
    if m in (0, n):
        return []
    return [mth(*r) for r in subproof_ranges(m, 0, n, True)]


def _symbolic(lo: int, hi: int, atoms: dict[tuple[int, int], Any]) -> Any:
    """MTH(D[lo:hi]) as a formula over the atoms; None if it needs data the atoms lack."""
    if (lo, hi) in atoms:
        return atoms[(lo, hi)]
    if hi - lo <= 1:
        return None
    k = largest_power_of_two_below(hi - lo)
    left, right = _symbolic(lo, lo + k, atoms), _symbolic(lo + k, hi, atoms)
    return None if left is None or right is None else (left, right)


@cache
def inclusion_shape(m: int, n: int) -> Any:
    """How PATH(m, D[n]) and the leaf combine into MTH(D[n]), with proof elements by position."""
    if not 0 <= m < n:
        return None
    atoms: dict[tuple[int, int], Any] = {r: ("p", j) for j, r in enumerate(path_ranges(m, 0, n))}
    atoms[(m, m + 1)] = "leaf"
    return _symbolic(0, n, atoms)


@cache
def consistency_shape(m: int, n: int, first_root: Any = "first") -> Any:
    """How PROOF(m, D[n]) (and, for m a power of two, the first root) make both roots."""
    if not 0 < m < n:
        return None
    ranges = subproof_ranges(m, 0, n, True)
    atoms: dict[tuple[int, int], Any] = {r: ("p", j) for j, r in enumerate(ranges)}
    if m & (m - 1) == 0:
        atoms[(0, m)] = first_root
    return _symbolic(0, m, atoms), _symbolic(0, n, atoms)


def flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


SOME_BITS = (3, 254)  # a bit in the first and in the last byte


def test_oracle_matches_published_roots() -> None:
    # Keeps the oracle honest: the 8 published leaves through the same definition.
    leaves = [
        bytes.fromhex(x)
        for x in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657"]
        + ["606162636465666768696a6b6c6d6e6f"]
    ]

    def naive(d: list[bytes]) -> bytes:
        if not d:
            return hashlib.sha256(b"").digest()
        if len(d) == 1:
            return hashlib.sha256(b"\x00" + d[0]).digest()
        k = largest_power_of_two_below(len(d))
        return hashlib.sha256(b"\x01" + naive(d[:k]) + naive(d[k:])).digest()

    assert naive(leaves).hex() == (
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    )
    assert all(naive(leaves[:n]) == root_hash(leaves[:n]) for n in range(9))


# ------------------------------------------------------------------------------------------
# Roots
# ------------------------------------------------------------------------------------------


def test_roots_match_oracle_for_every_size() -> None:
    for n in range(MAX + 1):
        assert root_from_hashes(HASHES[:n]) == mth(0, n), n
    assert root_hash(LEAVES) == mth(0, MAX + 1)
    assert root_hash([]) == EMPTY_ROOT


def test_hash_functions_are_the_rfc_ones() -> None:
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    a, b = HASHES[1], HASHES[2]
    assert node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()
    assert root_hash([b"", b"\x00"]) == node_hash(leaf_hash(b""), leaf_hash(b"\x00"))


def test_root_from_hashes_rejects_non_hashes() -> None:
    with pytest.raises(ValueError):
        root_from_hashes([b"short"])


# ------------------------------------------------------------------------------------------
# Inclusion
# ------------------------------------------------------------------------------------------


def inclusion_probe_params(m: int, n: int, exhaustive: bool) -> Iterator[tuple[int, int]]:
    """Wrong (index, size) pairs to try against the proof for (m, n)."""
    if exhaustive:
        for size in range(0, 2 * n + 3):
            for index in range(0, size + 2):
                if (index, size) != (m, n):
                    yield index, size
    else:
        for index in {m - 1, m + 1, m ^ 1, m ^ 2, n, n + 1, 0, n - 1}:
            if index != m:
                yield index, n
        for size in {n - 1, n + 1, n + 2, 2 * n, n // 2, 0, m}:
            if size != n:
                yield m, size


def check_inclusion(m: int, n: int, exhaustive: bool, stats: dict[str, int]) -> None:
    proof = inclusion_proof_from_hashes(m, HASHES[:n])
    assert proof == oracle_path(m, n), (m, n)
    leaf, root = HASHES[m], mth(0, n)
    assert verify_inclusion(leaf, m, n, proof, root), (m, n)

    # Flip bits in every proof element, the leaf hash and the root.
    bits = range(256) if exhaustive and n <= 8 else SOME_BITS
    for bit in bits:
        assert not verify_inclusion(flip(leaf, bit), m, n, proof, root)
        assert not verify_inclusion(leaf, m, n, proof, flip(root, bit))
        for j in range(len(proof)):
            bad = [*proof[:j], flip(proof[j], bit), *proof[j + 1 :]]
            assert not verify_inclusion(leaf, m, n, bad, root), (m, n, j, bit)

    # Dropping or adding an element anywhere.
    for j in range(len(proof)):
        assert not verify_inclusion(leaf, m, n, proof[:j] + proof[j + 1 :], root)
    for j in range(len(proof) + 1):
        extras = (root, leaf, HASHES[(m + 1) % len(HASHES)]) if exhaustive else (root,)
        for extra in extras:
            assert not verify_inclusion(leaf, m, n, [*proof[:j], extra, *proof[j:]], root)

    # Another leaf, a leaf's raw data, a non-hash.
    other = HASHES[m + 1] if m + 1 < len(HASHES) else HASHES[0]
    assert not verify_inclusion(other, m, n, proof, root)
    assert not verify_inclusion(LEAVES[m], m, n, proof, root)

    # Wrong index: always fails. Wrong size: fails unless the RFC shape is identical.
    true_shape = inclusion_shape(m, n)
    for index, size in inclusion_probe_params(m, n, exhaustive):
        got = verify_inclusion(leaf, index, size, proof, root)
        if size == n:
            assert got is False, (m, n, index)
        expected = inclusion_shape(index, size) == true_shape
        assert got is expected, (m, n, index, size)
        stats["accepted" if got else "rejected"] += 1


def test_every_inclusion_proof_small_trees() -> None:
    stats = {"accepted": 0, "rejected": 0}
    for n in range(1, 33):
        for m in range(n):
            check_inclusion(m, n, exhaustive=n <= 20, stats=stats)
    # Most probes fail; the successes are all size-only ambiguities with an identical shape.
    assert stats["rejected"] > stats["accepted"] > 0


def test_every_inclusion_proof_up_to_128() -> None:
    stats = {"accepted": 0, "rejected": 0}
    for n in range(33, 129):
        for m in range(n):
            check_inclusion(m, n, exhaustive=False, stats=stats)
    assert stats["rejected"] > stats["accepted"] > 0


def test_inclusion_proofs_sampled_up_to_300() -> None:
    stats = {"accepted": 0, "rejected": 0}
    for n in range(129, MAX + 1):
        k = largest_power_of_two_below(n)
        for m in sorted({0, 1, k - 1, k, n // 2, n - 2, n - 1, (n * 7) // 11}):
            check_inclusion(m, n, exhaustive=False, stats=stats)


@HYPOTHESIS
@given(st.data())
def test_inclusion_hypothesis(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, MAX), label="size")
    m = data.draw(st.integers(0, n - 1), label="index")
    check_inclusion(m, n, exhaustive=False, stats={"accepted": 0, "rejected": 0})


def test_inclusion_proof_from_raw_leaves() -> None:
    for n in (1, 2, 3, 7, 8, 9, 63, 64, 65, 100):
        for m in {0, n // 3, n - 1}:
            assert inclusion_proof(m, LEAVES[:n]) == oracle_path(m, n)


@pytest.mark.parametrize(("m", "n"), [(0, 0), (1, 1), (5, 3), (-1, 3)])
def test_inclusion_generators_reject_out_of_range(m: int, n: int) -> None:
    with pytest.raises(ValueError):
        inclusion_proof(m, LEAVES[:n])
    with pytest.raises(ValueError):
        inclusion_proof_from_hashes(m, HASHES[:n])


def test_inclusion_wrong_size_ambiguity_is_real() -> None:
    """The documented RFC property: same root, same proof, two tree sizes."""
    proof = inclusion_proof(0, LEAVES[:3])
    root = mth(0, 3)
    assert verify_inclusion(HASHES[0], 0, 3, proof, root)
    assert verify_inclusion(HASHES[0], 0, 4, proof, root)  # shape (0, 3) == shape (0, 4)
    assert not verify_inclusion(HASHES[0], 0, 5, proof, root)


@pytest.mark.parametrize(
    "args",
    [
        (None, 0, 1, [], EMPTY_ROOT),
        ("x" * 32, 0, 1, [], "x" * 32),
        (EMPTY_ROOT, "0", 1, [], EMPTY_ROOT),
        (EMPTY_ROOT, 0, 1.0, [], EMPTY_ROOT),
        (EMPTY_ROOT, True, 2, [EMPTY_ROOT], EMPTY_ROOT),
        (EMPTY_ROOT, 0, 2, None, EMPTY_ROOT),
        (EMPTY_ROOT, 0, 2, [None], EMPTY_ROOT),
        (EMPTY_ROOT, 0, 2, "ab", EMPTY_ROOT),
        (EMPTY_ROOT, 0, 2, [b"\x00" * 33], EMPTY_ROOT),
        (EMPTY_ROOT, -1, 2, [EMPTY_ROOT], EMPTY_ROOT),
        (EMPTY_ROOT, 0, -2, [EMPTY_ROOT], EMPTY_ROOT),
        (EMPTY_ROOT, 0, 2**200, [EMPTY_ROOT], EMPTY_ROOT),
        (EMPTY_ROOT, 0, 1, [EMPTY_ROOT] * 10_000, EMPTY_ROOT),
    ],
)
def test_verify_inclusion_never_raises(args: tuple[Any, ...]) -> None:
    assert verify_inclusion(*args) is False


def test_verifiers_accept_bytearray() -> None:
    proof = [bytearray(p) for p in inclusion_proof(3, LEAVES[:10])]
    assert verify_inclusion(bytearray(HASHES[3]), 3, 10, proof, bytearray(mth(0, 10)))  # type: ignore[arg-type, unused-ignore]


# ------------------------------------------------------------------------------------------
# Consistency
# ------------------------------------------------------------------------------------------


def consistency_probe_params(m: int, n: int, exhaustive: bool) -> Iterator[tuple[int, int]]:
    if exhaustive:
        for second in range(0, n + 3):
            for first in range(0, second + 1):
                if (first, second) != (m, n):
                    yield first, second
    else:
        for first in {m - 1, m + 1, m ^ 2, m * 2, m // 2, 0, n}:
            if first != m:
                yield first, n
        for second in {n - 1, n + 1, n * 2, n // 2, m}:
            if second != n:
                yield m, second


def check_consistency(m: int, n: int, exhaustive: bool, stats: dict[str, int]) -> None:
    proof = consistency_proof_from_hashes(m, n, HASHES)
    assert proof == oracle_proof(m, n), (m, n)
    root1, root2 = mth(0, m), mth(0, n)
    assert verify_consistency(m, n, root1, root2, proof), (m, n)
    if m in (0, n):
        assert proof == []
        assert not verify_consistency(m, n, root1, root2, [root2])
        if m == n and n:
            assert not verify_consistency(m, n, root1, mth(0, n - 1), [])
        return

    bits = range(256) if exhaustive and n <= 6 else SOME_BITS
    for bit in bits:
        assert not verify_consistency(m, n, flip(root1, bit), root2, proof)
        assert not verify_consistency(m, n, root1, flip(root2, bit), proof)
        for j in range(len(proof)):
            bad = [*proof[:j], flip(proof[j], bit), *proof[j + 1 :]]
            assert not verify_consistency(m, n, root1, root2, bad), (m, n, j, bit)

    for j in range(len(proof)):
        assert not verify_consistency(m, n, root1, root2, proof[:j] + proof[j + 1 :])
    for j in range(len(proof) + 1):
        extras = (root1, root2, proof[0]) if exhaustive else (root2,)
        for extra in extras:
            assert not verify_consistency(m, n, root1, root2, [*proof[:j], extra, *proof[j:]])
    assert not verify_consistency(m, n, root2, root1, proof)
    assert not verify_consistency(m, n, root1, root2, [])

    # Wrong sizes: fail unless the shape (with the true first root expanded) is identical.
    truth = consistency_shape(m, n, first_root=consistency_shape(m, n)[0])
    for first, second in consistency_probe_params(m, n, exhaustive):
        got = verify_consistency(first, second, root1, root2, proof)
        if 0 < first < second:
            expected = consistency_shape(first, second, first_root=truth[0]) == truth
        else:
            expected = False  # a non-empty proof never proves a trivial pair
        assert got is expected, (m, n, first, second)
        stats["accepted" if got else "rejected"] += 1


def test_every_consistency_proof_up_to_64() -> None:
    stats = {"accepted": 0, "rejected": 0}
    for n in range(0, 65):
        for m in range(0, n + 1):
            check_consistency(m, n, exhaustive=n <= 16, stats=stats)
    assert stats["rejected"] > stats["accepted"] > 0


def test_consistency_proofs_sampled_up_to_300() -> None:
    stats = {"accepted": 0, "rejected": 0}
    for n in range(65, MAX + 1):
        k = largest_power_of_two_below(n)
        for m in sorted({1, 2, 3, k // 2, k - 1, k, k + 1, n // 2, n - 2, n - 1, n}):
            check_consistency(m, n, exhaustive=False, stats=stats)
    assert stats["rejected"] > stats["accepted"] > 0


@HYPOTHESIS
@given(st.data())
def test_consistency_hypothesis(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, MAX), label="second")
    m = data.draw(st.integers(1, n), label="first")
    check_consistency(m, n, exhaustive=False, stats={"accepted": 0, "rejected": 0})


def test_consistency_proof_from_raw_leaves() -> None:
    for n in (2, 3, 7, 8, 9, 64, 100):
        for m in {1, n // 3 or 1, n - 1, n}:
            assert consistency_proof(m, n, LEAVES[:n]) == oracle_proof(m, n)
            assert consistency_proof(m, n, LEAVES) == oracle_proof(m, n)


@pytest.mark.parametrize(("m", "n", "available"), [(2, 1, 5), (1, 6, 5), (-1, 2, 5), (0, 1, 0)])
def test_consistency_generators_reject_out_of_range(m: int, n: int, available: int) -> None:
    with pytest.raises(ValueError):
        consistency_proof(m, n, LEAVES[:available])
    with pytest.raises(ValueError):
        consistency_proof_from_hashes(m, n, HASHES[:available])


@pytest.mark.parametrize(
    "args",
    [
        (1, 2, None, EMPTY_ROOT, [EMPTY_ROOT]),
        (1, 2, EMPTY_ROOT, EMPTY_ROOT[:31], [EMPTY_ROOT]),
        ("1", 2, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT]),
        (1, 2.0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT]),
        (False, True, EMPTY_ROOT, EMPTY_ROOT, []),
        (1, 2, EMPTY_ROOT, EMPTY_ROOT, None),
        (1, 2, EMPTY_ROOT, EMPTY_ROOT, [None]),
        (1, 2, EMPTY_ROOT, EMPTY_ROOT, [b""]),
        (3, 2**100, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT] * 5),
        (3, 7, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT] * 10_000),
        (-1, 2, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT]),
    ],
)
def test_verify_consistency_never_raises(args: tuple[Any, ...]) -> None:
    assert verify_consistency(*args) is False


# ------------------------------------------------------------------------------------------
# Storage-shaped proofs: perfect-subtree store
# ------------------------------------------------------------------------------------------


def build_store_by_appending(count: int) -> dict[tuple[int, int], bytes]:
    """What a persisted log does: on each append, store every node the new leaf completes."""
    store: dict[tuple[int, int], bytes] = {}
    for size in range(1, count + 1):
        for level, index in nodes_completed_by(size):
            if level == 0:
                store[(0, index)] = HASHES[index]
            else:
                store[(level, index)] = node_hash(
                    store[(level - 1, 2 * index)], store[(level - 1, 2 * index + 1)]
                )
    return store


STORE = build_store_by_appending(MAX)


class CountingLookup:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, level: int, index: int) -> bytes:
        self.calls += 1
        return STORE[(level, index)]


def test_store_holds_exactly_the_perfect_subtrees() -> None:
    expected = {
        (lv, i) for lv in range(MAX.bit_length()) for i in range(MAX >> lv)
    }  # every completed perfect subtree of a 300-leaf tree
    assert set(STORE) == expected
    for (lv, i), value in STORE.items():
        assert value == mth(*node_range(lv, i))


def test_nodes_completed_by() -> None:
    assert nodes_completed_by(1) == [(0, 0)]
    assert nodes_completed_by(2) == [(0, 1), (1, 0)]
    assert nodes_completed_by(3) == [(0, 2)]
    assert nodes_completed_by(8) == [(0, 7), (1, 3), (2, 1), (3, 0)]
    assert nodes_completed_by(12) == [(0, 11), (1, 5), (2, 2)]
    for bad in (0, -1):
        with pytest.raises(ValueError):
            nodes_completed_by(bad)


def _check_ranges(ranges: list[tuple[int, int]], size: int) -> None:
    imperfect = [r for r in ranges if not is_perfect(*r)]
    assert len(imperfect) <= 1
    for start, end in imperfect:
        assert end == size  # only ever the right edge
        assert len(range_hash_nodes(start, end)) <= size.bit_length()


def test_inclusion_nodes_assemble_to_direct_proofs_all_sizes() -> None:
    """For every tree size up to 300 and every leaf: node lists -> store lookups == PATH."""
    for n in range(1, MAX + 1):
        log_n = max(1, (n - 1).bit_length())
        for m in range(n):
            ranges = inclusion_proof_nodes(m, n)
            assert ranges == path_ranges(m, 0, n)
            _check_ranges(ranges, n)
            lookup = CountingLookup()
            proof = assemble_proof(ranges, lookup)
            assert proof == oracle_path(m, n), (m, n)
            assert lookup.calls <= 2 * log_n  # O(log n) lookups
            assert len(proof_node_keys(ranges)) == lookup.calls


def test_inclusion_nodes_equal_library_direct_proofs_all_sizes() -> None:
    for n in range(1, MAX + 1):
        indices = range(n) if n <= 128 else sorted({0, 1, n // 3, n // 2, n - 2, n - 1})
        for m in indices:
            assembled = assemble_proof(inclusion_proof_nodes(m, n), lambda lv, i: STORE[(lv, i)])
            assert assembled == inclusion_proof_from_hashes(m, HASHES[:n]), (m, n)


def test_consistency_nodes_assemble_to_direct_proofs_all_sizes() -> None:
    for n in range(0, MAX + 1):
        log_n = max(1, (n - 1).bit_length()) if n else 1
        firsts = range(n + 1) if n <= 64 else sorted({0, 1, 2, n // 3, n // 2, n - 1, n})
        for m in firsts:
            ranges = consistency_proof_nodes(m, n)
            if 0 < m < n:
                assert ranges == subproof_ranges(m, 0, n, True)
            _check_ranges(ranges, n)
            lookup = CountingLookup()
            proof = assemble_proof(ranges, lookup)
            assert proof == oracle_proof(m, n) == consistency_proof_from_hashes(m, n, HASHES)
            assert lookup.calls <= 2 * log_n + 1


@HYPOTHESIS
@given(st.data())
def test_consistency_nodes_hypothesis(data: st.DataObject) -> None:
    n = data.draw(st.integers(0, MAX), label="second")
    m = data.draw(st.integers(0, n), label="first")
    proof = assemble_proof(consistency_proof_nodes(m, n), lambda lv, i: STORE[(lv, i)])
    assert proof == consistency_proof_from_hashes(m, n, HASHES)
    assert verify_consistency(m, n, mth(0, m), mth(0, n), proof)


def test_tree_head_from_stored_subtrees() -> None:
    for n in range(1, MAX + 1):
        parts = [STORE[node_key(*r)] for r in range_hash_nodes(0, n)]
        assert len(parts) == bin(n).count("1")
        assert fold_subtree_hashes(parts) == mth(0, n)


def test_range_hash_nodes_for_right_edges() -> None:
    for n in range(1, MAX + 1):
        for start in range(n):
            size = n - start
            if start % largest_power_of_two_below(size + 1):
                with pytest.raises(ValueError):
                    range_hash_nodes(start, n)
                continue
            parts = range_hash_nodes(start, n)
            assert all(is_perfect(*p) for p in parts)
            assert parts[0][0] == start and parts[-1][1] == n
            assert fold_subtree_hashes([STORE[node_key(*p)] for p in parts]) == mth(start, n)


def test_node_helpers() -> None:
    assert node_key(0, 1) == (0, 0)
    assert node_key(8, 12) == (2, 2)
    assert node_range(2, 2) == (8, 12)
    assert is_perfect(64, 128) and not is_perfect(4, 12) and not is_perfect(2, 6)
    assert not is_perfect(3, 3) and not is_perfect(-1, 0)
    for bad in [(2, 6), (0, 3), (5, 5)]:
        with pytest.raises(ValueError):
            node_key(*bad)
    with pytest.raises(ValueError):
        node_range(-1, 0)
    for bad in [(3, 3), (4, 2), (-2, 2)]:
        with pytest.raises(ValueError):
            range_hash_nodes(*bad)
    with pytest.raises(ValueError):
        fold_subtree_hashes([])
    assert fold_subtree_hashes([HASHES[0]]) == HASHES[0]
