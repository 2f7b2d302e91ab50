"""The data behind ``datacoop demo``: a fresh database with a labeling project already in use.

``build_demo`` creates a steward, a requester and a number of member accounts, renders
handwritten digits from scikit-learn's bundled ``load_digits`` data set (no download) to PNG
files, creates a "Handwritten digits" project with those images as items (every 20th a gold
item), and then runs a *simulation* of members working on it, through the same services the
web API uses, so that dashboards, exports and progress pages have something to show.

The simulated work is made up: each simulated member has a skill (the chance of picking the
true digit) and a speed (seconds per item), both drawn from one ``numpy`` generator seeded by
``seed``, and a ``FixedClock`` that moves only as simulated time passes. The same seed gives
the same passwords and the same answers. Nothing here stands for any real person's work.

scikit-learn and Pillow come with the ``demo`` extra (``pip install datacoop[demo]``).
"""

from __future__ import annotations

import heapq
import io
import json
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url

from datacoop.clock import FixedClock
from datacoop.db.engine import create_db_engine, upgrade_to_head
from datacoop.db.uow import UnitOfWork
from datacoop.members import services as members
from datacoop.members.models import Member, Role
from datacoop.members.passwords import make_hasher
from datacoop.projects import services as projects
from datacoop.projects.models import Item, Project
from datacoop.settings import Settings
from datacoop.work import services as work

Progress = Callable[[str, int, int], None]

DOMAIN = "demo.datacoop.org"
STEWARD_EMAIL = f"steward@{DOMAIN}"
REQUESTER_EMAIL = f"requester@{DOMAIN}"
DEMO_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
"""When the simulated work begins (a fixed date, so runs are reproducible)."""

LABELS = [str(d) for d in range(10)]
OVERLAP = 3
GOLD_EVERY = 20
IMAGE_SCALE = 16  # 8x8 -> 128x128
HEARTBEAT_SECONDS = 10.0
SKIP_RATE = 0.05
RETRY_SECONDS = 30.0  # a simulated member who found no free item looks again this much later
MAX_ITEMS = 1797  # the size of scikit-learn's digits data set

INSTRUCTIONS = (
    "Each item shows one handwritten digit, scanned at 8x8 pixels and enlarged. "
    "Pick the digit (0-9) you see. Keyboard: press the digit, then Enter to submit. "
    "Some scans are blurry: go with your best reading of the shape. If you really cannot "
    "tell which digit it is, skip the item - skipping costs you nothing."
)

# Digits that are easy to mistake for each other in small scans: half of the simulated
# wrong answers pick the look-alike, the rest any other digit.
LOOK_ALIKE = {
    "0": "6",
    "1": "7",
    "2": "7",
    "3": "8",
    "4": "9",
    "5": "6",
    "6": "5",
    "7": "1",
    "8": "3",
    "9": "4",
}

WORDS = (
    "amber",
    "anchor",
    "apple",
    "arrow",
    "basil",
    "beacon",
    "birch",
    "bison",
    "breeze",
    "canyon",
    "cedar",
    "cobalt",
    "comet",
    "coral",
    "cotton",
    "crane",
    "delta",
    "dune",
    "ember",
    "falcon",
    "fern",
    "fjord",
    "flint",
    "garnet",
    "glacier",
    "granite",
    "harbor",
    "hazel",
    "heron",
    "indigo",
    "island",
    "ivory",
    "jasper",
    "juniper",
    "kestrel",
    "lagoon",
    "lantern",
    "lemon",
    "linen",
    "lotus",
    "maple",
    "meadow",
    "mint",
    "nectar",
    "nimbus",
    "oasis",
    "olive",
    "orbit",
    "otter",
    "pebble",
    "pepper",
    "pine",
    "plum",
    "quartz",
    "quill",
    "raven",
    "river",
    "saffron",
    "sierra",
    "spruce",
    "summit",
    "thistle",
    "tulip",
    "velvet",
    "walnut",
    "willow",
    "yarrow",
    "zephyr",
)


@dataclass
class DemoResult:
    data_dir: Path
    steward: tuple[str, str]  # (email, password)
    requester: tuple[str, str]
    members: list[tuple[str, str]]  # (email, password), one per simulated member
    project_id: int
    items: int
    submissions: int
    gold_items: int
    accuracy_vs_truth: float  # share of simulated submissions equal to the true digit


class DemoDatabaseNotEmpty(RuntimeError):
    """The configured database already holds accounts; the demo only fills an empty one."""


