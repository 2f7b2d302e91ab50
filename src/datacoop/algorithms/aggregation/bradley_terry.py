"""Pairwise aggregation: Bradley-Terry (MM algorithm) and NoisyBT (worker skill and bias).

Input, exactly like crowd-kit's pairwise aggregators: a DataFrame with columns
``worker, left, right, label``, one row per comparison, where ``label`` is the item the worker
preferred and must equal ``left`` or ``right`` (crowd-kit has no ties). Output: ``scores_``,
a Series indexed by item (index name ``label``, as in crowd-kit), named ``agg_score``; higher
is better and the scores sum to 1.

Both aggregators put the rows into a canonical order (sorted by integer codes) before fitting,
so the result is bit-for-bit independent of the row order of the input.

Bradley-Terry
-------------
Item ``i`` has a positive strength ``pi_i`` and

.. math::

    P(i \\succ j) = \\pi_i / (\\pi_i + \\pi_j).

The maximum-likelihood estimate does not exist when an item never wins (its strength goes to
0) or when the comparison graph is not strongly connected. We therefore add a regulariser:
every item plays ``regularization`` (``r``) pseudo-wins *and* ``r`` pseudo-losses against a
virtual item whose strength is fixed at 1. The maximised objective is

.. math::

    \\ell(\\pi) = \\sum_{(i \\succ j)} \\log\\frac{\\pi_i}{\\pi_i + \\pi_j}
        + r \\sum_i \\Big[\\log\\frac{\\pi_i}{\\pi_i + 1} + \\log\\frac{1}{\\pi_i + 1}\\Big],

which is strictly concave in ``log pi`` for ``r > 0``: the maximiser is unique, finite and
positive (an item without wins gets a small positive score), and the virtual item fixes the
scale. It is found by Hunter's MM algorithm (Hunter 2004, "MM algorithms for generalized
Bradley-Terry models", Ann. Statist. 32(1), 384-406, eq. 3), vectorised with ``bincount``:

.. math::

    \\pi_i \\leftarrow \\frac{W_i + r}{\\sum_{k \\ni i} 1/(\\pi_{a_k} + \\pi_{b_k})
        + 2r/(\\pi_i + 1)}

where ``W_i`` is the number of wins of ``i`` and the sum runs over the comparisons ``k``
(between ``a_k`` and ``b_k``) that involve ``i``. Every step increases ``ell`` (the MM
property), and the iteration converges to the unique maximiser. Plain MM converges only
linearly, and very slowly when an item (almost) never wins or loses, so by default the steps
are extrapolated with SQUAREM (Varadhan & Roland 2008), keeping an extrapolated point only if
it does not lower ``ell``: the objective still increases at every iteration and the fixed
point is the same (``accelerate=False`` gives plain MM). It stops after ``n_iter``
iterations, or earlier once a plain MM step moves no log-strength by more than ``tol``. The
reported scores are ``pi / sum(pi)`` (crowd-kit normalises the same way); the default
``r = 0.1`` is a weak prior (a tenth of a win and of a loss per item).

NoisyBT
-------
Bugakova et al. 2019 ("Aggregation of pairwise comparisons with reduction of biases",
NeurIPS 2019 Workshop on Crowdsourcing and Machine Learning), as in crowd-kit: a worker
either judges (with probability ``gamma_w``, the *skill*) by the Bradley-Terry model, or
guesses, picking the left item with probability ``sigma(q_w)`` (``q_w`` is the *bias*). With
``s`` the item log-strengths and ``sigma`` the logistic function,

.. math::

    P(w \\text{ prefers } l \\text{ over } r) = \\gamma_w\\,\\sigma(s_l - s_r)
        + (1 - \\gamma_w)\\,\\sigma(q_w), \\qquad \\gamma_w = \\sigma(g_w).

The parameters ``(s, g, q)`` maximise the log-likelihood minus the L2 penalty
``regularization / 2 * (|s|^2 + |g|^2 + |q|^2)`` (which makes the optimum finite when an item
never wins or a worker is always right), by L-BFGS-B with the analytic gradient
(``scipy.optimize.minimize``, at most ``n_iter`` iterations, ``tol`` as its tolerance). The
problem is not convex: the start is ``g = logit(0.9)``, ``q = 0`` and ``s`` drawn from
``N(0, 0.1^2)`` with ``random_state``, so equal seeds give equal results. Reported:
``scores_ = exp(s) / sum(exp(s))`` (comparable with Bradley-Terry), ``skills_ = gamma_w`` in
(0, 1) and ``biases_ = q_w`` on the log-odds scale (0 = no position bias, > 0 = leans left).

Example
-------
>>> import pandas as pd
>>> df = pd.DataFrame({
...     "worker": ["w1", "w1", "w2", "w2", "w3"],
...     "left":   ["a",  "b",  "a",  "c",  "c"],
...     "right":  ["b",  "c",  "c",  "b",  "a"],
...     "label":  ["a",  "b",  "a",  "b",  "a"],
... })
>>> scores = BradleyTerry().fit_predict(df)
>>> list(scores.sort_values(ascending=False).index)
['a', 'b', 'c']
>>> round(float(scores.sum()), 6)
1.0
>>> list(NoisyBT(random_state=0).fit_predict(df).sort_values(ascending=False).index)
['a', 'b', 'c']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit, log_expit, logit

from datacoop.algorithms.aggregation._base import check_frame
from datacoop.errors import InvalidData

__all__ = [
    "PAIRWISE_COLUMNS",
    "BradleyTerry",
    "NoisyBT",
    "Pairs",
    "bt_objective",
    "encode_pairs",
    "noisy_bt_objective",
]

PAIRWISE_COLUMNS = ("worker", "left", "right", "label")


@dataclass(frozen=True)
class Pairs:
    """Comparisons coded as integers, in canonical (sorted) order.

    Row ``k``: worker ``w[k]`` compared ``left[k]`` with ``right[k]`` and preferred the left
    item iff ``y[k] == 1``. ``items[code]`` and ``workers[code]`` recover the original values.
    """

    items: np.ndarray
    workers: np.ndarray
    w: np.ndarray
    left: np.ndarray
    right: np.ndarray
    y: np.ndarray

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def n_workers(self) -> int:
        return len(self.workers)

    @property
    def winner(self) -> np.ndarray:
        return np.where(self.y == 1, self.left, self.right)

    @property
    def loser(self) -> np.ndarray:
        return np.where(self.y == 1, self.right, self.left)


def _unique(values: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        uniques, codes = np.unique(values, return_inverse=True)
    except TypeError as exc:
        raise InvalidData(
            f"{what} mixes values that cannot be compared (e.g. numbers and text)"
        ) from exc
    return uniques, np.asarray(codes, dtype=np.int64).reshape(-1)


def _rows(mask: np.ndarray) -> str:
    rows = np.flatnonzero(mask)
    shown = ", ".join(str(int(r)) for r in rows[:5])
    return shown + (f" (and {len(rows) - 5} more)" if len(rows) > 5 else "")


def encode_pairs(data: object) -> Pairs:
    """Check a ``worker, left, right, label`` frame and code it as integers (canonical order)."""
    frame = check_frame(data, PAIRWISE_COLUMNS)
    left_v, right_v, label_v = (frame[c].to_numpy(dtype=object) for c in ("left", "right", "label"))
    is_left = np.asarray(label_v == left_v, dtype=bool)
    is_right = np.asarray(label_v == right_v, dtype=bool)
    same = np.asarray(left_v == right_v, dtype=bool)
    if same.any():
        raise InvalidData(f"rows at positions {_rows(same)} compare an item with itself")
    neither = ~(is_left | is_right)
    if neither.any():
        raise InvalidData(
            f"label must equal left or right; it is neither at row positions {_rows(neither)}"
        )
    n = len(frame)
    both = np.concatenate([left_v, right_v])
    items, codes = _unique(both, "left/right")
    workers, w = _unique(frame["worker"].to_numpy(dtype=object), "worker")
    left, right, y = codes[:n], codes[n:], is_left.astype(np.int64)
    order = np.lexsort((y, right, left, w))
    return Pairs(
        items=items, workers=workers, w=w[order], left=left[order], right=right[order], y=y[order]
    )


class _BasePairwise:
    """Shared API: ``fit(data) -> self``, ``fit_predict(data) -> scores_``."""

    scores_: pd.Series | None = None

    def fit(self, data: pd.DataFrame) -> Self:
        self._fit(encode_pairs(data))
        return self

    def fit_predict(self, data: pd.DataFrame) -> pd.Series:
        self.fit(data)
        assert self.scores_ is not None
        return self.scores_

    def get_params(self) -> dict[str, Any]:
        return {
            k: v for k, v in vars(self).items() if not k.endswith("_") and not k.startswith("_")
        }

    def _fit(self, pairs: Pairs) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _set_scores(self, pairs: Pairs, scores: np.ndarray) -> None:
        self.scores_ = pd.Series(
            scores, index=pd.Index(pairs.items, name="label"), name="agg_score"
        )


def _check_params(n_iter: int, tol: float, regularization: float) -> None:
    if not isinstance(n_iter, int | np.integer) or n_iter < 1:
        raise ValueError(f"n_iter must be a positive integer, got {n_iter!r}")
    if not tol >= 0:
        raise ValueError(f"tol must be >= 0, got {tol!r}")
    if not regularization > 0 or not np.isfinite(regularization):
        raise ValueError(f"regularization must be a finite number > 0, got {regularization!r}")


def bt_objective(pi: np.ndarray, pairs: Pairs, regularization: float) -> float:
    """The regularised Bradley-Terry log-likelihood ``ell(pi)`` maximised by :class:`BradleyTerry`."""
    r = regularization
    ll = np.sum(np.log(pi[pairs.winner]) - np.log(pi[pairs.left] + pi[pairs.right]))
    return float(ll + r * np.sum(np.log(pi) - 2.0 * np.log1p(pi)))


def _mm_map(
    pairs: Pairs, wins: np.ndarray, regularization: float
) -> Callable[[np.ndarray], np.ndarray]:
    """Hunter's MM update as a map on log-strengths ``x = log pi``."""
    n, a, b, r = pairs.n_items, pairs.left, pairs.right, regularization

    def step(x: np.ndarray) -> np.ndarray:
        pi = np.exp(x)
        inv = 1.0 / (pi[a] + pi[b])
        denom = (
            np.bincount(a, weights=inv, minlength=n)
            + np.bincount(b, weights=inv, minlength=n)
            + 2.0 * r / (pi + 1.0)
        )
        return np.asarray(np.log(wins / denom))

    return step


