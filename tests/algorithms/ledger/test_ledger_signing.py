"""Signed tree heads, key PEM handling and receipt verification."""

from __future__ import annotations

import base64
import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from datacoop.algorithms.ledger import (
    EMPTY_ROOT,
    TreeHead,
    build_receipt,
    canonical_json,
    generate_private_key,
    inclusion_proof,
    leaf_hash,
    load_private_key_pem,
    load_public_key_pem,
    private_key_to_pem,
    public_key_to_pem,
    root_hash,
    sign_tree_head,
    tree_head_from_json,
    tree_head_message,
    tree_head_to_json,
    verify_receipt,
    verify_tree_head,
)

# RFC 8032 §7.1 TEST 1 secret key: signatures are deterministic, so the bytes are stable.
RFC8032_SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")

KEY = Ed25519PrivateKey.from_private_bytes(RFC8032_SECRET)
PUB = KEY.public_key()
OTHER_KEY = generate_private_key()

HEAD = TreeHead(tree_size=5, root_hash=bytes(range(32)), timestamp=1_700_000_000_123)


def test_rfc8032_key_is_the_published_one() -> None:
    raw = PUB.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert raw == RFC8032_PUBLIC


def test_tree_head_message_is_canonical_json() -> None:
    assert tree_head_message(HEAD) == (
        b'{"root_hash":"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",'
        b'"timestamp":1700000000123,"tree_size":5,"v":1}'
    )
    assert tree_head_message(HEAD) == canonical_json(
        {"v": 1, "tree_size": 5, "root_hash": HEAD.root_hash.hex(), "timestamp": 1700000000123}
    )


def test_sign_verify_round_trip() -> None:
    sig = sign_tree_head(HEAD, KEY)
    assert len(sig) == 64
    assert sig == sign_tree_head(HEAD, KEY)  # Ed25519 is deterministic
    assert verify_tree_head(HEAD, sig, PUB)
    assert verify_tree_head(HEAD, bytearray(sig), PUB)  # type: ignore[arg-type, unused-ignore]
    fresh = generate_private_key()
    assert verify_tree_head(HEAD, sign_tree_head(HEAD, fresh), fresh.public_key())


@pytest.mark.parametrize(
    "tampered",
    [
        TreeHead(6, HEAD.root_hash, HEAD.timestamp),
        TreeHead(4, HEAD.root_hash, HEAD.timestamp),
        TreeHead(5, bytes(31) + b"\x01", HEAD.timestamp),
        TreeHead(5, HEAD.root_hash, HEAD.timestamp + 1),
    ],
)
def test_tampered_head_fails(tampered: TreeHead) -> None:
    assert not verify_tree_head(tampered, sign_tree_head(HEAD, KEY), PUB)


def test_tampered_signature_or_wrong_key_fails() -> None:
    sig = sign_tree_head(HEAD, KEY)
    for i in (0, 31, 32, 63):
        bad = bytearray(sig)
        bad[i] ^= 1
        assert not verify_tree_head(HEAD, bytes(bad), PUB)
    assert not verify_tree_head(HEAD, sig, OTHER_KEY.public_key())
    for junk in (b"", sig[:-1], sig + b"\x00", None, "sig", 64):
        assert not verify_tree_head(HEAD, junk, PUB)  # type: ignore[arg-type, unused-ignore]
    assert not verify_tree_head("head", sig, PUB)  # type: ignore[arg-type, unused-ignore]


@pytest.mark.parametrize(
    "args",
    [
        (-1, bytes(32), 0),
        (True, bytes(32), 0),
        (1.0, bytes(32), 0),
        (1, bytes(31), 0),
        (1, "00" * 32, 0),
        (1, bytearray(32), 0),
        (1, bytes(32), -5),
        (1, bytes(32), 1.5),
    ],
)
def test_tree_head_validation(args: tuple[Any, Any, Any]) -> None:
    with pytest.raises(ValueError):
        TreeHead(*args)


def test_pem_round_trip() -> None:
    key = generate_private_key()
    pem = private_key_to_pem(key)
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    again = load_private_key_pem(pem)
    assert load_private_key_pem(pem.decode("ascii")) is not None
    pub_pem = public_key_to_pem(key.public_key())
    assert pub_pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    pub = load_public_key_pem(pub_pem)
    assert public_key_to_pem(load_public_key_pem(pub_pem.decode("ascii"))) == pub_pem
    # A signature from the reloaded private key verifies with the reloaded public key.
    assert verify_tree_head(HEAD, sign_tree_head(HEAD, again), pub)
    assert private_key_to_pem(again) == pem


