"""The persisted log: roots and proofs from storage equal the pure library's, appends are
atomic with their change, tampering is found at its exact index, nothing personal is logged."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, insert, select, update

from datacoop.algorithms import ledger
from datacoop.db.uow import UnitOfWork
from datacoop.log import services as log
from datacoop.log.kinds import EntryKind
from datacoop.log.models import LogEntry, LogNode, TreeHeadRecord
from datacoop.log.signer import memory_signer


def _fill(engine, clock, signer, n: int, per_tx: int = 1) -> None:
    done = 0
    while done < n:
        with UnitOfWork(engine, signer=signer, clock=clock) as s:
            for _ in range(min(per_tx, n - done)):
                log.append(
                    s,
                    clock,
                    EntryKind.items_imported,
                    project=1,
                    items=done,
                    file_sha256="ab" * 32,
                    **{"import": done},
                )
                done += 1
                clock.advance(1)


def _payloads(engine) -> list[bytes]:
    with UnitOfWork(engine) as s:
        return [p.encode() for p in s.scalars(select(LogEntry.payload).order_by(LogEntry.index))]


def test_roots_and_proofs_from_storage_match_the_pure_library(engine, clock):
    signer = memory_signer()
    _fill(engine, clock, signer, 37, per_tx=3)
    leaves = _payloads(engine)
    with UnitOfWork(engine) as s:
        assert log.size(s) == 37
        heads = s.scalars(select(TreeHeadRecord.tree_size).order_by(TreeHeadRecord.tree_size)).all()
        assert heads == list(range(1, 38))  # every size has its own signed head
        for n in range(1, 38):
            assert log.root_at(s, n) == ledger.root_hash(leaves[:n])
            for i in range(0, n, 5):
                assert log.inclusion_proof(s, i, n) == ledger.inclusion_proof(i, leaves[:n])
            for m in range(0, n + 1, 4):
                assert log.consistency_proof(s, m, n) == ledger.consistency_proof(m, n, leaves)
        assert log.verify(s, signer.public_key()) == []


def test_fresh_roots_and_newest_leaf_proofs_equal_the_library(engine, clock):
    """append_many derives each new root and the newest leaf's proof from the right edge."""
    entries = [(EntryKind.member_joined, {"member": f"m-{i}", "role": "member"}) for i in range(70)]
    with UnitOfWork(engine) as s:
        log.append_many(s, clock, entries[:5])
        log.append_many(s, clock, entries[5:])
        fresh = s.info["log_fresh"]
    leaves = _payloads(engine)
    for i in range(70):
        assert fresh.roots[i + 1] == ledger.root_hash(leaves[: i + 1])
        assert fresh.proofs[i] == ledger.inclusion_proof(i, leaves[: i + 1])


def test_an_append_rolls_back_with_its_change(engine, clock):
    signer = memory_signer()
    with pytest.raises(RuntimeError), UnitOfWork(engine, signer=signer, clock=clock) as s:
        log.append(s, clock, EntryKind.member_joined, member="m-1", role="member")
        raise RuntimeError("the change failed")
    with UnitOfWork(engine) as s:
        assert log.size(s) == 0
        assert s.scalar(select(func.count()).select_from(LogEntry)) == 0


def test_payload_fields_are_a_closed_set(engine, clock):
    with UnitOfWork(engine) as s, pytest.raises(ValueError):
        log.append(s, clock, EntryKind.member_joined, member="m-1", role="member", email="x@y.z")


def _tamper_and_verify(engine, signer, statements, thorough=False) -> list[log.Problem]:
    with engine.begin() as conn:
        for stmt in statements:
            conn.execute(stmt)
    with UnitOfWork(engine) as s:
        problems = log.verify(s, signer.public_key(), thorough=thorough)
        if not thorough:  # the thorough mode finds at least the same first bad index
            deep = log.verify(s, signer.public_key(), thorough=True)
            assert deep and problems and deep[0].index == problems[0].index
        return problems


