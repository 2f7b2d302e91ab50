"""datacoop's data valuation against pyDVL and OpenDataVal, side by side in one run.

What it measures
----------------
1. **Exact KNN-Shapley** (K = 5) on scikit-learn's digits (raw pixels, 80/20 stratified split,
   seed 0) and on a synthetic 10-class Gaussian mixture (20,000 train x 2,000 test, 32 dims;
   class means ~ N(0, 0.5^2), unit noise; 5-NN accuracy about 0.77), by datacoop
   (``knn_shapley``, plus ``soft_knn_shapley`` and ``knn_banzhaf`` for their times), pyDVL
   0.10.0 (``KNNShapleyValuation``) and OpenDataVal 1.3.0 (``KNNShapley``). Every library runs
   in its own subprocess through ``valuation_runner.py`` (same protocol for all, arrays in .npy
   files): wall and CPU time of the valuation call alone (no interpreter start, no import),
   peak RSS (``VmHWM``; imports and input arrays included), the max |difference| of the
   values and the ratios peer time / datacoop time, in wall and in CPU time.
2. **Ties.** Values only need to agree where no two training items are at the same distance
   from a test point with one matching its label and the other not (there, the order between
   them is a convention: datacoop breaks ties by item index, pyDVL by scikit-learn's neighbour
   order, OpenDataVal by a stable sort of float32 distances). The script finds the test points
   with such a tie, or near-tie (squared distances within 1e-12 (|x|^2 + |x_i|^2), where
   rounding can swap the order) and, when there are any, runs datacoop and pyDVL again on the
   tie-free test points alone. Digits (integer pixels) has such ties at almost every test
   point.
3. ``--big``: datacoop alone on 1,000,000 items x 1,000 test points (same mixture) in a
   subprocess: call time and peak RSS (the 256 MB input included).
4. **Mislabel detection**: 10% of the training labels flipped to another class (seed 0);
   AUROC of "low value => flipped" (``roc_auc_score(flipped, -values)``) for ``knn_shapley``,
   ``soft_knn_shapley``, ``knn_banzhaf``, ``data_oob`` and ``tmc_shapley`` on digits,
   breast_cancer and wine (both standardised), and the mixture (5,000 x 1,000). Validation
   labels are clean. ``data_oob`` uses its default trees (``--oob-estimators``, 800).
   ``tmc_shapley`` (an estimate; StandardScaler + its default LogisticRegression, since lbfgs
   on raw pixels is ~10x slower) runs on a random subset of the training items
   (``--tmc-items``, default 200) with ``--tmc-permutations`` (default 10): every permutation
   refits up to one model per item, which makes whole sets at its default 100 permutations
   far too slow for a benchmark.

Targets (PASS/FAIL in the summary; the script exits 0 either way, non-zero only when the
benchmark itself breaks):

* 20k x 2k: datacoop >= 50x faster than pyDVL and >= 25x faster than OpenDataVal, and
  <= 1.5 s;
* max |datacoop - pyDVL| <= 1e-12 on tie-free test points (each data set);
* ``--big``: <= 90 s wall and <= 2 GB peak RSS.

Isolated venvs
--------------
pyDVL needs numpy < 2, OpenDataVal an old stack (torch 2.1, transformers 4.35, numpy < 1.26,
pandas < 2); neither is a dependency of datacoop. On first use the script makes one venv per
peer under ``--cache`` (default ``.bench-venvs/`` at the repository root) with
``python -m venv`` + ``pip install`` of the pins below, and reuses it afterwards (a marker file
records the pins; ``pip freeze`` of the result is kept in ``freeze.txt``). Nothing else is
downloaded at run time. OpenDataVal's own pins cannot hold here: torch is pinned to the CPU
build ``torch==2.13.0+cpu`` that pip finds on this disk (an unpinned torch would pull a
multi-GB CUDA build), so OpenDataVal and geomloss are installed with ``--no-deps`` plus the
packages its import chain needs; torchvision is left out (see ``valuation_runner.py``). If a
venv cannot be made, the script says why and measures the others.

    .venv/bin/python benchmarks/valuation.py              # peers + mislabel table, ~15 min
    .venv/bin/python benchmarks/valuation.py --big        # also 1M x 1k (datacoop only)
    .venv/bin/python benchmarks/valuation.py --quick      # small mixture (2,000 x 200), ~3 min
    .venv/bin/python benchmarks/valuation.py --no-peers   # datacoop only
    .venv/bin/python benchmarks/valuation.py --cache /tmp/bench-venvs --json out.json

datacoop's functions are imported lazily: a missing one is reported as "not available".
Progress goes to stderr, tables to stdout.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RUNNER = HERE / "valuation_runner.py"
DEFAULT_CACHE = ROOT / ".bench-venvs"

K = 5
SEED = 0
SPEEDUP_PYDVL = 50.0
SPEEDUP_ODV = 25.0
SECONDS_20K = 1.5
EQUAL_TOL = 1e-12
TIE_REL_TOL = 1e-12
BIG_SECONDS = 90.0
BIG_GB = 2.0


@dataclass(frozen=True)
class PeerEnv:
    """A peer library's isolated venv: pins resolved together, then ``--no-deps`` extras."""

    name: str  # folder under the cache and the runner's LIBRARY argument
    label: str
    pins: tuple[str, ...]
    no_deps: tuple[str, ...]
    check: str  # Python that must run in the finished venv

    def marker(self) -> str:
        extra = f" | --no-deps {' '.join(self.no_deps)}" if self.no_deps else ""
        return " ".join(self.pins) + extra