def test_pem_loaders_reject_other_things() -> None:
    for junk in (b"", b"not a pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"):
        with pytest.raises(ValueError):
            load_private_key_pem(junk)
        with pytest.raises(ValueError):
            load_public_key_pem(junk)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_pem = ec_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(ValueError, match="Ed25519"):
        load_private_key_pem(ec_pem)
    ec_pub = ec_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(ValueError, match="Ed25519"):
        load_public_key_pem(ec_pub)
    encrypted = KEY.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    with pytest.raises(ValueError):
        load_private_key_pem(encrypted)
    # A public key is not a private key and vice versa.
    with pytest.raises(ValueError):
        load_private_key_pem(public_key_to_pem(PUB))
    with pytest.raises(ValueError):
        load_public_key_pem(private_key_to_pem(KEY))


def test_tree_head_json_round_trip() -> None:
    sig = sign_tree_head(HEAD, KEY)
    obj = tree_head_to_json(HEAD, sig)
    assert obj == {
        "tree_size": 5,
        "root_hash": HEAD.root_hash.hex(),
        "timestamp": HEAD.timestamp,
        "signature": base64.b64encode(sig).decode("ascii"),
    }
    assert tree_head_from_json(json.loads(json.dumps(obj))) == (HEAD, sig)
    with pytest.raises(ValueError, match="root_hash"):
        tree_head_from_json({**obj, "root_hash": "zz"})
    with pytest.raises(ValueError, match="signature"):
        tree_head_from_json({**obj, "signature": "!!"})


# ------------------------------------------------------------------------------------------
# Receipts
# ------------------------------------------------------------------------------------------

ENTRIES = [
    {"v": 1, "kind": "genesis", "note": "Zoë's co-op"},
    {"v": 1, "kind": "payment", "member": "m-1", "amount_cents": 1250},
    {"v": 1, "kind": "payment", "member": "m-2", "amount_cents": 99},
    {"v": 1, "kind": "vote", "member": "m-1", "choice": True, "tags": ["a", "b"]},
    {"v": 2, "kind": "policy", "text": "数据"},
    {"v": 1, "kind": "payment", "member": "m-3", "amount_cents": 7},
]
LEAVES = [canonical_json(e) for e in ENTRIES]


def make_receipt(index: int, size: int = len(ENTRIES), key: Ed25519PrivateKey = KEY) -> Any:
    head = TreeHead(size, root_hash(LEAVES[:size]), 1_700_000_000_000 + size)
    sig = sign_tree_head(head, key)
    receipt = build_receipt(ENTRIES[index], index, inclusion_proof(index, LEAVES[:size]), head, sig)
    # A receipt travels as JSON.
    return json.loads(json.dumps(receipt, ensure_ascii=False))


@pytest.mark.parametrize(("index", "size"), [(i, s) for s in range(1, 7) for i in range(s)])
def test_good_receipts_verify(index: int, size: int) -> None:
    assert verify_receipt(make_receipt(index, size), PUB) == []


def test_receipt_shape() -> None:
    receipt = make_receipt(2)
    assert set(receipt) == {"entry", "leaf_index", "inclusion_proof", "tree_head"}
    assert set(receipt["tree_head"]) == {"tree_size", "root_hash", "timestamp", "signature"}
    assert all(isinstance(h, str) and len(h) == 64 for h in receipt["inclusion_proof"])
    assert leaf_hash(canonical_json(receipt["entry"])) == leaf_hash(LEAVES[2])


def test_receipt_entry_key_order_is_irrelevant() -> None:
    receipt = make_receipt(1)
    receipt["entry"] = dict(reversed(list(receipt["entry"].items())))
    assert verify_receipt(receipt, PUB) == []


def test_receipt_extra_fields_are_ignored() -> None:
    receipt = make_receipt(1)
    receipt["log"] = "datacoop"
    receipt["tree_head"]["key_id"] = "abc"
    assert verify_receipt(receipt, PUB) == []


def _only(problems: list[str], *fragments: str) -> None:
    assert len(problems) == len(fragments), problems
    for problem, fragment in zip(problems, fragments, strict=True):
        assert fragment in problem, problems


def test_tampered_entry() -> None:
    receipt = make_receipt(1)
    receipt["entry"]["amount_cents"] = 1251
    _only(verify_receipt(receipt, PUB), "inclusion proof")
    receipt = make_receipt(1)
    receipt["entry"]["extra"] = None
    _only(verify_receipt(receipt, PUB), "inclusion proof")
    receipt = make_receipt(1)
    receipt["entry"] = ENTRIES[2]  # someone else's entry
    _only(verify_receipt(receipt, PUB), "inclusion proof")


