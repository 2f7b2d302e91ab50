"""M-MSR: worker skills by robust rank-one completion of the worker covariance (Ma & Olshevsky, 2020).

Model
-----
The one-coin model: worker ``w`` answers correctly with probability :math:`p_w`, otherwise
uniformly one of the ``K - 1`` wrong labels. With the *skill*
:math:`s_w = (K p_w - 1)/(K - 1)` (0 = guessing, 1 = perfect, negative = adversarial), two
workers ``i ≠ j`` answering the same task agree with probability
:math:`1/K + \\tfrac{K-1}{K} s_i s_j`, so the normalised agreement

.. math::

    C_{ij} = \\frac{K}{K - 1}\\,\\frac{\\#\\text{agreements}_{ij}}{N_{ij}} - \\frac{1}{K - 1}
    \\;\\approx\\; s_i s_j

is a rank-one matrix observed only on pairs with :math:`N_{ij} > 0` common answers
(duplicates count as separate answers). Some rows may be corrupted arbitrarily by
adversarial workers. We estimate it as
:math:`C_{ij} = (K a_{ij} - N_{ij}) / ((K-1)(N_{ij} + \\lambda))` with :math:`a_{ij}` the
agreements: ``λ = shrinkage = 0`` is the paper's estimate; the default ``λ = 1`` adds one
pseudo-pair agreeing at the chance rate, which matters only for pairs with few common tasks,
whose ``|C|`` is otherwise biased upwards (a worker with one answer that matches everybody
would get skill ≈ 1).

Algorithm (M-MSR)
-----------------
Alternating rank-one completion of :math:`|C| \\approx u v^\\top` with extreme-value filtering:

.. math::

    v_j \\leftarrow \\operatorname{MSR}_{F}\\big(\\{|C_{ij}| / u_i : i \\sim j\\};\\, v_j\\big), \\qquad
    u_i \\leftarrow \\operatorname{MSR}_{F}\\big(\\{|C_{ij}| / v_j : j \\sim i\\};\\, u_i\\big),

where :math:`\\operatorname{MSR}_F(S; a)` drops the ``F`` largest values of ``S`` above ``a``
(all of them if fewer) and the ``F`` smallest below ``a``, and averages the rest (keeping
``a`` if nothing is left). ``F = n_trim``; by default ``⌊d_min/2⌋ - 1`` (at least 0) with
:math:`d_{min}` the smallest number of co-workers of a worker, as in the authors' experiments.
``u`` and ``v`` start at 1 and are kept ``≥ 1/√T`` so no ratio divides by zero.

Then :math:`|s| = u \\sqrt{\\lVert v\\rVert / \\lVert u\\rVert}`. The signs come from the
signed covariance: starting from "everyone is honest", each worker takes the sign of
:math:`\\sum_j N_{ij} C_{ij} \\sigma_j |s_j|` until the signs stop changing, and all signs are
flipped if most workers came out negative (the paper's assumption that most workers are
better than guessing). This replaces the paper's eigenvector of a lifted sign graph; the
:math:`N_{ij}` weights keep a pair seen once from flipping a worker. Skills are clipped to :math:`[-1/(K-1) + 1/\\sqrt{T},\\, 1 - 1/\\sqrt{T}]`.

**Sparse data.** A worker who shares no task with anyone has no covariance entry and no
estimate; instead of a NaN that worker gets the median skill of the estimated workers (on
their own tasks nobody else voted, so any positive weight gives the same labels). With
no estimated worker at all every skill is the upper clip value.

Labels are the weighted vote with the one-coin log-odds weights
:math:`\\log\\frac{p_w (K-1)}{1 - p_w}`, :math:`p_w = s_w (K-1)/K + 1/K`; ``probas_`` is the
softmax of those scores, i.e. the one-coin posterior under a uniform label prior.

Convergence: the alternation stops when no entry of ``u`` or ``v`` moves by more than ``tol``
or after ``max_iter`` rounds; ``converged_`` says which. (With large ``F`` the trimmed
iteration can cycle; ``max_iter`` bounds the time.) There is no randomness: ``u`` and ``v``
start at 1 instead of the paper's random draw, which on the benchmark data reaches the same
fixed point.

Tie rule: equal scores go to the label that sorts first.

Learned attributes: ``labels_``, ``probas_``, ``skills_`` (``s`` per worker), ``n_iter_``,
``converged_``.

Reference: Q. Ma, A. Olshevsky, "Adversarial Crowdsourcing Through Robust Rank-One Matrix
Completion", NeurIPS 2020.

Example
-------
>>> import pandas as pd
>>> df = pd.DataFrame({
...     "task":   ["t1", "t1", "t1", "t2", "t2", "t2", "t3", "t3", "t3"],
...     "worker": ["a", "b", "c", "a", "b", "c", "a", "b", "c"],
...     "label":  ["x", "x", "y", "y", "y", "y", "x", "x", "x"],
... })
>>> MMSR().fit_predict(df).to_dict()
{'t1': 'x', 't2': 'y', 't3': 'x'}
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.special import softmax

from datacoop.algorithms.aggregation._base import BaseClassificationAggregator, Encoded
from datacoop.algorithms.aggregation.majority_vote import weighted_counts
from datacoop.errors import InvalidData

__all__ = ["MMSR"]


def _covariance(
    enc: Encoded, shrinkage: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Observed ordered pairs ``(i, j)``, ``i ≠ j``: normalised agreement ``C_ij`` and ``N_ij``.

    ``C_ij = (K a_ij - N_ij) / ((K - 1)(N_ij + λ))`` with ``a_ij`` agreements in ``N_ij`` common
    answers: the paper's estimate for ``λ = 0``; ``λ > 0`` adds ``λ`` pseudo-pairs agreeing at
    the chance rate ``1/K``, shrinking pairs seen only a few times towards 0.
    """
    k, n_t, n_w = enc.n_classes, enc.n_tasks, enc.n_workers
    ones = np.ones(len(enc.t))
    by_task = sp.csr_matrix((ones, (enc.t, enc.w)), shape=(n_t, n_w))
    by_answer = sp.csr_matrix((ones, (enc.t * k + enc.y, enc.w)), shape=(n_t * k, n_w))
    common = (by_task.T @ by_task).tocoo()
    agree = (by_answer.T @ by_answer).tocsr()
    off = common.row != common.col
    i, j, n = common.row[off].astype(np.int64), common.col[off].astype(np.int64), common.data[off]
    same = np.asarray(agree[i, j]).ravel()
    c = (k * same - n) / ((k - 1) * (n + shrinkage))
    return i, j, c, n


