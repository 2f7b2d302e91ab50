"""datacoop's label aggregators against crowd-kit 1.4.2, side by side in one run.

For every dataset of ``../shared/benchmarks/crowd/`` (``--data``) and every method (MV, Wawa,
ZBS, OneCoinDS, DS, GLAD, MACE, KOS on binary sets, MMSR) it measures

* our accuracy on the gold tasks that have at least one answer (labels compared as strings)
  and our ``fit_predict`` time (in this process, default hyper-parameters);
* crowd-kit's accuracy and time for the same method on the same file, each (dataset, method)
  in its own subprocess of a separate venv (``.venv-crowdkit/``, see below) under a timeout;
* the accuracy difference in points (ours - theirs) and the speed-up (their time / ours),
  also in CPU time (less sensitive to other load), and the iterations both ran where known.

Then a synthetic section (``synthetic.py``: workers with random confusion matrices):

* ``synthetic``: DS, GLAD and MACE, ours vs crowd-kit, on a set small enough for crowd-kit
  (``--synthetic-answers``, default 100,000 answers x 10 classes), both reading the same CSV;
* ``synthetic-10m``: our DS on 10M answers x 10 classes (``--big-answers``) in a subprocess,
  fit time and peak RSS (``resource.getrusage``), targets <= 30 s and <= 4 GB.

Targets checked in the summary:

1. every dataset x method: our accuracy >= crowd-kit's (same method) - 0.1 points;
2. our best method >= the best published accuracy for the dataset (``PUBLISHED_BEST`` below,
   transcribed from ``PUBLISHED.md``; S_Adult compared on its 333 labeled gold tasks);
3. DS, GLAD and MACE >= 10x faster than crowd-kit on ``fact_eval`` and on the synthetic set;
4. DS on 10M synthetic answers: <= 30 s and <= 4 GB peak.

crowd-kit is never a dependency of datacoop: it needs pandas < 3 (crowd-kit 1.4.2 crashes on
pandas 3.x). On first use the script makes ``.venv-crowdkit/`` at the repository root with
``python -m venv`` + ``pip install`` of the pins of ``CROWDKIT_BASELINE.md`` and reuses it
afterwards (a marker file records the pins). If that fails (e.g. no network) it says why and
uses the crowd-kit figures of ``crowdkit_baseline_raw.jsonl`` (the run behind
``CROWDKIT_BASELINE.md``), labelled "quoted"; no crowd-kit column for the synthetic sets then.

    python benchmarks/aggregation.py                      # everything, ~25 min (crowd-kit is slow)
    python benchmarks/aggregation.py --quick              # no fact_eval, s_rel, s_adult, synthetic-10m
    python benchmarks/aggregation.py --methods DS,GLAD --datasets dog,face,synthetic
    python benchmarks/aggregation.py --no-crowdkit        # ours only (crowd-kit figures quoted)

``--datasets`` takes folder names plus ``synthetic`` and ``synthetic-10m``; without the flag
all run. Methods whose module does not exist yet are reported as "not available". Progress
goes to stderr, tables to stdout; ``--json FILE`` also writes every measurement. Exits 0
whether or not targets are met.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_DATA = ROOT.parent / "shared" / "benchmarks" / "crowd"
CROWDKIT_VENV = ROOT / ".venv-crowdkit"
RUNNER = HERE / "crowdkit_runner.py"

# The pins of CROWDKIT_BASELINE.md: with pandas 3.x / scikit-learn 1.9 crowd-kit's Wawa and
# ZeroBasedSkill crash.
CROWDKIT_PINS = [
    "crowd-kit==1.4.2",
    "pandas==2.2.3",
    "numpy==2.1.3",
    "scipy==1.14.1",
    "scikit-learn==1.5.2",
]

# short name -> (our module in datacoop.algorithms.aggregation, class, crowd-kit class)
METHODS: dict[str, tuple[str, str, str]] = {
    "MV": ("majority_vote", "MajorityVote", "MajorityVote"),
    "Wawa": ("wawa", "Wawa", "Wawa"),
    "ZBS": ("zero_based_skill", "ZeroBasedSkill", "ZeroBasedSkill"),
    "OneCoinDS": ("dawid_skene", "OneCoinDawidSkene", "OneCoinDawidSkene"),
    "DS": ("dawid_skene", "DawidSkene", "DawidSkene"),
    "GLAD": ("glad", "GLAD", "GLAD"),
    "MACE": ("mace", "MACE", "MACE"),
    "KOS": ("kos", "KOS", "KOS"),
    "MMSR": ("mmsr", "MMSR", "MMSR"),
}
BINARY_ONLY = {"KOS"}
SPEED_METHODS = ("DS", "GLAD", "MACE")
SPEED_DATASETS = ("fact_eval", "synthetic")
SYNTHETIC_METHODS = ("DS", "GLAD", "MACE")

DATASET_ORDER = ["bluebirds", "rte", "d_product", "d_possent", "fact_eval", "dog", "face",
                 "s_rel", "s_adult"]
SLOW_DATASETS = {"fact_eval", "s_rel", "s_adult"}  # skipped by --quick (with synthetic-10m)

ACC_TOLERANCE_POINTS = 0.1
SPEEDUP_TARGET = 10.0
BIG_SECONDS_TARGET = 30.0
BIG_MEMORY_TARGET_GB = 4.0

# Best published accuracy per dataset, from ../shared/benchmarks/crowd/PUBLISHED.md:
# (value, decimals as published, method, where). "Zheng T6" = Zheng et al. PVLDB 2017
# Table 6 (PUBLISHED.md section 1, accuracy over all truth rows, random tie-breaking);
# "JOSS" = crowd-kit's JOSS paper table (section 2); "Li" = accuracies printed in the
# notebooks of yuan-li/truth-inference-at-scale (section 3: fractional credit on ties,
# duplicate (item, worker, label) rows dropped). Every dataset's best over all three tables:
PUBLISHED_BEST: dict[str, tuple[float, int, str, str]] = {
    "bluebirds": (0.8889, 4, "IBCC", "Li (§3)"),
    "rte": (0.9313, 4, "EBCC", "Li (§3)"),
    # Zheng T6 best = BCC 93.78; Li best = IBCC 0.9383.
    "d_product": (0.940, 3, "DS", "JOSS (§2)"),
    # Zheng T6 best = 96.00 (D&S, BCC, CBCC, LFC, VI-BP, VI-MF); JOSS DS 0.960.
    "d_possent": (0.9610, 4, "EBCC", "Li (§3)"),
    "fact_eval": (0.8872, 4, "BWA", "Li (§3)"),
    "dog": (0.8401, 4, "EBCC", "Li (§3)"),
    "face": (0.6404, 4, "IBCC", "Li (§3)"),
    # JOSS best = DS 0.615; not in Li's notebooks.
    "s_rel": (0.6164, 4, "LFC", "Zheng T6 (§1)"),
    # S_Adult caveat (PUBLISHED.md): Zheng T6 scores all 1,517 gold rows, 1,184 of them by a
    # random guess (~36%), so it is not comparable; compare on the 333 labeled gold tasks
    # against crowd-kit's JOSS figure (best = Wawa 0.766; Li's best there is EBCC 0.7477).
    "s_adult": (0.766, 3, "Wawa", "JOSS (§2), 333 labeled gold tasks"),
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- results


@dataclass
class Run:
    """One fit: ``status`` is ok / timeout / error / n/a / not available / quoted."""

    status: str
    accuracy: float | None = None
    seconds: float | None = None
    cpu_seconds: float | None = None
    n_iter: int | None = None
    note: str = ""


@dataclass
class Row:
    dataset: str
    method: str
    gold_n: int
    ours: Run
    theirs: Run
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def diff_points(self) -> float | None:
        if self.ours.accuracy is None or self.theirs.accuracy is None:
            return None
        return 100.0 * (self.ours.accuracy - self.theirs.accuracy)

    def speedup(self, timeout: float) -> tuple[float | None, bool]:
        """(their time / ours, is_lower_bound). A crowd-kit timeout gives a lower bound."""
        if self.ours.seconds is None or self.ours.seconds <= 0:
            return None, False
        if self.theirs.status == "timeout":
            return timeout / self.ours.seconds, True
        if self.theirs.seconds is None:
            return None, False
        return self.theirs.seconds / self.ours.seconds, False

    def cpu_speedup(self) -> float | None:
        """Their CPU time / ours: less sensitive than wall time to other load on the machine."""
        if not self.ours.cpu_seconds or self.theirs.cpu_seconds is None:
            return None
        return self.theirs.cpu_seconds / self.ours.cpu_seconds


# --------------------------------------------------------------------------- data


def read_table(folder: Path, stem: str) -> pd.DataFrame:
    path = folder / f"{stem}.csv"
    if not path.exists():
        path = folder / f"{stem}.csv.gz"
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def find_datasets(data: Path) -> list[str]:
    names = [p.name for p in data.iterdir()
             if p.is_dir() and ((p / "labels.csv").exists() or (p / "labels.csv.gz").exists())]
    order = {n: i for i, n in enumerate(DATASET_ORDER)}
    return sorted(names, key=lambda n: (order.get(n, len(order)), n))


def eval_gold(labels: pd.DataFrame, gold: pd.DataFrame) -> pd.Series:
    """Gold labels (strings) of the gold tasks that have at least one answer, indexed by task."""
    g = gold.astype(str).set_index("task")["label"]
    return g[g.index.isin(pd.Index(labels["task"].astype(str).unique()))]


def accuracy(pred: pd.Series | dict[str, str], gold: pd.Series) -> float:
    if isinstance(pred, dict):
        got = pd.Series([pred.get(t) for t in gold.index], index=gold.index, dtype=object)
    else:
        p = pd.Series(pred.to_numpy(), index=pred.index.astype(str)).astype(str)
        got = p.reindex(gold.index)
    return float((got.astype(object) == gold.astype(object)).mean())


# --------------------------------------------------------------------------- ours

_CLASSES: dict[str, tuple[Any, str]] = {}


def our_class(method: str) -> tuple[Any, str]:
    """(class or None, reason). Imported lazily: other modules may not be written yet.

    Only successes are cached, so a module that appears during a long run is picked up.
    """
    if method in _CLASSES:
        return _CLASSES[method]
    module, cls_name, _ = METHODS[method]
    full = f"datacoop.algorithms.aggregation.{module}"
    importlib.invalidate_caches()
    try:
        mod = importlib.import_module(full)
    except ModuleNotFoundError as exc:
        return None, (f"{module}.py missing" if exc.name == full else f"import failed: {exc}")
    except Exception as exc:  # a module being written may be broken
        return None, f"import failed: {type(exc).__name__}: {str(exc)[:150]}"
    cls = getattr(mod, cls_name, None)
    if cls is None:
        return None, f"{module}.py has no {cls_name}"
    _CLASSES[method] = (cls, "")
    return _CLASSES[method]


def run_ours(method: str, labels: pd.DataFrame, gold: pd.Series) -> Run:
    cls, why = our_class(method)
    if cls is None:
        return Run("not available", note=why)
    gc.collect()
    try:
        model = cls()
        c0, t0 = time.process_time(), time.perf_counter()
        pred = model.fit_predict(labels)
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    except Exception as exc:
        return Run("error", note=f"{type(exc).__name__}: {str(exc)[:200]}")
    n_iter = getattr(model, "n_iter_", None)
    return Run("ok", accuracy=accuracy(pred, gold), seconds=dt, cpu_seconds=cpu,
               n_iter=int(n_iter) if isinstance(n_iter, int | np.integer) else None)


# --------------------------------------------------------------------------- crowd-kit


def crowdkit_python(venv: Path, allow_create: bool) -> tuple[Path | None, str]:
    """The crowd-kit venv's python (made once, then reused), or (None, why not)."""
    py = venv / "bin" / "python"
    marker = venv / ".datacoop-pins"
    pins = " ".join(CROWDKIT_PINS)
    if py.exists() and marker.exists() and marker.read_text().strip() == pins:
        check = subprocess.run([str(py), "-c", "import crowdkit.aggregation"],
                               capture_output=True, text=True)
        if check.returncode == 0:
            return py, f"reusing {venv}"
    if not allow_create:
        return None, f"{venv} not ready and creation disabled"
    log(f"creating the crowd-kit venv {venv} ({pins}) ...")
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(venv)],
        [str(py), "-m", "pip", "install", "--quiet", *CROWDKIT_PINS],
        [str(py), "-c", "import crowdkit.aggregation"],
    ]
    for cmd in steps:
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"`{' '.join(cmd[:4])} ...` failed: {exc}"
        if p.returncode != 0:
            errs = [ln for ln in p.stderr.splitlines()
                    if ln.strip() and not ln.startswith("WARNING: Location")]
            tail = " | ".join(errs[-3:]) or f"exit {p.returncode}"
            return None, f"`{' '.join(cmd[:4])} ...` failed: {tail}"
    marker.write_text(pins + "\n")
    return py, f"created {venv}"