def test_tampered_leaf_index() -> None:
    receipt = make_receipt(1)
    receipt["leaf_index"] = 2
    _only(verify_receipt(receipt, PUB), "inclusion proof")
    receipt["leaf_index"] = 6
    _only(verify_receipt(receipt, PUB), "leaf_index 6 is not inside")


def test_tampered_inclusion_proof() -> None:
    good = make_receipt(3)
    for i in range(len(good["inclusion_proof"])):
        receipt = copy.deepcopy(good)
        h = receipt["inclusion_proof"][i]
        receipt["inclusion_proof"][i] = ("0" if h[0] != "0" else "1") + h[1:]
        _only(verify_receipt(receipt, PUB), "inclusion proof")
    receipt = copy.deepcopy(good)
    receipt["inclusion_proof"].pop()
    _only(verify_receipt(receipt, PUB), "inclusion proof")
    receipt = copy.deepcopy(good)
    receipt["inclusion_proof"].append(good["tree_head"]["root_hash"])
    _only(verify_receipt(receipt, PUB), "inclusion proof")


def test_tampered_tree_head() -> None:
    good = make_receipt(2)
    # Root changed: neither the proof nor the signature holds.
    receipt = copy.deepcopy(good)
    receipt["tree_head"]["root_hash"] = EMPTY_ROOT.hex()
    _only(verify_receipt(receipt, PUB), "inclusion proof", "signature")
    # Timestamp changed: only the signature breaks.
    receipt = copy.deepcopy(good)
    receipt["tree_head"]["timestamp"] += 1
    _only(verify_receipt(receipt, PUB), "signature")
    # Size changed: the signature breaks (the size is what the signature binds).
    receipt = copy.deepcopy(good)
    receipt["tree_head"]["tree_size"] = 7
    problems = verify_receipt(receipt, PUB)
    assert problems[-1].startswith("tree head signature") and len(problems) in (1, 2)
    # Signature changed or made by another key.
    receipt = copy.deepcopy(good)
    sig = bytearray(base64.b64decode(receipt["tree_head"]["signature"]))
    sig[10] ^= 0x40
    receipt["tree_head"]["signature"] = base64.b64encode(bytes(sig)).decode("ascii")
    _only(verify_receipt(receipt, PUB), "signature")
    _only(verify_receipt(make_receipt(2, key=OTHER_KEY), PUB), "signature")
    _only(verify_receipt(good, OTHER_KEY.public_key()), "signature")


def test_uppercase_hex_is_accepted() -> None:
    receipt = make_receipt(4)
    receipt["inclusion_proof"] = [h.upper() for h in receipt["inclusion_proof"]]
    receipt["tree_head"]["root_hash"] = receipt["tree_head"]["root_hash"].upper()
    assert verify_receipt(receipt, PUB) == []


def _with(path: tuple[Any, ...], value: Any) -> Any:
    receipt = make_receipt(1)
    target = receipt
    for part in path[:-1]:
        target = target[part]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return receipt


_DELETE = object()
_GOOD_HEX = "ab" * 32