PEERS = (
    PeerEnv("pydvl", "pyDVL 0.10.0",
            pins=("pyDVL==0.10.0", "numpy==1.26.4", "scipy==1.13.1", "scikit-learn==1.5.2",
                  "joblib==1.4.2", "pandas==2.2.3", "cvxpy==1.7.5", "numcodecs==0.15.2"),
            no_deps=(),
            check="import pydvl.valuation.methods.knn_shapley"),
    # OpenDataVal 1.3.0 pins torch~=2.1.0 and torchvision~=0.16.0: not installable with the
    # local torch, hence --no-deps. The other pins are its own (numpy<1.26, pandas<2, ...).
    PeerEnv("opendataval", "OpenDataVal 1.3.0",
            pins=("torch==2.13.0+cpu", "numpy==1.25.2", "pandas==1.5.3", "scipy==1.11.4",
                  "scikit-learn==1.3.2", "tqdm==4.64.1", "requests==2.31.0",
                  "matplotlib==3.8.4", "transformers==4.35.2"),
            no_deps=("opendataval==1.3.0", "geomloss==0.2.6"),
            check="import torch, sys; assert torch.__version__ == '2.13.0+cpu', "
                  f"torch.__version__; sys.path.insert(0, {str(HERE)!r}); "
                  "import valuation_runner as r; r._torchvision_placeholder(); "
                  "import opendataval.dataval.knnshap"),
)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- venvs


def peer_python(env: PeerEnv, cache: Path) -> tuple[Path | None, str]:
    """The peer venv's python (made once, then reused), or (None, why not)."""
    venv = cache / env.name
    py = venv / "bin" / "python"
    marker = venv / ".datacoop-pins"
    if py.exists() and marker.exists() and marker.read_text().strip() == env.marker():
        check = subprocess.run([str(py), "-c", env.check], capture_output=True, text=True)
        if check.returncode == 0:
            return py, f"reusing {venv}"
    log(f"creating the {env.label} venv {venv} ({env.marker()}) ...")
    pip = [str(py), "-m", "pip", "install", "--quiet"]
    steps = [[sys.executable, "-m", "venv", "--clear", str(venv)], pip + list(env.pins)]
    if env.no_deps:
        steps.append(pip + ["--no-deps", *env.no_deps])
    steps.append([str(py), "-c", env.check])
    for cmd in steps:
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"`{' '.join(cmd[:5])} ...` failed: {exc}"
        if p.returncode != 0:
            errs = [ln for ln in p.stderr.splitlines()
                    if ln.strip() and not ln.startswith("WARNING: Location")]
            return None, f"`{' '.join(cmd[:5])} ...` failed: {' | '.join(errs[-3:])}"
    freeze = subprocess.run([str(py), "-m", "pip", "freeze"], capture_output=True, text=True)
    (venv / "freeze.txt").write_text(freeze.stdout)
    marker.write_text(env.marker() + "\n")
    return py, f"created {venv}"


# --------------------------------------------------------------------------- data