class BradleyTerry(_BasePairwise):
    """Bradley-Terry scores by Hunter's MM algorithm (see the module docstring for the maths).

    Parameters
    ----------
    n_iter : int, default 100
        Maximum number of iterations (with ``accelerate``, one iteration is one SQUAREM
        cycle of two or three MM steps).
    tol : float, default 1e-5
        Stop once a plain MM step changes no log-strength by more than ``tol`` (values below
        about 1e-12 are under floating-point noise and may never be reached).
    regularization : float, default 0.1
        ``r``: pseudo-wins and pseudo-losses of every item against a virtual item of
        strength 1; must be > 0. Larger values shrink the scores towards equality.
    accelerate : bool, default True
        Extrapolate the MM steps with SQUAREM (Varadhan & Roland 2008, "Simple and globally
        convergent methods for accelerating the convergence of any EM algorithm", Scand. J.
        Statist. 35(2)). An extrapolated point is kept only if it does not lower the
        objective (otherwise the plain double MM step is used), so the objective still
        increases at every iteration and the fixed point is the same; plain MM converges
        only linearly and is very slow when some item (almost) never wins or loses.

    Learned: ``scores_`` (sum to 1), ``n_iter_`` (iterations run), ``converged_``, and
    ``log_likelihood_`` (the maximised objective ``ell`` above, regulariser included).
    """

    def __init__(
        self,
        n_iter: int = 100,
        tol: float = 1e-5,
        regularization: float = 0.1,
        accelerate: bool = True,
    ) -> None:
        _check_params(n_iter, tol, regularization)
        self.n_iter = n_iter
        self.tol = tol
        self.regularization = regularization
        self.accelerate = accelerate
        self.n_iter_: int = 0
        self.converged_: bool = False
        self.log_likelihood_: float = float("nan")

    def _objective(self, pairs: Pairs, x: np.ndarray) -> float:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            value = bt_objective(np.exp(x), pairs, self.regularization)
        return value if np.isfinite(value) else -np.inf

    def _fit(self, pairs: Pairs) -> None:
        wins = (
            np.bincount(pairs.winner, minlength=pairs.n_items).astype(float) + self.regularization
        )
        mm = _mm_map(pairs, wins, self.regularization)
        x = np.zeros(pairs.n_items)
        self.converged_ = False
        self.n_iter_ = 0
        for it in range(1, self.n_iter + 1):
            self.n_iter_ = it
            x1 = mm(x)
            r1 = x1 - x
            if float(np.max(np.abs(r1))) < self.tol:
                x, self.converged_ = x1, True
                break
            if not self.accelerate:
                x = x1
                continue
            x2 = mm(x1)
            v = x2 - 2.0 * x1 + x
            norm_v = float(np.linalg.norm(v))
            if norm_v == 0.0:
                x = x2
                continue
            alpha = min(-float(np.linalg.norm(r1)) / norm_v, -1.0)  # alpha = -1 gives x2
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                x3 = mm(np.clip(x - 2.0 * alpha * r1 + alpha * alpha * v, -700.0, 700.0))
            good = bool(np.all(np.isfinite(x3)))
            x = x3 if good and self._objective(pairs, x3) >= self._objective(pairs, x2) else x2
        self.log_likelihood_ = self._objective(pairs, x)
        pi = np.exp(x - x.max())
        self._set_scores(pairs, pi / pi.sum())