@pytest.mark.parametrize(
    ("path", "value", "fragment"),
    [
        (("entry",), _DELETE, "missing field 'entry'"),
        (("leaf_index",), _DELETE, "missing field 'leaf_index'"),
        (("inclusion_proof",), _DELETE, "missing field 'inclusion_proof'"),
        (("tree_head",), _DELETE, "missing field 'tree_head'"),
        (("entry",), "text", "entry is not a JSON object"),
        (("entry",), [1, 2], "entry is not a JSON object"),
        (("entry", "amount_cents"), 12.5, "entry: amount_cents: floats"),
        (("entry", "v"), _DELETE, 'entry: v: a ledger entry must hold an integer "v"'),
        (("leaf_index",), -1, "leaf_index must be an integer"),
        (("leaf_index",), "1", "leaf_index must be an integer"),
        (("leaf_index",), True, "leaf_index must be an integer"),
        (("leaf_index",), 1.0, "leaf_index must be an integer"),
        (("leaf_index",), None, "leaf_index must be an integer"),
        (("inclusion_proof",), "ab" * 32, "inclusion_proof must be a list"),
        (("inclusion_proof",), {"0": _GOOD_HEX}, "inclusion_proof must be a list"),
        (("inclusion_proof",), None, "inclusion_proof must be a list"),
        (("inclusion_proof", 0), "zz" * 32, "inclusion_proof[0] must be 64 hex"),
        (("inclusion_proof", 1), _GOOD_HEX[:-2], "inclusion_proof[1] must be 64 hex"),
        (("inclusion_proof", 1), " " + _GOOD_HEX[1:], "inclusion_proof[1] must be 64 hex"),
        (("inclusion_proof", 0), 5, "inclusion_proof[0] must be 64 hex"),
        (("inclusion_proof", 0), None, "inclusion_proof[0] must be 64 hex"),
        (("tree_head",), "head", "tree_head is not a JSON object"),
        (("tree_head",), [], "tree_head is not a JSON object"),
        (("tree_head", "tree_size"), _DELETE, "tree_head.tree_size"),
        (("tree_head", "tree_size"), -3, "tree_head.tree_size"),
        (("tree_head", "tree_size"), "6", "tree_head.tree_size"),
        (("tree_head", "root_hash"), _DELETE, "tree_head.root_hash"),
        (("tree_head", "root_hash"), _GOOD_HEX + "00", "tree_head.root_hash"),
        (("tree_head", "root_hash"), 0, "tree_head.root_hash"),
        (("tree_head", "timestamp"), _DELETE, "tree_head.timestamp"),
        (("tree_head", "timestamp"), 1.7e12, "tree_head.timestamp"),
        (("tree_head", "timestamp"), "2024-01-01", "tree_head.timestamp"),
        (("tree_head", "signature"), _DELETE, "tree_head.signature"),
        (("tree_head", "signature"), "not base64!", "tree_head.signature"),
        (("tree_head", "signature"), base64.b64encode(b"short").decode(), "tree_head.signature"),
        (("tree_head", "signature"), "é" * 88, "tree_head.signature"),
        (("tree_head", "signature"), 123, "tree_head.signature"),
        (("tree_head", "signature"), None, "tree_head.signature"),
    ],
)
def test_malformed_receipts_are_reported(path: tuple[Any, ...], value: Any, fragment: str) -> None:
    problems = verify_receipt(_with(path, value), PUB)
    assert problems, "malformed receipt passed"
    assert all(p.startswith("malformed: ") for p in problems), problems
    assert any(fragment in p for p in problems), problems


@pytest.mark.parametrize("receipt", [None, "{}", b"{}", [], 42, {}])
def test_malformed_top_level(receipt: Any) -> None:
    problems = verify_receipt(receipt, PUB)
    assert problems and all(p.startswith("malformed: ") for p in problems)


def test_several_problems_reported_together() -> None:
    receipt = make_receipt(1)
    receipt["leaf_index"] = "x"
    receipt["tree_head"]["signature"] = "?"
    problems = verify_receipt(receipt, PUB)
    assert len(problems) == 2
    assert "leaf_index" in problems[0] and "signature" in problems[1]


def test_verify_receipt_needs_an_ed25519_public_key() -> None:
    with pytest.raises(TypeError):
        verify_receipt(make_receipt(0), KEY)  # type: ignore[arg-type, unused-ignore]


def test_build_receipt_refuses_entries_that_could_never_verify() -> None:
    head = TreeHead(1, root_hash([LEAVES[0]]), 0)
    with pytest.raises(ValueError, match="amount"):
        build_receipt({"v": 1, "amount": 0.5}, 0, [], head, sign_tree_head(head, KEY))


# ------------------------------------------------------------------------------------------
# The stand-alone verifier printed in docs/ledger.md agrees with verify_receipt
# ------------------------------------------------------------------------------------------

DOC = Path(__file__).resolve().parents[3] / "docs" / "ledger.md"


def _doc_verifier() -> Any:
    if not DOC.exists():
        pytest.skip("docs/ledger.md not present")
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"<!-- receipt-verifier -->\s*```python\n(.*?)```", text, re.S)
    assert match, "receipt verifier snippet missing from docs/ledger.md"
    namespace: dict[str, Any] = {}
    exec(compile(match.group(1), str(DOC), "exec"), namespace)
    return namespace["receipt_is_valid"]


def test_doc_verifier_agrees_with_library() -> None:
    receipt_is_valid = _doc_verifier()
    pem = public_key_to_pem(PUB)
    cases = []
    for size in range(1, len(ENTRIES) + 1):
        for index in range(size):
            cases.append(make_receipt(index, size))
    tampered = make_receipt(3)
    tampered["entry"]["choice"] = False
    cases.append(tampered)
    tampered = make_receipt(3)
    tampered["leaf_index"] = 2
    cases.append(tampered)
    tampered = make_receipt(3)
    tampered["tree_head"]["timestamp"] += 1
    cases.append(tampered)
    tampered = make_receipt(3)
    tampered["inclusion_proof"].pop()
    cases.append(tampered)
    cases.append(make_receipt(3, key=OTHER_KEY))
    for receipt in cases:
        assert receipt_is_valid(receipt, pem) is (verify_receipt(receipt, PUB) == [])
