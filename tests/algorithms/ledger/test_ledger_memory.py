"""``MemoryLog`` gives the same roots and proofs as the pure library, for every past size."""

from __future__ import annotations

import random

import pytest

from datacoop.algorithms.ledger import (
    EMPTY_ROOT,
    consistency_proof,
    consistency_proof_from_hashes,
    inclusion_proof,
    inclusion_proof_from_hashes,
    leaf_hash,
    root_from_hashes,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from datacoop.algorithms.ledger.memory import MemoryLog

MAX = 200
_rng = random.Random(9162)
LEAVES: list[bytes] = [b""] + [
    i.to_bytes(2, "big") + _rng.randbytes(_rng.randrange(0, 40)) for i in range(1, MAX + 1)
]
HASHES = [leaf_hash(d) for d in LEAVES]

# RFC 9162 / CT test vectors (also in docs/ledger.md).
VECTOR_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
VECTOR_ROOT = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")


def _built(n: int, how: str = "append") -> MemoryLog:
    log = MemoryLog()
    if how == "append":
        for d in LEAVES[:n]:
            log.append(d)
    elif how == "append_hash":
        for h in HASHES[:n]:
            log.append_hash(h)
    elif how == "extend":
        log.extend(LEAVES[:n])
    else:  # extend in uneven batches
        pos, step = 0, 1
        while pos < n:
            log.extend(LEAVES[pos : min(n, pos + step)])
            pos = min(n, pos + step)
            step = step * 2 + 1
    return log


@pytest.fixture(scope="module")
def full() -> MemoryLog:
    return _built(MAX)


def test_empty_log():
    log = MemoryLog()
    assert len(log) == 0
    assert log.root() == EMPTY_ROOT == log.root(0)
    assert log.consistency_proof(0) == [] == log.consistency_proof(0, 0)
    with pytest.raises(ValueError):
        log.inclusion_proof(0)


def test_published_vector_root():
    log = MemoryLog()
    assert log.extend(VECTOR_LEAVES) == 8
    assert log.root() == VECTOR_ROOT


def test_append_returns_the_index_and_extend_the_size():
    log = MemoryLog()
    assert [log.append(d) for d in LEAVES[:5]] == [0, 1, 2, 3, 4]
    assert log.append_hash(HASHES[5]) == 5
    assert log.extend(LEAVES[6:10]) == 10
    assert log.extend([]) == 10
    assert log.extend_hashes(HASHES[10:12]) == 12
    assert len(log) == 12
    assert [log.leaf_hash(i) for i in range(12)] == HASHES[:12]


@pytest.mark.parametrize("how", ["append", "append_hash", "extend", "batches"])
def test_every_way_of_building_gives_the_same_tree(how):
    for n in (0, 1, 2, 3, 7, 8, 9, 63, 64, 65, 100, MAX):
        log = _built(n, how)
        assert len(log) == n
        assert log.root() == root_hash(LEAVES[:n])


def test_roots_of_every_past_size_match_the_library(full):
    for n in range(MAX + 1):
        assert full.root(n) == root_hash(LEAVES[:n])


def test_inclusion_proofs_match_the_library_for_all_sizes(full):
    for n in range(1, MAX + 1):
        root = full.root(n)
        for i in range(n):
            proof = full.inclusion_proof(i, n)
            assert proof == inclusion_proof_from_hashes(i, HASHES[:n])
            assert verify_inclusion(HASHES[i], i, n, proof, root)
    # default size is the current one, and raw-leaf generator agrees too
    assert full.inclusion_proof(17) == inclusion_proof(17, LEAVES[:MAX])


def test_consistency_proofs_match_the_library_for_all_sizes(full):
    for n in range(MAX + 1):
        second_root = full.root(n)
        for m in range(n + 1):
            proof = full.consistency_proof(m, n)
            assert proof == consistency_proof_from_hashes(m, n, HASHES)
            assert verify_consistency(m, n, full.root(m), second_root, proof)
    assert full.consistency_proof(37) == consistency_proof(37, MAX, LEAVES)


def test_sampled_larger_sizes():
    rng = random.Random(4096)
    total = 5000
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(total)]
    log = MemoryLog()
    log.extend(i.to_bytes(4, "big") for i in range(total))
    sizes = [1023, 1024, 1025, 2047, 2048, 4095, 4096, 4097, total] + [
        rng.randrange(MAX, total + 1) for _ in range(6)
    ]
    for n in sizes:
        root = root_from_hashes(hashes[:n])
        assert log.root(n) == root
        for i in [0, n - 1, n // 2] + [rng.randrange(n) for _ in range(8)]:
            proof = log.inclusion_proof(i, n)
            assert proof == inclusion_proof_from_hashes(i, hashes[:n])
            assert verify_inclusion(hashes[i], i, n, proof, root)
        for m in [0, 1, n - 1, n, n // 2] + [rng.randrange(n + 1) for _ in range(8)]:
            proof = log.consistency_proof(m, n)
            assert proof == consistency_proof_from_hashes(m, n, hashes)
            assert verify_consistency(m, n, log.root(m), root, proof)


def test_growing_log_keeps_old_proofs_valid():
    """Proofs issued at a past size still verify against that size's root after growth."""
    log = MemoryLog()
    issued = []
    for n in range(1, 130):
        log.append(LEAVES[n - 1])
        issued.append((n, log.root(), log.inclusion_proof(n // 2)))
    for n, root, proof in issued:
        assert log.root(n) == root
        assert log.inclusion_proof(n // 2, n) == proof
        assert verify_consistency(n, len(log), root, log.root(), log.consistency_proof(n))


BAD_COUNTS = [-1, True, 1.0, "1", None]


def test_bad_arguments_raise_value_error(full):
    n = len(full)
    for bad in [*BAD_COUNTS, n + 1]:
        if bad is None:
            continue  # None means "current size"
        with pytest.raises(ValueError):
            full.root(bad)
        with pytest.raises(ValueError):
            full.inclusion_proof(0, bad)
        with pytest.raises(ValueError):
            full.consistency_proof(0, bad)
    for bad in [*BAD_COUNTS, n]:
        with pytest.raises(ValueError):
            full.inclusion_proof(bad)
        with pytest.raises(ValueError):
            full.leaf_hash(bad)
    for bad in [*BAD_COUNTS, n + 1]:
        with pytest.raises(ValueError):
            full.consistency_proof(bad)
    with pytest.raises(ValueError):
        full.inclusion_proof(5, 5)
    with pytest.raises(ValueError):
        full.consistency_proof(6, 5)


def test_bad_leaves_are_refused_and_extend_is_atomic():
    log = MemoryLog()
    log.extend(LEAVES[:3])
    before = log.root()
    for bad in [5, "text", None, [1, 2]]:
        with pytest.raises(ValueError):
            log.append(bad)  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            log.extend([LEAVES[3], bad])  # type: ignore[list-item]
    for bad in [b"short", b"x" * 33, "a" * 32, 32, None]:
        with pytest.raises(ValueError):
            log.append_hash(bad)  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            log.extend_hashes([HASHES[3], bad])  # type: ignore[list-item]
    assert len(log) == 3 and log.root() == before
    # bytearray and memoryview are accepted as leaf inputs
    log.append(bytearray(LEAVES[3]))
    log.append(memoryview(LEAVES[4]))
    log.append_hash(bytearray(HASHES[5]))
    assert log.root() == root_hash(LEAVES[:6])