def run_crowdkit(py: Path, folder: Path, method: str, gold: pd.Series, timeout: float) -> Run:
    cmd = [str(py), str(RUNNER), str(folder), METHODS[method][2]]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return Run("timeout", note=f">{timeout:g} s")
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        err = p.stderr.strip().splitlines()
        return Run("error", note=f"exit {p.returncode}: {err[-1][:200] if err else 'no output'}")
    rec = json.loads(lines[-1])
    if "error" in rec:
        return Run("error", note=str(rec["error"])[:200])
    return Run("ok", accuracy=accuracy(rec["labels"], gold), seconds=float(rec["seconds"]),
               cpu_seconds=rec.get("cpu_seconds"), n_iter=rec.get("n_iter"))


def quoted_crowdkit(data: Path) -> dict[tuple[str, str], Run]:
    """crowd-kit figures of the run behind CROWDKIT_BASELINE.md (crowdkit_baseline_raw.jsonl)."""
    path = data / "crowdkit_baseline_raw.jsonl"
    out: dict[tuple[str, str], Run] = {}
    if not path.exists():
        return out
    short = {v[2]: k for k, v in METHODS.items()}
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        key = (rec["dataset"], short.get(rec["method"], rec["method"]))
        if rec.get("status") == "ok":
            note = "quoted" + (f", {rec['note']}" if rec.get("note") else "")
            out[key] = Run("quoted", accuracy=rec["accuracy"], seconds=rec["seconds"], note=note)
        elif key not in out or out[key].accuracy is None:
            status = str(rec.get("status", ""))
            if status.startswith("timeout"):
                out[key] = Run("timeout", note=f"quoted: {status}")
            else:
                out[key] = Run("error", note=f"quoted: {status[:120]}")
    return out


