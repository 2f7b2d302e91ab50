"""Assignment under real concurrency: 8 members fire `next task` at the same moment, 1,000
times, on each backend. No item may be handed to more people than its overlap allows, and
no member may get the same item twice."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from datacoop.db.uow import UnitOfWork
from datacoop.log import services as log
from datacoop.log.signer import memory_signer
from datacoop.members import services as members
from datacoop.members.models import Member, Role
from datacoop.members.passwords import make_hasher
from datacoop.projects import services as projects
from datacoop.projects.models import Item, Project
from datacoop.work import services as work
from datacoop.work.models import Assignment, AssignmentState, Submission

ROUNDS = 1000
WORKERS = 8
OVERLAP = 3


def _seed(engine, clock, n_items):
    hasher = make_hasher(1, 8)
    with UnitOfWork(engine) as s:
        req = members.register(
            s,
            clock,
            hasher,
            email="req@example.org",
            password="x" * 12,
            display_name="req",
            role=Role.requester,
        )
        project = projects.create_project(
            s,
            clock,
            req,
            {
                "title": "race",
                "task_type": "single_choice",
                "labels": ["a", "b"],
                "overlap": OVERLAP,
                "pay_per_item": 1,
                "estimated_seconds": 5,
                "currency": "EUR",
            },
        )
        import io

        data = "text\n" + "".join(f"t{i}\n" for i in range(n_items))
        projects.import_items(s, clock, req, project, io.BytesIO(data.encode()), fmt="csv")
        ids = []
        for i in range(WORKERS):
            m = members.register(
                s, clock, hasher, email=f"w{i}@example.org", password="x" * 12, display_name=f"w{i}"
            )
            ids.append(m.id)
        return project.id, ids


@pytest.mark.slow
def test_eight_concurrent_next_task_requests_a_thousand_times(engine, clock):
    # Enough items that nobody runs dry: each round takes 8 leases; some are skipped and
    # go back to the pool, so items are contended from several sides.
    project_id, member_ids = _seed(engine, clock, n_items=ROUNDS * WORKERS // OVERLAP + 50)
    signer = memory_signer()
    barrier = threading.Barrier(WORKERS)
    handed: list[list[int]] = [[] for _ in range(WORKERS)]
    errors: list[BaseException] = []

    def worker(slot: int) -> None:
        try:
            for rnd in range(ROUNDS):
                barrier.wait(timeout=60)
                with UnitOfWork(engine) as s:
                    member = s.get(Member, member_ids[slot])
                    project = s.get(Project, project_id)
                    a = work.next_task(s, clock, member, project)
                    assert a is not None
                    aid, item_id = a.id, a.item_id
                handed[slot].append(item_id)
                with UnitOfWork(engine, signer=signer, clock=clock) as s:
                    member = s.get(Member, member_ids[slot])
                    if (rnd + slot) % 4 == 0:
                        work.skip(s, clock, member, aid)
                    else:
                        work.submit(s, clock, member, assignment_id=aid, answer="a")
        except BaseException as exc:  # surfaced below; a thread must not die silently
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    assert sum(len(h) for h in handed) == ROUNDS * WORKERS

    # No member ever got the same item twice.
    for h in handed:
        assert len(h) == len(set(h))
    with UnitOfWork(engine) as s:
        # No item holds more answers + live leases than its overlap.
        per_item = Counter(
            s.scalars(select(Assignment.item_id).where(Assignment.state != AssignmentState.skipped))
        )
        assert max(per_item.values()) <= OVERLAP
        stored = dict(s.execute(select(Item.id, Item.answer_count)).all())
        answers = Counter(s.scalars(select(Submission.item_id)))
        assert all(stored[i] == answers.get(i, 0) for i in stored)
        assert s.scalar(select(func.count()).select_from(Submission)) == sum(answers.values())
        skipped = s.scalar(select(func.count()).where(Assignment.state == AssignmentState.skipped))
        assert skipped == ROUNDS * WORKERS // 4
        # Every submission got exactly one log entry, indexes gap-free, all verifiable.
        logged = s.scalars(select(Submission.log_index).order_by(Submission.log_index)).all()
        assert len(set(logged)) == len(logged) == sum(answers.values())
        assert log.verify(s, signer.public_key()) == []
