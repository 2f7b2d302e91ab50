"""Server time of the pages people wait on, with 100,000 items in the project.

Run: ``.venv/bin/python benchmarks/pages.py [--items 100000] [--requests 300]
[--postgres-url postgresql+psycopg://user:pass@host/db | --throwaway-postgres]``

Builds a fresh SQLite database in a temp dir through the services (a requester, a
``single_choice`` project with overlap 1, N items imported from an in-memory CSV, members
with browser sessions and API tokens), then calls the app in-process with Starlette's
TestClient. The app is wrapped in a small ASGI timer that starts when the request reaches the
app and stops when the last byte of the response body is sent, so the numbers are *server*
time (routing, authentication, database, rendering), without the HTTP client.

Measured, each ``--requests`` times after 20 warm-up calls:

- ``GET /projects/{id}/work``: the task page (HTML shell; the script then leases items);
- ``POST /api/v1/projects/{id}/next``: leasing the next item. Each lease is followed by an
  untimed submission, so every timed call picks a fresh item out of the 100,000;
- the requester's progress page and the public transparency page, for information.

Target: median <= 30 ms for the task page and for next task (issue 8). The exit code is 0
whatever the numbers are; non-zero only when a request fails.
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TARGET_MEDIAN_MS = 30.0
WARMUP = 20


class ServerTimer:
    """ASGI wrapper: the time from the request reaching the app to its last body byte."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.last_ms = 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()

        async def timed_send(message: Any) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.last_ms = (time.perf_counter() - start) * 1000

        await self.app(scope, receive, timed_send)


def build(app: Any, items: int, members: int) -> dict[str, Any]:
    """Accounts, a project and its items, made through the services in one unit of work."""
    from datacoop.members import services as accounts
    from datacoop.members.models import Role
    from datacoop.projects import services as projects

    ctx = app.state.ctx
    with ctx.sessions() as s:
        owner = accounts.register(
            s,
            ctx.clock,
            ctx.hasher,
            email="req@example.org",
            password="correct horse battery",
            display_name="Requester",
            role=Role.requester,
        )
        spec = {
            "title": "Benchmark",
            "instructions": "Pick the colour.",
            "task_type": "single_choice",
            "labels": ["red", "blue"],
            "overlap": 1,
            "pay_per_item": 5,
            "estimated_seconds": 10,
        }
        project = projects.create_project(s, ctx.clock, owner, spec)
        csv = "id,text\n" + "".join(f"k{i},item number {i}\n" for i in range(items))
        started = time.perf_counter()
        projects.import_items(s, ctx.clock, owner, project, io.BytesIO(csv.encode()), fmt="csv")
        import_s = time.perf_counter() - started
        _, owner_cookie = accounts.start_web_session(s, ctx.clock, owner, 1)
        workers = []
        for n in range(members):
            m = accounts.register(
                s,
                ctx.clock,
                ctx.hasher,
                email=f"m{n}@example.org",
                password="correct horse battery",
                display_name=f"Member {n}",
            )
            _, cookie = accounts.start_web_session(s, ctx.clock, m, 1)
            _, token = accounts.create_api_token(s, ctx.clock, m, "bench")
            workers.append({"cookie": cookie, "auth": {"Authorization": f"Bearer {token}"}})
        from datacoop.log import services as log

        log.seal(s, ctx.clock, ctx.signer)
        s.commit()
        return {
            "project": project.id,
            "owner_cookie": owner_cookie,
            "workers": workers,
            "import_s": import_s,
        }


def measure(timer: ServerTimer, call: Callable[[int], Any], n: int) -> list[float]:
    times = []
    for i in range(WARMUP + n):
        r = call(i)
        if r.status_code >= 400:
            raise SystemExit(f"request failed: {r.status_code} {r.text[:300]}")
        if i >= WARMUP:
            times.append(timer.last_ms)
    return times