@dataclass
class Split:
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    note: str = ""

    def save(self, folder: Path, test_rows: np.ndarray | None = None) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        rows = slice(None) if test_rows is None else test_rows
        for key, arr in (("x_train", self.x_train), ("y_train", self.y_train),
                         ("x_test", self.x_test[rows]), ("y_test", self.y_test[rows])):
            np.save(folder / f"{key}.npy", arr)
        return folder

    def describe(self) -> str:
        return (f"{len(self.y_train):,} train x {len(self.y_test):,} test, "
                f"{self.x_train.shape[1]} dims, {len(np.unique(self.y_train))} classes")


def mixture(n_train: int, n_test: int, dim: int = 32, classes: int = 10,
            seed: int = SEED) -> Split:
    """Gaussian mixture: class means ~ N(0, 0.5^2 I), unit noise, uniform classes."""
    rng = np.random.default_rng(seed)
    means = rng.normal(0.0, 0.5, (classes, dim))
    y = rng.integers(0, classes, n_train + n_test)
    x = rng.standard_normal((n_train + n_test, dim))
    x += means[y]
    return Split(f"mixture {n_train // 1000}k x {n_test:,}" if n_train >= 1000 else "mixture",
                 x[:n_train], y[:n_train], x[n_train:], y[n_train:],
                 note=f"{classes}-class Gaussian mixture, seed {seed}")


def sklearn_set(name: str, seed: int = SEED) -> Split:
    """A scikit-learn toy set, 80/20 stratified split; all but digits standardised."""
    from sklearn import datasets
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, stratify=y, random_state=seed)
    note = "raw pixels 0-16"
    if name != "digits":
        scaler = StandardScaler().fit(xtr)
        xtr, xte, note = scaler.transform(xtr), scaler.transform(xte), "standardised"
    return Split(name, xtr, ytr.astype(np.int64), xte, yte.astype(np.int64), note)


def tie_affected(s: Split, rel_tol: float = TIE_REL_TOL, batch: int = 32) -> np.ndarray:
    """Per test point: do two items at (near-)equal distance differ in matching its label?

    Only such ties change KNN-Shapley values when their order is swapped (swapping two items
    that both match, or both do not, leaves every value unchanged). Squared distances are
    computed directly in float64 (exact on integer pixels); two count as tied when they differ
    by at most ``rel_tol * (|x|^2 + |x_i|^2)``, the scale of the rounding error of the
    ``|x|^2 + |x_i|^2 - 2 x.x_i`` form that scikit-learn (and, in float32, torch) use, so
    that below it the order may depend on how a library computes the distance.
    """
    out = np.zeros(len(s.y_test), dtype=bool)
    train_sq = np.einsum("nd,nd->n", s.x_train, s.x_train)
    for lo in range(0, len(s.y_test), batch):
        xb = s.x_test[lo:lo + batch]
        diff = xb[:, None, :] - s.x_train[None, :, :]
        d = np.einsum("bnd,bnd->bn", diff, diff)
        order = np.argsort(d, axis=1, kind="stable")
        ds = np.take_along_axis(d, order, axis=1)
        scale = np.einsum("bd,bd->b", xb, xb)[:, None] + np.maximum(
            train_sq[order[:, 1:]], train_sq[order[:, :-1]])
        match = s.y_train[order] == s.y_test[lo:lo + batch, None]
        near = np.diff(ds, axis=1) <= rel_tol * scale
        out[lo:lo + batch] = (near & (match[:, 1:] != match[:, :-1])).any(axis=1)
    return out


# --------------------------------------------------------------------------- runs


@dataclass
class Result:
    library: str
    method: str
    status: str  # ok / error / timeout / not available / skipped
    seconds: float | None = None
    cpu_seconds: float | None = None
    runs: list[float] = field(default_factory=list)
    peak_rss_mb: float | None = None
    rss_before_mb: float | None = None
    versions: dict[str, str] = field(default_factory=dict)
    note: str = ""
    load: float | None = None  # 1-min load average when the run started
    values: np.ndarray | None = field(default=None, repr=False)


