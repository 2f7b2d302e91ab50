"""Server time of the pay and review pages on a large cooperative.

Run: ``.venv/bin/python benchmarks/pay_pages.py [--requests 30] [--members 1000]
[--submissions 200000] [--postgres-url URL | --throwaway-postgres [--skip-sqlite]]
[--budget 30] [--explain] [--extra-index "TABLE(COL, ...)"]``

Builds a fresh database (SQLite in a temp dir; PostgreSQL with ``--postgres-url`` or
``--throwaway-postgres``): accounts, projects and their funding through the services
(``members.register``, ``projects.create_project``, ``pay.fund``, ``pay.launch``), then
the bulk of the rows with Core ``INSERT``s in a few statements each:

- ``--requesters`` requesters (50) owning ``--projects`` projects (200, round robin, so the
  first dashboard page shows projects of every requester), all funded, and launched once
  their items are in;
- ``--members`` members (1,000), each working in ``--member-projects`` projects (20);
  ``--submissions`` submissions (200,000), each with its item and assignment (measured
  active time 5-15 s), spread over the last 6 weeks. The benchmark member ``m0`` made
  ``--own`` of them (5,000) in 20 projects;
- settlement as ``pay.settlement`` posts it, weekly: per member, project and week a
  ``piece`` posting (escrow -> payable + fee) with its piece payments, and per member and
  project a ``top_up``: about 100,000 postings and 300,000 posting lines;
- three requester reviews per member (3,000), and 0.5% of submissions rejected;
- each requester's settled figures (``reviews.refresh_figures``, as settlement leaves them).

Then it calls the app in-process (Starlette's TestClient around ``pages.ServerTimer``, so
the times are server time: routing, authentication, database, rendering) and prints, per
page, the median and p95 server time, the SQL statements of one request and the median time
spent executing them (an SQLAlchemy ``before/after_cursor_execute`` listener; fetching rows
is not included):

- ``GET /dashboard`` as ``m0``: 50 projects with their requesters' review figures;
- ``GET /earnings`` as ``m0``: one earnings statement per project worked in (20);
- ``GET /work`` as ``m0``, for information;
- ``GET /projects/{id}/cost`` as the requester of one of m0's projects;
- ``GET /transparency``, public.

The issue gives no target for these pages (30 ms is the task page's and next task's, see
``pages.py``); a page over 100 ms is flagged ``SLOW``. ``--explain`` prints, after the
table, the five slowest statements of one request of each page with their query plans;
``--extra-index "assignments(project_id, state)"`` measures with an index the schema lacks.
The exit code is 0 whatever the numbers are; non-zero only when a request fails.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from pages import ServerTimer, p95

FLAG_MS = 100.0
WARMUP = 3
MIN_TIMED = 5
PERIOD_DAYS = 7  # settled weekly, as pay.settlement.settle_all advises
PERIODS = 6
PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Scale:
    requesters: int = 50
    projects: int = 200
    members: int = 1000
    member_projects: int = 20
    submissions: int = 200_000
    own: int = 5000
    reviews: int = 3
    seed: int = 7


@dataclass
class Setup:
    member_cookie: str
    requester_cookie: str
    cost_project: int
    counts: dict[str, int]
    seconds: float


# ---------------------------------------------------------------------------------------
# Building the data
# ---------------------------------------------------------------------------------------


def build(app: Any, scale: Scale) -> Setup:
    from datacoop.log import services as log
    from datacoop.members import services as accounts
    from datacoop.pay import services as pay

    started = time.perf_counter()
    ctx = app.state.ctx
    rng = random.Random(scale.seed)
    with ctx.sessions() as s:
        requesters, members, projects = _accounts_and_projects(s, ctx, scale)
        s.commit()
        t_services = time.perf_counter() - started
        print(f"  services: accounts and funded projects in {t_services:.1f} s", flush=True)
        work = _work(s, ctx, scale, rng, members, projects)
        owners = {r.id: r for r in requesters}
        for project in projects:
            pay.launch(s, ctx.clock, owners[project.owner_id], project)
        counts = _settle(s, ctx, scale, members, projects, work)
        counts |= _reviews_and_rejections(s, ctx, scale, rng, requesters, projects, work)
        counts["submissions"] = len(work)
        _fix_sequences(s)
        log.seal(s, ctx.clock, ctx.signer)
        s.commit()
        _analyze(s)
        _refresh_figures(s, ctx, requesters)  # with planner statistics, as settlement runs
        _, member_cookie = accounts.start_web_session(s, ctx.clock, members[0], 1)
        owner = next(r for r in requesters if r.id == projects[0].owner_id)
        _, requester_cookie = accounts.start_web_session(s, ctx.clock, owner, 1)
        s.commit()
    return Setup(
        member_cookie=member_cookie,
        requester_cookie=requester_cookie,
        cost_project=projects[0].id,
        counts=counts,
        seconds=time.perf_counter() - started,
    )


def _accounts_and_projects(
    s: Any, ctx: Any, scale: Scale
) -> tuple[list[Any], list[Any], list[Any]]:
    from datacoop.members import services as accounts
    from datacoop.members.models import Role
    from datacoop.pay import services as pay
    from datacoop.pay.money import Money
    from datacoop.projects import services as projects_svc

    def register(email: str, role: Role) -> Any:
        return accounts.register(
            s, ctx.clock, ctx.hasher, email=email, password=PASSWORD, display_name=email, role=role
        )

    requesters = [register(f"r{n}@example.org", Role.requester) for n in range(scale.requesters)]
    members = [register(f"m{n}@example.org", Role.member) for n in range(scale.members)]
    per_project = -(-scale.submissions // scale.projects)
    projects = []
    for n in range(scale.projects):
        owner = requesters[n % len(requesters)]
        spec = {
            "title": f"Project {n}",
            "instructions": "Pick the colour.",
            "task_type": "single_choice",
            "labels": ["red", "blue"],
            "overlap": 1,
            "pay_per_item": 5,
            "estimated_seconds": 10,
            "currency": "USD",
        }
        project = projects_svc.create_project(s, ctx.clock, owner, spec)
        # Enough for every task at the floor plus the fee; launched once the items are in.
        pay.fund(s, ctx.clock, owner, project, Money(per_project * 20, "USD"))
        projects.append(project)
    return requesters, members, projects


@dataclass
class Work:
    """One submission and what it hangs on (ids are assigned here, in bulk)."""

    submission_id: int
    assignment_id: int
    project_id: int
    member_id: int
    active_ms: int
    days_ago: float


def _next_id(s: Any, table: Any) -> int:
    from sqlalchemy import func, select

    return int(s.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0) + 1


def _insert(s: Any, table: Any, rows: list[dict[str, Any]], chunk: int = 20_000) -> None:
    from sqlalchemy import insert

    for start in range(0, len(rows), chunk):
        s.execute(insert(table), rows[start : start + chunk])


def _work(
    s: Any, ctx: Any, scale: Scale, rng: random.Random, members: list[Any], projects: list[Any]
) -> list[Work]:
    """Items, assignments and submissions: ``own`` for m0 in its first 20 projects, the rest
    spread over the other members, each in ``member_projects`` projects."""
    from datacoop.projects.models import Item, ItemImport
    from datacoop.work.models import Assignment, AssignmentState, Submission

    t = time.perf_counter()
    now = ctx.clock.now()
    chosen: dict[int, list[int]] = defaultdict(list)  # project index -> member indexes
    for m in range(1, len(members)):
        for p in rng.sample(range(len(projects)), scale.member_projects):
            chosen[p].append(m)
    per_project = scale.submissions // len(projects)
    own_each = scale.own // min(scale.member_projects, len(projects))
    slots: list[tuple[int, int]] = []  # (project index, member index)
    for p in range(len(projects)):
        own = own_each if p < scale.member_projects else 0
        slots += [(p, 0)] * own
        others = chosen[p] or [1 + p % (len(members) - 1)]
        slots += [(p, others[i % len(others)]) for i in range(per_project - own)]

    imports = [
        {
            "project_id": p.id,
            "filename": "bulk.csv",
            "format": "csv",
            "item_count": per_project,
            "sha256": "0" * 64,
            "created_at": now - timedelta(days=PERIODS * PERIOD_DAYS + 1),
        }
        for p in projects
    ]
    first_import = _next_id(s, ItemImport.__table__)
    _insert(s, ItemImport.__table__, imports)
    first_item = _next_id(s, Item.__table__)
    first_assignment = _next_id(s, Assignment.__table__)
    first_submission = _next_id(s, Submission.__table__)
    items, assignments, submissions, work = [], [], [], []
    for n, (p, m) in enumerate(slots):
        project, member = projects[p], members[m]
        days_ago = rng.uniform(0.1, PERIODS * PERIOD_DAYS - 0.1)
        made = now - timedelta(days=days_ago)
        active = rng.randint(5_000, 15_000)
        item_id, assignment_id, submission_id = (
            first_item + n,
            first_assignment + n,
            first_submission + n,
        )
        items.append(
            {
                "id": item_id,
                "project_id": project.id,
                "import_id": first_import + p,
                "external_id": f"k{n}",
                "data": {"text": f"item {n}"},
                "gold": None,
                "is_gold": False,
                "answer_count": 1,
                "wanted": 1,
                "created_at": made - timedelta(days=1),
            }
        )
        assignments.append(
            {
                "id": assignment_id,
                "project_id": project.id,
                "item_id": item_id,
                "member_id": member.id,
                "state": AssignmentState.submitted,
                "instructions_version": 1,
                "leased_at": made - timedelta(milliseconds=active),
                "expires_at": made + timedelta(minutes=10),
                "active_ms": active,
                "last_beat_at": made,
                "heartbeats": active // 5000,
                "finished_at": made,
            }
        )
        submissions.append(
            {
                "id": submission_id,
                "assignment_id": assignment_id,
                "project_id": project.id,
                "item_id": item_id,
                "member_id": member.id,
                "answer": "red",
                "idempotency_key": f"bulk-{n}",
                "request_hash": "0" * 64,
                "active_ms": active,
                "wall_ms": active + 500,
                "late": False,
                "answer_salt": "0" * 32,
                "log_index": None,
                "created_at": made,
            }
        )
        work.append(Work(submission_id, assignment_id, project.id, member.id, active, days_ago))
    _insert(s, Item.__table__, items)
    _insert(s, Assignment.__table__, assignments)
    _insert(s, Submission.__table__, submissions)
    s.commit()
    print(
        f"  bulk: {len(items):,} items, assignments and submissions in "
        f"{time.perf_counter() - t:.1f} s",
        flush=True,
    )
    return work


def _settle(
    s: Any, ctx: Any, scale: Scale, members: list[Any], projects: list[Any], work: list[Work]
) -> dict[str, int]:
    """Postings as ``settlement.settle_project`` makes them, one settlement per period: a
    piece posting per member, project and period, and a top-up per member and project."""
    from sqlalchemy import select

    from datacoop.pay import services as pay
    from datacoop.pay.models import Account, AccountKind, PiecePayment, Posting, PostingLine

    t = time.perf_counter()
    now = ctx.clock.now()
    fee_bps = pay.current_policy(s).fee_bps
    escrow = {
        int(pid): int(aid)
        for aid, pid in s.execute(
            select(Account.id, Account.project_id).where(Account.kind == AccountKind.escrow)
        )
    }
    first_account = _next_id(s, Account.__table__)
    payable = {m.id: first_account + n for n, m in enumerate(members)}
    fee_account = first_account + len(members)
    account_rows = [
        {
            "id": payable[m.id],
            "key": f"payable:member:{m.id}:USD",
            "kind": AccountKind.payable,
            "currency": "USD",
            "project_id": None,
            "member_id": m.id,
            "created_at": now - timedelta(days=PERIODS * PERIOD_DAYS),
        }
        for m in members
    ]
    if s.scalar(select(Account.id).where(Account.key == "fee:USD")) is None:
        account_rows.append(
            {
                "id": fee_account,
                "key": "fee:USD",
                "kind": AccountKind.fee,
                "currency": "USD",
                "project_id": None,
                "member_id": None,
                "created_at": now - timedelta(days=PERIODS * PERIOD_DAYS),
            }
        )
    else:
        fee_account = int(s.scalar(select(Account.id).where(Account.key == "fee:USD")))
    _insert(s, Account.__table__, account_rows)

    pay_per_item = {p.id: p.pay_per_item for p in projects}
    groups: dict[tuple[int, int, int], list[Work]] = defaultdict(list)
    active: Counter[tuple[int, int]] = Counter()
    for w in work:
        period = int(w.days_ago // PERIOD_DAYS)  # 0: the newest
        groups[(w.member_id, w.project_id, period)].append(w)
        active[(w.member_id, w.project_id)] += w.active_ms
    first_posting = _next_id(s, Posting.__table__)
    postings, lines, pieces = [], [], []

    def post(kind: str, project_id: int, member_id: int, amount: int, days_ago: float) -> int:
        posting_id = first_posting + len(postings)
        fee = amount * fee_bps // 10_000
        postings.append(
            {
                "id": posting_id,
                "kind": kind,
                "project_id": project_id,
                "currency": "USD",
                "key": None,
                "log_index": 0,  # not logged: the pages never read it
                "created_at": now - timedelta(days=days_ago),
            }
        )
        for account_id, value in (
            (escrow[project_id], -(amount + fee)),
            (payable[member_id], amount),
            (fee_account, fee),
        ):
            lines.append({"posting_id": posting_id, "account_id": account_id, "amount": value})
        return posting_id

    for (member_id, project_id, period), done in sorted(groups.items()):
        amount = len(done) * pay_per_item[project_id]
        posting_id = post(pay.PIECE, project_id, member_id, amount, period * PERIOD_DAYS)
        pieces += [
            {
                "submission_id": w.submission_id,
                "posting_id": posting_id,
                "member_id": member_id,
                "project_id": project_id,
                "amount": pay_per_item[project_id],
            }
            for w in done
        ]
    policy = pay.current_policy(s)
    for (member_id, project_id), ms in sorted(active.items()):
        floor = -(-policy.floor_hourly * ms // 3_600_000)
        paid = sum(len(groups.get((member_id, project_id, k), [])) for k in range(PERIODS))
        top_up = floor - paid * pay_per_item[project_id]
        if top_up > 0:
            post(pay.TOP_UP, project_id, member_id, top_up, 0.05)
    _insert(s, Posting.__table__, postings)
    _insert(s, PostingLine.__table__, lines)
    _insert(s, PiecePayment.__table__, pieces)
    s.commit()
    print(
        f"  bulk: {len(postings):,} postings, {len(lines):,} lines, {len(pieces):,} piece "
        f"payments in {time.perf_counter() - t:.1f} s",
        flush=True,
    )
    return {"postings": len(postings), "posting lines": len(lines)}


def _reviews_and_rejections(
    s: Any,
    ctx: Any,
    scale: Scale,
    rng: random.Random,
    requesters: list[Any],
    projects: list[Any],
    work: list[Work],
) -> dict[str, int]:
    from datacoop.pay.models import Rejection, RejectionReason, RejectionState, RequesterReview

    now = ctx.clock.now()
    owner = {p.id: p.owner_id for p in projects}
    worked_for: dict[int, set[int]] = defaultdict(set)
    for w in work:
        worked_for[w.member_id].add(owner[w.project_id])
    reviews = []
    for member_id, owners in sorted(worked_for.items()):
        for requester_id in rng.sample(sorted(owners), min(scale.reviews, len(owners))):
            reviews.append(
                {
                    "requester_id": requester_id,
                    "reviewer_id": member_id,
                    "communicativity": rng.randint(1, 5),
                    "generosity": rng.randint(1, 5),
                    "fairness": rng.randint(1, 5),
                    "promptness": rng.randint(1, 5),
                    "created_at": now - timedelta(days=3),
                    "updated_at": now - timedelta(days=3),
                }
            )
    _insert(s, RequesterReview.__table__, reviews)
    rejected = rng.sample(work, len(work) // 200)
    rows = [
        {
            "submission_id": w.submission_id,
            "assignment_id": w.assignment_id,
            "project_id": w.project_id,
            "member_id": w.member_id,
            "requester_id": owner[w.project_id],
            "reason": RejectionReason.wrong_answer,
            "evidence": "the gold answer is blue",
            "state": RejectionState.upheld if n % 2 else RejectionState.open,
            "created_at": now - timedelta(days=w.days_ago),
            "appeal_deadline": now - timedelta(days=w.days_ago) + timedelta(days=14),
            "withheld": 0,
            "clawed_back": 0,
        }
        for n, w in enumerate(rejected)
    ]
    _insert(s, Rejection.__table__, rows)
    s.commit()
    return {"reviews": len(reviews), "rejections": len(rows)}


def _refresh_figures(s: Any, ctx: Any, requesters: list[Any]) -> None:
    """The requesters' settled figures, as the last settlement of each of their projects
    left them (``settlement.settle_project`` refreshes its owner's; the bulk postings above
    went past it)."""
    from datacoop.pay import reviews

    t = time.perf_counter()
    for requester in requesters:
        reviews.refresh_figures(s, ctx.clock, requester.id)
    s.commit()
    spent = time.perf_counter() - t
    print(
        f"  figures: {len(requesters)} requesters refreshed in {spent:.1f} s "
        f"({spent / max(1, len(requesters)) * 1000:.0f} ms each, as settlement does it)",
        flush=True,
    )


def _fix_sequences(s: Any) -> None:
    """PostgreSQL: move the id sequences past the ids inserted explicitly above."""
    from sqlalchemy import text

    if s.get_bind().dialect.name != "postgresql":
        return
    for table in (
        "item_imports",
        "items",
        "assignments",
        "submissions",
        "pay_accounts",
        "pay_postings",
        "pay_posting_lines",
        "pay_requester_reviews",
        "pay_rejections",
    ):
        s.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        )


def _analyze(s: Any) -> None:
    """PostgreSQL: fresh planner statistics, as autovacuum would have them on a database that
    grew slowly; without them the plans after a bulk load are guesses. SQLite is left as an
    application leaves it (datacoop never runs ``ANALYZE`` there)."""
    from sqlalchemy import text

    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("ANALYZE"))
        s.commit()


# ---------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------


@dataclass
class SqlCounter:
    """Statements run (and time spent in them) since ``reset``; with ``keep``, each one."""

    count: int = 0
    seconds: float = 0.0
    keep: bool = False
    statements: list[tuple[float, str, Any]] = field(default_factory=list)
    _started: float = 0.0

    def install(self, engine: Any) -> None:
        from sqlalchemy import event

        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def reset(self, keep: bool = False) -> None:
        self.count, self.seconds, self.keep, self.statements = 0, 0.0, keep, []

    def _before(self, conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        self._started = time.perf_counter()

    def _after(self, conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        spent = time.perf_counter() - self._started
        self.count += 1
        self.seconds += spent
        if self.keep:
            self.statements.append((spent, statement, params))


@dataclass
class Row:
    label: str
    times: list[float]
    queries: int
    sql_ms: float


def measure(
    timer: ServerTimer, sql: SqlCounter, label: str, call: Any, n: int, budget_s: float
) -> tuple[Row, list[tuple[float, str, Any]]]:
    """``n`` timed calls after ``WARMUP``, fewer (at least ``MIN_TIMED``) when a slow page
    would take more than ``budget_s`` seconds."""
    times: list[float] = []
    sql_times: list[float] = []
    queries, kept = 0, []
    started = time.perf_counter()
    for i in range(WARMUP + n):
        sql.reset(keep=i == WARMUP)
        r = call()
        if r.status_code >= 400:
            raise SystemExit(f"{label}: {r.status_code} {r.text[:300]}")
        if i == WARMUP:
            kept = sorted(sql.statements, key=lambda x: -x[0])
            queries = sql.count
        if i >= WARMUP:
            times.append(timer.last_ms)
            sql_times.append(sql.seconds * 1000)
            if len(times) >= MIN_TIMED and time.perf_counter() - started > budget_s:
                break
    return Row(label, times, queries, statistics.median(sql_times)), kept


def run(
    database_url: str | None,
    scale: Scale,
    requests: int,
    budget_s: float,
    explain: bool,
    extra_indexes: list[str],
) -> list[Row]:
    from fastapi.testclient import TestClient

    from datacoop.log.signer import memory_signer
    from datacoop.settings import Settings
    from datacoop.web.app import create_app
    from datacoop.web.deps import SESSION_COOKIE

    tmp = tempfile.mkdtemp(prefix="datacoop-pay-pages-")
    try:
        settings = Settings(
            data_dir=Path(tmp), database_url=database_url, argon2_time_cost=1, argon2_memory_kib=8
        )
        app = create_app(settings, signer=memory_signer())
        setup = build(app, scale)
        counts = ", ".join(f"{v:,} {k}" for k, v in setup.counts.items())
        print(f"  built in {setup.seconds:.0f} s: {counts}", flush=True)
        engine = app.state.ctx.engine
        _what_if(engine, extra_indexes)
        sql = SqlCounter()
        sql.install(engine)
        timer = ServerTimer(app)
        rows, slowest = [], {}
        pid = setup.cost_project
        pages = [
            ("dashboard     GET /dashboard (m0)", setup.member_cookie, "/dashboard"),
            ("earnings      GET /earnings (m0)", setup.member_cookie, "/earnings"),
            ("my work       GET /work (m0)", setup.member_cookie, "/work"),
            (
                "cost          GET /projects/{id}/cost",
                setup.requester_cookie,
                f"/projects/{pid}/cost",
            ),
            ("transparency  GET /transparency", None, "/transparency"),
        ]
        with TestClient(timer) as client:
            for label, cookie, path in pages:
                client.cookies.clear()
                if cookie:
                    client.cookies.set(SESSION_COOKIE, cookie)
                row, kept = measure(
                    timer, sql, label, lambda p=path: client.get(p), requests, budget_s
                )
                rows.append(row)
                slowest[label] = kept
                print(f"  measured {label.split()[0]}", flush=True)
        if explain:
            _explain(engine, slowest)
        engine.dispose()
        return rows
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _what_if(engine: Any, specs: list[str]) -> None:
    """``--extra-index table(col, ...)``: an index the schema does not have, made in this
    throwaway database only, to see what it would change."""
    from sqlalchemy import text

    for n, spec in enumerate(specs):
        found = re.fullmatch(r"\s*(\w+)\s*\(\s*(\w+(?:\s*,\s*\w+)*)\s*\)\s*", spec)
        if not found:
            raise SystemExit(f"--extra-index {spec!r}: write table(column, ...)")
        with engine.begin() as conn:
            conn.execute(text(f"CREATE INDEX bench_extra_{n} ON {found[1]} ({found[2]})"))
            if engine.dialect.name == "postgresql":
                conn.execute(text(f"ANALYZE {found[1]}"))
        print(f"  what if: index on {found[1]} ({found[2]}) added", flush=True)


def _explain(engine: Any, slowest: dict[str, list[tuple[float, str, Any]]]) -> None:
    """The five slowest statements of one request per page, with their query plans."""
    postgres = engine.dialect.name == "postgresql"
    for label, statements in slowest.items():
        total = sum(t for t, _, _ in statements) * 1000
        print(f"\n== {label}: {len(statements)} statements, {total:.1f} ms in SQL; slowest:")
        shapes = Counter(" ".join(st.split())[:90] for _, st, _ in statements)
        for shape, n in shapes.most_common(3):
            if n > 3:
                print(f"   {n}x the same statement: {shape}...")
        for spent, statement, params in statements[:5]:
            print(f"\n-- {spent * 1000:.1f} ms: {' '.join(statement.split())[:400]}")
            with engine.connect() as conn:
                raw = conn.connection.driver_connection
                prefix = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
                cur = raw.cursor()
                try:
                    cur.execute(prefix + statement, params)
                    for plan in cur.fetchall():
                        print("   ", plan[-1] if not postgres else plan[0])
                except Exception as exc:  # noqa: BLE001 - a plan is a diagnostic, never fatal
                    print(f"    (no plan: {exc})")
                finally:
                    cur.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument(
        "--budget",
        type=float,
        default=30.0,
        help=f"seconds per page: a slower page stops early (after at least {MIN_TIMED} requests)",
    )
    parser.add_argument("--requesters", type=int, default=Scale.requesters)
    parser.add_argument("--projects", type=int, default=Scale.projects)
    parser.add_argument("--members", type=int, default=Scale.members)
    parser.add_argument("--member-projects", type=int, default=Scale.member_projects)
    parser.add_argument("--submissions", type=int, default=Scale.submissions)
    parser.add_argument("--own", type=int, default=Scale.own, help="m0's submissions")
    parser.add_argument("--postgres-url", default=None, help="an empty scratch database")
    parser.add_argument(
        "--throwaway-postgres",
        action="store_true",
        help="also run on a PostgreSQL cluster started for the run (tests/support/pgcluster.py)",
    )
    parser.add_argument(
        "--extra-index",
        action="append",
        default=[],
        metavar="TABLE(COL,...)",
        help="what if: add this index to the throwaway database before measuring (repeatable)",
    )
    parser.add_argument(
        "--skip-sqlite", action="store_true", help="only PostgreSQL (with one of the above)"
    )
    parser.add_argument(
        "--explain", action="store_true", help="print the slowest statements and their plans"
    )
    args = parser.parse_args()
    scale = Scale(
        requesters=args.requesters,
        projects=args.projects,
        members=args.members,
        member_projects=min(args.member_projects, args.projects),
        submissions=args.submissions,
        own=args.own,
    )
    cluster = None
    if args.throwaway_postgres and not args.postgres_url:
        sys.path.insert(0, str(ROOT / "tests" / "support"))
        from pgcluster import Cluster

        cluster = Cluster()
        cluster.start()
        args.postgres_url = cluster.url()
    try:
        backends = [] if args.skip_sqlite else [("sqlite", None)]
        backends += [("postgresql", args.postgres_url)] if args.postgres_url else []
        print(
            f"Server time of the pay pages: {scale.members:,} members, {scale.requesters} "
            f"requesters, {scale.projects} projects, {scale.submissions:,} submissions "
            f"(m0: {scale.own:,} in {scale.member_projects} projects); {args.requests} requests "
            f"per page after {WARMUP} warm-up; flagged SLOW above {FLAG_MS:.0f} ms\n"
        )
        results = []
        for name, url in backends:
            print(f"{name}:", flush=True)
            results.append(
                (name, run(url, scale, args.requests, args.budget, args.explain, args.extra_index))
            )
        print()
        print(
            f"{'backend':<11} {'page':<40} {'n':>3} {'median ms':>10} {'p95 ms':>8} "
            f"{'exec ms':>8} {'queries':>8}  flag"
        )
        for name, rows in results:
            for row in rows:
                median = statistics.median(row.times)
                flag = "SLOW" if median > FLAG_MS else "ok"
                print(
                    f"{name:<11} {row.label:<40} {len(row.times):>3} {median:>10.1f} "
                    f"{p95(row.times):>8.1f} {row.sql_ms:>8.1f} {row.queries:>8}  {flag}"
                )
        print(
            "\nn: timed requests (fewer than --requests when a page exceeded --budget); exec ms: "
            "median time per request in the driver's execute calls (fetching the rows and "
            "loading them into objects is not included: on SQLite most of a big aggregate's "
            "time is spent fetching); queries: SQL statements in one request."
        )
        return 0
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
