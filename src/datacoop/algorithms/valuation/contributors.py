"""Contributor-level values: what each *person's* data adds, not each item's.

Three functions, from cheapest to most faithful:

* :func:`contributor_values` sums item values per contributor (any item-level method).
* :func:`contributor_knn_shapley` is the **exact** Shapley value of the game whose players are
  the contributors, for the K = 1 nearest-neighbour utility.
* :func:`contributor_shapley_mc` is a Monte-Carlo **estimate** of that contributor game for
  any K, with standard errors.

The contributor game
--------------------
Contributor ``c`` owns the items ``I_c``. A coalition ``C`` of contributors brings the items
``I(C) = ∪_{c∈C} I_c``; per test point ``(x, y)`` the K-NN utility is

    u(C) = (1/K) Σ_{i ∈ top-min(K, |I(C)|) of I(C)} 1[y_i = y],        u(∅) = 0,

where *top* orders items by squared Euclidean distance to ``x``, ties broken by item index
(the position in ``x_train``), and ``U(C)`` averages ``u`` over the test points.

**Tie rule** (the same as ``knn.py``'s): the distance is ``Σ_k (x_k − t_k)²`` added term by
term in feature order, then the item index decides. A BLAS product screens the distances;
every item within its rounding-error bound of a contributor's K-th nearest is re-measured
by that exact rule, so values never depend on batching. The value of
``c`` is the Shapley value ``φ_c = Σ_{C ⊆ M∖{c}} |C|!(M−|C|−1)!/M! · (U(C ∪ {c}) − U(C))``.

Exact K = 1 (contributor_knn_shapley)
-------------------------------------
With K = 1 only a contributor's nearest item (its *representative*: smallest distance, then
smallest item index) can ever be a coalition's nearest item, so the game is the item-level
1-NN game over the ``M`` representatives. Sort contributors by their representative's
(distance, item index), nearest first: ``α_1..α_M``. Then (Jia et al. 2019, Theorem 1 with
K = 1, the base case divided by ``max(M, K) = M``)::

    s_{α_M} = 1[y_{α_M} = y] / M
    s_{α_j} = s_{α_{j+1}} + (1[y_{α_j} = y] − 1[y_{α_{j+1}} = y]) / j,     j = M−1..1

and ``φ_c`` is ``s_c`` averaged over test points. The test points are processed in batches
(bounded memory), vectorised with NumPy. With one item per contributor this is item-level
KNN-Shapley for K = 1.

Monte Carlo for any K (contributor_shapley_mc)
----------------------------------------------
Permutation sampling (Castro, Gómez & Tejada 2009) with the first position computed
exactly: a uniform permutation puts ``c`` first with probability ``1/M``, and then its
marginal contribution is ``U({c})``, so::

    φ_c = U({c}) / M  +  (M−1)/M · E[U(P ∪ {c}) − U(P) | c not first]

``U({c})`` is computed exactly for every contributor; the expectation is the mean over the
``T`` sampled permutations in which ``c`` is not first (``P`` = the contributors before it).
That first position is where marginal contributions are largest: computing it exactly
removes most of the variance of plain permutation sampling (about 85 % in a 200-contributor
test) at the cost of one pass over the candidates (a form of stratified sampling by position,
Maleki et al. 2013). The estimate is unbiased; the values sum to ``U(all)`` in expectation
(not exactly, as each permutation's marginals would).

Only a contributor's own K nearest items can ever enter a coalition's top K, so per test
point each contributor is reduced to K candidates, ranked once; walking a permutation keeps
every test point's current top-K ranks and merges in the next contributor's candidates only
where its best candidate beats the current K-th. ``stderr`` = ``(M−1)/M`` · sample standard
deviation of the sampled marginals / √(their number). Memory ``O(T_test · M · K)``.

The standard error rests on the central limit theorem, and marginal contributions are
skewed (large and rare: when ``c`` comes early). With ``T`` much below a few times ``M``
a run can miss those and report values biased low with optimistic ``stderr``: measured on
20,000 items / 500 contributors / K = 1 against the exact values, 20 of 500 contributors
were off by more than 4 stderr at ``T = 200``, 2 at ``T = 2000``. Use ``T ≥ 4·M``.

References: R. Jia, D. Dao, B. Wang, et al., "Efficient Task-Specific Data Valuation for
Nearest Neighbor Algorithms", PVLDB 12(11), 2019 (Theorem 1); J. Castro, D. Gómez and
J. Tejada, "Polynomial calculation of the Shapley value based on sampling", Computers &
Operations Research 36(5), 2009; S. Maleki, L. Tran-Thanh, G. Hines, T. Rahwan and
A. Rogers, "Bounding the Estimation Error of Sampling-based Shapley Value Approximation",
arXiv:1306.4265, 2013; L. S. Shapley, "A value for n-person games", 1953. See
``docs/valuation.md`` for when the item sum and the contributor value differ and which the
platform uses for what.

Example
-------
>>> x = [[0.0], [0.0], [3.0]]; y = [1, 1, 0]    # "ann" owns two copies of one item
>>> owners = ["ann", "ann", "bob"]
>>> contributor_knn_shapley(x, y, owners, [[0.0]], [1]).to_dict()
{'ann': 1.0, 'bob': 0.0}
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from datacoop.algorithms.valuation._checks import (
    as_owners,
    as_rng,
    check_count,
    check_k,
    train_test,
)
from datacoop.algorithms.valuation.tmc import Estimate, RunningMoments
from datacoop.errors import InvalidData

__all__ = ["contributor_knn_shapley", "contributor_shapley_mc", "contributor_values"]

# Elements of a (test points × items) float64 block kept in memory at once (~32 MB each;
# a handful of such blocks are alive together).
_BLOCK_ELEMENTS = 2**22


def contributor_values(item_values: Any, owners: Any) -> pd.Series:
    """Sum of item values per contributor: ``v_c = Σ_{i ∈ I_c} φ_i``.

    Index: the distinct owners, sorted; name ``"value"``. Raises
    :class:`~datacoop.errors.InvalidData` on NaN/inf values (e.g. Data-OOB's never-out-of-bag
    items: decide about those first) or an owner array of the wrong length.

    >>> contributor_values([0.5, 0.25, 1.0], ["bob", "ann", "bob"]).to_dict()
    {'ann': 0.25, 'bob': 1.5}
    """
    values = np.asarray(item_values, dtype=np.float64)
    if values.ndim != 1 or len(values) == 0:
        raise InvalidData(f"item_values must be a non-empty 1-D array, got shape {values.shape}")
    if not np.isfinite(values).all():
        raise InvalidData("item_values contains NaN or infinite values")
    uniques, codes = as_owners(owners, len(values))
    sums = np.bincount(codes, weights=values, minlength=len(uniques))
    return _series(sums, uniques, "value")


def contributor_knn_shapley(
    x_train: Any, y_train: Any, owners: Any, x_test: Any, y_test: Any
) -> pd.Series:
    """Exact contributor-level Shapley values for the 1-nearest-neighbour utility.

    ``φ_c`` = average over test points of the K = 1 recursion over contributors sorted by
    their nearest item (distance, then item index); see the module docstring. The values sum
    to the 1-NN test accuracy of all the data (efficiency). Cost ``O(T·N·d)`` for distances
    plus ``O(T·M log M)``; memory bounded by batching the test points.

    Returns a Series indexed by the distinct owners (sorted), name ``"shapley"``.
    """
    xtr, ytr, xte, yte = train_test(x_train, y_train, x_test, y_test)
    uniques, codes = as_owners(owners, len(xtr))
    groups = _Groups(xtr, ytr, codes, len(uniques))
    n_owners = len(uniques)
    totals = np.zeros(n_owners)
    for batch in _batches(len(xte), len(xtr)):
        rep_dist, rep_item, rep_match = (
            a[:, :, 0] for a in groups.nearest(xte[batch], yte[batch], 1)
        )
        nearest_first = np.lexsort((rep_item, rep_dist), axis=-1)
        match = np.take_along_axis(rep_match, nearest_first, axis=1).astype(np.float64)
        shares = _k1_recursion(match)
        totals += np.bincount(nearest_first.ravel(), shares.ravel(), minlength=n_owners)
    return _series(totals / len(xte), uniques, "shapley")


def contributor_shapley_mc(
    x_train: Any,
    y_train: Any,
    owners: Any,
    x_test: Any,
    y_test: Any,
    k: int = 5,
    *,
    n_permutations: int | None = None,
    seed: int | np.random.Generator = 0,
) -> Estimate[pd.Series]:
    """Monte-Carlo **estimate** of contributor-level Shapley values for the K-NN utility.

    ``φ_c ≈ U({c})/M + (M−1)/M · mean_t [U(P_t(c) ∪ {c}) − U(P_t(c))]`` over the ``T``
    random permutations of the contributors in which ``c`` is not first (``P_t(c)`` = those
    before it), ``U`` the K-NN utility of the module docstring, ``U({c})`` exact.

    Returns an :class:`~datacoop.algorithms.valuation.tmc.Estimate` whose ``values`` and
    ``stderr`` are Series indexed by the distinct owners (sorted); ``stderr`` is ``NaN`` for
    a contributor with fewer than two sampled marginals (raise ``n_permutations``). The
    values sum to ``U(all)`` in expectation. For K = 1 prefer the exact
    :func:`contributor_knn_shapley`. ``n_permutations`` (``T`` >= 2) defaults to
    ``max(200, 4·M)`` (see the module docstring on skew). Cost: the candidate pass
    ``O(T_test·N·d)``, then ``T·M`` steps, each vectorised over the test points.
    """
    xtr, ytr, xte, yte = train_test(x_train, y_train, x_test, y_test)
    uniques, codes = as_owners(owners, len(xtr))
    k = check_k(k)
    n_owners = len(uniques)
    if n_permutations is None:
        n_permutations = max(200, 4 * n_owners)
    n_perm = check_count(n_permutations, "n_permutations", minimum=2)
    rng = as_rng(seed)
    cand_rank, match = _candidate_ranks(_Groups(xtr, ytr, codes, n_owners), xte, yte, k)
    perms = np.stack([rng.permutation(n_owners) for _ in range(n_perm)])
    moments = RunningMoments(n_owners)
    block = max(1, _BLOCK_ELEMENTS // (len(xte) * k))
    for start in range(0, n_perm, block):
        rows = perms[start : start + block]
        not_first = np.ones(rows.shape, dtype=bool)
        not_first[np.arange(len(rows)), rows[:, 0]] = False
        moments.add(_mc_marginals(cand_rank, match, rows, k), not_first)
    later = (n_owners - 1) / n_owners
    values = _singleton_utilities(cand_rank, match, k) / n_owners + later * moments.mean
    stderr = later * moments.stderr() if n_owners > 1 else np.zeros(1)
    return Estimate(
        values=_series(values, uniques, "shapley"),
        stderr=_series(stderr, uniques, "stderr"),
        n_samples=n_perm,
        method=f"contributor_shapley_mc(k={k})",
        seed=None if isinstance(seed, np.random.Generator) else int(seed),
    )


# ------------------------------------------------------------------------ shared steps
def _series(values: np.ndarray, owners: np.ndarray, name: str) -> pd.Series:
    return pd.Series(values, index=pd.Index(owners, name="contributor"), name=name)


def _batches(n_test: int, n_train: int) -> list[slice]:
    size = max(1, _BLOCK_ELEMENTS // n_train)
    return [slice(s, min(s + size, n_test)) for s in range(0, n_test, size)]


class _Groups:
    """Training items reordered so each contributor's items are contiguous, index-ascending.

    Distances are screened with one BLAS product on centred, augmented vectors
    (``|t−c|² − 2(t−c)·(x−c) + |x−c|²``). Against the exact rule's distance
    ``Σ_k (x_k − t_k)²`` (summed in feature order, itself rounded) the screened value is off
    by at most ``γ_{3d+6} (|t−c| + R)²`` (``R = max |x−c|``; the product, the two norms, the
    centring and the exact sum's own rounding), below half of
    ``slack = 8 (d+10) u (|t−c| + R)²``, ``u = 2^-53``. Every item whose screened distance is
    within ``slack`` of a contributor's K-th is re-measured exactly, and the order is (exact
    distance, item index): the same numbers for any batching.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, codes: np.ndarray, n_owners: int) -> None:
        self.order = np.argsort(codes, kind="stable")  # grouped position → item index
        self.x = x[self.order]
        self.y = y[self.order]
        self.x_by_feature = np.ascontiguousarray(self.x.T)
        self.counts = np.bincount(codes, minlength=n_owners)
        self.starts = np.concatenate([[0], np.cumsum(self.counts)[:-1]])
        self.group_of = np.repeat(np.arange(n_owners), self.counts)
        with np.errstate(over="ignore", invalid="ignore"):
            self.centre = self.x.mean(axis=0)
            centred = self.x - self.centre
            sq = np.einsum("ij,ij->i", centred, centred)
        self.radius = float(np.sqrt(sq.max()))
        self.xa = np.column_stack([centred, sq, np.ones(len(sq))])

    def screen(self, x_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """BLAS squared distances (test points × grouped items) and each row's ``slack``."""
        with np.errstate(over="ignore", invalid="ignore"):
            centred = x_test - self.centre
            sq = np.einsum("ij,ij->i", centred, centred)
            slack = 8.0 * (x_test.shape[1] + 10) * 2.0**-53 * (np.sqrt(sq) + self.radius) ** 2
        if not (np.isfinite(slack).all() and np.isfinite(self.radius)):
            raise InvalidData("feature values are too large: squared distances would overflow")
        ta = np.column_stack([-2.0 * centred, np.ones(len(sq)), sq])
        dist: np.ndarray = ta @ self.xa.T
        return dist, slack

    def nearest(
        self, x_test: np.ndarray, y_test: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each contributor's ``k`` nearest items per test point, by (exact distance, index).

        Returns ``(distance, item index, label matches)``, each test points × contributors ×
        ``k``; a contributor with fewer than ``k`` items is padded with ``(inf, N, False)``.
        Three passes over the screened distances; the rest works on a short list of
        contenders (``(test point, contributor)`` segments, item-index order inside each).
        """
        n_owners, n = len(self.counts), len(self.x)
        dist, slack = self.screen(x_test)
        limit = np.take(self._kth_bound(dist, k), self.group_of, axis=1) + slack[:, None]
        flat = np.flatnonzero(dist <= limit)  # every exact top-k item is in here
        rows, cols = np.divmod(flat, n)
        screened = dist.ravel()[flat]
        del dist, limit
        if k > 1:  # tighten to the k-th smallest screened distance of each segment
            starts, counts = _segments(rows * n_owners + self.group_of[cols])
            kth = np.full(len(starts), np.inf)
            top = _segment_smallest(screened, starts, counts, k)[:, k - 1]
            kth[top >= 0] = screened[top[top >= 0]]
            keep = screened <= np.repeat(kth, counts) + slack[rows]
            rows, cols = rows[keep], cols[keep]
        exact = _exact_sq_distances(self.x_by_feature, cols, x_test.T, rows)
        segment = rows * n_owners + self.group_of[cols]
        starts, counts = _segments(segment)
        top = _segment_smallest(exact, starts, counts, k)
        seg_of, rank = np.nonzero(top >= 0)
        pick = top[seg_of, rank]
        where = (rows[pick], self.group_of[cols[pick]], rank)
        shape = (len(x_test), n_owners, k)
        out_dist = np.full(shape, np.inf)
        out_item = np.full(shape, n, dtype=np.int64)
        out_match = np.zeros(shape, dtype=bool)
        out_dist[where] = exact[pick]
        out_item[where] = self.order[cols[pick]]
        out_match[where] = self.y[cols[pick]] == y_test[rows[pick]]
        return out_dist, out_item, out_match

    def _kth_bound(self, dist: np.ndarray, k: int) -> np.ndarray:
        """Per test point and contributor, an upper bound on its k-th smallest distance.

        Split each contributor's items into k contiguous chunks: the k chunk minima are k
        distinct items, so the largest of them bounds the k-th smallest. One pass; exact for
        k = 1. A contributor with ``c < k`` items gets chunk starts hitting each of its items
        (``reduceat`` then returns single items), so the bound is its largest distance.
        """
        if k == 1:
            bound: np.ndarray = np.minimum.reduceat(dist, self.starts, axis=1)
            return bound
        chunk_starts = self.starts[:, None] + (np.arange(k)[None, :] * self.counts[:, None]) // k
        minima = np.minimum.reduceat(dist, chunk_starts.ravel(), axis=1)
        bound = minima.reshape(len(dist), len(self.counts), k).max(axis=2)
        return bound


def _segments(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and lengths of the runs of equal values in ``labels`` (already grouped)."""
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    return starts, np.diff(np.r_[starts, len(labels)])


def _segment_smallest(
    values: np.ndarray, starts: np.ndarray, counts: np.ndarray, k: int
) -> np.ndarray:
    """Positions of the k smallest values of each segment, ties to the first; −1 if fewer."""
    work = values.copy()
    places = np.arange(len(values))
    out = np.full((len(starts), k), -1, dtype=np.int64)
    for r in range(k):
        mins = np.minimum.reduceat(work, starts)
        at_min = work == np.repeat(mins, counts)
        first = np.minimum.reduceat(np.where(at_min, places, len(values)), starts)
        found = np.isfinite(mins)
        out[found, r] = first[found]
        work[first[found]] = np.inf
    return out


def _exact_sq_distances(
    x_by_feature: np.ndarray, items: np.ndarray, t_by_feature: np.ndarray, tests: np.ndarray
) -> np.ndarray:
    """``Σ_k (x_ik − t_jk)²`` per pair ``(items[p], tests[p])``, added in feature order.

    The tie rule's distance; inputs are feature-major, so each feature is one 1-D gather.
    """
    total = np.zeros(len(items))
    for x_k, t_k in zip(x_by_feature, t_by_feature, strict=True):
        diff = x_k[items] - t_k[tests]
        total += diff * diff
    return total


def _k1_recursion(match: np.ndarray) -> np.ndarray:
    """Jia et al. (2019) K = 1 values per row, columns already sorted nearest first."""
    m = match.shape[1]
    steps = (match[:, :-1] - match[:, 1:]) / np.arange(1, m)
    tail = np.cumsum(steps[:, ::-1], axis=1)[:, ::-1]
    shares = np.repeat(match[:, -1:] / m, m, axis=1)
    shares[:, :-1] += tail
    return shares


# ----------------------------------------------------------------------- Monte Carlo
def _candidate_ranks(
    groups: _Groups, x_test: np.ndarray, y_test: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each contributor's K nearest items per test point, as ranks among all candidates.

    Returns ``cand_rank`` (contributors × test points × K, ascending; ``R = M·K`` where a
    contributor has fewer than K items) and ``match`` (test points × (R + 1), 1 where the
    candidate of that rank has the test point's label; column ``R`` is 0). Candidates are
    ranked by (exact distance, item index), the order of the utility.
    """
    n_owners = len(groups.counts)
    n_cand = n_owners * k
    cand_rank = np.empty((n_owners, len(x_test), k), dtype=np.int32)
    match = np.zeros((len(x_test), n_cand + 1), dtype=np.int8)
    for batch in _batches(len(x_test), len(groups.x)):
        c_dist, c_item, c_match = groups.nearest(x_test[batch], y_test[batch], k)
        b = len(c_dist)
        flat_dist = c_dist.reshape(b, n_cand)
        by_rank = np.lexsort((c_item.reshape(b, n_cand), flat_dist), axis=-1)
        rank = np.empty_like(by_rank)
        np.put_along_axis(rank, by_rank, np.arange(n_cand)[None, :], axis=1)
        rank[np.isinf(flat_dist)] = n_cand  # padding: never enters a top K, never matches
        cand_rank[:, batch, :] = rank.reshape(b, n_owners, k).transpose(1, 0, 2)
        match[batch, :n_cand] = np.take_along_axis(c_match.reshape(b, n_cand), by_rank, 1)
    return cand_rank, match


def _singleton_utilities(cand_rank: np.ndarray, match: np.ndarray, k: int) -> np.ndarray:
    """``U({c})`` for every contributor: its own top K, averaged over the test points."""
    n_test = cand_rank.shape[1]
    hits = match[np.arange(n_test)[None, :, None], cand_rank].sum(axis=(1, 2), dtype=np.int64)
    result: np.ndarray = hits / (k * n_test)
    return result


def _mc_marginals(
    cand_rank: np.ndarray, match: np.ndarray, perms: np.ndarray, k: int
) -> np.ndarray:
    """Marginal contribution of every contributor along each permutation (rows of ``perms``).

    State per (permutation, test point): the K smallest candidate ranks seen so far and how
    many of them match the test label. A contributor changes it only where its best candidate
    beats the current K-th.
    """
    n_owners, n_test, _ = cand_rank.shape
    n_perm = len(perms)
    best = cand_rank[:, :, 0]
    top = np.full((n_perm, n_test, k), match.shape[1] - 1, dtype=np.int32)
    hits = np.zeros((n_perm, n_test), dtype=np.int64)
    marginals = np.zeros((n_perm, n_owners))
    perm_rows = np.arange(n_perm)
    for step in range(n_owners):
        owner = perms[:, step]
        p, t = np.nonzero(best[owner] < top[:, :, k - 1])
        if len(p) == 0:
            continue
        merged = np.concatenate([top[p, t], cand_rank[owner[p], t]], axis=1)
        merged.sort(axis=1)
        new_top = merged[:, :k]
        new_hits = match[t[:, None], new_top].sum(axis=1, dtype=np.int64)
        gained = np.bincount(p, weights=new_hits - hits[p, t], minlength=n_perm)
        top[p, t] = new_top
        hits[p, t] = new_hits
        marginals[perm_rows, owner] = gained / (k * n_test)
    return marginals