def build_demo(
    settings: Settings,
    *,
    n_members: int = 25,
    n_items: int = 300,
    n_tasks: int = 400,
    seed: int = 7,
    progress: Progress | None = None,
    start: datetime = DEMO_START,
) -> DemoResult:
    """Fill a fresh demo database under ``settings.data_dir`` and return what was made.

    With the default SQLite database (``DATA_DIR/datacoop.db``) an existing database there
    and its rendered digits are deleted first. Any other database URL (PostgreSQL, or a
    SQLite file elsewhere) is never deleted: it must hold no accounts yet, else
    ``DemoDatabaseNotEmpty``. The simulation stops after ``n_tasks`` submissions or when no
    simulated member can get an item any more; ``start`` is the simulated start time.
    """
    if n_members < 1:
        raise ValueError("n_members must be at least 1")
    if not 1 <= n_items <= MAX_ITEMS:
        raise ValueError(f"n_items must be from 1 to {MAX_ITEMS}")
    if n_tasks < 0:
        raise ValueError("n_tasks must be 0 or more")
    report: Progress = progress or (lambda stage, done, total: None)

    _clear_previous_demo(settings)
    engine = create_db_engine(settings.resolved_database_url())
    try:
        upgrade_to_head(engine)
        with UnitOfWork(engine) as s:
            if s.scalar(select(func.count()).select_from(Member)):
                raise DemoDatabaseNotEmpty(
                    "the database already holds accounts; the demo needs an empty one "
                    "(use a fresh data directory with SQLite, or an empty PostgreSQL database)"
                )
        shutil.rmtree(settings.media_dir / "digits", ignore_errors=True)  # only once it is ours
        clock = FixedClock(start)
        accounts = _create_accounts(engine, clock, settings, n_members, seed, report)
        truths, rows = _render_digits(settings.media_dir / "digits", n_items, report)
        project_id = _create_project(engine, clock, accounts.requester_id, rows, report)
        rng = np.random.default_rng(seed)
        sim = _simulate(
            engine, clock, project_id, accounts.member_ids, truths, n_tasks, rng, report
        )
    finally:
        engine.dispose()
    return DemoResult(
        data_dir=settings.data_dir,
        steward=accounts.steward,
        requester=accounts.requester,
        members=accounts.members,
        project_id=project_id,
        items=n_items,
        submissions=sim.submitted,
        gold_items=sum(1 for row in rows if "gold" in row),
        accuracy_vs_truth=sim.correct / sim.submitted if sim.submitted else 0.0,
    )


def _clear_previous_demo(settings: Settings) -> None:
    """Delete the data dir's own SQLite database, if it is the one in use (never another)."""
    db_file = settings.data_dir / "datacoop.db"
    url = make_url(settings.resolved_database_url())
    uses_it = (
        url.get_backend_name() == "sqlite"
        and bool(url.database)
        and url.database != ":memory:"
        and Path(str(url.database)).resolve() == db_file.resolve()
    )
    if uses_it and db_file.exists():
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)


# --- accounts -------------------------------------------------------------------------------


@dataclass
class _Accounts:
    steward: tuple[str, str]
    requester: tuple[str, str]
    members: list[tuple[str, str]]
    requester_id: int
    member_ids: list[int]


def demo_password(rng: random.Random) -> str:
    """Three words and two digits, e.g. ``maple-heron-quartz-42``: easy to type, not guessable
    from the email (though anyone with the seed can rebuild them: demo accounts only)."""
    return "-".join(rng.sample(WORDS, 3)) + f"-{rng.randrange(100):02d}"


def _create_accounts(
    engine: Engine,
    clock: FixedClock,
    settings: Settings,
    n_members: int,
    seed: int,
    report: Progress,
) -> _Accounts:
    hasher = make_hasher(settings.argon2_time_cost, settings.argon2_memory_kib)
    words = random.Random(seed)
    wanted: list[tuple[str, str, Role]] = [
        (STEWARD_EMAIL, "Demo Steward", Role.steward),
        (REQUESTER_EMAIL, "Demo Requester", Role.requester),
    ]
    width = max(2, len(str(n_members)))
    wanted += [
        (f"member{n:0{width}d}@{DOMAIN}", f"Member {n:0{width}d}", Role.member)
        for n in range(1, n_members + 1)
    ]
    made: list[tuple[str, str, int]] = []
    total = len(wanted)
    report("accounts", 0, total)
    for done, (email, name, role) in enumerate(wanted, 1):
        password = demo_password(words)
        with UnitOfWork(engine) as s:
            member = members.register(
                s, clock, hasher, email=email, password=password, display_name=name, role=role
            )
            made.append((email, password, member.id))
        report("accounts", done, total)
    return _Accounts(
        steward=made[0][:2],
        requester=made[1][:2],
        members=[m[:2] for m in made[2:]],
        requester_id=made[1][2],
        member_ids=[m[2] for m in made[2:]],
    )


