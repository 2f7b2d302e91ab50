"""Published RFC 6962 / RFC 9162 Merkle test vectors.

Data (not code) transcribed from github.com/transparency-dev/merkle:

* ``testonly/constants.go``: ``LeafInputs``, ``NodeHashes`` (every perfect subtree of the
  8-leaf tree, by level and index) and ``RootHashes`` (sizes 0..8);
* ``proof/verify_test.go``: ``inclusionProofs`` (leaf numbers there are 1-based: ``{leaf, size}``
  is leaf index ``leaf - 1``), ``consistencyProofs`` and the kinds of corruption a verifier must
  reject;
* ``proof/proof_test.go``: ``TestInclusion`` / ``TestConsistency``, which name the tree nodes a
  proof is made of (node ``(level, index)``; a "rehash" group is an imperfect right edge, here
  written as its leaf range).

RFC 6962 and RFC 9162 share the tree-hash and proof definitions (RFC 9162 §2.1), so these are
the vectors any conformant implementation reproduces.
"""

from __future__ import annotations

import hashlib

import pytest

from datacoop.algorithms.ledger import (
    EMPTY_ROOT,
    consistency_proof,
    consistency_proof_nodes,
    inclusion_proof,
    inclusion_proof_nodes,
    leaf_hash,
    node_hash,
    node_key,
    range_hash_nodes,
    root_from_hashes,
    root_hash,
    verify_consistency,
    verify_inclusion,
)


def h(text: str) -> bytes:
    return bytes.fromhex(text)


LEAF_INPUTS = [
    h(""),
    h("00"),
    h("10"),
    h("2021"),
    h("3031"),
    h("40414243"),
    h("5051525354555657"),
    h("606162636465666768696a6b6c6d6e6f"),
]