def noisy_bt_objective(
    theta: np.ndarray, pairs: Pairs, regularization: float
) -> tuple[float, np.ndarray]:
    """Penalised negative log-likelihood of NoisyBT and its gradient.

    ``theta`` is ``concatenate([s, g, q])`` with ``n_items`` log-strengths ``s`` and
    ``n_workers`` skill logits ``g`` and biases ``q``.
    """
    n, m = pairs.n_items, pairs.n_workers
    s, g, q = theta[:n], theta[n : n + m], theta[n + m :]
    w, left, right, y = pairs.w, pairs.left, pairs.right, pairs.y
    d = s[left] - s[right]
    a, b, gam = expit(d), expit(q[w]), expit(g[w])
    # P(left) and P(right), each as a sum of positive terms (no cancellation near 0 or 1).
    p_left = gam * a + (1.0 - gam) * b
    p_right = gam * expit(-d) + (1.0 - gam) * expit(-q[w])
    tiny = np.finfo(float).tiny
    p_obs = np.maximum(np.where(y == 1, p_left, p_right), tiny)
    nll = -float(np.sum(np.log(p_obs)))
    # d log p_obs / d p_left = +1/p_obs if left was chosen, -1/p_obs otherwise.
    dlp = np.where(y == 1, 1.0, -1.0) / p_obs
    a1a = np.exp(log_expit(d) + log_expit(-d))  # a * (1 - a), without underflow issues
    grad_d = -dlp * gam * a1a
    grad_g_rows = -dlp * (a - b) * gam * (1.0 - gam)
    grad_q_rows = -dlp * (1.0 - gam) * b * (1.0 - b)
    grad_s = np.bincount(left, weights=grad_d, minlength=n) - np.bincount(
        right, weights=grad_d, minlength=n
    )
    grad_g = np.bincount(w, weights=grad_g_rows, minlength=m)
    grad_q = np.bincount(w, weights=grad_q_rows, minlength=m)
    lam = regularization
    value = nll + 0.5 * lam * float(theta @ theta)
    grad = np.concatenate([grad_s, grad_g, grad_q]) + lam * theta
    return value, grad