# --------------------------------------------------------------------------- synthetic 10M


def big_child(npz: str, method: str) -> int:
    """Subprocess body: fit one of our methods on the arrays in ``npz``; JSON on stdout."""
    def rss_peak_mb() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux

    cls, why = our_class(method)
    if cls is None:
        print(json.dumps({"error": f"not available: {why}"}))
        return 0
    with np.load(npz) as z:
        t, w, y, truth = z["t"], z["w"], z["y"], z["truth"]
    df = pd.DataFrame({"task": t, "worker": w, "label": y})
    del w, y
    gc.collect()
    before = rss_peak_mb()
    try:
        c0, t0 = time.process_time(), time.perf_counter()
        model = cls()
        pred = model.fit_predict(df)
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    except Exception as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {str(exc)[:200]}"}))
        return 0
    n_iter = getattr(model, "n_iter_", None)
    peak = rss_peak_mb()
    acc = float(np.mean(pred.reindex(np.arange(len(truth))).to_numpy() == truth))
    k = int(max(df["label"].max(), truth.max())) + 1
    votes = np.bincount(t.astype(np.int64) * k + df["label"].to_numpy(), minlength=len(truth) * k)
    mv_acc = float(np.mean(votes.reshape(len(truth), k).argmax(axis=1) == truth))
    print(json.dumps({"seconds": dt, "cpu_seconds": cpu, "peak_rss_mb": peak,
                      "rss_peak_before_fit_mb": before, "accuracy": acc, "mv_accuracy": mv_acc,
                      "n_answers": int(len(df)), "n_iter": None if n_iter is None else int(n_iter)}))
    return 0


