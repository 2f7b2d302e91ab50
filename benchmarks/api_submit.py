"""Throughput and latency of the work loop over HTTP: ``next`` task, then ``submit``.

Run: ``.venv/bin/python benchmarks/api_submit.py [--clients 8] [--seconds 15] [--warmup 2]
[--items N] [--paid | --compare-paid [--rounds 2]]
[--postgres-url postgresql+psycopg://user:pass@host/db | --throwaway-postgres]``

Starts a real uvicorn server (one process, uvloop + httptools when installed) on a fresh
SQLite database in a temp dir, sets up a requester, a single_choice project (overlap 1,
lease 600 s), N items (CSV upload) and C members over the JSON API, then runs C concurrent
keep-alive clients, each looping ``POST /projects/{id}/next`` -> ``POST /submissions`` (with
an ``Idempotency-Key``). Every request finished inside the measurement window (after the
warm-up) is timed. With ``--postgres-url`` the same run is repeated against PostgreSQL (give
an empty scratch database: the server migrates it, and each run adds its own accounts, project
and log entries, with tree heads signed by a throwaway in-memory key); ``--throwaway-postgres``
starts a PostgreSQL cluster for the run instead (tests/support/pgcluster.py) and gives every
run a fresh database in it.

``--paid`` funds and launches the project first, so every new lease also reserves its pay.
``--compare-paid`` measures both in one run, unpaid and paid alternating in ABBA order
(``--rounds`` pairs, default 2, so a drift of the machine's load hits both alike), and prints
them side by side per backend with the ratio paid / unpaid.

Target: >= 300 submissions/s with p99 submission latency < 50 ms, single server process,
SQLite, on the 2-core reference machine. The exit code is 0 whatever the numbers are; it is
non-zero only when the benchmark itself fails (server did not start, setup failed, or any
request answered non-2xx).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

TARGET_RATE = 300.0  # submissions/s
TARGET_P99_MS = 50.0
LABEL_STUDIO = (4.0, 7.0)  # quoted: Label Studio 1.23 on this machine, submissions/s
LABEL_STUDIO_MID = sum(LABEL_STUDIO) / 2
ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"
APP_FACTORY = "api_submit:server_app"  # below; uvicorn imports it with --app-dir benchmarks/


def server_app() -> Any:
    """The uvicorn factory: ``create_app()`` (Settings from the DATACOOP_* environment) with
    an in-memory log signing key, so the temp data dir needs no ``datacoop init``."""
    from datacoop.log.signer import memory_signer
    from datacoop.web.app import create_app

    return create_app(signer=memory_signer())


# ---------------------------------------------------------------------------------------
# Server process
# ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def machine_busy_seconds() -> float:
    """CPU seconds all processes on the machine have used so far (Linux /proc/stat)."""
    try:
        ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
        return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def fast_stack() -> list[str]:
    """uvicorn flags for uvloop/httptools when they are importable (uvicorn[standard])."""
    flags = []
    if importlib.util.find_spec("uvloop"):
        flags += ["--loop", "uvloop"]
    if importlib.util.find_spec("httptools"):
        flags += ["--http", "httptools"]
    return flags


def _die_with_parent() -> None:
    """In the server child (Linux): get SIGTERM if the benchmark dies, even by SIGKILL."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Server:
    """``uvicorn --factory api_submit:server_app`` in a subprocess, on a temp data dir."""

    live: list[Server] = []  # started and not yet stopped; main() stops these on any exit

    def __init__(self, data_dir: Path, database_url: str | None) -> None:
        self.data_dir = data_dir
        self.database_url = database_url
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / "server.log"
        self._log: Any = None
        Server.live.append(self)  # from here on main() removes the temp dir on any exit

    def start(self) -> None:
        env = dict(os.environ)
        env.update(
            DATACOOP_DATA_DIR=str(self.data_dir),
            # Cheap password hashing so setup (C registrations + logins) takes no time.
            DATACOOP_ARGON2_TIME_COST="1",
            DATACOOP_ARGON2_MEMORY_KIB="8",
        )
        env.pop("DATACOOP_DATABASE_URL", None)
        if self.database_url:
            env["DATACOOP_DATABASE_URL"] = self.database_url
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            APP_FACTORY,
            "--app-dir",
            str(Path(__file__).resolve().parent),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            "--no-access-log",
            *fast_stack(),
        ]
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            cmd,
            env=env,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the terminal reaches us, not the server
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )

    async def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as s:
            while time.monotonic() < deadline:
                if self.proc is not None and self.proc.poll() is not None:
                    raise RuntimeError(f"server exited with {self.proc.returncode} (log above)")
                try:
                    async with s.get(f"{self.base}/api/v1/health") as r:
                        if r.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"server not healthy after {timeout:.0f} s (log above)")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far (Linux /proc)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()  # type: ignore[union-attr]
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return float("nan")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # uvicorn's graceful shutdown
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self in Server.live:
            Server.live.remove(self)
        shutil.rmtree(self.data_dir, ignore_errors=True)


