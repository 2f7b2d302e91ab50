"""Truncated Monte-Carlo Shapley (TMC-Shapley) for any scikit-learn classifier.

The Shapley value of training item ``i`` under a utility ``U`` over sets of items is the
average, over all ``N!`` orders in which the items can arrive, of ``i``'s marginal
contribution ``U(P ∪ {i}) − U(P)``, where ``P`` is the set of items arriving before ``i``.
TMC-Shapley samples ``T`` uniform random permutations ``π_1..π_T`` and averages
(Ghorbani & Zou 2019, Algorithm 1)::

    φ_i ≈ (1/T) Σ_t [U(π_t[:j_t(i)+1]) − U(π_t[:j_t(i)])],    j_t(i) = position of i in π_t

scanning each permutation from the front and *truncating* it once the prefix is within
``truncation_tol`` of the full data's utility, ``|U(D) − U(prefix)| < truncation_tol``: the
remaining items of that permutation get marginal contribution 0 (their true marginal
contributions are small there, and skipping them saves most of the refits).

Utility
-------
``U(S)`` is the accuracy on ``(x_test, y_test)`` of a fresh copy of the estimator fitted on
the items of ``S`` **in index order** (so ``U`` depends only on the set, as a Shapley utility
must, even for estimators that are sensitive to the order of their training rows), with

* ``U(∅) = 0`` (no data, no predictions counted correct), and
* ``U(S)`` for an ``S`` holding a single class = the accuracy of always predicting that class
  (most classifiers refuse to fit one class; the constant is what they would learn).

Every ``random_state`` of the estimator is set to one value drawn from ``seed``, the same for
all refits, so ``U`` is a fixed function and the result is reproducible from ``seed``.

Error and bias
--------------
With ``truncation_tol = 0`` the result is an unbiased estimate of the Shapley values, every
permutation's marginals sum to exactly ``U(D) − U(∅)`` (efficiency), and ``stderr`` (sample
standard deviation over permutations / √T) is the standard error of each value. Truncation
adds a bias of at most ``truncation_tol`` to each permutation's total that ``stderr`` does not
include.

Reference: A. Ghorbani and J. Zou, "Data Shapley: Equitable Valuation of Data for Machine
Learning", ICML 2019 (Algorithm 1, Truncated Monte Carlo Shapley).

Example
-------
>>> import numpy as np
>>> from sklearn.neighbors import KNeighborsClassifier
>>> x = np.array([[0.0], [0.1], [1.0], [1.1]]); y = np.array([0, 0, 1, 1])
>>> est = tmc_shapley(x, y, x, y, KNeighborsClassifier(1), n_permutations=10,
...                   truncation_tol=0.0, seed=0)
>>> round(float(est.values.sum()), 12)        # efficiency: U(D) − U(∅) = 1 − 0
1.0
>>> est.n_samples
10
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np
import pandas as pd

from datacoop.algorithms.valuation._checks import (
    as_classifier,
    as_rng,
    check_count,
    fit_predict,
    train_test,
    with_random_state,
)
from datacoop.errors import InvalidData

__all__ = ["Estimate", "RunningMoments", "tmc_shapley"]

V = TypeVar("V", np.ndarray, pd.Series)


@dataclass(frozen=True, repr=False, eq=False)
class Estimate(Generic[V]):
    """A Monte-Carlo **estimate** of Shapley values with its standard errors — not exact values.

    Attributes
    ----------
    values
        The sample mean, over ``n_samples`` random permutations, of each player's marginal
        contribution (a NumPy array per item, or a pandas Series per contributor).
    stderr
        The standard error of each value: sample standard deviation (``ddof=1``) over the
        permutations divided by ``√n_samples``. By the central limit theorem the exact value
        lies within ``values ± 1.96·stderr`` with about 95 % probability, for each player
        separately. A bias from truncation (``method`` ``"tmc_shapley"`` with a positive
        tolerance) is not included.
    n_samples
        The number of permutations sampled.
    method
        The function that produced it, with its main parameters.
    seed
        The integer seed it was drawn with (``None`` when a ``Generator`` was passed), so a
        persisted run can be re-run to the same numbers.
    """

    values: V
    stderr: V
    n_samples: int
    method: str
    seed: int | None

    def interval(self, z: float = 1.96) -> tuple[V, V]:
        """``(low, high) = values ∓ z·stderr`` (≈ 95 % confidence for the default ``z``)."""
        return self.values - z * self.stderr, self.values + z * self.stderr

    def __repr__(self) -> str:
        values = np.asarray(self.values, dtype=np.float64)
        stderr = np.asarray(self.stderr, dtype=np.float64)
        worst = float(np.max(stderr)) if stderr.size else 0.0
        opts: dict[str, Any] = {"precision": 4, "threshold": 8, "edgeitems": 3}
        return (
            f"Estimate(Monte-Carlo ESTIMATE by {self.method} from {self.n_samples} "
            f"permutations, seed={self.seed}; {values.size} values ± stderr, max stderr "
            f"{worst:.3g}; values={np.array2string(values, **opts)}, "
            f"stderr={np.array2string(stderr, **opts)})"
        )


class RunningMoments:
    """Per-player running mean and sum of squared deviations over sampled rows.

    Rows arrive in blocks, optionally with a mask of which entries are samples (a player may
    have fewer samples than rows). Blocks are merged with the pairwise update of Chan, Golub
    & LeVeque (1979), which stays accurate where ``Σx² − (Σx)²/n`` would cancel.
    """

    def __init__(self, size: int) -> None:
        self.count = np.zeros(size, dtype=np.int64)
        self.mean = np.zeros(size)
        self.m2 = np.zeros(size)

    def add(self, rows: np.ndarray, mask: np.ndarray | None = None) -> None:
        weight = np.ones(rows.shape) if mask is None else mask.astype(np.float64)
        n_b = weight.sum(axis=0)
        seen = n_b > 0
        mean_b = np.divide((rows * weight).sum(axis=0), n_b, out=np.zeros_like(n_b), where=seen)
        m2_b = (weight * (rows - mean_b) ** 2).sum(axis=0)
        total = self.count + n_b
        share = np.divide(n_b, total, out=np.zeros_like(n_b), where=seen)
        delta = mean_b - self.mean
        self.mean = self.mean + delta * share
        self.m2 = self.m2 + m2_b + delta**2 * self.count * share
        self.count = self.count + n_b.astype(np.int64)

    def stderr(self) -> np.ndarray:
        """Sample standard deviation (ddof = 1) / √count; NaN below two samples."""
        enough = self.count >= 2
        count = np.maximum(self.count, 2)
        result: np.ndarray = np.where(enough, np.sqrt(self.m2 / (count - 1) / count), np.nan)
        return result


# ----------------------------------------------------------------------------- utility
class _Accuracy:
    """``U(S)``: test accuracy of the estimator fitted on the items of ``S`` in index order."""

    def __init__(
        self, model: Any, x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray
    ) -> None:
        self.model, self.x, self.y, self.x_test, self.y_test = model, x, y, x_test, y_test

    def __call__(self, subset: np.ndarray) -> float:
        if len(subset) == 0:
            return 0.0
        rows = np.sort(subset)
        pred = fit_predict(as_classifier(self.model), self.x[rows], self.y[rows], self.x_test)
        return float(np.mean(pred == self.y_test))


def _permutation_marginals(
    perm: np.ndarray, utility: _Accuracy, full: float, tol: float
) -> np.ndarray:
    """Marginal contribution of each item along one permutation, truncated (Algorithm 1)."""
    n = len(perm)
    marginals = np.zeros(n)
    previous = utility(perm[:0])  # U(∅) = 0
    for j, item in enumerate(perm):
        if abs(full - previous) < tol:
            break
        current = full if j == n - 1 else utility(perm[: j + 1])
        marginals[item] = current - previous
        previous = current
    return marginals


def _tolerance(value: Any) -> float:
    try:
        tol = float(value)
    except (TypeError, ValueError):
        raise InvalidData(f"truncation_tol must be a number, got {value!r}") from None
    if not math.isfinite(tol) or tol < 0:
        raise InvalidData(f"truncation_tol must be finite and >= 0, got {value!r}")
    return tol


def tmc_shapley(
    x_train: Any,
    y_train: Any,
    x_test: Any,
    y_test: Any,
    estimator: Any = None,
    *,
    n_permutations: int = 100,
    truncation_tol: float = 0.01,
    seed: int | np.random.Generator = 0,
) -> Estimate[np.ndarray]:
    """Monte-Carlo **estimate** of each training item's Data Shapley value (TMC-Shapley).

    ``φ_i ≈ (1/T) Σ_t [U(π_t[:j+1]) − U(π_t[:j])]`` with ``j`` the position of ``i`` in the
    ``t``-th random permutation, truncated once ``|U(D) − U(prefix)| < truncation_tol``;
    ``U`` = test accuracy (``U(∅) = 0``; a single-class set predicts its class). See the
    module docstring for the exact utility and the error model.

    Parameters
    ----------
    x_train, y_train, x_test, y_test
        Training items (valued) and the test set the utility is measured on.
    estimator
        Any scikit-learn classifier; an unfitted copy is refitted for every prefix. Default
        ``LogisticRegression(max_iter=1000)`` (the paper's logistic-regression setting).
        It must be able to fit any subset holding two or more classes.
    n_permutations
        ``T`` >= 2. The cost is up to ``T·N`` fits; ``stderr`` shrinks like ``1/√T``.
    truncation_tol
        Absolute accuracy tolerance (0 disables truncation and makes the estimate unbiased).
    seed
        Draws the permutations and the estimator's ``random_state``.

    Returns
    -------
    Estimate
        ``values`` and ``stderr`` per training item (NumPy arrays), ``n_samples = T``.

    Cost: up to ``T·(N − 1)`` fits plus one; truncation usually stops each permutation early.
    """
    xtr, ytr, xte, yte = train_test(x_train, y_train, x_test, y_test)
    if estimator is None:
        from sklearn.linear_model import LogisticRegression

        estimator = LogisticRegression(max_iter=1000)
    base = as_classifier(estimator)
    n_perm = check_count(n_permutations, "n_permutations", minimum=2)
    tol = _tolerance(truncation_tol)
    rng = as_rng(seed)
    model = with_random_state(base, int(rng.integers(2**31 - 1)))
    utility = _Accuracy(model, xtr, ytr, xte, yte)
    n = len(xtr)
    full = utility(np.arange(n))
    moments = RunningMoments(n)
    for _ in range(n_perm):
        perm = rng.permutation(n)
        moments.add(_permutation_marginals(perm, utility, full, tol)[None, :])
    return Estimate(
        values=moments.mean,
        stderr=moments.stderr(),
        n_samples=n_perm,
        method=f"tmc_shapley(truncation_tol={tol:g})",
        seed=None if isinstance(seed, np.random.Generator) else int(seed),
    )
