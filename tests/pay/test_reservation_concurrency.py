"""Reservation under real concurrency, on both backends: 8 members race for tasks in a paid
project whose escrow covers 20; exactly 20 are handed out, each with its pay reserved, and
every other request is refused as paused (never a task without reserved pay)."""

from __future__ import annotations

import io
import threading

from sqlalchemy import func, select

from datacoop.db.uow import UnitOfWork
from datacoop.errors import Conflict
from datacoop.members import services as members
from datacoop.members.models import Member, Role
from datacoop.members.passwords import make_hasher
from datacoop.pay import services as pay
from datacoop.pay.models import ProjectPay
from datacoop.pay.money import Money
from datacoop.projects import services as projects
from datacoop.projects.models import Project
from datacoop.work import services as work
from datacoop.work.models import Assignment

WORKERS = 8
TRIES = 6
FUNDED = 20


def _seed(engine, clock):
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
        spec = {
            "title": "race",
            "task_type": "single_choice",
            "labels": ["a", "b"],
            "overlap": 1,
            "pay_per_item": 10,
            "estimated_seconds": 30,
        }
        project = projects.create_project(s, clock, req, spec)
        rows = "".join(f"t{i}\n" for i in range(FUNDED))
        projects.import_items(
            s, clock, req, project, io.BytesIO(f"text\n{rows}".encode()), fmt="csv"
        )
        need = pay.funding_status(s, project).required
        pay.fund(s, clock, req, project, Money(need, "USD"))
        pay.launch(s, clock, req, project)
        # More items than the escrow covers: the reservation, not the item pool, must stop.
        rows = "".join(f"u{i}\n" for i in range(WORKERS * TRIES))
        projects.import_items(
            s, clock, req, project, io.BytesIO(f"text\n{rows}".encode()), fmt="csv"
        )
        ids = [
            members.register(
                s, clock, hasher, email=f"w{i}@example.org", password="x" * 12, display_name="w"
            ).id
            for i in range(WORKERS)
        ]
        return project.id, ids


def test_concurrent_leases_never_exceed_the_funded_tasks(engine, clock):
    project_id, member_ids = _seed(engine, clock)
    barrier = threading.Barrier(WORKERS)
    leased: list[int] = []
    refused: list[str] = []
    errors: list[BaseException] = []

    def worker(slot: int) -> None:
        try:
            for _ in range(TRIES):
                barrier.wait()
                try:
                    with UnitOfWork(engine) as s:
                        member = s.get(Member, member_ids[slot])
                        a = work.next_task(s, clock, member, s.get(Project, project_id))
                        assert a is not None
                        work.skip(s, clock, member, a.id)  # frees the member for the next try
                        leased.append(a.id)
                except Conflict as exc:
                    refused.append(exc.code)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(leased) == FUNDED and len(set(leased)) == FUNDED
    assert refused == ["project_paused"] * (WORKERS * TRIES - FUNDED)
    with UnitOfWork(engine) as s:
        assert s.scalar(select(func.count()).select_from(Assignment)) == FUNDED
        pp = s.get(ProjectPay, project_id)
        assert (pp.reserved_tasks, pp.funded_tasks) == (FUNDED, FUNDED)