def run_big(n_answers: int, n_classes: int, timeout: float) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    from synthetic import default_workers, generate_arrays

    t0 = time.perf_counter()
    t, w, y, truth, _ = generate_arrays(n_answers, n_classes)
    gen_s = time.perf_counter() - t0
    info: dict[str, Any] = {"n_answers": n_answers, "n_classes": n_classes,
                            "n_tasks": int(len(truth)), "n_workers": default_workers(n_answers),
                            "generate_seconds": gen_s}
    with tempfile.TemporaryDirectory(prefix="datacoop-bench-") as tmp:
        npz = os.path.join(tmp, "big.npz")
        np.savez(npz, t=t, w=w, y=y, truth=truth)
        del t, w, y, truth
        cmd = [sys.executable, str(Path(__file__).resolve()), "--_big-child", npz, "DS"]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            info["error"] = f"timeout >{timeout:g} s"
            return info
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        err = p.stderr.strip().splitlines()
        info["error"] = f"exit {p.returncode}: {err[-1][:200] if err else 'no output'}"
        return info
    info.update(json.loads(lines[-1]))
    return info


# --------------------------------------------------------------------------- printing


def fmt_acc(r: Run) -> str:
    return "" if r.accuracy is None else f"{r.accuracy:.4f}"


def fmt_s(x: float | None) -> str:
    if x is None:
        return ""
    if x >= 100:
        return f"{x:.0f}"
    if x >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}" if x >= 0.01 else f"{x:.4f}"