# --- images and the project -----------------------------------------------------------------


def _render_digits(
    folder: Path, n_items: int, report: Progress
) -> tuple[list[str], list[dict[str, Any]]]:
    """Write the first ``n_items`` digits as PNGs; return the true labels and import rows."""
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    folder.mkdir(parents=True, exist_ok=True)
    truths: list[str] = []
    rows: list[dict[str, Any]] = []
    report("images", 0, n_items)
    for i in range(n_items):
        pixels = np.asarray(digits.images[i], dtype=np.float64)  # 0 (white) .. 16 (ink)
        gray = 255 - np.clip(np.rint(pixels * 255 / 16), 0, 255).astype(np.uint8)
        image = Image.fromarray(gray)  # uint8, 2-D: mode "L"
        size = (gray.shape[1] * IMAGE_SCALE, gray.shape[0] * IMAGE_SCALE)
        image.resize(size, Image.Resampling.NEAREST).save(folder / f"{i:04d}.png", optimize=True)
        truth = str(int(digits.target[i]))
        truths.append(truth)
        row: dict[str, Any] = {
            "data": {
                "image": f"/media/digits/{i:04d}.png",
                "alt": f"handwritten digit 8x8 scan #{i}",
            },
            "id": f"digit-{i:04d}",
        }
        if i % GOLD_EVERY == 0:
            row["gold"] = truth
        rows.append(row)
        report("images", i + 1, n_items)
    return truths, rows


def project_spec() -> dict[str, Any]:
    return {
        "title": "Handwritten digits",
        "instructions": INSTRUCTIONS,
        "task_type": "single_choice",
        "labels": list(LABELS),
        "overlap": OVERLAP,
        "pay_per_item": 4,
        "estimated_seconds": 8,
        "currency": "EUR",
        "lease_seconds": 300,
    }


def _create_project(
    engine: Engine,
    clock: FixedClock,
    requester_id: int,
    rows: list[dict[str, Any]],
    report: Progress,
) -> int:
    jsonl = "".join(json.dumps(row, sort_keys=True) + "\n" for row in rows).encode()
    total = len(rows)
    report("import", 0, total)
    with UnitOfWork(engine) as s:
        requester = s.get(Member, requester_id)
        assert requester is not None
        project = projects.create_project(s, clock, requester, project_spec())
        projects.import_items(
            s,
            clock,
            requester,
            project,
            io.BytesIO(jsonl),
            fmt="jsonl",
            filename="digits.jsonl",
            progress=lambda done: report("import", done, total),
        )
        project_id = project.id
    return project_id


# --- the simulation -------------------------------------------------------------------------


@dataclass
class _Worker:
    member_id: int
    skill: float  # chance of answering the true digit
    seconds: float  # median seconds per item
    assignment_id: int | None = None
    item_index: int = -1
    finish_at: float = 0.0
    will_skip: bool = False


@dataclass
class _Outcome:
    submitted: int = 0
    correct: int = 0
    skipped: int = 0