def _forged(index: int) -> str:
    return ledger.canonical_json(
        {"v": 1, "kind": "member:joined", "ts": 0, "member": f"m-forged{index}", "role": "steward"}
    ).decode()


@pytest.fixture
def filled(engine, clock):
    signer = memory_signer()
    _fill(engine, clock, signer, 20)
    return signer


def test_altered_payload_is_found_at_its_index(engine, filled):
    problems = _tamper_and_verify(
        engine, filled, [update(LogEntry).where(LogEntry.index == 7).values(payload=_forged(7))]
    )
    assert problems and problems[0].index == 7


def test_altered_payload_with_recomputed_leaf_hash_is_found_at_its_index(engine, filled):
    forged = _forged(11)
    problems = _tamper_and_verify(
        engine,
        filled,
        [
            update(LogEntry)
            .where(LogEntry.index == 11)
            .values(payload=forged, leaf_hash=ledger.leaf_hash(forged.encode()))
        ],
    )
    assert problems and problems[0].index == 11


def test_deleted_entry_is_found_at_its_index(engine, filled):
    problems = _tamper_and_verify(engine, filled, [delete(LogEntry).where(LogEntry.index == 5)])
    assert problems and problems[0].index == 5


def test_reordered_entries_are_found_at_the_first_moved_index(engine, filled):
    with UnitOfWork(engine) as s:
        a = s.get(LogEntry, 6)
        b = s.get(LogEntry, 13)
        a_payload, a_hash, b_payload, b_hash = a.payload, a.leaf_hash, b.payload, b.leaf_hash
    problems = _tamper_and_verify(
        engine,
        filled,
        [
            update(LogEntry).where(LogEntry.index == 6).values(payload=b_payload, leaf_hash=b_hash),
            update(LogEntry)
            .where(LogEntry.index == 13)
            .values(payload=a_payload, leaf_hash=a_hash),
        ],
    )
    assert problems and problems[0].index == 6


def test_inserted_entry_is_found(engine, filled):
    forged = _forged(20)
    problems = _tamper_and_verify(
        engine,
        filled,
        [
            insert(LogEntry).values(
                index=20,
                kind="member:joined",
                payload=forged,
                leaf_hash=ledger.leaf_hash(forged.encode()),
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        ],
    )
    assert problems and problems[0].index == 20


def test_corrupt_stored_subtree_and_forged_head_are_found(engine, filled):
    problems = _tamper_and_verify(
        engine,
        filled,
        [update(LogNode).where(LogNode.level == 2, LogNode.index == 1).values(hash=b"\x00" * 32)],
    )
    assert [p.index for p in problems] == [4]
    problems = _tamper_and_verify(
        engine,
        filled,
        [
            update(LogNode)
            .where(LogNode.level == 2, LogNode.index == 1)
            .values(hash=ledger.root_hash(_payloads(engine)[4:8])),
            update(TreeHeadRecord).where(TreeHeadRecord.tree_size == 9).values(timestamp=1),
        ],
        thorough=True,
    )
    assert [p.index for p in problems] == [8]
    assert "bad signature" in problems[0].message


def test_only_a_thorough_check_reads_every_head(engine, filled):
    with engine.begin() as conn:
        conn.execute(
            update(TreeHeadRecord).where(TreeHeadRecord.tree_size == 3).values(timestamp=1)
        )
    with UnitOfWork(engine) as s:
        assert log.verify(s, filled.public_key()) == []  # newest head good, data intact
        deep = log.verify(s, filled.public_key(), thorough=True)
    assert [(p.index, "bad signature" in p.message) for p in deep] == [(2, True)]


def test_commitment_hides_the_answer_but_binds_it():
    salt = bytes(range(16))
    c = log.commitment(salt, ["cat", "dog"])
    assert c == log.commitment(salt, ["cat", "dog"])
    assert c != log.commitment(salt, ["dog", "cat"])
    assert c != log.commitment(bytes(16), ["cat", "dog"])
    assert "cat" not in c and len(c) == 64
    assert json.dumps(["cat"]) not in c