def brief(r: Run) -> str:
    if r.accuracy is None:
        return f"{r.status}{' (' + r.note + ')' if r.note else ''}"
    return f"{r.status} acc {r.accuracy:.4f} in {fmt_s(r.seconds)} s"


def status_text(r: Run) -> str:
    if r.status in ("ok", "quoted"):
        return r.note if r.status == "quoted" else ""
    return f"{r.status}{': ' + r.note if r.note else ''}"


def print_table(title: str, rows: list[Row], timeout: float) -> None:
    head = ["method", "ours acc", "ours s", "crowd-kit acc", "crowd-kit s", "Δ pts", "speed-up",
            "cpu speed-up", "notes"]
    body = []
    for r in rows:
        sp, lower = r.speedup(timeout)
        d = r.diff_points
        notes = []
        if r.ours.n_iter is not None or r.theirs.n_iter is not None:
            def it(x: int | None) -> str:
                return "?" if x is None else str(x)
            notes.append(f"iterations {it(r.ours.n_iter)}/{it(r.theirs.n_iter)}")
        if status_text(r.ours):
            notes.append("ours " + status_text(r.ours))
        if status_text(r.theirs):
            notes.append("crowd-kit " + status_text(r.theirs))
        if "quoted_accuracy" in r.extra:
            notes.append(f"{r.extra['quoted_note']}: {r.extra['quoted_accuracy']:.4f} in "
                         f"{fmt_s(r.extra['quoted_seconds'])} s")
        body.append([
            r.method, fmt_acc(r.ours), fmt_s(r.ours.seconds), fmt_acc(r.theirs),
            ">" + fmt_s(timeout) if r.theirs.status == "timeout" and "quoted" not in r.theirs.note
            else fmt_s(r.theirs.seconds),
            "" if d is None else f"{d:+.2f}",
            "" if sp is None else (">=" if lower else "") + f"{sp:.1f}x",
            "" if r.cpu_speedup() is None else f"{r.cpu_speedup():.1f}x",
            "; ".join(notes)[:110],
        ])
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h)
              for i, h in enumerate(head)]
    print(f"\n## {title}")
    last = len(head) - 1
    print("  ".join(h.ljust(widths[i]) if i in (0, last) else h.rjust(widths[i])
                    for i, h in enumerate(head)).rstrip())
    for b in body:
        print("  ".join(c.ljust(widths[i]) if i in (0, last) else c.rjust(widths[i])
                        for i, c in enumerate(b)).rstrip())
    sys.stdout.flush()