def _msr_mean(group: np.ndarray, values: np.ndarray, own: np.ndarray, trim: int) -> np.ndarray:
    """Per group: drop ≤ ``trim`` values above and below ``own[g]`` at the extremes, then average.

    Groups without values, or with nothing left after trimming, keep ``own``.
    """
    n = len(own)
    order = np.lexsort((values, group))
    g, v = group[order], values[order]
    count = np.bincount(g, minlength=n)
    start = np.concatenate(([0], np.cumsum(count)[:-1]))
    rank = np.arange(len(g)) - start[g]
    below = np.minimum(np.bincount(g, v < own[g], n), trim)
    above = np.minimum(np.bincount(g, v > own[g], n), trim)
    keep = (rank >= below[g]) & (rank < (count - above)[g])
    kept = np.bincount(g[keep], minlength=n)
    total = np.bincount(g[keep], v[keep], n)
    return np.where(kept > 0, total / np.maximum(kept, 1), own)


class MMSR(BaseClassificationAggregator):
    """Matrix Mean-Subsequence-Reduced skills + weighted vote (see the module docstring).

    Parameters
    ----------
    max_iter:
        Maximum number of alternating rounds.
    tol:
        Stop when no entry of ``u`` or ``v`` moves by more than this.
    n_trim:
        ``F``, the number of extreme values trimmed on each side; ``None`` = from the data.
    """

    def __init__(
        self,
        max_iter: int = 2000,
        tol: float = 1e-8,
        n_trim: int | None = None,
        shrinkage: float = 1.0,
    ) -> None:
        self.max_iter = max_iter
        self.tol = tol
        self.n_trim = n_trim
        self.shrinkage = shrinkage

    def _fit(self, enc: Encoded) -> None:
        if self.n_trim is not None and self.n_trim < 0:
            raise InvalidData("MMSR needs n_trim >= 0")
        if self.shrinkage < 0:
            raise InvalidData("MMSR needs shrinkage >= 0")
        k, n_w = enc.n_classes, enc.n_workers
        floor = 1.0 / np.sqrt(enc.n_tasks)
        lo, hi = -1.0 / max(k - 1, 1) + floor, 1.0 - floor
        self.n_iter_, self.converged_ = 0, True
        if k < 2:  # one label: nothing to estimate, everybody agrees
            skills = np.full(n_w, hi)
        else:
            i, j, c, n = _covariance(enc, self.shrinkage)
            skills = self._skills(n_w, i, j, c, n, floor, lo, hi)
        p = skills * (k - 1) / k + 1.0 / k if k > 1 else np.ones(n_w)
        weights = np.log(p * (k - 1)) - np.log1p(-p) if k > 1 else np.ones(n_w)
        scores = weighted_counts(enc, weights)
        self._set_from_probas(enc, softmax(scores, axis=1))
        self._set_skills(enc, skills)

    def _skills(
        self,
        n_w: int,
        i: np.ndarray,
        j: np.ndarray,
        c: np.ndarray,
        n: np.ndarray,
        floor: float,
        lo: float,
        hi: float,
    ) -> np.ndarray:
        degree = np.bincount(i, minlength=n_w)
        seen = degree > 0
        if not seen.any():
            return np.full(n_w, hi)
        trim = self.n_trim
        if trim is None:
            trim = max(int(degree[seen].min()) // 2 - 1, 0)
        x = np.abs(c)
        u, v = np.ones(n_w), np.ones(n_w)
        self.converged_ = False
        for it in range(1, self.max_iter + 1):
            v_new = np.maximum(_msr_mean(j, x / u[i], v, trim), floor)
            u_new = np.maximum(_msr_mean(i, x / v_new[j], u, trim), floor)
            change = max(np.max(np.abs(u_new - u)), np.max(np.abs(v_new - v)))
            u, v = u_new, v_new
            self.n_iter_ = it
            if change <= self.tol:
                self.converged_ = True
                break
        magnitude = u[seen] * np.sqrt(np.linalg.norm(v[seen]) / np.linalg.norm(u[seen]))
        size = np.zeros(n_w)
        size[seen] = magnitude
        sign = _signs(n_w, i, j, c * n, size)
        skills = np.full(n_w, np.nan)
        skills[seen] = np.clip(sign[seen] * magnitude, lo, hi)
        skills[~seen] = np.median(skills[seen])
        return skills


def _signs(
    n_w: int, i: np.ndarray, j: np.ndarray, weight: np.ndarray, size: np.ndarray
) -> np.ndarray:
    """Signs ``σ_i = sign Σ_j N_ij C_ij σ_j |s_j|`` iterated from all +1; most made positive.

    Weighting by ``N_ij`` lets pairs with many common tasks outvote pairs seen once.
    The iteration stops when the signs repeat (at most ``n_w + 1`` rounds).
    """
    sign = np.ones(n_w)
    for _ in range(n_w + 1):
        vote = np.bincount(i, weight * sign[j] * size[j], n_w)
        new = np.where(vote < 0, -1.0, 1.0)
        if np.array_equal(new, sign):
            break
        sign = new
    return sign if np.sum(sign) >= 0 else -sign