def run_lib(py: Path, library: str, method: str, folder: Path, timeout: float,
            repeat: int = 3) -> Result:
    """One runner subprocess; ``values`` read back from the folder."""
    cmd = [str(py), str(RUNNER), library, method, str(folder), "--k", str(K),
           "--repeat", str(repeat)]
    load = os.getloadavg()[0]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return Result(library, method, "timeout", note=f">{timeout:g} s", load=load)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        err = p.stderr.strip().splitlines()
        return Result(library, method, "error",
                      note=f"exit {p.returncode}: {err[-1][:200] if err else 'no output'}")
    rec = json.loads(lines[-1])
    if "error" in rec:
        status = "not available" if "ModuleNotFoundError" in rec["error"] else "error"
        return Result(library, method, status, note=rec["error"][:200])
    return Result(library, method, "ok", rec["seconds"], rec["cpu_seconds"], rec["runs"],
                  rec["peak_rss_mb"], rec["rss_before_mb"], rec.get("versions", {}), load=load,
                  values=np.load(folder / f"values-{library}-{method}.npy"))


def max_diff(a: Result, b: Result | None) -> float | None:
    if b is None or a.values is None or b.values is None:
        return None
    return float(np.max(np.abs(a.values - b.values)))


@dataclass
class Comparison:
    split: Split
    n_tied: int
    results: list[Result]
    tie_free: dict[str, Any]

    def get(self, library: str, method: str = "knn_shapley") -> Result | None:
        return next((r for r in self.results if (r.library, r.method) == (library, method)),
                    None)

    def ratio(self, library: str, cpu: bool = False) -> float | None:
        ours, theirs = self.get("datacoop"), self.get(library)
        attr = "cpu_seconds" if cpu else "seconds"
        if ours is None or theirs is None or not getattr(ours, attr):
            return None
        t = getattr(theirs, attr)
        return None if t is None else t / getattr(ours, attr)


def compare(split: Split, peers: dict[str, Path], tmp: Path, timeout: float) -> Comparison:
    """datacoop's three KNN methods and each peer's KNN-Shapley on one split."""
    folder = split.save(tmp / split.name.replace(" ", "_"))
    log(f"[{split.name}] looking for ties ...")
    tied = tie_affected(split)
    ours_py = Path(sys.executable)
    results = []
    for method in ("knn_shapley", "soft_knn_shapley", "knn_banzhaf"):
        log(f"[{split.name}] datacoop {method} ...")
        results.append(run_lib(ours_py, "datacoop", method, folder, timeout))
    for name, py in peers.items():
        log(f"[{split.name}] {name} knn_shapley ...")
        results.append(run_lib(py, name, "knn_shapley", folder, timeout))
        r = results[-1]
        log(f"[{split.name}] {name}: {r.status} {r.seconds or ''} {r.note}")
    comp = Comparison(split, int(tied.sum()), results, {})
    ours = comp.get("datacoop")
    if "pydvl" in peers and tied.any() and not tied.all():
        log(f"[{split.name}] again on the {int((~tied).sum())} tie-free test points ...")
        sub = split.save(tmp / (split.name.replace(" ", "_") + "-tie-free"), ~tied)
        a = run_lib(ours_py, "datacoop", "knn_shapley", sub, timeout, repeat=1)
        b = run_lib(peers["pydvl"], "pydvl", "knn_shapley", sub, timeout, repeat=1)
        comp.tie_free = {"n": int((~tied).sum()), "max_diff": max_diff(a, b),
                         "status": f"datacoop {a.status}, pyDVL {b.status}"}
    elif "pydvl" in peers and ours is not None:
        comp.tie_free = {"n": int((~tied).sum()), "max_diff":
                         max_diff(ours, comp.get("pydvl")) if not tied.any() else None,
                         "status": "every test point tied" if tied.all() else "full run"}
    return comp


# --------------------------------------------------------------------------- printing


def fmt_s(x: float | None) -> str:
    if x is None:
        return ""
    return f"{x:.0f}" if x >= 100 else f"{x:.2f}" if x >= 1 else f"{x:.3f}"


def fmt_e(x: float | None) -> str:
    return "" if x is None else f"{x:.1e}"


def table(head: list[str], body: list[list[str]]) -> None:
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h)
              for i, h in enumerate(head)]
    left = {0, len(head) - 1}
    for row in [head, *body]:
        print("  ".join(c.ljust(widths[i]) if i in left else c.rjust(widths[i])
                        for i, c in enumerate(row)).rstrip())
    sys.stdout.flush()