# ---------------------------------------------------------------------------------------
# Setup over HTTP
# ---------------------------------------------------------------------------------------


class SetupError(RuntimeError):
    pass


async def _call(s: aiohttp.ClientSession, method: str, url: str, want: int, **kw: Any) -> Any:
    async with s.request(method, url, **kw) as r:
        body = await r.text()
        if r.status != want:
            raise SetupError(f"{method} {url} -> {r.status} (wanted {want}): {body[:500]}")
        return await r.json() if body else None


async def account(s: aiohttp.ClientSession, base: str, email: str, role: str) -> str:
    await _call(
        s,
        "POST",
        f"{base}/api/v1/auth/register",
        201,
        json={
            "email": email,
            "password": PASSWORD,
            "display_name": email.split("@")[0],
            "role": role,
        },
    )
    tok = await _call(
        s, "POST", f"{base}/api/v1/auth/token", 201, json={"email": email, "password": PASSWORD}
    )
    return str(tok["token"])


async def setup(
    base: str, n_items: int, n_clients: int, paid: bool = False
) -> tuple[int, list[str]]:
    """A requester, a project with ``n_items`` items, and ``n_clients`` member tokens. With
    ``paid``, the project is funded and launched, so every new lease reserves its pay."""
    run = uuid.uuid4().hex[:8]  # unique emails: a second run on one PostgreSQL database works
    async with aiohttp.ClientSession() as s:
        req = await account(s, base, f"requester-{run}@bench.example", "requester")
        auth = {"Authorization": f"Bearer {req}"}
        project = await _call(
            s,
            "POST",
            f"{base}/api/v1/projects",
            201,
            headers=auth,
            json={
                "title": f"Benchmark {run}",
                "instructions": "Pick the colour.",
                "task_type": "single_choice",
                "labels": ["red", "blue"],
                "overlap": 1,
                "lease_seconds": 600,
                "pay_per_item": 5,
                "estimated_seconds": 10,
                "currency": "USD",
            },
        )
        pid = int(project["id"])
        csv_text = "id,text\n" + "".join(f"i{i},thing number {i}\n" for i in range(n_items))
        imported = await _call(
            s,
            "POST",
            f"{base}/api/v1/projects/{pid}/items",
            201,
            data=csv_text.encode(),
            headers={**auth, "Content-Type": "text/csv"},
            timeout=aiohttp.ClientTimeout(300),
        )
        if imported["item_count"] != n_items:
            raise SetupError(f"imported {imported['item_count']} items, wanted {n_items}")
        if paid:
            status = await _call(s, "GET", f"{base}/api/v1/projects/{pid}/pay", 200, headers=auth)
            amount = status["required"]["display"].split()[0]
            await _call(
                s,
                "POST",
                f"{base}/api/v1/projects/{pid}/pay/fund",
                200,
                headers=auth,
                json={"amount": amount},
            )
            await _call(s, "POST", f"{base}/api/v1/projects/{pid}/pay/launch", 200, headers=auth)
        tokens = await asyncio.gather(
            *(
                account(s, base, f"member{i}-{run}@bench.example", "member")
                for i in range(n_clients)
            )
        )
    return pid, list(tokens)


# ---------------------------------------------------------------------------------------
# Measurement
# ---------------------------------------------------------------------------------------


@dataclass
class Samples:
    """Per request: (finish time, latency in s). Filtered to the window afterwards."""

    submit: list[tuple[float, float]] = field(default_factory=list)
    next: list[tuple[float, float]] = field(default_factory=list)
    no_task: int = 0  # 204 from /next: the project ran out of items
    errors: Counter[str] = field(default_factory=Counter)
    error_samples: dict[str, str] = field(default_factory=dict)

    def error(self, key: str, detail: str) -> None:
        self.errors[key] += 1
        self.error_samples.setdefault(key, detail[:300])


