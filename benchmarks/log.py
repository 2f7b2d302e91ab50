"""The transparency log against pymerkle, side by side in one run.

Measures, for datacoop and for pymerkle (https://pypi.org/project/pymerkle/, the bench extra):

* append rate in memory, batched (``MemoryLog.extend`` vs ``InmemoryTree.append_entries``),
  batches of 1,000 -- target >= 50,000 entries/s;
* append rate persisted on SQLite, one transaction per 1,000 entries (``append_many`` in a
  ``UnitOfWork`` that seals, i.e. signs a tree head per size, before commit, vs
  ``SqliteTree.append_entries``) -- target >= 5,000 entries/s. If sealing is too slow to fill
  the 1M-entry log within 150 s, the rest is appended without a signer and the benchmark signs
  the missing heads itself (one per size, as ``seal`` stores them); the output says so;
* inclusion- and consistency-proof time in memory at 1M and 10M leaves (``MemoryLog``), and for
  pymerkle's ``InmemoryTree`` at 1M and at the largest size it builds within a 60 s budget --
  target <= 0.2 ms at 10M;
* the same proofs served from the persisted 1M-entry SQLite log (``log.services``) and from
  pymerkle's ``SqliteTree`` (no target: for scale);
* full verification of the 1M persisted entries against their signed tree heads
  (``log.services.verify``) -- target <= 5 s. pymerkle has nothing equivalent (n/a).

    python benchmarks/log.py [--quick] [--skip-10m] [--skip-thorough] [--no-pymerkle]

``--quick`` divides every size (and the time budgets) by 10 for a smoke run. Progress goes to
stderr, the table to stdout. Exits 0 whether or not targets are met.
"""

from __future__ import annotations

import argparse
import gc
import inspect
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from datacoop.algorithms import ledger
from datacoop.algorithms.ledger.memory import MemoryLog
from datacoop.clock import FixedClock
from datacoop.db.engine import create_db_engine, upgrade_to_head
from datacoop.db.uow import UnitOfWork
from datacoop.log import services as log
from datacoop.log.kinds import EntryKind
from datacoop.log.models import LogEntry, TreeHeadRecord
from datacoop.log.signer import memory_signer

try:  # bench-only dependency
    import pymerkle
except ImportError:  # pragma: no cover - reported in the output
    pymerkle = None

T0 = time.perf_counter()
BATCH = 1_000
FILE_SHA = "ab" * 32


def progress(message: str) -> None:
    print(f"[{time.perf_counter() - T0:7.1f}s] {message}", file=sys.stderr, flush=True)