class NoisyBT(_BasePairwise):
    """Bradley-Terry with per-worker skill and position bias (see the module docstring).

    Parameters: ``n_iter`` (max L-BFGS-B iterations, default 100), ``tol`` (its tolerance,
    default 1e-5), ``random_state`` (seed of the random start, default 0), ``regularization``
    (L2 weight on all parameters, default 0.01, > 0). Learned: ``scores_`` (sum to 1),
    ``skills_`` (``gamma_w``, index ``worker``), ``biases_`` (``q_w``, index ``worker``),
    ``n_iter_``, ``converged_`` and ``log_likelihood_`` (the maximised log-likelihood minus
    the L2 penalty).
    """

    skills_: pd.Series | None = None
    biases_: pd.Series | None = None

    def __init__(
        self,
        n_iter: int = 100,
        tol: float = 1e-5,
        random_state: int | None = 0,
        regularization: float = 0.01,
    ) -> None:
        _check_params(n_iter, tol, regularization)
        self.n_iter = n_iter
        self.tol = tol
        self.random_state = random_state
        self.regularization = regularization
        self.n_iter_: int = 0
        self.converged_: bool = False
        self.log_likelihood_: float = float("nan")

    def _fit(self, pairs: Pairs) -> None:
        n, m = pairs.n_items, pairs.n_workers
        rng = np.random.default_rng(self.random_state)
        theta0 = np.concatenate([rng.normal(0.0, 0.1, n), np.full(m, logit(0.9)), np.zeros(m)])
        result = minimize(
            noisy_bt_objective,
            theta0,
            args=(pairs, self.regularization),
            jac=True,
            method="L-BFGS-B",
            tol=self.tol,
            options={"maxiter": self.n_iter},
        )
        theta = np.asarray(result.x, dtype=float)
        s, g, q = theta[:n], theta[n : n + m], theta[n + m :]
        self.n_iter_ = int(result.nit)
        self.converged_ = bool(result.success)
        self.log_likelihood_ = -float(result.fun)
        pi = np.exp(s - s.max())
        self._set_scores(pairs, pi / pi.sum())
        index = pd.Index(pairs.workers, name="worker")
        self.skills_ = pd.Series(expit(g), index=index, name="skill")
        self.biases_ = pd.Series(q, index=index, name="bias")
