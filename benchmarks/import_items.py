"""Import 100,000 items through the real service (parse, validate, insert, commit) and time it.

Target (issue 3): 100,000 items in under 10 s on SQLite. For scale, the same rows are also
inserted the naive ORM way (one object per row, one flush) in the same run: that is what a
straightforward implementation does, and the ratio shows what batching buys.

    python benchmarks/import_items.py [--items 100000] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
import time
from pathlib import Path

from datacoop.clock import SystemClock
from datacoop.db.engine import create_db_engine, upgrade_to_head
from datacoop.db.uow import UnitOfWork
from datacoop.members import services as members
from datacoop.members.models import Role
from datacoop.members.passwords import make_hasher
from datacoop.projects import services as projects
from datacoop.projects.models import Item

SPEC = {
    "title": "bench",
    "task_type": "single_choice",
    "labels": ["pos", "neg"],
    "overlap": 3,
    "pay_per_item": 5,
    "estimated_seconds": 10,
    "currency": "EUR",
}


def make_files(n: int) -> dict[str, bytes]:
    texts = [f'Review {i}: the product arrived, it works, "mostly" fine ✓' for i in range(n)]
    csv = "id,text,gold\n" + "".join(
        f'r{i},"{t.replace(chr(34), chr(34) * 2)}",{"pos" if i % 50 == 0 else ""}\n'
        for i, t in enumerate(texts)
    )
    jsonl = "".join(json.dumps({"id": f"r{i}", "text": t}) + "\n" for i, t in enumerate(texts))
    ls = json.dumps([{"id": i, "data": {"text": t}} for i, t in enumerate(texts)], indent=1)
    return {"csv": csv.encode(), "jsonl": jsonl.encode(), "labelstudio": ls.encode()}


def setup(url: str):
    engine = create_db_engine(url)
    upgrade_to_head(engine)
    clock = SystemClock()
    with UnitOfWork(engine) as s:
        owner = members.register(
            s,
            clock,
            make_hasher(1, 8),
            email="bench@example.org",
            password="x" * 12,
            display_name="bench",
            role=Role.requester,
        )
        owner_id = owner.id
    return engine, clock, owner_id


def timed_import(engine, clock, owner_id, fmt: str, data: bytes) -> float:
    from datacoop.members.models import Member

    start = time.perf_counter()
    with UnitOfWork(engine) as s:
        owner = s.get(Member, owner_id)
        project = projects.create_project(s, clock, owner, SPEC)
        projects.import_items(s, clock, owner, project, io.BytesIO(data), fmt=fmt)
    return time.perf_counter() - start


def naive_import(engine, clock, owner_id, n: int) -> float:
    from datacoop.members.models import Member

    start = time.perf_counter()
    with UnitOfWork(engine) as s:
        owner = s.get(Member, owner_id)
        project = projects.create_project(s, clock, owner, SPEC)
        rec = projects.ItemImport(
            project_id=project.id,
            filename=None,
            format="csv",
            item_count=n,
            sha256="",
            created_at=clock.now(),
        )
        s.add(rec)
        s.flush()
        for i in range(n):
            s.add(
                Item(
                    project_id=project.id,
                    import_id=rec.id,
                    external_id=f"r{i}",
                    data={"text": f"Review {i}"},
                    gold=None,
                    is_gold=False,
                    answer_count=0,
                    created_at=clock.now(),
                )
            )
        s.flush()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--postgres-url", default=None)
    args = parser.parse_args()
    files = make_files(args.items)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        backends = [("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}")]
        if args.postgres_url:
            backends.append(("postgresql", args.postgres_url))
        for name, url in backends:
            engine, clock, owner_id = setup(url)
            naive = naive_import(engine, clock, owner_id, args.items)
            for fmt, data in files.items():
                secs = timed_import(engine, clock, owner_id, fmt, data)
                rows.append((name, f"datacoop import ({fmt})", secs, naive / secs))
            rows.append((name, "naive ORM insert (no parsing)", naive, 1.0))
            engine.dispose()
    print(f"\nImport of {args.items:,} items, one transaction each (target: < 10 s on SQLite)\n")
    print(
        f"{'backend':<11} {'method':<32} {'seconds':>8} {'items/s':>10} {'x naive':>8} {'target':>7}"
    )
    for backend, method, secs, ratio in rows:
        ok = "PASS" if secs < 10 else "MISS"
        print(
            f"{backend:<11} {method:<32} {secs:>8.2f} {args.items / secs:>10,.0f} {ratio:>8.1f} {ok:>7}"
        )
    if not args.postgres_url:
        print("\n(postgresql row skipped: pass --postgres-url to measure it)")


if __name__ == "__main__":
    main()