def run(database_url: str | None, items: int, requests: int) -> list[tuple[str, list[float], bool]]:
    from fastapi.testclient import TestClient

    from datacoop.log.signer import memory_signer
    from datacoop.settings import Settings
    from datacoop.web.app import create_app
    from datacoop.web.deps import SESSION_COOKIE

    tmp = tempfile.mkdtemp(prefix="datacoop-pages-")
    settings = Settings(
        data_dir=Path(tmp), database_url=database_url, argon2_time_cost=1, argon2_memory_kib=8
    )
    app = create_app(settings, signer=memory_signer())
    setup = build(app, items, members=4)
    print(f"  imported {items:,} items in {setup['import_s']:.1f} s", flush=True)
    timer = ServerTimer(app)
    pid = setup["project"]
    rows: list[tuple[str, list[float], bool]] = []
    with TestClient(timer) as client:
        worker = setup["workers"][0]
        client.cookies.set(SESSION_COOKIE, worker["cookie"])
        rows.append(
            (
                "task page  GET /projects/{id}/work",
                measure(timer, lambda i: client.get(f"/projects/{pid}/work"), requests),
                True,
            )
        )

        def next_then_submit(i: int) -> Any:
            auth = setup["workers"][1 + i % 3]["auth"]
            r = client.post(f"/api/v1/projects/{pid}/next", headers=auth)
            spent = timer.last_ms
            if r.status_code == 200:  # untimed: free the member for a fresh item next time
                done = client.post(
                    "/api/v1/submissions",
                    headers=auth,
                    json={"assignment_id": r.json()["assignment_id"], "answer": "red"},
                )
                if done.status_code != 201:
                    raise SystemExit(f"submit failed: {done.status_code} {done.text[:300]}")
            timer.last_ms = spent
            return r

        rows.append(
            (
                "next task  POST /api/v1/projects/{id}/next",
                measure(timer, next_then_submit, requests),
                True,
            )
        )
        client.cookies.set(SESSION_COOKIE, setup["owner_cookie"])
        rows.append(
            (
                "progress   GET /projects/{id}/progress",
                measure(
                    timer, lambda i: client.get(f"/projects/{pid}/progress"), max(20, requests // 5)
                ),
                False,
            )
        )
        client.cookies.clear()
        rows.append(
            (
                "public     GET /transparency",
                measure(timer, lambda i: client.get("/transparency"), max(20, requests // 5)),
                False,
            )
        )
    app.state.ctx.engine.dispose()
    shutil.rmtree(tmp, ignore_errors=True)
    return rows


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument(
        "--throwaway-postgres",
        action="store_true",
        help="also run on a PostgreSQL cluster started for the run (tests/support/pgcluster.py)",
    )
    args = parser.parse_args()
    cluster = None
    if args.throwaway_postgres and not args.postgres_url:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))
        from pgcluster import Cluster

        cluster = Cluster()
        cluster.start()
        args.postgres_url = cluster.url()
    try:
        return _run_all(args)
    finally:
        if cluster is not None:
            cluster.stop()


def _run_all(args: argparse.Namespace) -> int:
    backends = [("sqlite", None)] + (
        [("postgresql", args.postgres_url)] if args.postgres_url else []
    )
    print(
        f"Server time with {args.items:,} items in the project, {args.requests} requests each "
        f"(target: median <= {TARGET_MEDIAN_MS:.0f} ms)\n"
    )
    header = f"{'backend':<11} {'page':<46} {'median ms':>10} {'p95 ms':>8}  result"
    for name, url in backends:
        print(f"{name}:", flush=True)
        rows = run(url, args.items, args.requests)
        print(header)
        for label, times, targeted in rows:
            median = statistics.median(times)
            verdict = ("PASS" if median <= TARGET_MEDIAN_MS else "FAIL") if targeted else "(info)"
            print(f"{name:<11} {label:<46} {median:>10.2f} {p95(times):>8.2f}  {verdict}")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