def rss_mb() -> float:
    """Resident set size of this process in MB (Linux), for memory deltas."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:  # pragma: no cover - not Linux
        return float("nan")


def payloads(start: int, count: int) -> list[bytes]:
    """Leaf inputs shaped like real entries: the canonical JSON of an items:imported entry."""
    return [
        (
            f'{{"file_sha256":"{FILE_SHA}","import":{i},"items":1000,'
            f'"kind":"items:imported","project":1,"ts":1767225600000,"v":1}}'
        ).encode()
        for i in range(start, start + count)
    ]


def entries(start: int, count: int) -> list[tuple[EntryKind, dict[str, Any]]]:
    return [
        (
            EntryKind.items_imported,
            {"project": 1, "import": i, "items": 1000, "file_sha256": FILE_SHA},
        )
        for i in range(start, start + count)
    ]


def sample(
    fn: Callable[..., Any], args: Iterable[tuple[Any, ...]], max_n: int, max_seconds: float
) -> tuple[float, float, int]:
    """Time ``fn(*a)`` for successive ``a`` until max_n calls or max_seconds (at least 5 calls).
    Returns (median, 95th percentile, calls), times in seconds."""
    times: list[float] = []
    deadline = time.perf_counter() + max_seconds
    for a in args:
        t = time.perf_counter()
        fn(*a)
        times.append(time.perf_counter() - t)
        if len(times) >= max_n or (len(times) >= 5 and time.perf_counter() > deadline):
            break
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))], len(times)


def random_inclusion(n: int, seed: int) -> Iterable[tuple[int, int]]:
    rng = random.Random(seed)
    while True:
        yield rng.randrange(n), n


def random_consistency(n: int, seed: int) -> Iterable[tuple[int, int]]:
    rng = random.Random(seed)
    while True:
        yield rng.randrange(1, n), n


# --------------------------------------------------------------------------------------------
# Results table
# --------------------------------------------------------------------------------------------


class Row:
    def __init__(
        self,
        metric: str,
        ours: float | None,
        theirs: float | None,
        unit: str,
        *,
        higher_is_better: bool,
        target: float | None = None,
        note: str = "",
    ) -> None:
        self.metric, self.ours, self.theirs, self.unit = metric, ours, theirs, unit
        self.higher_is_better, self.target, self.note = higher_is_better, target, note

    def fmt(self, value: float | None) -> str:
        if value is None:
            return "n/a"
        if self.unit == "/s":
            return f"{value:,.0f}/s"
        if self.unit == "ms":
            return f"{value * 1e3:.3f} ms" if value < 1 else f"{value:,.2f} s"
        return f"{value:,.2f} s"

    def ratio(self) -> str:
        if self.ours is None or self.theirs is None or not self.ours or not self.theirs:
            return "n/a"
        r = self.ours / self.theirs if self.higher_is_better else self.theirs / self.ours
        return f"{r:,.1f}x"

    def verdict(self) -> str:
        if self.target is None:
            return "-"
        if self.ours is None:
            return "MISS"
        ok = self.ours >= self.target if self.higher_is_better else self.ours <= self.target
        return "PASS" if ok else "MISS"

    def target_text(self) -> str:
        if self.target is None:
            return "-"
        sign = ">=" if self.higher_is_better else "<="
        return f"{sign} {self.fmt(self.target)}"


def print_table(rows: list[Row], notes: list[str]) -> None:
    header = ("metric", "datacoop", "pymerkle", "datacoop/pymerkle", "target", "result")
    cells = [header] + [
        (
            r.metric + (f" {r.note}" if r.note else ""),
            r.fmt(r.ours),
            r.fmt(r.theirs),
            r.ratio(),
            r.target_text(),
            r.verdict(),
        )
        for r in rows
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    print()
    for k, c in enumerate(cells):
        print(
            "  ".join(
                v.ljust(w) if i == 0 else v.rjust(w)
                for i, (v, w) in enumerate(zip(c, widths, strict=True))
            )
        )
        if k == 0:
            print("  ".join("-" * w for w in widths))
    print("\n(datacoop/pymerkle: how many times faster datacoop is; > 1 is better.)")
    for i, note in enumerate(notes, 1):
        print(f"[{i}] {note}")


# --------------------------------------------------------------------------------------------
# In memory
# --------------------------------------------------------------------------------------------


def build_memory(n: int) -> tuple[MemoryLog, float]:
    """MemoryLog of n entry-shaped leaves, extended in batches of 1,000; returns (log, seconds of
    extend calls only -- generating the leaf bytes is not timed)."""
    mem = MemoryLog()
    spent = 0.0
    chunk = 100_000
    for start in range(0, n, chunk):
        data = payloads(start, min(chunk, n - start))
        t = time.perf_counter()
        for i in range(0, len(data), BATCH):
            mem.extend(data[i : i + BATCH])
        spent += time.perf_counter() - t
    return mem, spent


def memory_proofs(mem: MemoryLog, n: int) -> tuple[float, float, str]:
    """Proof timings against tree_size n (n <= len(mem))."""
    inc = sample(mem.inclusion_proof, random_inclusion(n, 1), 5_000, 3.0)
    con = sample(mem.consistency_proof, random_consistency(n, 2), 5_000, 3.0)
    # sanity: the proofs verify against the library's verifiers
    rng = random.Random(3)
    root = mem.root(n)
    for _ in range(50):
        i, m = rng.randrange(n), rng.randrange(1, n)
        assert ledger.verify_inclusion(mem.leaf_hash(i), i, n, mem.inclusion_proof(i, n), root)
        assert ledger.verify_consistency(m, n, mem.root(m), root, mem.consistency_proof(m, n))
    detail = (
        f"inclusion median {inc[0] * 1e6:.1f} us / p95 {inc[1] * 1e6:.1f} us ({inc[2]} proofs), "
        f"consistency median {con[0] * 1e6:.1f} us / p95 {con[1] * 1e6:.1f} us ({con[2]} proofs)"
    )
    return inc[0], con[0], detail


def pymerkle_proofs(tree: Any, n: int) -> tuple[float, float, str]:
    inc = sample(lambda i, s: tree.prove_inclusion(i + 1, s), random_inclusion(n, 1), 2_000, 5.0)
    con = sample(tree.prove_consistency, random_consistency(n, 2), 2_000, 5.0)
    detail = (
        f"inclusion median {inc[0] * 1e6:.1f} us / p95 {inc[1] * 1e6:.1f} us ({inc[2]} proofs), "
        f"consistency median {con[0] * 1e6:.1f} us / p95 {con[1] * 1e6:.1f} us ({con[2]} proofs)"
    )
    return inc[0], con[0], detail


def run_memory(args: argparse.Namespace, rows: list[Row], notes: list[str]) -> None:
    n1 = args.mem_size
    progress(f"MemoryLog: extend {n1:,} leaves in batches of {BATCH:,}")
    rss = rss_mb()
    mem, spent = build_memory(n1)
    ours_rate = n1 / spent
    ours_rss = rss_mb() - rss
    ours_inc, ours_con, ours_detail = memory_proofs(mem, n1)
    progress(f"MemoryLog {n1:,}: {ours_rate:,.0f}/s, {ours_detail}")

    theirs_rate = theirs_inc = theirs_con = None
    big: dict[str, Any] = {}
    if pymerkle is not None:
        progress(f"pymerkle InmemoryTree: append_entries {n1:,} leaves in batches of {BATCH:,}")
        gc.collect()
        rss = rss_mb()
        tree = pymerkle.InmemoryTree(algorithm="sha256")
        spent_p = 0.0
        chunk = 100_000
        for start in range(0, n1, chunk):
            data = payloads(start, min(chunk, n1 - start))
            t = time.perf_counter()
            for i in range(0, len(data), BATCH):
                tree.append_entries(data[i : i + BATCH])
            spent_p += time.perf_counter() - t
        theirs_rate = n1 / spent_p
        theirs_rss = rss_mb() - rss
        assert tree.get_root(n1) == mem.root(n1), "pymerkle root differs from RFC 9162"
        theirs_inc, theirs_con, theirs_detail = pymerkle_proofs(tree, n1)
        progress(f"pymerkle {n1:,}: {theirs_rate:,.0f}/s, {theirs_detail}")
        notes.append(
            f"In memory at {n1:,}: MemoryLog {ours_detail}; RSS +{ours_rss:,.0f} MB. "
            f"pymerkle InmemoryTree {theirs_detail}; RSS +{theirs_rss:,.0f} MB. Roots equal "
            f"(checked at {n1:,})."
        )
        # Grow pymerkle to the largest size that fits the build budget, doubling.
        size, built = n1, spent_p
        per_leaf = spent_p / n1
        while built + per_leaf * size * 1.15 <= args.pymerkle_budget:
            progress(f"pymerkle InmemoryTree: growing {size:,} -> {2 * size:,}")
            t_seg = 0.0
            for start in range(size, 2 * size, chunk):
                data = payloads(start, min(chunk, 2 * size - start))
                t = time.perf_counter()
                for i in range(0, len(data), BATCH):
                    tree.append_entries(data[i : i + BATCH])
                t_seg += time.perf_counter() - t
            built += t_seg
            per_leaf = t_seg / size
            size *= 2
        if size > n1:
            inc, con, detail = pymerkle_proofs(tree, size)
            big = {"size": size, "inc": inc, "con": con, "built": built}
            progress(f"pymerkle {size:,}: {detail}")
            notes.append(
                f"pymerkle InmemoryTree was grown to {size:,} leaves (total build "
                f"{built:.1f} s, budget {args.pymerkle_budget:.0f} s; the next doubling was "
                f"projected over budget): {detail}. Its proof cost grows with n, "
                f"it is not extrapolated to other sizes."
            )
        else:
            notes.append(
                f"pymerkle InmemoryTree: {n1:,} leaves took {spent_p:.1f} s, so doubling "
                f"would exceed the {args.pymerkle_budget:.0f} s build budget; {n1:,} is the "
                f"largest size measured."
            )
        del tree
        gc.collect()
    else:
        notes.append("pymerkle is not installed (pip install pymerkle): its columns are n/a.")

    rows.append(
        Row(
            f"append, in memory, batches of {BATCH:,}",
            ours_rate,
            theirs_rate,
            "/s",
            higher_is_better=True,
            target=50_000,
            note=f"({n1:,} leaves)",
        )
    )
    rows.append(
        Row(
            f"inclusion proof, in memory, n={n1:,}",
            ours_inc,
            theirs_inc,
            "ms",
            higher_is_better=False,
        )
    )
    rows.append(
        Row(
            f"consistency proof, in memory, n={n1:,}",
            ours_con,
            theirs_con,
            "ms",
            higher_is_better=False,
        )
    )
    del mem
    gc.collect()

    big_log: MemoryLog | None = None
    n2 = args.big_size
    if args.skip_10m:
        notes.append(f"The n={n2:,} in-memory rows were skipped (--skip-10m).")
    else:
        progress(f"MemoryLog: building {n2:,} leaves (extend, batches of {BATCH:,})")
        rss = rss_mb()
        big_log, spent = build_memory(n2)
        big_rss = rss_mb() - rss
        inc, con, detail = memory_proofs(big_log, n2)
        progress(f"MemoryLog {n2:,}: built in {spent:.1f} s, {detail}")
        notes.append(
            f"MemoryLog at {n2:,} was built with extend() of entry-shaped leaf inputs "
            f"(~{len(payloads(0, 1)[0])} bytes, leaf hashing included, not precomputed) in "
            f"batches of {BATCH:,}: {spent:.1f} s of extend calls ({n2 / spent:,.0f}/s), "
            f"RSS +{big_rss:,.0f} MB. {detail}."
        )
        reason = (
            f"pymerkle: not built, > {args.pymerkle_budget:.0f} s" if pymerkle is not None else ""
        )
        for what, ours, target in (("inclusion", inc, 0.0002), ("consistency", con, None)):
            rows.append(
                Row(
                    f"{what} proof, in memory, n={n2:,}",
                    ours,
                    None,
                    "ms",
                    higher_is_better=False,
                    target=target,
                    note=f"({reason})" if reason else "",
                )
            )

    # Like for like at the largest size pymerkle built.
    if big:
        m = big["size"]
        if big_log is not None and len(big_log) >= m:
            mem, how = big_log, f"the {len(big_log):,}-leaf log, proofs at tree_size={m:,}"
        else:
            mem, how = build_memory(m)[0], f"a fresh {m:,}-leaf log"
        inc, con, detail = memory_proofs(mem, m)
        notes.append(f"MemoryLog at n={m:,} (pymerkle's largest; measured on {how}): {detail}.")
        for what, ours, theirs in (
            ("inclusion", inc, big["inc"]),
            ("consistency", con, big["con"]),
        ):
            rows.append(
                Row(f"{what} proof, in memory, n={m:,}", ours, theirs, "ms", higher_is_better=False)
            )
        del mem
    del big_log
    gc.collect()


# --------------------------------------------------------------------------------------------
# Persisted (SQLite)
# --------------------------------------------------------------------------------------------


def append_batch(
    session: Any, clock: FixedClock, batch: Sequence[tuple[EntryKind, dict[str, Any]]]
) -> None:
    if hasattr(log, "append_many"):
        log.append_many(session, clock, batch)
    else:  # older services: one append per entry, same transaction
        for kind, fields in batch:
            log.append(session, clock, kind, **fields)


def sign_missing_heads(engine: Any, signer: Any, clock: FixedClock) -> tuple[int, float]:
    """Sign a head for every size that has none, exactly as ``seal`` would (one per size), with
    roots computed in memory from the stored leaf hashes. Returns (heads signed, seconds)."""
    t = time.perf_counter()
    with UnitOfWork(engine) as s:
        last = s.scalar(select(func.max(TreeHeadRecord.tree_size))) or 0
        mem = MemoryLog()
        mem.extend_hashes(s.scalars(select(LogEntry.leaf_hash).order_by(LogEntry.index)))
    n = len(mem)
    ts = int(clock.now().timestamp() * 1000)
    done = 0
    for start in range(last + 1, n + 1, 50_000):
        rows = []
        for size in range(start, min(n + 1, start + 50_000)):
            head = ledger.TreeHead(tree_size=size, root_hash=mem.root(size), timestamp=ts)
            rows.append(
                {
                    "tree_size": size,
                    "root_hash": head.root_hash,
                    "timestamp": ts,
                    "signature": signer.sign(head),
                }
            )
        with UnitOfWork(engine) as s:
            s.execute(insert(TreeHeadRecord), rows)
        done += len(rows)
        progress(f"  signed heads up to {start + len(rows) - 1:,}")
    return done, time.perf_counter() - t


def run_persisted(args: argparse.Namespace, tmp: Path, rows: list[Row], notes: list[str]) -> None:
    n = args.persist_size
    engine = create_db_engine(f"sqlite:///{tmp / 'datacoop.db'}")
    upgrade_to_head(engine)
    signer, clock = memory_signer(), FixedClock()
    how = "append_many" if hasattr(log, "append_many") else "append (loop; no append_many yet)"

    # Phase A: the application's path -- append + seal (a signed head per size) + commit.
    progress(f"SQLite: {how} + seal, transactions of {BATCH:,}, up to {n:,} entries")
    tx: list[tuple[float, float]] = []  # (append seconds, whole transaction seconds)
    done = 0
    while done < n:
        k = min(BATCH, n - done)
        batch = entries(done, k)
        t = time.perf_counter()
        with UnitOfWork(engine, signer=signer, clock=clock) as s:
            append_batch(s, clock, batch)
            t_append = time.perf_counter() - t
        tx.append((t_append, time.perf_counter() - t))
        done += k
        if len(tx) % 10 == 0:
            progress(f"  sealed {done:,}: last tx {tx[-1][1]:.3f} s ({tx[-1][0]:.3f} s appending)")
        spent = sum(w for _, w in tx)
        recent = statistics.mean(w for _, w in tx[-5:])
        if done >= args.seal_min and spent + recent * (n - done) / BATCH > args.seal_budget:
            break
    sealed = done
    sealed_time = sum(w for _, w in tx)
    sealed_rate = sealed / sealed_time
    first5 = statistics.mean(w for _, w in tx[:5])
    last5 = statistics.mean(w for _, w in tx[-5:])
    append_only = sealed / sum(a for a, _ in tx)
    notes.append(
        f"Persisted append ({how}, FixedClock, memory_signer, WAL SQLite file): {sealed:,} "
        f"entries went through UnitOfWork(signer=...) in transactions of {BATCH:,}, i.e. append "
        f"+ seal (one Ed25519-signed head per size) + commit: {sealed_rate:,.0f}/s overall; a "
        f"transaction took {first5:.3f} s on average over the first 5 and {last5:.3f} s over "
        f"the last 5 ({BATCH / last5:,.0f}/s at {sealed:,} entries). The append call alone "
        f"ran at {append_only:,.0f}/s; the rest is seal + commit."
    )

    # Phase B: the rest without sealing (if sealing was too slow to fill n in the budget).
    if done < n:
        progress(
            f"SQLite: sealing too slow for {n:,} within {args.seal_budget:.0f} s; "
            f"appending the rest without a signer"
        )
        t_b = time.perf_counter()
        while done < n:
            k = min(BATCH, n - done)
            batch = entries(done, k)
            with UnitOfWork(engine, clock=clock) as s:
                append_batch(s, clock, batch)
            done += k
            if done % 100_000 == 0:
                progress(f"  appended {done:,}")
        unsealed_time = time.perf_counter() - t_b
        unsealed_rate = (n - sealed) / unsealed_time
        heads, head_time = sign_missing_heads(engine, signer, clock)
        notes.append(
            f"Sealing was too slow to fill {n:,} entries within the {args.seal_budget:.0f} s "
            f"budget, so entries {sealed:,}..{n - 1:,} were appended with {how} in transactions "
            f"of {BATCH:,} WITHOUT a signer ({unsealed_rate:,.0f}/s incl. commit), and their "
            f"{heads:,} heads (one per size, as seal stores them) were signed by the benchmark "
            f"from in-memory roots in {head_time:.1f} s. The database is in the same state seal "
            f"would leave; verify() below confirms it."
        )
    else:
        unsealed_rate = None

    pymerkle_rate = None
    ptree = None
    if pymerkle is not None:
        progress(f"pymerkle SqliteTree: append_entries {n:,} in transactions of {BATCH:,}")
        ptree = pymerkle.SqliteTree(str(tmp / "pymerkle.db"))
        spent = 0.0
        for start in range(0, n, 100_000):
            data = payloads(start, min(100_000, n - start))
            t = time.perf_counter()
            for i in range(0, len(data), BATCH):
                ptree.append_entries(data[i : i + BATCH])
            spent += time.perf_counter() - t
        pymerkle_rate = n / spent
        progress(f"pymerkle SqliteTree: {pymerkle_rate:,.0f}/s")
        notes.append(
            f"pymerkle SqliteTree.append_entries writes one row (entry, leaf hash) per entry in "
            f"one transaction per call ({BATCH:,} here): no canonical JSON, no interior nodes, "
            f"no signed heads. datacoop's append builds canonical JSON, inserts the entry and "
            f"the subtree nodes it completes through SQLAlchemy, and (with seal) signs a head "
            f"per size."
        )
    rows.append(
        Row(
            f"append, SQLite, tx of {BATCH:,}, with seal",
            sealed_rate,
            pymerkle_rate,
            "/s",
            higher_is_better=True,
            target=5_000,
            note=f"({sealed:,} entries)",
        )
    )
    if unsealed_rate is not None:
        rows.append(
            Row(
                f"append, SQLite, tx of {BATCH:,}, no seal",
                unsealed_rate,
                pymerkle_rate,
                "/s",
                higher_is_better=True,
                note=f"({n - sealed:,} entries)",
            )
        )

    # Proofs from storage.
    progress(f"proofs from the persisted log at {n:,}")
    with UnitOfWork(engine) as s:
        inc = sample(lambda i, m: log.inclusion_proof(s, i, m), random_inclusion(n, 1), 200, 5.0)
        con = sample(
            lambda a, b: log.consistency_proof(s, a, b), random_consistency(n, 2), 200, 5.0
        )
        root = log.root_at(s, n)
        i = n // 3
        leaf = s.get(LogEntry, i).leaf_hash
        assert ledger.verify_inclusion(leaf, i, n, log.inclusion_proof(s, i, n), root)
    p_inc = p_con = None
    if ptree is not None:
        assert ptree.get_root(n) == root, "pymerkle SqliteTree root differs"  # also warms cache
        cold_tree = pymerkle.SqliteTree(str(tmp / "pymerkle.db"))
        t = time.perf_counter()
        cold_tree.prove_inclusion(n // 2 + 1, n)
        cold = time.perf_counter() - t
        cold_tree.close()
        p_inc_s = sample(
            lambda i, m: ptree.prove_inclusion(i + 1, m), random_inclusion(n, 1), 500, 5.0
        )
        p_con_s = sample(ptree.prove_consistency, random_consistency(n, 2), 500, 5.0)
        p_inc, p_con = p_inc_s[0], p_con_s[0]
        notes.append(
            f"Proofs from SQLite at {n:,}: datacoop log.services inclusion median "
            f"{inc[0] * 1e3:.2f} ms / p95 {inc[1] * 1e3:.2f} ms ({inc[2]} proofs), consistency "
            f"median {con[0] * 1e3:.2f} ms / p95 {con[1] * 1e3:.2f} ms ({con[2]}). pymerkle "
            f"SqliteTree stores leaves only and computes subtree roots from them, caching the "
            f"large ones in an LRU: the first proof on a fresh tree object took {cold:.2f} s "
            f"(reads and hashes all {n:,} leaves); warm (after get_root) inclusion median "
            f"{p_inc_s[0] * 1e3:.2f} ms ({p_inc_s[2]}), consistency median "
            f"{p_con_s[0] * 1e3:.2f} ms ({p_con_s[2]}). Its file uses SQLite defaults "
            f"(rollback journal, synchronous=FULL); ours uses WAL + synchronous=NORMAL."
        )
        ptree.close()
    rows.append(
        Row(
            f"inclusion proof, SQLite, n={n:,}",
            inc[0],
            p_inc,
            "ms",
            higher_is_better=False,
            note="(pymerkle warm cache)" if p_inc else "",
        )
    )
    rows.append(
        Row(
            f"consistency proof, SQLite, n={n:,}",
            con[0],
            p_con,
            "ms",
            higher_is_better=False,
            note="(pymerkle warm cache)" if p_con else "",
        )
    )

    # Full verification.
    progress(f"verify({n:,} entries)")
    engine.dispose()  # fresh connections: no warm ORM state from the fill
    with UnitOfWork(engine) as s:
        t = time.perf_counter()
        problems = log.verify(s, signer.public_key())
        verify_time = time.perf_counter() - t
    progress(f"verify: {verify_time:.2f} s, {len(problems)} problems")
    if problems:
        notes.append(
            f"!! verify() reported {len(problems)} problems on an untouched log, e.g. "
            f"{problems[0]} -- the benchmark's fill is wrong or verify is."
        )
    rows.append(
        Row(
            f"verify all {n:,} persisted entries",
            verify_time,
            None,
            "s",
            higher_is_better=False,
            target=5.0,
        )
    )
    params = inspect.signature(log.verify).parameters
    if "thorough" in params and not args.skip_thorough:
        progress(f"verify(thorough=True) ({n:,} entries, one signature check per head)")
        with UnitOfWork(engine) as s:
            t = time.perf_counter()
            problems = log.verify(s, signer.public_key(), thorough=True)
            thorough_time = time.perf_counter() - t
        progress(f"verify thorough: {thorough_time:.2f} s, {len(problems)} problems")
        rows.append(
            Row(
                f"verify all {n:,}, thorough=True", thorough_time, None, "s", higher_is_better=False
            )
        )
        notes.append(
            f"verify(thorough=True) additionally checks all {n:,} head signatures (Ed25519 "
            f"verify is ~75 us each on this machine, so ~{n * 75e-6:.0f} s of it is signature "
            f"checks) and re-encodes every payload canonically; {len(problems)} problems."
        )
    notes.append(
        "pymerkle has no equivalent of verify(): it keeps no signed tree heads and no stored "
        "subtree hashes to audit; the closest it offers is recomputing a root, which checks "
        "nothing against a commitment made earlier. Hence n/a."
    )
    engine.dispose()


# --------------------------------------------------------------------------------------------


def pymerkle_compatibility(notes: list[str]) -> None:
    """Check, on small trees, what of pymerkle's output is RFC 9162 (and say so)."""
    if pymerkle is None:
        return
    leaves = payloads(0, 70)
    tree = pymerkle.InmemoryTree(algorithm="sha256")
    tree.append_entries(leaves)
    insecure = pymerkle.InmemoryTree(algorithm="sha256", disable_security=True)
    insecure.append_entries(leaves)
    roots = all(tree.get_root(n) == ledger.root_hash(leaves[:n]) for n in range(71))
    incl = all(
        tree.prove_inclusion(i + 1, n).path
        == [ledger.leaf_hash(leaves[i])] + ledger.inclusion_proof(i, leaves[:n])
        for n in range(1, 71)
        for i in range(n)
    )
    same = total = 0
    for n in range(1, 71):
        for m in range(1, n):
            total += 1
            same += tree.prove_consistency(m, n).path == ledger.consistency_proof(m, n, leaves)
    example = tree.prove_consistency(4, 11)
    notes.append(
        f"pymerkle {getattr(pymerkle, '__version__', '?')} compatibility, checked on 70 leaves: "
        f"roots {'equal' if roots else 'DIFFER'} to RFC 9162 MTH (security on, the default: "
        f"0x00/0x01 prefixes; disable_security=True drops them, root of 70 "
        f"{'equal' if insecure.get_root() == tree.get_root() else 'differs'}); inclusion path "
        f"{'= [leaf hash] + RFC 9162 PATH' if incl else 'is NOT RFC-shaped'} (indexes are "
        f"1-based); consistency paths are pymerkle's own format (rule/subset bits), equal to "
        f"RFC 9162 PROOF for {same}/{total} (m, n) pairs -- e.g. (4, 11) has "
        f"{len(example.path)} hashes vs RFC's {len(ledger.consistency_proof(4, 11, leaves))}."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="all sizes and budgets / 10")
    parser.add_argument("--skip-10m", action="store_true", help="skip the 10M in-memory rows")
    parser.add_argument("--skip-thorough", action="store_true", help="skip verify(thorough=True)")
    parser.add_argument("--no-pymerkle", action="store_true", help="datacoop columns only")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    args.mem_size = 1_000_000 // scale
    args.big_size = 10_000_000 // scale
    args.persist_size = 1_000_000 // scale
    args.pymerkle_budget = 60.0 / scale
    args.seal_budget = 150.0 / scale  # seconds of sealed appends before falling back
    args.seal_min = 20_000 if not args.quick else 5_000
    global pymerkle
    if args.no_pymerkle:
        pymerkle = None

    rows: list[Row] = []
    notes: list[str] = []
    pymerkle_compatibility(notes)
    run_memory(args, rows, notes)
    with tempfile.TemporaryDirectory(prefix="datacoop-logbench-") as tmp:
        run_persisted(args, Path(tmp), rows, notes)
    progress("done")
    print(
        f"\nTransparency log benchmark{' (--quick: sizes / 10)' if args.quick else ''}, "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"total {time.perf_counter() - T0:.0f} s"
    )
    print_table(rows, notes)


if __name__ == "__main__":
    main()