def simulated_workers(member_ids: list[int], rng: np.random.Generator) -> list[_Worker]:
    """Skills from Beta(8, 2) clipped to [0.55, 0.98], except a few deliberately weak members
    (~0.4: two of 25, one of 5); speeds lognormal around 6 s per item."""
    n = len(member_ids)
    skills = np.clip(rng.beta(8, 2, size=n), 0.55, 0.98)
    n_weak = min(2, n // 5)
    for index in rng.choice(n, size=n_weak, replace=False):
        skills[index] = float(np.clip(rng.normal(0.4, 0.03), 0.3, 0.5))
    speeds = np.clip(rng.lognormal(np.log(6.0), 0.3, size=n), 2.5, 20.0)
    return [
        _Worker(member_id=m, skill=float(k), seconds=float(v))
        for m, k, v in zip(member_ids, skills, speeds, strict=True)
    ]


def _simulate(
    engine: Engine,
    clock: FixedClock,
    project_id: int,
    member_ids: list[int],
    truths: list[str],
    n_tasks: int,
    rng: np.random.Generator,
    report: Progress,
) -> _Outcome:
    """Discrete-event simulation of members working in parallel on the project.

    Events (simulated seconds after ``clock``'s start) are handled in time order, each in its
    own unit of work like a web request: ``next`` asks for a task, ``beat`` sends the page's
    heartbeat, ``finish`` submits (or skips). No new task is taken once the submissions done
    or under way reach ``n_tasks``, so the run ends with exactly ``n_tasks`` submissions and
    no open leases unless the work ran out first.
    """
    workers = simulated_workers(member_ids, rng)
    t0 = clock.now()
    ids_by_item = _item_index(engine, project_id)
    outcome = _Outcome()
    planned = 0  # submissions done plus those under way
    queue: list[tuple[float, int, int, str]] = []  # (time, order, worker, event)
    order = 0

    def schedule(at: float, who: int, event: str) -> None:
        nonlocal order
        heapq.heappush(queue, (at, order, who, event))
        order += 1

    for who in range(len(workers)):
        schedule(float(rng.uniform(0, 20)), who, "next")
    report("simulation", 0, n_tasks)
    while queue:
        at, _, who, event = heapq.heappop(queue)
        clock.set(t0 + timedelta(seconds=at))
        w = workers[who]
        if event == "next":
            if planned >= n_tasks:
                continue  # enough work under way: this member stops
            with UnitOfWork(engine) as s:
                member, project = s.get(Member, w.member_id), s.get(Project, project_id)
                assert member is not None and project is not None
                assignment = work.next_task(s, clock, member, project)
                got = None if assignment is None else (assignment.id, assignment.item_id)
            if got is None:
                if any(other.assignment_id is not None for other in workers):
                    schedule(at + RETRY_SECONDS, who, "next")  # items may free up
                continue  # otherwise the work has run out for this member
            w.assignment_id, w.item_index = got[0], ids_by_item[got[1]]
            w.will_skip = bool(rng.random() < SKIP_RATE)
            duration = float(rng.lognormal(np.log(w.seconds), 0.35))
            duration = min(max(duration, 1.5), 120.0) * (0.5 if w.will_skip else 1.0)
            w.finish_at = at + duration
            planned += 0 if w.will_skip else 1
            _next_step(w, at, who, schedule)
        elif event == "beat":
            with UnitOfWork(engine) as s:
                member = s.get(Member, w.member_id)
                assert member is not None and w.assignment_id is not None
                work.heartbeat(s, clock, member, w.assignment_id)
            _next_step(w, at, who, schedule)
        else:  # finish
            assert w.assignment_id is not None
            truth = truths[w.item_index]
            answer = None if w.will_skip else _answer(truth, w.skill, rng)
            with UnitOfWork(engine) as s:
                member = s.get(Member, w.member_id)
                assert member is not None
                if answer is None:
                    work.skip(s, clock, member, w.assignment_id)
                else:
                    work.submit(s, clock, member, assignment_id=w.assignment_id, answer=answer)
            if answer is None:
                outcome.skipped += 1
            else:
                outcome.submitted += 1
                outcome.correct += answer == truth
                report("simulation", outcome.submitted, n_tasks)
            w.assignment_id = None
            schedule(at + float(rng.exponential(2.0)), who, "next")  # a short pause
    return outcome


def _next_step(
    w: _Worker, now: float, who: int, schedule: Callable[[float, int, str], None]
) -> None:
    beat = now + HEARTBEAT_SECONDS
    if beat < w.finish_at:
        schedule(beat, who, "beat")
    else:
        schedule(w.finish_at, who, "finish")


def _answer(truth: str, skill: float, rng: np.random.Generator) -> str:
    if rng.random() < skill:
        return truth
    if rng.random() < 0.5:
        return LOOK_ALIKE[truth]
    others = [label for label in LABELS if label != truth]
    return others[int(rng.integers(len(others)))]


def _item_index(engine: Engine, project_id: int) -> dict[int, int]:
    """Item id -> position in the digits data set (from the external id ``digit-NNNN``)."""
    with UnitOfWork(engine) as s:
        rows = s.execute(
            select(Item.id, Item.external_id).where(Item.project_id == project_id)
        ).all()
    return {item_id: int(str(external).removeprefix("digit-")) for item_id, external in rows}