async def client_loop(base: str, pid: int, token: str, stop_at: float, samples: Samples) -> None:
    clock = time.perf_counter
    next_url = f"{base}/api/v1/projects/{pid}/next"
    submit_url = f"{base}/api/v1/submissions"
    connector = aiohttp.TCPConnector(limit=1, force_close=False)
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as s:
        while clock() < stop_at:
            t0 = clock()
            try:
                async with s.post(next_url) as r:
                    if r.status == 204:
                        samples.no_task += 1
                        await asyncio.sleep(0.05)
                        continue
                    if r.status != 200:
                        samples.error(f"next {r.status}", await r.text())
                        continue
                    task: dict[str, Any] = await r.json()
                t1 = clock()
                samples.next.append((t1, t1 - t0))
                body = {"assignment_id": task["assignment_id"], "answer": "red"}
                async with s.post(
                    submit_url, json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
                ) as r:
                    await r.read()
                    if r.status not in (200, 201):
                        samples.error(f"submit {r.status}", await r.text())
                        continue
                t2 = clock()
                samples.submit.append((t2, t2 - t1))
            except (TimeoutError, aiohttp.ClientError) as e:
                samples.error(f"transport {type(e).__name__}", str(e))
                await asyncio.sleep(0.05)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


@dataclass
class Result:
    name: str
    submits: int = 0
    seconds: float = 0.0
    submit_p50: float = float("nan")
    submit_p99: float = float("nan")
    next_p50: float = float("nan")
    next_p99: float = float("nan")
    requests_per_s: float = 0.0
    errors: int = 0
    server_cpu: float = float("nan")  # fraction of one core, over the window
    client_cpu: float = float("nan")  # this load generator, same unit
    skipped: str | None = None
    submit_lat: list[float] = field(default_factory=list, repr=False)  # s, inside the window
    next_lat: list[float] = field(default_factory=list, repr=False)

    @property
    def cpu_ms_per_submit(self) -> float:
        """Server CPU per submission (with its next-task call): the figure least moved by
        other processes on the machine."""
        return self.server_cpu / self.rate * 1e3 if self.rate else float("nan")

    @property
    def rate(self) -> float:
        return self.submits / self.seconds if self.seconds else 0.0

    @property
    def passed(self) -> bool:
        return (
            not self.errors and self.rate >= TARGET_RATE and self.submit_p99 * 1000 < TARGET_P99_MS
        )


