"""The demo data builder: accounts, rendered digits, the project and the simulated work."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from datacoop.db.engine import create_db_engine
from datacoop.db.uow import UnitOfWork
from datacoop.demo import DemoDatabaseNotEmpty, DemoResult, build_demo
from datacoop.members import services as members
from datacoop.members.models import Member, Role
from datacoop.members.passwords import make_hasher
from datacoop.projects.models import Item, Project
from datacoop.settings import Settings
from datacoop.work.export import export_lines
from datacoop.work.models import Assignment, AssignmentState, Submission

SMALL = {"n_members": 5, "n_items": 40, "n_tasks": 60}


def _answers_by_item(settings: Settings, project_id: int) -> dict[str, list[object]]:
    """Per item (by external id), the answers in submission order; contributor ids are random."""
    engine = create_db_engine(settings.resolved_database_url())
    try:
        with UnitOfWork(engine) as s:
            project = s.get(Project, project_id)
            assert project is not None
            records = [json.loads(line) for line in export_lines(s, project, "jsonl")]
    finally:
        engine.dispose()
    return {r["external_id"]: [a["answer"] for a in r["answers"]] for r in records}


def test_small_demo(settings: Settings, backend: str) -> None:
    sentinel = settings.data_dir / "datacoop.db"
    if backend == "postgresql":  # an unrelated file: a PostgreSQL demo must leave it alone
        sentinel.write_bytes(b"not ours")
    stages: list[tuple[str, int, int]] = []

    result = build_demo(settings, **SMALL, progress=lambda *args: stages.append(args))

    assert isinstance(result, DemoResult)
    assert result.data_dir == settings.data_dir
    assert result.items == 40
    assert result.gold_items == 2  # items 0 and 20
    assert result.submissions == 60  # 40 items x overlap 3 is plenty for 60
    assert 0.5 <= result.accuracy_vs_truth <= 1.0
    assert result.steward[0] == "steward@demo.datacoop.org"
    assert result.requester[0] == "requester@demo.datacoop.org"
    assert [email for email, _ in result.members] == [
        f"member0{n}@demo.datacoop.org" for n in range(1, 6)
    ]
    passwords = [result.steward[1], result.requester[1], *(p for _, p in result.members)]
    assert all(len(p) >= 12 for p in passwords)
    assert len(set(passwords)) == len(passwords)
    if backend == "postgresql":
        assert sentinel.read_bytes() == b"not ours"

    # Progress: every stage reported, in order, ending complete.
    starts = [stage for stage, done, _total in stages if done == 0]
    assert starts == ["accounts", "images", "import", "simulation"]
    finals = {stage: (done, total) for stage, done, total in stages}
    assert finals == {
        "accounts": (7, 7),
        "images": (40, 40),
        "import": (40, 40),
        "simulation": (60, 60),
    }

    # Images: 128x128 grayscale PNGs, the digit dark on white.
    pngs = sorted((settings.media_dir / "digits").glob("*.png"))
    assert [p.name for p in pngs] == [f"{i:04d}.png" for i in range(40)]
    for path in pngs:
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert image.size == (128, 128)
            assert image.mode == "L"
            assert image.getpixel((0, 0)) == 255  # the corners of every digit scan are blank
            assert image.getextrema()[0] < 128  # some ink

    engine = create_db_engine(settings.resolved_database_url())
    try:
        with UnitOfWork(engine) as s:
            roles = Counter(s.scalars(select(Member.role)))
            assert roles == {Role.steward: 1, Role.requester: 1, Role.member: 5}
            hasher = make_hasher(settings.argon2_time_cost, settings.argon2_memory_kib)
            for email, password in [result.steward, result.requester, result.members[0]]:
                assert members.authenticate(s, hasher, email, password).email == email

            project = s.get(Project, result.project_id)
            assert project is not None
            assert (project.title, project.task_type, project.overlap) == (
                "Handwritten digits",
                "single_choice",
                3,
            )
            assert project.config["labels"] == [str(d) for d in range(10)]
            terms = (project.pay_per_item, project.currency, project.lease_seconds)
            assert terms == (4, "EUR", 300)

            items = list(s.scalars(select(Item).order_by(Item.id)))
            assert len(items) == 40
            assert items[3].external_id == "digit-0003"
            assert items[3].data == {
                "image": "/media/digits/0003.png",
                "alt": "handwritten digit 8x8 scan #3",
            }
            assert [i.external_id for i in items if i.is_gold] == ["digit-0000", "digit-0020"]
            assert all(i.gold in [str(d) for d in range(10)] for i in items if i.is_gold)

            assert s.scalar(select(func.count()).select_from(Submission)) == 60
            on_time = Counter(s.scalars(select(Submission.item_id).where(~Submission.late)))
            assert max(on_time.values()) <= 3
            stored = {i.id: i.answer_count for i in items}
            assert stored == {i.id: on_time.get(i.id, 0) for i in items}
            # Every simulated task was finished: no lease is left open.
            open_leases = select(func.count()).where(Assignment.state == AssignmentState.leased)
            assert s.scalar(open_leases) == 0
            # Active time was recorded from the simulated page's heartbeats.
            assert s.scalar(select(func.min(Submission.active_ms))) > 0
    finally:
        engine.dispose()

    if backend == "sqlite":  # a second run starts over with a fresh database
        again = build_demo(settings, **SMALL)
        assert again.submissions == 60
        assert again.members == result.members
    else:  # a database that is not the data dir's own SQLite file is never wiped
        with pytest.raises(DemoDatabaseNotEmpty):
            build_demo(settings, **SMALL)
        assert (settings.media_dir / "digits" / "0039.png").exists()  # its images kept too


def test_same_seed_same_demo(tmp_path: Path) -> None:
    def settings(name: str) -> Settings:
        return Settings(
            data_dir=tmp_path / name, database_url=None, argon2_time_cost=1, argon2_memory_kib=8
        )

    first, second = settings("a"), settings("b")
    a = build_demo(first, **SMALL, seed=11)
    b = build_demo(second, **SMALL, seed=11)
    assert (first.data_dir / "datacoop.db").exists()
    assert (a.steward, a.requester, a.members) == (b.steward, b.requester, b.members)
    assert a.accuracy_vs_truth == b.accuracy_vs_truth
    answers = _answers_by_item(first, a.project_id)
    assert answers == _answers_by_item(second, b.project_id)
    assert sum(len(v) for v in answers.values()) == 60

    other = build_demo(second, **SMALL, seed=12)  # same data dir: starts over
    assert other.members != a.members
    assert _answers_by_item(second, other.project_id) != answers
    assert sum(len(v) for v in _answers_by_item(second, other.project_id).values()) == 60