def print_comparison(c: Comparison) -> None:
    s = c.split
    print(f"\n## {s.name} — {s.describe()} ({s.note}), K = {K}")
    print(f"test points with a label-relevant tie in distance: {c.n_tied:,} of {len(s.y_test):,}")
    ours = c.get("datacoop")
    pydvl = c.get("pydvl")
    head = ["library / method", "wall s", "CPU s", "runs", "load", "peak RSS MB",
            "RSS before MB", "max|Δ| vs datacoop", "max|Δ| vs pyDVL", "wall x", "CPU x", "notes"]
    body = []
    for r in c.results:
        label = f"{r.library} {r.method}" if r.library == "datacoop" else \
            f"{r.library} {r.versions.get(r.library, '')}".rstrip()
        is_peer = r.library != "datacoop"
        vs_ours = max_diff(r, ours) if is_peer else None
        vs_pydvl = max_diff(r, pydvl) if r is not pydvl and r.method == "knn_shapley" else None
        note = "" if r.status == "ok" else f"{r.status}: {r.note}"
        if r.status == "ok" and r.library != "datacoop":
            note = ", ".join(f"{k} {v}" for k, v in r.versions.items() if k != r.library)
        body.append([label, fmt_s(r.seconds), fmt_s(r.cpu_seconds), str(len(r.runs) or ""),
                     "" if r.load is None else f"{r.load:.1f}",
                     "" if r.peak_rss_mb is None else f"{r.peak_rss_mb:,.0f}",
                     "" if r.rss_before_mb is None else f"{r.rss_before_mb:,.0f}",
                     fmt_e(vs_ours), fmt_e(vs_pydvl),
                     _ratio(c.ratio(r.library)) if is_peer else "",
                     _ratio(c.ratio(r.library, cpu=True)) if is_peer else "", note[:90]])
    table(head, body)
    if c.tie_free:
        t = c.tie_free
        print(f"tie-free test points: {t['n']:,}; max |datacoop - pyDVL| there: "
              f"{fmt_e(t['max_diff']) or 'n/a'} ({t['status']})")
    print("load = 1-minute load average when the run started (2 cores: above ~2, wall "
          "times are inflated); "
          "wall x / CPU x = peer time / datacoop knn_shapley time (median of the runs); "
          "peak RSS includes imports and input arrays; OpenDataVal computes in float32 and, "
          "like datacoop, breaks ties by item index (stable sort), pyDVL in scikit-learn's "
          "neighbour order. Defaults everywhere: datacoop uses one thread per core, pyDVL one "
          "joblib worker, torch its own threads; the CPU x column compares total CPU time")


def _ratio(x: float | None) -> str:
    return "" if x is None else f"{x:.1f}x"


# --------------------------------------------------------------------------- big


def run_big(n_train: int, n_test: int, tmp: Path, timeout: float) -> dict[str, Any]:
    t0 = time.perf_counter()
    split = mixture(n_train, n_test)
    info: dict[str, Any] = {"n_train": n_train, "n_test": n_test,
                            "generate_seconds": time.perf_counter() - t0}
    folder = split.save(tmp / "big")
    del split
    t0 = time.perf_counter()
    r = run_lib(Path(sys.executable), "datacoop", "knn_shapley", folder, timeout, repeat=1)
    info.update(process_seconds=time.perf_counter() - t0, status=r.status, note=r.note,
                seconds=r.seconds, cpu_seconds=r.cpu_seconds, peak_rss_mb=r.peak_rss_mb,
                rss_before_mb=r.rss_before_mb)
    if r.values is not None:
        info["values_sum"] = float(r.values.sum())
    return info


# --------------------------------------------------------------------------- mislabel


def datacoop_fn(module: str, name: str) -> tuple[Callable[..., Any] | None, str]:
    full = f"datacoop.algorithms.valuation.{module}"
    importlib.invalidate_caches()
    try:
        mod = importlib.import_module(full)
    except ModuleNotFoundError as exc:
        return None, (f"{module}.py missing" if exc.name == full else f"import failed: {exc}")
    except Exception as exc:  # a module being written may be broken
        return None, f"import failed: {type(exc).__name__}: {str(exc)[:150]}"
    fn = getattr(mod, name, None)
    return (fn, "") if fn is not None else (None, f"{module}.py has no {name}")