def summary(rows: list[Row], big: dict[str, Any] | None, timeout: float,
            crowdkit_mode: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    print("\n## Targets")

    # 1. accuracy parity
    passed, failed, missing = [], [], []
    for r in rows:
        if r.ours.status == "n/a":
            continue
        d = r.diff_points
        tag = f"{r.dataset}/{r.method}"
        q = r.extra.get("quoted_accuracy")
        if d is None and r.ours.accuracy is not None and r.theirs.status == "timeout" and q:
            d = 100.0 * (r.ours.accuracy - q)
            tag += f" (crowd-kit timed out; vs its quoted {q:.4f}: {r.extra['quoted_note']})"
        if d is None:
            why = (f"ours {r.ours.status}" if r.ours.accuracy is None
                   else f"crowd-kit {r.theirs.status}")
            missing.append(f"{tag} ({why})")
        elif d >= -ACC_TOLERANCE_POINTS - 1e-9:
            passed.append(tag)
        else:
            failed.append(f"{tag} ({d:+.2f} pts)")
    print(f"1. accuracy >= crowd-kit (same method) - {ACC_TOLERANCE_POINTS} pts "
          f"[crowd-kit {crowdkit_mode}]: {len(passed)} pass, {len(failed)} FAIL, "
          f"{len(missing)} not compared")
    if failed:
        print("   FAIL: " + ", ".join(failed))
    if missing:
        print("   not compared: " + ", ".join(missing))
    out["accuracy_parity"] = {"pass": passed, "fail": failed, "not_compared": missing}

    # 2. best published
    print("2. our best method (of those run) >= best published accuracy:")
    pub_res = {}
    for ds in dict.fromkeys(r.dataset for r in rows):
        if ds not in PUBLISHED_BEST:
            continue
        value, dec, meth, src = PUBLISHED_BEST[ds]
        ours = [(r.ours.accuracy, r.method) for r in rows
                if r.dataset == ds and r.ours.accuracy is not None]
        if not ours:
            print(f"   {ds:10s} no result of ours; published best {value:.{dec}f} ({meth}, {src})")
            pub_res[ds] = "no result"
            continue
        acc, best = ours[0]
        for acc_m, m in ours[1:]:  # first method in METHODS order wins ties
            if acc_m > acc:
                acc, best = acc_m, m
        ok = round(acc, dec) >= value - 1e-12
        verdict = "pass" if ok else "FAIL"
        print(f"   {ds:10s} {verdict}: ours {acc:.4f} ({best}) vs {value:.{dec}f} ({meth}, {src})"
              f"  Δ {100 * (acc - value):+.2f} pts")
        pub_res[ds] = {"ours": acc, "ours_method": best, "published": value,
                       "published_method": meth, "source": src, "pass": ok}
    out["published_best"] = pub_res

    # 3. speed
    print(f"3. DS, GLAD, MACE >= {SPEEDUP_TARGET:g}x faster than crowd-kit on "
          f"{' and '.join(SPEED_DATASETS)}:")
    speed_res = {}
    for ds in SPEED_DATASETS:
        for m in SPEED_METHODS:
            match = [r for r in rows if r.dataset == ds and r.method == m]
            if not match:
                print(f"   {ds}/{m}: not run")
                continue
            r = match[0]
            sp, lower = r.speedup(timeout)
            if sp is None:
                why = f"ours {r.ours.status}" if r.ours.seconds is None else \
                    f"crowd-kit {r.theirs.status}"
                print(f"   {ds}/{m}: not measured ({why})")
                speed_res[f"{ds}/{m}"] = None
                continue
            ok = sp >= SPEEDUP_TARGET
            bound = " (crowd-kit timed out: lower bound)" if lower else ""
            if "quoted" in r.theirs.note:
                bound += " (crowd-kit time quoted)"
            cpu = r.cpu_speedup()
            cpu_txt = "" if cpu is None else f", {cpu:.1f}x in CPU time"
            print(f"   {ds}/{m}: {'pass' if ok else 'FAIL'} {'>=' if lower else ''}{sp:.1f}x"
                  f" (ours {fmt_s(r.ours.seconds)} s, crowd-kit "
                  f"{'>' + fmt_s(timeout) if lower else fmt_s(r.theirs.seconds)} s{cpu_txt})"
                  f"{bound}")
            speed_res[f"{ds}/{m}"] = {"speedup": sp, "lower_bound": lower, "pass": ok,
                                      "cpu_speedup": cpu}
    out["speed"] = speed_res

    # 4. 10M
    if big is not None:
        if "error" in big:
            print(f"4. DS on {big['n_answers']:,} synthetic answers: {big['error']}")
        else:
            t_ok = big["seconds"] <= BIG_SECONDS_TARGET
            m_ok = big["peak_rss_mb"] / 1024 <= BIG_MEMORY_TARGET_GB
            print(f"4. DS on {big['n_answers']:,} synthetic answers x {big['n_classes']} classes: "
                  f"{'pass' if t_ok else 'FAIL'} {big['seconds']:.1f} s (<= {BIG_SECONDS_TARGET:g} s), "
                  f"{'pass' if m_ok else 'FAIL'} peak RSS {big['peak_rss_mb'] / 1024:.2f} GB "
                  f"(<= {BIG_MEMORY_TARGET_GB:g} GB; {big['rss_peak_before_fit_mb'] / 1024:.2f} GB "
                  f"before the fit, input frame included)")
        out["big"] = big
    else:
        print("4. DS on 10M synthetic answers: not run")
    return out


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="benchmark datasets folder")
    ap.add_argument("--quick", action="store_true",
                    help="skip fact_eval, s_rel, s_adult and synthetic-10m")
    ap.add_argument("--no-crowdkit", action="store_true",
                    help="do not run crowd-kit; compare with its quoted figures")
    ap.add_argument("--methods", help=f"comma list of {','.join(METHODS)}")
    ap.add_argument("--datasets", help="comma list of dataset folders, synthetic, synthetic-10m")
    ap.add_argument("--timeout", type=float, default=300.0,
                    help="seconds per crowd-kit (dataset, method) process (default 300)")
    ap.add_argument("--crowdkit-venv", type=Path, default=CROWDKIT_VENV)
    ap.add_argument("--synthetic-answers", type=int, default=100_000,
                    help="size of the synthetic set run by both (default 100,000: crowd-kit's "
                    "MACE needs ~400 s for 200,000 x 10 classes on the 2-core machine)")
    ap.add_argument("--big-answers", type=int, default=10_000_000)
    ap.add_argument("--big-timeout", type=float, default=900.0)
    ap.add_argument("--json", type=Path, help="also write every measurement to this file")
    ap.add_argument("--_big-child", nargs=2, metavar=("NPZ", "METHOD"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    if a._big_child:
        return big_child(*a._big_child)

    methods = list(METHODS)
    if a.methods:
        wanted = [m.strip() for m in a.methods.split(",") if m.strip()]
        unknown = [m for m in wanted if m not in METHODS]
        if unknown:
            ap.error(f"unknown method(s) {unknown}; choose from {list(METHODS)}")
        methods = [m for m in METHODS if m in wanted]

    data: Path = a.data.resolve()
    available = find_datasets(data) if data.is_dir() else []
    if not available:
        log(f"warning: no datasets found in {data}")
    pseudo = ["synthetic", "synthetic-10m"]
    if a.datasets:
        wanted_ds = [d.strip() for d in a.datasets.split(",") if d.strip()]
        unknown = [d for d in wanted_ds if d not in available and d not in pseudo]
        if unknown:
            ap.error(f"unknown dataset(s) {unknown}; found {available + pseudo}")
        datasets = [d for d in available if d in wanted_ds]
        run_syn, run_big_ = "synthetic" in wanted_ds, "synthetic-10m" in wanted_ds
    else:
        datasets, run_syn, run_big_ = available, True, True
    if a.quick:
        datasets = [d for d in datasets if d not in SLOW_DATASETS]
        run_big_ = False

    # crowd-kit: live in its own venv, else quoted.
    ck_py: Path | None = None
    if a.no_crowdkit:
        why = "--no-crowdkit"
    else:
        ck_py, why = crowdkit_python(a.crowdkit_venv.resolve(), allow_create=True)
    if ck_py is not None:
        mode = "live (crowd-kit 1.4.2, own venv)"
        log(f"crowd-kit: {why}")
    else:
        mode = "QUOTED from crowdkit_baseline_raw.jsonl (CROWDKIT_BASELINE.md)"
        log(f"crowd-kit not run ({why}); using quoted figures")
    quoted = quoted_crowdkit(data)  # also used when a live crowd-kit run times out

    print(f"# datacoop aggregators vs crowd-kit — {time.strftime('%Y-%m-%d %H:%M')}, "
          f"{os.cpu_count()} CPUs, numpy {np.__version__}, pandas {pd.__version__}, "
          f"load average at start {os.getloadavg()[0]:.1f}")
    print(f"crowd-kit figures: {mode}" + ("" if ck_py else f" — reason: {why}"))
    print(f"accuracy on gold tasks with >= 1 answer; times = fit_predict wall seconds; "
          f"Δ pts = ours - crowd-kit; speed-up = crowd-kit s / ours s; "
          f"crowd-kit timeout {a.timeout:g} s per run; \"iterations a/b\" = iterations run by "
          f"ours (n_iter_) / crowd-kit (len(loss_history_))")

    rows: list[Row] = []
    for ds in datasets:
        folder = data / ds
        labels = read_table(folder, "labels")
        gold = eval_gold(labels, read_table(folder, "gold"))
        k = labels["label"].nunique()
        ds_rows: list[Row] = []
        for m in methods:
            if m in BINARY_ONLY and k != 2:
                na = Run("n/a", note=f"binary only, {k} labels")
                ds_rows.append(Row(ds, m, len(gold), na, Run("n/a")))
                continue
            log(f"[{ds}] {m}: ours ...")
            ours = run_ours(m, labels, gold)
            if ck_py is not None:
                log(f"[{ds}] {m}: crowd-kit ...")
                theirs = run_crowdkit(ck_py, folder, m, gold, a.timeout)
            else:
                theirs = quoted.get((ds, m), Run("not available", note="no quoted figure"))
            row = Row(ds, m, len(gold), ours, theirs)
            q = quoted.get((ds, m))
            if theirs.status == "timeout" and q is not None and q.accuracy is not None:
                row.extra.update(quoted_accuracy=q.accuracy, quoted_seconds=q.seconds,
                                 quoted_note=q.note)
            ds_rows.append(row)
            log(f"[{ds}] {m}: ours {brief(ours)} | crowd-kit {brief(theirs)}")
        title = (f"{ds} — {len(labels):,} answers, {labels['task'].nunique():,} tasks, "
                 f"{labels['worker'].nunique():,} workers, {k} labels, gold n = {len(gold):,}")
        print_table(title, ds_rows, a.timeout)
        rows.extend(ds_rows)

    syn_methods = [m for m in SYNTHETIC_METHODS if m in methods]
    if run_syn and syn_methods:
        sys.path.insert(0, str(HERE))
        from synthetic import generate, write_csv

        n = a.synthetic_answers
        answers, truth = generate(n, n_classes=10)
        with tempfile.TemporaryDirectory(prefix="datacoop-bench-") as tmp:
            folder = Path(tmp) / "synthetic"
            write_csv(answers, truth, folder)
            labels = read_table(folder, "labels")  # both sides read the same strings
            gold = eval_gold(labels, read_table(folder, "gold"))
            syn_rows = []
            for m in syn_methods:
                log(f"[synthetic] {m}: ours ...")
                ours = run_ours(m, labels, gold)
                if ck_py is not None:
                    log(f"[synthetic] {m}: crowd-kit ...")
                    theirs = run_crowdkit(ck_py, folder, m, gold, a.timeout)
                else:
                    theirs = Run("not available", note="needs live crowd-kit")
                syn_rows.append(Row("synthetic", m, len(gold), ours, theirs))
                log(f"[synthetic] {m}: ours {brief(ours)} | crowd-kit {brief(theirs)}")
        title = (f"synthetic — {n:,} answers, {len(truth):,} tasks, "
                 f"{answers['worker'].nunique():,} workers, 10 classes (synthetic.py, seed 0)")
        print_table(title, syn_rows, a.timeout)
        rows.extend(syn_rows)

    big = None
    if run_big_ and "DS" in methods:
        log(f"[synthetic-10m] DS on {a.big_answers:,} answers ...")
        big = run_big(a.big_answers, 10, a.big_timeout)
        print(f"\n## synthetic-10m — our DS on {big['n_answers']:,} answers, "
              f"{big['n_tasks']:,} tasks, {big['n_workers']:,} workers, 10 classes "
              f"(generated in {big['generate_seconds']:.1f} s)")
        if "error" in big:
            print(f"error: {big['error']}")
        else:
            print(f"fit_predict {big['seconds']:.2f} s (CPU {big['cpu_seconds']:.2f} s), peak RSS {big['peak_rss_mb']:,.0f} MB "
                  f"({big['rss_peak_before_fit_mb']:,.0f} MB before the fit), accuracy "
                  f"{big['accuracy']:.4f} (majority vote {big['mv_accuracy']:.4f}), "
                  f"{big.get('n_iter', '?')} EM iterations")

    missing = sorted({f"{METHODS[r.method][0]}.py:{METHODS[r.method][1]} ({r.ours.note})"
                      for r in rows if r.ours.status == "not available"})
    res = summary(rows, big, a.timeout, "live" if ck_py else "quoted")
    load = os.getloadavg()[0]
    print(f"\nload average at the end {load:.1f}"
          + (f" on {os.cpu_count()} CPUs: other processes competed for the CPU, wall times "
             "are inflated (the cpu speed-up column is less affected)"
             if load > 0.5 * (os.cpu_count() or 1) + 1 else ""))
    if missing:
        print("\nnot available yet: " + ", ".join(missing))
    timeouts = [f"{r.dataset}/{r.method}" for r in rows if r.theirs.status == "timeout"]
    if timeouts:
        print(f"crowd-kit timed out (> {a.timeout:g} s): " + ", ".join(timeouts))

    if a.json:
        payload = {"crowdkit_mode": mode, "timeout": a.timeout,
                   "rows": [asdict(r) | {"diff_points": r.diff_points,
                                         "speedup": r.speedup(a.timeout)[0]} for r in rows],
                   "summary": res}
        a.json.write_text(json.dumps(payload, indent=2, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