async def measure(server: Server, name: str, args: argparse.Namespace, paid: bool) -> Result:
    await server.wait_healthy()
    t = time.perf_counter()
    pid, tokens = await setup(server.base, args.items, args.clients, paid)
    print(
        f"  setup: 1 requester, {'paid ' if paid else ''}project {pid}, "
        f"{args.items} items (CSV), "
        f"{args.clients} members in {time.perf_counter() - t:.1f} s"
    )
    samples = Samples()
    start = time.perf_counter()
    window_start = start + args.warmup
    window_end = window_start + args.seconds
    cpu_mark: dict[str, float] = {}

    async def cpu_probe() -> None:
        await asyncio.sleep(max(0.0, window_start - time.perf_counter()))
        cpu_mark["start"], cpu_mark["client_start"] = server.cpu_seconds(), time.process_time()
        cpu_mark["machine_start"] = machine_busy_seconds()
        await asyncio.sleep(max(0.0, window_end - time.perf_counter()))
        cpu_mark["end"], cpu_mark["client_end"] = server.cpu_seconds(), time.process_time()
        cpu_mark["machine_end"] = machine_busy_seconds()

    await asyncio.gather(
        cpu_probe(),
        *(client_loop(server.base, pid, tok, window_end, samples) for tok in tokens),
    )

    def inside(rows: list[tuple[float, float]]) -> list[float]:
        return [lat for done, lat in rows if window_start <= done < window_end]

    sub, nxt = inside(samples.submit), inside(samples.next)
    res = Result(
        name=name,
        submits=len(sub),
        seconds=args.seconds,
        submit_p50=percentile(sub, 0.50),
        submit_p99=percentile(sub, 0.99),
        next_p50=percentile(nxt, 0.50),
        next_p99=percentile(nxt, 0.99),
        requests_per_s=(len(sub) + len(nxt)) / args.seconds,
        errors=sum(samples.errors.values()),
        server_cpu=(cpu_mark.get("end", 0) - cpu_mark.get("start", 0)) / args.seconds,
        client_cpu=(cpu_mark.get("client_end", 0) - cpu_mark.get("client_start", 0)) / args.seconds,
        submit_lat=sub,
        next_lat=nxt,
    )
    print(
        f"  measured {res.submits} submissions and {len(nxt)} next-task calls in "
        f"{args.seconds:.0f} s (after {args.warmup:.0f} s warm-up); server CPU "
        f"{res.server_cpu * 100:.0f}% of one core "
        f"({res.server_cpu / res.rate * 1e3 if res.rate else float('nan'):.2f} ms CPU/submission "
        f"incl. its next-task call); load generator CPU {res.client_cpu * 100:.0f}% of one core"
    )
    machine = (cpu_mark.get("machine_end", 0) - cpu_mark.get("machine_start", 0)) / args.seconds
    others = machine - res.server_cpu - res.client_cpu
    if server.database_url:
        print(
            f"  other processes (the PostgreSQL server included) used {others * 100:.0f}% "
            "of a core during the window"
        )
    elif others > 0.15:
        print(
            f"  WARNING: other processes used {others * 100:.0f}% of a core during the "
            "window; this run's numbers are depressed by them"
        )
    if samples.no_task:
        print(
            f"  WARNING: /next answered 204 (no item left) {samples.no_task} times; "
            "raise --items so the project does not run dry"
        )
    for key, count in sorted(samples.errors.items()):
        print(f"  ERROR {key}: {count}x, e.g. {samples.error_samples[key]}")
    return res


async def run_config(
    name: str, database_url: str | None, args: argparse.Namespace, paid: bool
) -> Result:
    data_dir = Path(tempfile.mkdtemp(prefix="datacoop-bench-"))
    server = Server(data_dir, database_url)
    print(f"\n[{name}] data dir {data_dir}, {server.base}")
    try:
        server.start()
        result = await measure(server, name, args, paid)
        if result.errors and server.log():
            print(f"  server log (tail), for the errors above:\n{server.log()}")
        return result
    except BaseException:
        log = server.log()
        if log:
            print(f"  server log (tail):\n{log}", file=sys.stderr)
        raise
    finally:
        server.stop()  # also removes the temp data dir


# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------


def table(results: list[Result]) -> str:
    head = [
        "configuration",
        "subm/s",
        "p50 ms",
        "p99 ms",
        "next p50",
        "next p99",
        "req/s",
        "errors",
        "x LS",
        "target",
    ]
    rows = [head]
    for r in results:
        if r.skipped:
            rows.append([r.name, "-", "-", "-", "-", "-", "-", "-", "-", "skipped"])
            continue
        rows.append(
            [
                r.name,
                f"{r.rate:.0f}",
                f"{r.submit_p50 * 1e3:.1f}",
                f"{r.submit_p99 * 1e3:.1f}",
                f"{r.next_p50 * 1e3:.1f}",
                f"{r.next_p99 * 1e3:.1f}",
                f"{r.requests_per_s:.0f}",
                str(r.errors),
                f"{r.rate / LABEL_STUDIO_MID:.0f}x",
                "PASS" if r.passed else "MISS",
            ]
        )
    rows.append(
        [
            "Label Studio 1.23 (quoted, not measured)",
            f"{LABEL_STUDIO[0]:.0f}-{LABEL_STUDIO[1]:.0f}",
            "-",
            "-",
            "-",
            "-",
            "-",
            "-",
            "1x",
            "MISS",
        ]
    )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def pooled(name: str, runs: list[Result]) -> Result:
    """Several runs of one configuration as one: their windows and samples put together."""
    seconds = sum(r.seconds for r in runs)
    sub = [x for r in runs for x in r.submit_lat]
    nxt = [x for r in runs for x in r.next_lat]
    return Result(
        name=name,
        submits=len(sub),
        seconds=seconds,
        submit_p50=percentile(sub, 0.50),
        submit_p99=percentile(sub, 0.99),
        next_p50=percentile(nxt, 0.50),
        next_p99=percentile(nxt, 0.99),
        requests_per_s=(len(sub) + len(nxt)) / seconds if seconds else 0.0,
        errors=sum(r.errors for r in runs),
        server_cpu=sum(r.server_cpu * r.seconds for r in runs) / seconds if seconds else 0.0,
        client_cpu=sum(r.client_cpu * r.seconds for r in runs) / seconds if seconds else 0.0,
        submit_lat=sub,
        next_lat=nxt,
    )