# NODE_HASHES[level][index] = MTH of leaves [index * 2^level, (index + 1) * 2^level)
NODE_HASHES = [
    [
        h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
        h("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
        h("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
        h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        h("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
        h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
        h("46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
    ],
    [
        h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
        h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
        h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
    ],
    [
        h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    ],
    [
        h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
    ],
]

# ROOTS[n] = root hash of the tree of the first n leaves.
ROOTS = [
    h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]

# (leaf index (0-based), tree size, proof)
INCLUSION_VECTORS = [
    (0, 1, []),
    (
        0,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        5,
        8,
        [
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        3,
        [h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")],
    ),
    (
        1,
        5,
        [
            h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
]

# (first size, second size, proof)
CONSISTENCY_VECTORS = [
    (1, 1, []),
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]

SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")


def test_empty_root_is_sha256_of_nothing() -> None:
    assert root_hash([]) == EMPTY_ROOT == ROOTS[0] == hashlib.sha256(b"").digest()
    assert root_from_hashes([]) == EMPTY_ROOT


@pytest.mark.parametrize("size", range(len(ROOTS)))
def test_root_hashes(size: int) -> None:
    assert root_hash(LEAF_INPUTS[:size]) == ROOTS[size]
    assert root_from_hashes([leaf_hash(d) for d in LEAF_INPUTS[:size]]) == ROOTS[size]


def test_leaf_hashes() -> None:
    assert [leaf_hash(d) for d in LEAF_INPUTS] == NODE_HASHES[0]


@pytest.mark.parametrize(
    ("level", "index"),
    [(lv, i) for lv, row in enumerate(NODE_HASHES) for i in range(len(row))],
)
def test_perfect_subtree_hashes(level: int, index: int) -> None:
    start, end = index << level, (index + 1) << level
    assert node_key(start, end) == (level, index)
    assert root_hash(LEAF_INPUTS[start:end]) == NODE_HASHES[level][index]
    if level:
        left = NODE_HASHES[level - 1][2 * index]
        right = NODE_HASHES[level - 1][2 * index + 1]
        assert node_hash(left, right) == NODE_HASHES[level][index]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
def test_inclusion_vectors(index: int, size: int, proof: list[bytes]) -> None:
    assert inclusion_proof(index, LEAF_INPUTS[:size]) == proof
    assert verify_inclusion(leaf_hash(LEAF_INPUTS[index]), index, size, proof, ROOTS[size])


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY_VECTORS)
def test_consistency_vectors(first: int, second: int, proof: list[bytes]) -> None:
    assert consistency_proof(first, second, LEAF_INPUTS[:second]) == proof
    assert consistency_proof(first, second, LEAF_INPUTS) == proof  # extra leaves are ignored
    assert verify_consistency(first, second, ROOTS[first], ROOTS[second], proof)


def _flip(data: bytes, byte: int = 0, mask: int = 8) -> bytes:
    out = bytearray(data)
    out[byte] ^= mask
    return bytes(out)


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS[1:])
def test_inclusion_vectors_reject_corruption(index: int, size: int, proof: list[bytes]) -> None:
    """The corruptions transparency-dev's verifier tests require to fail, on the same vectors."""
    leaf, root = leaf_hash(LEAF_INPUTS[index]), ROOTS[size]
    probes: list[tuple[str, bytes, int, int, list[bytes], bytes]] = [
        ("index - 1", leaf, index - 1, size, proof, root),
        ("index + 1", leaf, index + 1, size, proof, root),
        ("index ^ 2", leaf, index ^ 2, size, proof, root),
        ("size * 2", leaf, index, size * 2, proof, root),
        ("size // 2", leaf, index, size // 2, proof, root),
        ("wrong leaf", b"WrongLeaf", index, size, proof, root),
        ("other leaf", leaf_hash(b"other"), index, size, proof, root),
        ("empty root", leaf, index, size, proof, EMPTY_ROOT),
        ("random root", leaf, index, size, proof, SOME_HASH),
        ("trailing garbage", leaf, index, size, [*proof, b""], root),
        ("trailing root", leaf, index, size, [*proof, root], root),
        ("preceding garbage", leaf, index, size, [b"", *proof], root),
        ("preceding root", leaf, index, size, [root, *proof], root),
        ("removed component", leaf, index, size, proof[:-1], root),
        ("inserted component", leaf, index, size, [proof[0], SOME_HASH, *proof[1:]], root),
    ]
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = _flip(bad[i])
        probes.append((f"proof[{i}] bit 3", leaf, index, size, bad, root))
    accepted = [p[0] for p in probes if verify_inclusion(*p[1:])]
    assert accepted == []


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY_VECTORS[1:])
def test_consistency_vectors_reject_corruption(first: int, second: int, proof: list[bytes]) -> None:
    root1, root2 = ROOTS[first], ROOTS[second]
    probes: list[tuple[str, int, int, bytes, bytes, list[bytes]]] = [
        ("first - 1", first - 1, second, root1, root2, proof),
        ("first + 1", first + 1, second, root1, root2, proof),
        ("first ^ 2", first ^ 2, second, root1, root2, proof),
        ("second * 2", first, second * 2, root1, root2, proof),
        ("second // 2", first, second // 2, root1, root2, proof),
        ("wrong root1", first, second, b"WrongRoot", root2, proof),
        ("wrong root2", first, second, root1, b"WrongRoot", proof),
        ("other root1", first, second, SOME_HASH, root2, proof),
        ("swapped roots", first, second, root2, root1, proof),
        ("empty proof", first, second, root1, root2, []),
        ("trailing garbage", first, second, root1, root2, [*proof, b""]),
        ("trailing root1", first, second, root1, root2, [*proof, root1]),
        ("trailing root2", first, second, root1, root2, [*proof, root2]),
        ("preceding garbage", first, second, root1, root2, [b"", *proof]),
        ("preceding root1", first, second, root1, root2, [root1, *proof]),
        ("preceding root2", first, second, root1, root2, [root2, *proof]),
        ("preceding proof[0]", first, second, root1, root2, [proof[0], *proof]),
        ("truncated", first, second, root1, root2, proof[:-1]),
    ]
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = _flip(bad[i], mask=16)
        probes.append((f"proof[{i}] bit 4", first, second, root1, root2, bad))
    accepted = [p[0] for p in probes if verify_consistency(*p[1:])]
    assert accepted == []


def test_single_entry_tree() -> None:
    hsh = leaf_hash(b"data")
    assert root_hash([b"data"]) == hsh  # a 1-entry tree's root is its leaf hash
    assert inclusion_proof(0, [b"data"]) == []
    assert verify_inclusion(hsh, 0, 1, [], hsh)
    assert not verify_inclusion(b"", 0, 1, [], hsh)
    assert not verify_inclusion(hsh, 0, 1, [], b"")
    assert not verify_inclusion(b"", 0, 1, [], b"")


@pytest.mark.parametrize(("index", "size"), [(0, 0), (0, 1), (1, 0), (2, 1)])
def test_inclusion_degenerate_probes(index: int, size: int) -> None:
    assert not verify_inclusion(SOME_HASH, index, size, [], b"")
    assert not verify_inclusion(b"", index, size, [], EMPTY_ROOT)
    assert not verify_inclusion(SOME_HASH, index, size, [], EMPTY_ROOT)


@pytest.mark.parametrize(
    ("first", "second", "root1", "root2", "proof", "ok"),
    [
        # Same size: consistent iff the roots are equal and the proof is empty.
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [], True),
        (1, 1, SOME_HASH, SOME_HASH, [], True),
        (1, 1, EMPTY_ROOT, SOME_HASH, [], False),
        (1, 1, SOME_HASH, SOME_HASH, [EMPTY_ROOT], False),
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        # The empty tree is a prefix of every tree (its root must be the empty root).
        (0, 1, EMPTY_ROOT, SOME_HASH, [], True),
        (0, 1, SOME_HASH, SOME_HASH, [], False),
        (0, 1, EMPTY_ROOT, SOME_HASH, [EMPTY_ROOT], False),
        # Time travel to the past.
        (1, 0, SOME_HASH, EMPTY_ROOT, [], False),
        (2, 1, SOME_HASH, SOME_HASH, [], False),
        # Growth needs a proof.
        (1, 2, SOME_HASH, EMPTY_ROOT, [], False),
        # Not 32-byte roots.
        (1, 1, b"don't care", b"don't care", [], False),
        (0, 0, b"", b"", [], False),
    ],
)
def test_consistency_edge_cases(
    first: int, second: int, root1: bytes, root2: bytes, proof: list[bytes], ok: bool
) -> None:
    assert verify_consistency(first, second, root1, root2, proof) is ok


def _ranges_from_ids(ids: list[tuple[int, int]]) -> list[tuple[int, int]]:
    return [(i << lv, (i + 1) << lv) for lv, i in ids]


# From proof_test.go TestInclusion: (size, index) -> the nodes of the proof. A rehash group
# (an imperfect right edge) is given as its leaf range (start, end).
INCLUSION_NODE_VECTORS: list[tuple[int, int, list[tuple[int, int]]]] = [
    (1, 0, []),
    (2, 0, _ranges_from_ids([(0, 1)])),
    (2, 1, _ranges_from_ids([(0, 0)])),
    (3, 1, _ranges_from_ids([(0, 0), (0, 2)])),
    (7, 0, [*_ranges_from_ids([(0, 1), (1, 1)]), (4, 7)]),
    (7, 1, [*_ranges_from_ids([(0, 0), (1, 1)]), (4, 7)]),
    (7, 2, [*_ranges_from_ids([(0, 3), (1, 0)]), (4, 7)]),
    (7, 3, [*_ranges_from_ids([(0, 2), (1, 0)]), (4, 7)]),
    (7, 4, _ranges_from_ids([(0, 5), (0, 6), (2, 0)])),
    (7, 5, _ranges_from_ids([(0, 4), (0, 6), (2, 0)])),
    (7, 6, _ranges_from_ids([(1, 2), (2, 0)])),
    (4, 2, _ranges_from_ids([(0, 3), (1, 0)])),
    (5, 3, _ranges_from_ids([(0, 2), (1, 0), (0, 4)])),
    (6, 3, _ranges_from_ids([(0, 2), (1, 0), (1, 2)])),
    (6, 4, _ranges_from_ids([(0, 5), (2, 0)])),
    (15, 10, [*_ranges_from_ids([(0, 11), (1, 4)]), (12, 15), *_ranges_from_ids([(3, 0)])]),
    (
        31,
        24,
        [*_ranges_from_ids([(0, 25), (1, 13)]), (28, 31), *_ranges_from_ids([(3, 2), (4, 0)])],
    ),
    (
        95,
        81,
        [
            *_ranges_from_ids([(0, 80), (1, 41), (2, 21)]),
            (88, 95),
            *_ranges_from_ids([(4, 4), (6, 0)]),
        ],
    ),
]

# From proof_test.go TestConsistency: (size1, size2) -> the nodes of the proof.
CONSISTENCY_NODE_VECTORS: list[tuple[int, int, list[tuple[int, int]]]] = [
    (1, 2, _ranges_from_ids([(0, 1)])),
    (1, 4, _ranges_from_ids([(0, 1), (1, 1)])),
    (1, 6, _ranges_from_ids([(0, 1), (1, 1), (1, 2)])),
    (2, 3, _ranges_from_ids([(0, 2)])),
    (2, 8, _ranges_from_ids([(1, 1), (2, 1)])),
    (3, 7, [*_ranges_from_ids([(0, 2), (0, 3), (1, 0)]), (4, 7)]),
    (4, 7, [(4, 7)]),
    (5, 7, _ranges_from_ids([(0, 4), (0, 5), (0, 6), (2, 0)])),
    (6, 7, _ranges_from_ids([(1, 2), (0, 6), (2, 0)])),
    (7, 8, _ranges_from_ids([(0, 6), (0, 7), (1, 2), (2, 0)])),
    *[(n, n, []) for n in (1, 2, 3, 4, 5, 7, 8)],
    (2, 4, _ranges_from_ids([(1, 1)])),
    (3, 5, _ranges_from_ids([(0, 2), (0, 3), (1, 0), (0, 4)])),
    (3, 6, _ranges_from_ids([(0, 2), (0, 3), (1, 0), (1, 2)])),
    (4, 6, _ranges_from_ids([(1, 2)])),
    (1, 7, [*_ranges_from_ids([(0, 1), (1, 1)]), (4, 7)]),
    (10, 15, [*_ranges_from_ids([(1, 4), (1, 5)]), (12, 15), *_ranges_from_ids([(3, 0)])]),
    (24, 31, [*_ranges_from_ids([(3, 2)]), (24, 31), *_ranges_from_ids([(4, 0)])]),
    (
        81,
        95,
        [
            *_ranges_from_ids([(0, 80), (0, 81), (1, 41), (2, 21)]),
            (88, 95),
            *_ranges_from_ids([(4, 4), (6, 0)]),
        ],
    ),
]

# The rehash groups, listed bottom-up there as node IDs: the same subtrees range_hash_nodes gives.
REHASH_GROUPS = [
    ((4, 7), [(0, 6), (1, 2)]),
    ((12, 15), [(0, 14), (1, 6)]),
    ((28, 31), [(0, 30), (1, 14)]),
    ((24, 31), [(0, 30), (1, 14), (2, 6)]),
    ((88, 95), [(0, 94), (1, 46), (2, 22)]),
]


@pytest.mark.parametrize(("size", "index", "ranges"), INCLUSION_NODE_VECTORS)
def test_inclusion_node_vectors(size: int, index: int, ranges: list[tuple[int, int]]) -> None:
    assert inclusion_proof_nodes(index, size) == ranges


@pytest.mark.parametrize(("first", "second", "ranges"), CONSISTENCY_NODE_VECTORS)
def test_consistency_node_vectors(first: int, second: int, ranges: list[tuple[int, int]]) -> None:
    assert consistency_proof_nodes(first, second) == ranges


@pytest.mark.parametrize(("span", "ids"), REHASH_GROUPS)
def test_rehash_groups(span: tuple[int, int], ids: list[tuple[int, int]]) -> None:
    assert [node_key(*r) for r in range_hash_nodes(*span)] == list(reversed(ids))


@pytest.mark.parametrize(("size", "index"), [(0, 0), (0, 1), (1, 2), (0, 3), (7, 8), (3, -1)])
def test_inclusion_nodes_reject_bad_params(size: int, index: int) -> None:
    with pytest.raises(ValueError):
        inclusion_proof_nodes(index, size)


@pytest.mark.parametrize(("first", "second"), [(5, 0), (9, 8), (-1, 3)])
def test_consistency_nodes_reject_bad_params(first: int, second: int) -> None:
    with pytest.raises(ValueError):
        consistency_proof_nodes(first, second)