MISLABEL_METHODS = {  # name -> (module, function)
    "knn_shapley": ("knn", "knn_shapley"),
    "soft_knn_shapley": ("knn", "soft_knn_shapley"),
    "knn_banzhaf": ("knn", "knn_banzhaf"),
    "data_oob": ("oob", "data_oob"),
    "tmc_shapley": ("tmc", "tmc_shapley"),
}


def flip_labels(y: np.ndarray, frac: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Flip ``frac`` of the labels, each to a uniformly drawn *other* class."""
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    idx = rng.choice(len(y), size=int(round(frac * len(y))), replace=False)
    noisy = y.copy()
    shift = rng.integers(1, len(classes), len(idx))
    pos = np.searchsorted(classes, y[idx])
    noisy[idx] = classes[(pos + shift) % len(classes)]
    flipped = np.zeros(len(y), dtype=bool)
    flipped[idx] = True
    return noisy, flipped


def tmc_estimator() -> Any:
    """The default logistic regression behind a scaler: on raw pixels lbfgs needs ~10x longer."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


def mislabel_cell(method: str, s: Split, noisy: np.ndarray, flipped: np.ndarray,
                  opts: argparse.Namespace) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score

    fn, why = datacoop_fn(*MISLABEL_METHODS[method])
    if fn is None:
        return {"status": "not available", "note": why}
    rows = np.arange(len(noisy))
    if method == "tmc_shapley" and len(rows) > opts.tmc_items:
        # Its own stream: the flips were drawn with default_rng(SEED).choice(N, ...) too.
        rng = np.random.default_rng([SEED, 1])
        rows = np.sort(rng.choice(rows, opts.tmc_items, replace=False))
    x, y, f = s.x_train[rows], noisy[rows], flipped[rows]
    t0 = time.perf_counter()
    try:
        if method == "data_oob":
            values = fn(x, y, n_estimators=opts.oob_estimators, seed=SEED)
        elif method == "tmc_shapley":
            values = fn(x, y, s.x_test, s.y_test, tmc_estimator(),
                        n_permutations=opts.tmc_permutations, seed=SEED).values
        else:
            values = fn(x, y, s.x_test, s.y_test, K)
    except Exception as exc:
        return {"status": "error", "note": f"{type(exc).__name__}: {str(exc)[:150]}"}
    dt = time.perf_counter() - t0
    values = np.asarray(values, dtype=np.float64)
    ok = ~np.isnan(values)
    if f[ok].all() or not f[ok].any():
        return {"status": "error", "note": "one class of flipped/clean only", "seconds": dt}
    return {"status": "ok", "auroc": float(roc_auc_score(f[ok], -values[ok])), "seconds": dt,
            "n": int(ok.sum()), "n_flipped": int(f[ok].sum()), "nan": int((~ok).sum())}


def mislabel_table(splits: list[Split], opts: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for s in splits:
        noisy, flipped = flip_labels(s.y_train, 0.10, SEED)
        for method in MISLABEL_METHODS:
            log(f"[mislabel {s.name}] {method} ...")
            cell = mislabel_cell(method, s, noisy, flipped, opts)
            log(f"[mislabel {s.name}] {method}: {cell}")
            out[f"{s.name}/{method}"] = cell
    print(f"\n## Mislabel detection — 10% of training labels flipped (seed {SEED}); "
          "AUROC of 'low value => flipped' (time s)")
    for s in splits:
        print(f"- {s.name}: {s.describe()} ({s.note})")
    print(f"- data_oob: {opts.oob_estimators} trees (default estimator); tmc_shapley: an "
          f"estimate, StandardScaler + LogisticRegression(max_iter=1000), "
          f"{opts.tmc_permutations} permutations, on a random subset of at most "
          f"{opts.tmc_items} training items (AUROC over that subset); KNN methods: K = {K}, "
          "all items")
    head = ["method", *(s.name for s in splits), "notes"]
    body = []
    for method in MISLABEL_METHODS:
        row, notes = [method], []
        for s in splits:
            c = out[f"{s.name}/{method}"]
            if c["status"] == "ok":
                row.append(f"{c['auroc']:.3f} ({fmt_s(c['seconds'])})")
                if c["nan"]:
                    notes.append(f"{s.name}: {c['nan']} NaN values left out")
                if method == "tmc_shapley" and c["n"] < len(s.y_train):
                    notes.append(f"{s.name}: {c['n']} items")
            else:
                row.append(c["status"])
                notes.append(f"{s.name}: {c['note']}")
        body.append([*row, "; ".join(dict.fromkeys(notes))[:120]])
    table(head, body)
    return out


# --------------------------------------------------------------------------- summary


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def summary(comps: list[Comparison], big: dict[str, Any] | None, quick: bool,
            timeout: float) -> dict[str, Any]:
    print("\n## Targets")
    res: dict[str, Any] = {}
    main = next((c for c in comps if c.split.name.startswith("mixture 20k")), None)
    if main is None:
        print("1. speed on 20k x 2k: not measured" + (" (--quick)" if quick else ""))
    else:
        ours = main.get("datacoop")
        if ours is None or ours.seconds is None:
            print(f"1. speed on 20k x 2k: datacoop {ours.status if ours else 'not run'}"
                  f" ({ours.note if ours else ''})")
        else:
            ok = ours.seconds <= SECONDS_20K
            print(f"1. datacoop knn_shapley on 20k x 2k: {verdict(ok)} "
                  f"{ours.seconds:.3f} s wall (<= {SECONDS_20K} s; load {ours.load:.1f} at the "
                  f"start; CPU time {ours.cpu_seconds:.3f} s over the threads)")
            res["seconds_20k"] = {"seconds": ours.seconds, "pass": ok,
                                  "cpu_seconds": ours.cpu_seconds}
            for lib, target in (("pydvl", SPEEDUP_PYDVL), ("opendataval", SPEEDUP_ODV)):
                r = main.get(lib)
                if r is None:
                    print(f"   vs {lib}: not run")
                    continue
                ratio, bound = main.ratio(lib), ""
                if r.status == "timeout":
                    ratio, bound = timeout / ours.seconds, ">="
                if ratio is None:
                    print(f"   vs {lib}: not measured ({r.status}: {r.note})")
                    continue
                ok = ratio >= target
                cpu = main.ratio(lib, cpu=True)
                cpu_txt = "" if cpu is None else f"; CPU-time ratio {cpu:.1f}x"
                print(f"   >= {target:g}x faster than {lib}: {verdict(ok)} {bound}{ratio:.1f}x "
                      f"wall ({fmt_s(r.seconds) or '>' + fmt_s(timeout)} s vs "
                      f"{ours.seconds:.3f} s){cpu_txt}")
                res[f"speedup_{lib}"] = {"ratio": ratio, "cpu_ratio": cpu, "pass": ok}
    if main is not None:
        print("   (targets are on wall time; the CPU-time ratio, less sensitive to other load, "
              "counts datacoop's threads on both cores against the peers' own)")
    print(f"2. max |datacoop - pyDVL| <= {EQUAL_TOL:g} on tie-free test points:")
    for c in comps:
        t = c.tie_free
        if not t:
            print(f"   {c.split.name}: not compared (pyDVL not run)")
        elif t["max_diff"] is None:
            print(f"   {c.split.name}: not compared ({t['status']})")
        else:
            ok = t["max_diff"] <= EQUAL_TOL
            print(f"   {c.split.name}: {verdict(ok)} {t['max_diff']:.1e} on {t['n']:,} of "
                  f"{len(c.split.y_test):,} test points")
            res[f"equal_{c.split.name}"] = {"max_diff": t["max_diff"], "n": t["n"], "pass": ok}
    if big is None:
        print("3. 1M x 1k: not run (use --big)")
    elif big["status"] != "ok":
        print(f"3. 1M x 1k: {big['status']} {big['note']}")
    else:
        t_ok, m_ok = big["seconds"] <= BIG_SECONDS, big["peak_rss_mb"] / 1024 <= BIG_GB
        print(f"3. {big['n_train']:,} x {big['n_test']:,}: {verdict(t_ok)} {big['seconds']:.1f} s "
              f"(<= {BIG_SECONDS:g} s), {verdict(m_ok)} peak RSS "
              f"{big['peak_rss_mb'] / 1024:.2f} GB (<= {BIG_GB:g} GB)")
        res["big"] = {"pass_time": t_ok, "pass_memory": m_ok}
    return res


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="mixture 2,000 x 200 instead of 20k x 2k, smaller mislabel budgets, "
                    "no --big")
    ap.add_argument("--no-peers", action="store_true", help="datacoop only")
    ap.add_argument("--big", action="store_true", help="also 1,000,000 x 1,000, datacoop only")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                    help="folder of the peers' venvs (default .bench-venvs/)")
    ap.add_argument("--no-mislabel", action="store_true", help="skip the mislabel table")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per library run")
    ap.add_argument("--big-size", type=int, nargs=2, default=[1_000_000, 1_000],
                    metavar=("N_TRAIN", "N_TEST"))
    ap.add_argument("--oob-estimators", type=int, help="data_oob trees (800; --quick 100)")
    ap.add_argument("--tmc-permutations", type=int, help="tmc_shapley permutations (10; 3)")
    ap.add_argument("--tmc-items", type=int,
                    help="tmc_shapley training subset size (200; --quick 60)")
    ap.add_argument("--json", type=Path, help="also write the measurements to this file")
    a = ap.parse_args(argv)
    a.oob_estimators = a.oob_estimators or (100 if a.quick else 800)
    a.tmc_permutations = a.tmc_permutations or (3 if a.quick else 10)
    a.tmc_items = a.tmc_items or (60 if a.quick else 200)

    peers: dict[str, Path] = {}
    peer_notes = []
    for env in () if a.no_peers else PEERS:
        py, why = peer_python(env, a.cache.resolve())
        log(f"{env.label}: {why}")
        if py is None:
            peer_notes.append(f"{env.label} NOT RUN: {why}")
        else:
            peers[env.name] = py
            peer_notes.append(f"{env.label}: {env.marker()}")

    print(f"# datacoop data valuation vs pyDVL and OpenDataVal — "
          f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, numpy {np.__version__}, "
          f"load average at start {os.getloadavg()[0]:.1f}")
    print("peers: --no-peers" if a.no_peers else "peers (isolated venvs, pins):")
    for note in peer_notes:
        print(f"- {note}")

    comps, big = [], None
    with tempfile.TemporaryDirectory(prefix="datacoop-bench-valuation-") as tmp_name:
        tmp = Path(tmp_name)
        splits = [sklearn_set("digits"),
                  mixture(2_000, 200) if a.quick else mixture(20_000, 2_000)]
        for split in splits:
            comps.append(compare(split, peers, tmp, a.timeout))
            print_comparison(comps[-1])
        if a.big and not a.quick:
            log(f"[big] {a.big_size[0]:,} x {a.big_size[1]:,} ...")
            big = run_big(*a.big_size, tmp, a.timeout)
            print(f"\n## big — datacoop knn_shapley on {big['n_train']:,} x {big['n_test']:,} "
                  f"(32 dims, 10 classes), own subprocess")
            if big["status"] != "ok":
                print(f"{big['status']}: {big['note']}")
            else:
                print(f"call {big['seconds']:.1f} s wall, {big['cpu_seconds']:.1f} s CPU; "
                      f"subprocess {big['process_seconds']:.1f} s in all; peak RSS "
                      f"{big['peak_rss_mb']:,.0f} MB ({big['rss_before_mb']:,.0f} MB before "
                      f"the call, input included); data generated in "
                      f"{big['generate_seconds']:.1f} s")
    mislabel = None
    if not a.no_mislabel:
        sets = [sklearn_set("digits"), sklearn_set("breast_cancer"), sklearn_set("wine"),
                mixture(1_000, 200) if a.quick else mixture(5_000, 1_000)]
        mislabel = mislabel_table(sets, a)
    res = summary(comps, big, a.quick, a.timeout)
    load = os.getloadavg()[0]
    print(f"\nload average at the end {load:.1f}"
          + (f" on {os.cpu_count()} CPUs: other processes competed for the CPU; wall times are "
             "inflated (the CPU x column is less affected)"
             if load > 0.5 * (os.cpu_count() or 1) + 1 else ""))
    if a.json:
        payload = {
            "comparisons": [{"split": c.split.name, "n_tied": c.n_tied, "tie_free": c.tie_free,
                             "results": [{k: v for k, v in vars(r).items() if k != "values"}
                                         for r in c.results]} for c in comps],
            "big": big, "mislabel": mislabel, "summary": res, "peers": peer_notes}
        a.json.write_text(json.dumps(payload, indent=2, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