def compare_table(pairs: list[tuple[str, Result, Result]]) -> str:
    """Per backend: unpaid, paid, and the ratio paid / unpaid of every column."""
    head = ["backend", "project", "subm/s", "p50 ms", "p99 ms", "next p50", "next p99"]
    head += ["CPU ms/subm", "errors"]
    rows = [head]

    def cells(r: Result) -> list[float]:
        return [
            r.rate,
            r.submit_p50 * 1e3,
            r.submit_p99 * 1e3,
            r.next_p50 * 1e3,
            r.next_p99 * 1e3,
            r.cpu_ms_per_submit,
        ]

    for backend, unpaid, paid in pairs:
        for label, r in (("unpaid", unpaid), ("paid", paid)):
            values = cells(r)
            rows.append(
                [backend, label, f"{values[0]:.0f}"]
                + [f"{v:.1f}" for v in values[1:5]]
                + [f"{values[5]:.2f}", str(r.errors)]
            )
        ratios = [
            b / a if a else float("nan") for a, b in zip(cells(unpaid), cells(paid), strict=True)
        ]
        rows.append([backend, "paid / unpaid"] + [f"{x:.2f}x" for x in ratios] + ["-"])
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = []
    for n, row in enumerate(rows):
        left = [row[0].ljust(widths[0]), row[1].ljust(widths[1])]
        lines.append(
            "  ".join(left + [c.rjust(w) for c, w in zip(row[2:], widths[2:], strict=True)])
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


class ThrowawayPostgres:
    """A PostgreSQL cluster for this run (tests/support/pgcluster.py), a fresh database per
    call of ``fresh_url``."""

    def __init__(self) -> None:
        sys.path.insert(0, str(ROOT / "tests" / "support"))
        from pgcluster import Cluster

        self.cluster = Cluster()
        self.count = 0

    def __enter__(self) -> ThrowawayPostgres:
        self.cluster.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cluster.stop()

    def fresh_url(self) -> str:
        import psycopg

        self.count += 1
        name = f"bench{self.count}"
        admin = self.cluster.url().replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.cluster.url(name)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    p.add_argument("--seconds", type=float, default=15.0, help="measurement window (default 15)")
    p.add_argument("--warmup", type=float, default=2.0, help="warm-up, not measured (default 2)")
    p.add_argument(
        "--items",
        type=int,
        default=30_000,
        help="items to import; must exceed what the run can submit (default 30000)",
    )
    p.add_argument(
        "--postgres-url",
        default=None,
        help="also run against this PostgreSQL database (postgresql+psycopg://...)",
    )
    p.add_argument(
        "--throwaway-postgres",
        action="store_true",
        help="also run against a PostgreSQL cluster started for this run (a fresh database "
        "per server run)",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--paid",
        action="store_true",
        help="fund and launch the project first, so each new lease reserves its pay",
    )
    mode.add_argument(
        "--compare-paid",
        action="store_true",
        help="measure unpaid and paid projects in one run (ABBA order) and print them side "
        "by side with the ratio paid / unpaid",
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="with --compare-paid: unpaid/paid pairs per backend, alternating order (default 2)",
    )
    args = p.parse_args()
    if args.clients < 1 or args.seconds <= 0 or args.warmup < 0 or args.items < 1:
        p.error("--clients, --seconds and --items must be positive, --warmup non-negative")
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    if args.postgres_url and args.throwaway_postgres:
        p.error("give --postgres-url or --throwaway-postgres, not both")

    stack = " + ".join(f for f in fast_stack()[1::2]) or "asyncio + h11"
    print("datacoop work-loop benchmark: POST /projects/{id}/next -> POST /submissions")
    print(f"  server: 1 uvicorn process ({stack}), {APP_FACTORY}")
    print(
        f"  clients: {args.clients} concurrent aiohttp keep-alive sessions in this process; "
        f"{args.warmup:g} s warm-up + {args.seconds:g} s measured"
    )
    print(
        "  argon2 lowered to time_cost=1, memory=8 KiB for quick setup (the work loop uses "
        "API tokens, not passwords, so measured numbers are unaffected)"
    )
    print(
        f"  machine: {os.cpu_count()} CPU cores, shared by the server AND this load generator "
        "(client CPU time is taken from the server)"
    )
    print(
        f"  target: >= {TARGET_RATE:.0f} submissions/s with p99 < {TARGET_P99_MS:.0f} ms "
        "(single process, SQLite)"
    )

    def on_term(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt  # same clean-up path as Ctrl-C

    signal.signal(signal.SIGTERM, on_term)
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # started in the background by a shell
        signal.signal(signal.SIGINT, signal.default_int_handler)
    results: list[Result] = []
    pairs: list[tuple[str, Result, Result]] = []  # --compare-paid: (backend, unpaid, paid)
    try:
        if importlib.util.find_spec("uvloop"):
            import uvloop

            runner: Any = uvloop.run
        else:
            runner = asyncio.run
        with contextlib.ExitStack() as stack:
            backends: list[tuple[str, Callable[[], str | None]]] = [("SQLite", lambda: None)]
            if args.postgres_url:
                backends.append(("PostgreSQL", lambda: args.postgres_url))
            elif args.throwaway_postgres:
                print("\nstarting a throwaway PostgreSQL cluster")
                backends.append(("PostgreSQL", stack.enter_context(ThrowawayPostgres()).fresh_url))
            for backend, database_url in backends:
                if not args.compare_paid:
                    name = f"datacoop, {backend}{', paid' if args.paid else ''}"
                    results.append(runner(run_config(name, database_url(), args, args.paid)))
                    continue
                runs: dict[bool, list[Result]] = {False: [], True: []}
                for n in range(args.rounds):
                    for paid in (False, True) if n % 2 == 0 else (True, False):
                        name = f"datacoop, {backend}, {'paid' if paid else 'unpaid'} #{n + 1}"
                        runs[paid].append(runner(run_config(name, database_url(), args, paid)))
                results += runs[False] + runs[True]
                pairs.append(
                    (
                        backend,
                        pooled(f"{backend}, unpaid", runs[False]),
                        pooled(f"{backend}, paid", runs[True]),
                    )
                )
        if len(backends) == 1:
            results.append(Result("datacoop, PostgreSQL", skipped="no --postgres-url"))
            print(
                "\n[datacoop, PostgreSQL] skipped: no --postgres-url given "
                "(pass postgresql+psycopg://user:pass@host/db, or --throwaway-postgres)"
            )
    except KeyboardInterrupt:
        print("\ninterrupted; server stopped and temp dir removed", file=sys.stderr)
        return 130
    except (SetupError, RuntimeError, aiohttp.ClientError) as e:
        print(f"\nbenchmark failed: {e}", file=sys.stderr)
        return 2
    finally:
        for server in list(Server.live):  # normally empty: run_config stops its own server
            server.stop()

    print()
    print(table(results))
    if pairs:
        print(
            f"\nUnpaid vs paid project ({args.rounds} run(s) of each per backend, "
            f"{args.seconds:g} s each, ABBA order; latencies pooled over the runs):\n"
        )
        print(compare_table(pairs))
        print(
            "\npaid / unpaid: 1.00x is no difference; above 1 in subm/s, or below 1 in the "
            "latency and CPU columns, the paid project was faster. CPU ms/subm is the server's "
            "CPU time per submission (with its next-task call), the column least moved by "
            "other processes on the machine."
        )
    print(
        f"\nx LS = datacoop submissions/s / {LABEL_STUDIO_MID}/s (Label Studio 1.23 midpoint of "
        f"{LABEL_STUDIO[0]:.0f}-{LABEL_STUDIO[1]:.0f}/s, quoted from an earlier run on this "
        "machine; not run here: no network)."
    )
    print(
        "target = PASS when submissions/s >= "
        f"{TARGET_RATE:.0f} and submission p99 < {TARGET_P99_MS:.0f} ms, with no errors."
    )
    return 1 if any(r.errors for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
