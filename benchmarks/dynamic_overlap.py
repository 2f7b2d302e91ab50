"""Dynamic overlap against fixed overlap, on simulated crowds.

What it measures: how many answers dynamic overlap
(``datacoop.algorithms.overlap.items_needing_answers``) needs to reach a given label
accuracy, compared with asking every item a fixed number of times.

The simulated world (seeded ``np.random.default_rng``; all sizes are options):

* ``--items`` items (2,000) with ``--classes`` classes (4) and a skewed class prior
  ``p_j ∝ K - j`` (0.4, 0.3, 0.2, 0.1 for four classes);
* ``--workers`` workers (40), each with a confusion matrix ``π_w[true, answer]``:
  45 % good (diagonal ~ U(0.85, 0.95)), 40 % mediocre (diagonal ~ U(0.60, 0.70)), 15 %
  spammers (half answer uniformly at random, half nearly always the same class). Errors are
  spread over the other classes by a Dirichlet(2) draw, so they are not uniform;
* workers differ in activity (log-normal weights); every answer comes from a worker drawn
  by activity among those who have not answered that item yet, and is a draw from the
  worker's confusion row for the item's true class.

Strategies:

* ``fixed k`` (k = 3, 5, 7; ``--fixed``): every item gets k answers, aggregated with majority vote
  (``MajorityVote``) and with Dawid–Skene (``DawidSkene``), both from
  ``datacoop.algorithms.aggregation``;
* ``dynamic``: answers arrive one at a time. The scheduler asks
  ``items_needing_answers(confidence=0.95, max_overlap=7, min_overlap=m)`` for the items
  still in need (most uncertain first) and hands out at most ``--batch`` (200) answers,
  one per item, before asking again. The worker model starts as the default one-coin skill
  (0.7) and is re-estimated every ``--refit-every`` (500) answers by Dawid–Skene on the
  answers so far (``worker_model(DawidSkene().fit(...))``: per-worker confusion matrices
  and class priors). Only items with at least two answers enter the fit: on items with one
  answer Dawid–Skene cannot tell a good worker from a bad one and would call everybody
  perfect. No gold items are used. Final labels: Dawid–Skene on all the answers.
  Rows for ``min_overlap`` 1 and 2;
* ``dynamic, true π`` (reference, not achievable in practice): the same scheduler given the
  true confusion matrices and prior, i.e. what a perfect worker model would save.

Savings, ``1 - answers(dynamic) / answers(fixed)``, are given twice per dynamic row: against
the fixed strategy of nearest accuracy (either side; the accuracy difference is printed),
and "at equal or better accuracy", against the most accurate fixed strategy the dynamic one
still equals or beats ("n/a" when every fixed strategy is more
accurate. Numbers are averaged over ``--seeds`` worlds (5).

    python benchmarks/dynamic_overlap.py [--items 2000] [--classes 4] [--seeds 3] [--quick]

Exits 0 (it is a measurement, not a test). Progress goes to stderr, the table to stdout.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from datacoop.algorithms.aggregation.dawid_skene import DawidSkene
from datacoop.algorithms.aggregation.majority_vote import MajorityVote
from datacoop.algorithms.overlap import items_needing_answers, worker_model

FIXED_OVERLAPS = (3, 5, 7)


@dataclass
class World:
    truth: np.ndarray  # (items,) true class
    prior: np.ndarray  # (K,)
    confusion: np.ndarray  # (workers, K, K): rows true, columns answered
    activity: np.ndarray  # (workers,) probability that the next answer comes from w
    kinds: list[str]
    rng: np.random.Generator

    @property
    def k(self) -> int:
        return len(self.prior)

    @property
    def n_items(self) -> int:
        return len(self.truth)

    def answer(self, worker: int, item: int) -> int:
        return int(self.rng.choice(self.k, p=self.confusion[worker, self.truth[item]]))

    def worker_for(self, done: set[int]) -> int:
        while True:
            w = int(self.rng.choice(len(self.activity), p=self.activity))
            if w not in done:
                return w


def make_world(seed: int, n_items: int, k: int, n_workers: int) -> World:
    rng = np.random.default_rng(seed)
    prior = np.arange(k, 0, -1, dtype=float)
    prior /= prior.sum()
    truth = rng.choice(k, size=n_items, p=prior)
    n_good = round(0.45 * n_workers)
    n_mid = round(0.40 * n_workers)
    n_spam = max(n_workers - n_good - n_mid, 1)
    kinds = ["good"] * n_good + ["mediocre"] * n_mid + ["spammer"] * n_spam
    confusion = np.empty((len(kinds), k, k))
    for w, kind in enumerate(kinds):
        if kind == "spammer":
            if w % 2:
                confusion[w] = 1.0 / k  # random clicks
            else:
                fav = rng.integers(k)  # nearly always the same class
                confusion[w] = 0.05 / (k - 1)
                confusion[w][:, fav] = 0.95
            continue
        lo, hi = (0.85, 0.95) if kind == "good" else (0.60, 0.70)
        base = rng.uniform(lo, hi)
        for j in range(k):
            d = float(np.clip(base + rng.normal(0, 0.02), 0.3, 0.99))
            off = rng.dirichlet(np.full(k - 1, 2.0)) * (1 - d)
            confusion[w, j] = np.insert(off, j, d)
    activity = rng.lognormal(0.0, 0.5, size=len(kinds))
    activity /= activity.sum()
    return World(truth, prior, confusion, activity, kinds, rng)


def frame(rows: list[tuple[int, int, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["task", "worker", "label"])


def accuracy(labels: pd.Series, truth: np.ndarray) -> float:
    got = labels.reindex(range(len(truth)))
    return float((got.to_numpy() == truth).mean())


# ------------------------------------------------------------------------------ strategies
@dataclass
class Result:
    strategy: str
    answers: int
    accuracy: float
    overlap_counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))


def fixed(world: World, k_over: int) -> list[Result]:
    rows: list[tuple[int, int, int]] = []
    for item in range(world.n_items):
        done: set[int] = set()
        for _ in range(k_over):
            w = world.worker_for(done)
            done.add(w)
            rows.append((item, w, world.answer(w, item)))
    answers = frame(rows)
    return [
        Result(
            f"fixed {k_over}, majority vote",
            len(rows),
            accuracy(MajorityVote().fit_predict(answers), world.truth),
        ),
        Result(
            f"fixed {k_over}, Dawid-Skene",
            len(rows),
            accuracy(DawidSkene().fit_predict(answers), world.truth),
        ),
    ]


def ds_model(answers: pd.DataFrame, k: int) -> dict[str, Any]:
    """Dawid-Skene worker model from the items with >= 2 answers (see the module docstring)."""
    counts = answers["task"].map(answers["task"].value_counts())
    multi = answers[counts >= 2]
    if multi["task"].nunique() < 50 or multi["label"].nunique() < k:
        return {}
    model: dict[str, Any] = worker_model(DawidSkene().fit(multi))
    model["classes"] = list(range(k))
    return model


def dynamic(
    world: World,
    name: str,
    *,
    confidence: float,
    max_overlap: int,
    min_overlap: int,
    batch: int,
    refit_every: int,
    fit: Callable[[pd.DataFrame], dict[str, Any]] | None,
    fixed_model: dict[str, Any] | None = None,
) -> Result:
    k = world.k
    rows: list[tuple[int, int, int]] = []
    done: list[set[int]] = [set() for _ in range(world.n_items)]
    model: dict[str, Any] = dict(fixed_model or {})
    all_tasks = list(range(world.n_items))
    empty = frame([])
    while True:
        need = items_needing_answers(
            frame(rows) if rows else empty,
            confidence=confidence,
            max_overlap=max_overlap,
            min_overlap=min_overlap,
            all_tasks=all_tasks,
            **{"classes": list(range(k)), **model},
        )
        if len(need) == 0:
            break
        for item in need[:batch]:
            w = world.worker_for(done[item])
            done[item].add(w)
            rows.append((int(item), w, world.answer(w, int(item))))
            if fit is not None and len(rows) % refit_every == 0:
                model = fit(frame(rows))  # used from the next call of items_needing_answers
    answers = frame(rows)
    labels = DawidSkene().fit_predict(answers)
    counts = np.bincount(answers["task"].value_counts().to_numpy(), minlength=max_overlap + 1)
    return Result(name, len(rows), accuracy(labels, world.truth), counts)


# ------------------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", type=int, default=2000)
    ap.add_argument("--classes", type=int, default=4)
    ap.add_argument("--workers", type=int, default=40)
    ap.add_argument("--seeds", type=int, default=5, help="number of simulated worlds to average")
    ap.add_argument("--seed", type=int, default=2024, help="first seed")
    ap.add_argument("--confidence", type=float, default=0.95)
    ap.add_argument("--max-overlap", type=int, default=7)
    ap.add_argument("--refit-every", type=int, default=500)
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument(
        "--fixed", type=int, nargs="+", default=list(FIXED_OVERLAPS), help="fixed overlaps (3 5 7)"
    )
    ap.add_argument("--quick", action="store_true", help="500 items, 1 seed (smoke run)")
    args = ap.parse_args(argv)
    if args.quick:
        args.items, args.seeds = 500, 1

    per_seed: list[list[Result]] = []
    started = time.perf_counter()
    for s in range(args.seeds):
        seed = args.seed + s
        results: list[Result] = []
        for k_over in args.fixed:
            results += fixed(make_world(seed, args.items, args.classes, args.workers), k_over)
        common = dict(
            confidence=args.confidence,
            max_overlap=args.max_overlap,
            batch=args.batch,
            refit_every=args.refit_every,
        )
        for m in (1, 2):
            world = make_world(seed, args.items, args.classes, args.workers)
            results.append(
                dynamic(
                    world,
                    f"dynamic, min {m}, DS refit",
                    min_overlap=m,
                    fit=functools.partial(ds_model, k=world.k),
                    **common,
                )
            )
        world = make_world(seed, args.items, args.classes, args.workers)
        truth_model = {"confusion": dict(enumerate(world.confusion)), "priors": world.prior}
        results.append(
            dynamic(
                world,
                "dynamic, min 1, true π (reference)",
                min_overlap=1,
                fit=None,
                fixed_model=truth_model,
                **common,
            )
        )
        per_seed.append(results)
        print(f"seed {seed} done after {time.perf_counter() - started:.0f} s", file=sys.stderr)

    names = [r.strategy for r in per_seed[0]]
    table = []
    for i, name in enumerate(names):
        answers = float(np.mean([rs[i].answers for rs in per_seed]))
        acc = float(np.mean([rs[i].accuracy for rs in per_seed]))
        counts = (
            np.sum([rs[i].overlap_counts for rs in per_seed], axis=0)
            if per_seed[0][i].overlap_counts.size
            else None
        )
        table.append((name, answers, acc, counts))

    world = make_world(args.seed, args.items, args.classes, args.workers)
    kinds = pd.Series(world.kinds).value_counts()
    print(
        f"{args.items} items, {args.classes} classes (prior {np.round(world.prior, 2).tolist()}), "
        f"{args.workers} workers ({', '.join(f'{n} {k}' for k, n in kinds.items())}); "
        f"confidence {args.confidence}, max overlap {args.max_overlap}, DS refit every "
        f"{args.refit_every} answers, batch {args.batch}; mean of {args.seeds} seed(s) "
        f"from {args.seed}\n"
    )
    fixed_rows = [(n, a, acc) for n, a, acc, _ in table if n.startswith("fixed")]
    head = f"{'strategy':<38} {'answers':>8} {'per item':>8} {'accuracy':>8}"
    print(head)
    print("-" * len(head))
    for name, answers, acc, _ in table:
        print(f"{name:<38} {answers:>8.0f} {answers / args.items:>8.2f} {acc:>8.4f}")

    print("\nanswers saved by dynamic overlap (1 - answers / answers of the fixed strategy):")
    for name, answers, acc, _ in table:
        if not name.startswith("dynamic"):
            continue
        near = min(fixed_rows, key=lambda f: abs(f[2] - acc))
        print(
            f"  {name:<36} nearest accuracy: {1 - answers / near[1]:6.1%} vs {near[0]} "
            f"(accuracy {acc - near[2]:+.4f})"
        )
        below = [f for f in fixed_rows if f[2] <= acc + 1e-12]
        if below:
            ref = max(below, key=lambda f: f[2])
            line = f"{1 - answers / ref[1]:6.1%} vs {ref[0]} (accuracy {acc - ref[2]:+.4f})"
        else:
            line = "n/a (less accurate than every fixed strategy)"
        print(f"  {'':<36} equal or better:  {line}")
    print("\nanswers per item under dynamic overlap (share of items, all seeds):")
    for name, _, _, counts in table:
        if counts is not None:
            share = counts / counts.sum()
            cells = "  ".join(f"{n}:{s:5.1%}" for n, s in enumerate(share) if n > 0)
            print(f"  {name:<36} {cells}")
    print(f"\n{time.perf_counter() - started:.0f} s in all", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
