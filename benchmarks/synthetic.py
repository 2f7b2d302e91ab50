"""Synthetic crowd answers from known worker confusion matrices (Dawid-Skene's generative model).

    from synthetic import generate
    answers, truth = generate(10_000_000, n_classes=10)   # ~2 s, ~0.4 GB peak

* Each worker ``w`` has a confusion matrix ``P_w`` (``n_classes x n_classes``, rows sum to 1):
  the diagonal entries are drawn from ``Beta(8, 2)`` (mean accuracy 0.8, per class) and the
  remaining mass of each row is spread over the other classes with a flat Dirichlet, so
  mistakes are structured (some confusions are much likelier than others), which is what
  Dawid-Skene can exploit and majority vote cannot.
* Task classes come from a random prior ``Dirichlet(2, ..., 2)``.
* Every task gets ``answers_per_task`` answers from distinct workers (the last task may get
  fewer so that exactly ``n_answers`` rows come out). Workers of a task are
  ``(offset + j * stride) % n_workers`` with a random offset and a random stride coprime with
  ``n_workers``, so they never repeat within a task and every pair of workers co-occurs.
* Labels are drawn without any Python loop over answers: inverse-CDF sampling, i.e. the
  label of an answer is the number of entries of the cumulative confusion row
  ``cumsum(P_w[true class])`` that are <= ``u ~ U[0, 1)``, computed for a million answers
  per NumPy operation (the loop runs over chunks, 10 iterations for 10M answers).

Columns are ``int32`` (10M answers = 120 MB). CLI::

    python benchmarks/synthetic.py 200000 --classes 10 --out DIR     # DIR/labels.csv, DIR/gold.csv
    python benchmarks/synthetic.py 10000000 --npz FILE.npz            # t, w, y, truth arrays
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd


def default_workers(n_answers: int) -> int:
    """About 1,000 answers per worker, between 20 and 5,000 workers."""
    return int(min(5_000, max(20, n_answers // 1_000)))


def confusion_matrices(
    rng: np.random.Generator, n_workers: int, n_classes: int, diag: tuple[float, float] = (8.0, 2.0)
) -> np.ndarray:
    """``(n_workers, n_classes, n_classes)`` row-stochastic matrices, diagonal ~ Beta(*diag)."""
    k = n_classes
    d = rng.beta(diag[0], diag[1], size=(n_workers, k))
    off = rng.dirichlet(np.ones(k - 1), size=(n_workers, k)) * (1.0 - d)[..., None]
    cm = np.empty((n_workers, k, k))
    eye = np.eye(k, dtype=bool)
    cm[:, eye] = d
    cm[:, ~eye] = off.reshape(n_workers, k * (k - 1))
    return cm


def _coprime_strides(n: int, limit: int = 4096) -> np.ndarray:
    cand = np.arange(1, max(2, min(n, limit)))
    ok = np.array([math.gcd(int(c), n) == 1 for c in cand])
    return cand[ok] if ok.any() else np.array([1])


def generate(
    n_answers: int,
    n_classes: int = 10,
    n_workers: int | None = None,
    answers_per_task: int = 5,
    seed: int = 0,
    diag: tuple[float, float] = (8.0, 2.0),
    return_confusions: bool = False,
) -> tuple[pd.DataFrame, pd.Series] | tuple[pd.DataFrame, pd.Series, np.ndarray]:
    """``(answers[task, worker, label], truth)``; all ``int32``. ``truth`` is indexed by task.

    With ``return_confusions=True`` also returns the workers' confusion matrices.
    """
    arrays = generate_arrays(n_answers, n_classes, n_workers, answers_per_task, seed, diag)
    t, w, y, truth, cm = arrays
    answers = pd.DataFrame({"task": t, "worker": w, "label": y}, copy=False)
    truth_s = pd.Series(truth, index=pd.RangeIndex(len(truth), name="task"), name="truth")
    if return_confusions:
        return answers, truth_s, cm
    return answers, truth_s


def generate_arrays(
    n_answers: int,
    n_classes: int = 10,
    n_workers: int | None = None,
    answers_per_task: int = 5,
    seed: int = 0,
    diag: tuple[float, float] = (8.0, 2.0),
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The same as :func:`generate` as plain arrays ``(t, w, y, truth, confusions)``."""
    if n_answers < 1 or n_classes < 2:
        raise ValueError("need n_answers >= 1 and n_classes >= 2")
    n_workers = default_workers(n_answers) if n_workers is None else int(n_workers)
    k = int(answers_per_task)
    if not 1 <= k <= n_workers:
        raise ValueError("answers_per_task must be between 1 and n_workers")
    rng = np.random.default_rng(seed)
    n_tasks = -(-n_answers // k)

    cm = confusion_matrices(rng, n_workers, n_classes, diag)
    prior = rng.dirichlet(np.full(n_classes, 2.0))
    truth = rng.choice(n_classes, size=n_tasks, p=prior).astype(np.int32)

    # Distinct workers per task: offset + j * stride (mod n_workers), stride coprime.
    strides = _coprime_strides(n_workers)
    offset = rng.integers(0, n_workers, size=n_tasks, dtype=np.int64)
    stride = strides[rng.integers(0, len(strides), size=n_tasks)].astype(np.int64)
    t = np.repeat(np.arange(n_tasks, dtype=np.int32), k)[:n_answers]
    j = np.tile(np.arange(k, dtype=np.int64), n_tasks)[:n_answers]
    w64 = offset[t]
    w64 += j * stride[t]
    del j
    w64 %= n_workers
    w = w64.astype(np.int32)
    del w64

    # Inverse CDF: the label is the number of entries of the cumulative confusion row
    # (worker, true class) that are <= u, u ~ U[0, 1); done in chunks of 1M answers so the
    # gathered (chunk, n_classes) rows stay small.
    cum = np.cumsum(cm, axis=2).reshape(-1, n_classes)
    cum[:, -1] = 1.0  # exact, so u < 1 never falls past the last class
    y = np.empty(n_answers, dtype=np.int32)
    chunk = 1 << 20
    for s in range(0, n_answers, chunk):
        e = min(n_answers, s + chunk)
        row = w[s:e].astype(np.int64) * n_classes + truth[t[s:e]]
        u = rng.random(e - s)
        y[s:e] = (cum[row] <= u[:, None]).sum(axis=1)
    return t, w, y, truth, cm


def write_csv(answers: pd.DataFrame, truth: pd.Series, out: Path) -> None:
    """``out/labels.csv`` (task,worker,label) and ``out/gold.csv`` (task,label), the benchmark format."""
    out.mkdir(parents=True, exist_ok=True)
    answers.to_csv(out / "labels.csv", index=False)
    truth.rename("label").rename_axis("task").reset_index().to_csv(out / "gold.csv", index=False)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("n_answers", type=int)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--workers", type=int, default=None, help="default: n_answers // 1000, in [20, 5000]")
    p.add_argument("--per-task", type=int, default=5, help="answers per task (default 5)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, help="write labels.csv and gold.csv into this folder")
    p.add_argument("--npz", type=Path, help="write arrays t, w, y, truth to this .npz file")
    a = p.parse_args(argv)
    t0 = time.perf_counter()
    t, w, y, truth, _ = generate_arrays(a.n_answers, a.classes, a.workers, a.per_task, a.seed)
    dt = time.perf_counter() - t0
    n_workers = a.workers or default_workers(a.n_answers)
    print(
        f"{len(y):,} answers, {len(truth):,} tasks, {n_workers:,} workers, {a.classes} classes "
        f"in {dt:.2f} s; share of answers equal to the truth: {np.mean(y == truth[t]):.3f}",
        file=sys.stderr,
    )
    if a.npz:
        np.savez(a.npz, t=t, w=w, y=y, truth=truth)
    if a.out:
        answers = pd.DataFrame({"task": t, "worker": w, "label": y})
        write_csv(answers, pd.Series(truth, name="truth"), a.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
