"""Exact data values for the K-nearest-neighbour utility: KNN-Shapley, soft-label KNN-Shapley
and KNN-Banzhaf.

For one test point ``(x, y)`` rank the training items by distance, nearest first (ties broken
by item index, see below): ``α_1, …, α_N``. Write ``u_i = 1[y_{α_i} = y]`` and, for a subset
``S``, ``top(S)`` = its ``min(K, |S|)`` highest-ranked items. The three games are

* hard KNN utility (Jia et al. 2019): ``U(S) = (1/K) Σ_{i ∈ top(S)} u_i``, ``U(∅) = 0``;
* soft-label utility (Wang & Jia 2023): ``U(S) = (1/min(K,|S|)) Σ_{i ∈ top(S)} u_i``,
  ``U(∅) = 1/C`` (random guess among ``C`` classes);
* KNN-Banzhaf: the Banzhaf value ``β_i = 2^{1−N} Σ_{S ∌ i} U(S ∪ i) − U(S)`` of the hard utility.

Each value obeys a recursion over the ranking, evaluated here in closed form as
``v_{α_i} = u_i a_i + Σ_{j > i} u_j b_j + c`` (one reversed cumulative sum per test point):

* KNN-Shapley: ``v_{α_N} = u_N / max(N, K)`` and ``v_{α_i} = v_{α_{i+1}} + (u_i − u_{i+1}) ·
  min(K, i) / (K·i)``. (The paper's base case ``u_N / N`` is wrong when ``N < K``.)
* Soft-label: ``v_{α_i} = v_{α_{i+1}} + (u_i − u_{i+1}) / (N−1) · [H_{min(K,N−1)} +
  1[N ≥ K+2] (min(i,K)(N−1)/i − K)/K]`` and ``v_{α_N} = ((u_N − 1/C) + (u_N − c/(N−1))
  (H_{min(K,N)} − 1)) / N`` with ``c = Σ_{i<N} u_i`` and ``H_m`` the harmonic number.
  (The authors' code has ``H_{min(K,N)}`` and ``1[N ≥ K]``, which agree with this except
  when ``N < K``; this form is the one that matches enumeration.)
* KNN-Banzhaf: ``β_{α_i} = (1/K) [u_i P(B_{i−1} ≤ K−1) − Σ_{j>i} u_j C(j−2, K−1) / 2^{j−1}]``
  with ``B_n ~ Binomial(n, 1/2)``. Both terms are below ``P(B_{M−1} ≤ K−1)`` for ``i, j > M``,
  so only the nearest ``M`` items are ranked; by default ``M`` is the smallest rank where that
  bound is under ``2^-1075``, i.e. every omitted term rounds to exactly ``0.0`` in float64.

Values are averaged over the test points. ``docs/valuation.md`` has the derivations.

**Tie rule.** Items are ordered by the squared Euclidean distance ``Σ_k (x_k − t_k)²`` (computed
term by term in feature order), then by item index. A fast BLAS ranking is used first; any
neighbours it cannot separate beyond its rounding-error bound are re-ranked by that exact rule,
so the order, and hence every value, never depends on batching, threads or Dask workers.
Sums over test points use a fixed tree of 32-point chunks, so results are bit-for-bit identical
for any ``batch_size``, ``n_jobs`` or cluster.

References: R. Jia et al., "Efficient task-specific data valuation for nearest neighbor
algorithms", PVLDB 12(11), 2019. J. T. Wang and R. Jia, "A Note on 'Efficient Task-Specific
Data Valuation for Nearest Neighbor Algorithms'", arXiv:2304.04258, 2023. J. T. Wang and R. Jia,
"Data Banzhaf", AISTATS 2023.

Example
-------
>>> x_train = [[0.0], [1.0], [2.0], [3.0]]
>>> y_train = ["a", "b", "a", "b"]
>>> knn_shapley(x_train, y_train, [[0.2], [2.9]], ["a", "a"], k=2).round(4).tolist()
[0.2917, -0.125, 0.375, -0.0417]
>>> knn_banzhaf(x_train, y_train, [[0.2], [2.9]], ["a", "a"], k=2).round(4).tolist()
[0.3125, -0.125, 0.375, -0.0625]
"""

from __future__ import annotations

import math
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from datacoop.algorithms.valuation import _checks
from datacoop.errors import InvalidData

__all__ = ["knn_banzhaf", "knn_shapley", "soft_knn_shapley"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Kind = Literal["shapley", "soft", "banzhaf"]

DEFAULT_MAX_MEMORY = 256 * 2**20
CHUNK = 32  # test points per leaf of the summation tree (fixed: results must not depend on it)
_U = 2.0**-53  # unit roundoff of float64


# ------------------------------------------------------------------------- prepared data
@dataclass(frozen=True)
class Train:
    """The training side, prepared once (and scattered once to Dask workers)."""

    x: Floats  # N × d, as given: the exact distances of the tie rule use these
    xa: Floats  # N × (d+2): [x − centre, |x − centre|², 1], for one BLAS call per batch
    centre: Floats
    radius: float  # max |x − centre|
    y: npt.NDArray[np.unsignedinteger[Any]]  # label codes, in the smallest dtype (cache)

    @property
    def n(self) -> int:
        return int(self.x.shape[0])


@dataclass(frozen=True)
class Rule:
    """What one test point contributes: ``v_i = u_i a_i + Σ_{j>i} u_j b_j + base``."""

    kind: Kind
    k: int
    n_ranked: int  # how many nearest items get a value (N, or M for Banzhaf)
    a: Floats
    b: Floats
    n_classes: int = 0


def prepare(x_train: Floats, y_train: Ints) -> Train:
    n, d = x_train.shape
    xa = np.empty((n, d + 2))
    with np.errstate(over="ignore", invalid="ignore"):
        centre = x_train.mean(axis=0)
        np.subtract(x_train, centre, out=xa[:, :d])
        xa[:, d] = np.einsum("ij,ij->i", xa[:, :d], xa[:, :d])
        radius = float(np.sqrt(xa[:, d].max()))
    if not _representable(radius, d):
        raise InvalidData("x_train values are too large to compute squared distances")
    xa[:, d + 1] = 1.0
    codes = np.asarray(y_train)
    return Train(
        x=np.ascontiguousarray(x_train),
        xa=xa,
        centre=centre,
        radius=radius,
        y=codes.astype(np.min_scalar_type(int(codes.max())), copy=False),
    )


def check_scale(train: Train, x_test: Floats) -> None:
    """Refuse test points so far out that squared distances would overflow."""
    with np.errstate(over="ignore", invalid="ignore"):
        xc = x_test - train.centre
        reach = float(np.sqrt(np.einsum("ij,ij->i", xc, xc).max())) + train.radius
    if not _representable(reach, train.x.shape[1]):
        raise InvalidData("x_test values are too large to compute squared distances")


def _representable(reach: float, d: int) -> bool:
    return math.isfinite(reach) and math.isfinite(8.0 * (d + 10) * reach * reach)


# ------------------------------------------------------------------------- coefficients
def shapley_rule(n: int, k: int) -> Rule:
    i = np.arange(1, n + 1, dtype=np.float64)
    a = 1.0 / np.maximum(i, k)
    a[-1] = 0.0  # the farthest item's own term lives in the base case
    return Rule("shapley", k, n, a, _steps(a))


def soft_rule(n: int, k: int, n_classes: int) -> Rule:
    a = np.zeros(n)
    if n > 1:
        i = np.arange(1, n, dtype=np.float64)
        d = np.full(n - 1, _harmonic(min(k, n - 1)))
        if n >= k + 2:
            d += (np.minimum(i, k) * (n - 1) / i - k) / k
        a[:-1] = d / (n - 1)
    return Rule("soft", k, n, a, _steps(a), n_classes)


def banzhaf_rule(n: int, k: int, n_nearest: int | None) -> Rule:
    m = _banzhaf_cut(k, n) if n_nearest is None else min(n_nearest, n)
    below, kth = _banzhaf_terms(k, m)
    return Rule("banzhaf", k, m, below / k, -kth / k)


def _steps(a: Floats) -> Floats:
    """``b_j = a_j − a_{j−1}``: turns the adjacent-difference recursion into one suffix sum."""
    b = np.zeros_like(a)
    b[1:] = a[1:] - a[:-1]
    return b


def _harmonic(m: int) -> float:
    return math.fsum(1.0 / j for j in range(1, m + 1))


@lru_cache(maxsize=64)
def _banzhaf_cut(k: int, n: int) -> int:
    """Smallest ``M ≤ N`` with ``P(B_{M−1} ≤ K−1) / K < 2^-1075`` (exact integer test)."""
    below, choose = 1, int(k == 1)  # Σ_{j<K} C(m, j) and C(m, K−1), at m = 0
    for m in range(n):
        if below * 2**1075 < k * 2**m:
            return m + 1
        below, choose = _next_binomial_sums(m, k, below, choose)
    return n


@lru_cache(maxsize=64)
def _banzhaf_terms(k: int, m: int) -> tuple[Floats, Floats]:
    """``P(B_{i−1} ≤ K−1)`` and ``C(i−2, K−1)/2^{i−1}`` for ranks ``i = 1..M``, correctly rounded."""
    below_p = np.empty(m)
    kth_p = np.zeros(m)
    below, choose = 1, int(k == 1)
    for r in range(m):  # rank i = r + 1; below = Σ_{j<K} C(r, j), choose = C(r, K−1)
        below_p[r] = below / 2**r
        if r + 1 < m:  # C(i−1, K−1) / 2^i belongs to rank i + 1
            kth_p[r + 1] = choose / 2 ** (r + 1)
        below, choose = _next_binomial_sums(r, k, below, choose)
    below_p.setflags(write=False)
    kth_p.setflags(write=False)
    return below_p, kth_p


def _next_binomial_sums(m: int, k: int, below: int, choose: int) -> tuple[int, int]:
    """From ``(Σ_{j<K} C(m,j), C(m,K−1))`` to the same at ``m + 1`` (Pascal's rule)."""
    below = 2 * below - choose
    if m + 1 < k - 1:
        return below, 0
    if m + 1 == k - 1:
        return below, 1
    return below, choose * (m + 1) // (m + 2 - k)  # C(m+1, K−1) = C(m, K−1)·(m+1)/(m+2−K)


# ------------------------------------------------------------------------- one test point
def _full_order(dist: Floats, slack: float, train: Train, x_row: Floats) -> Ints:
    """All items by (exact distance, index), from the BLAS distances ``dist`` of one point.

    Two stable radix passes over a 32-bit linear quantisation of ``dist`` give the order by
    (bucket, index) in O(N); within a bucket the order is by index only. The quantisation is
    monotone, so the boundary between neighbours ``i | i+1`` is certain when ``i`` has no
    bucket-mate before it, ``i+1`` none after it, and their BLAS distances differ by more
    than ``slack`` (twice the bound on |BLAS − exact|): everything before is then nearer than
    everything after under the exact rule too. The runs between certain boundaries are
    re-sorted by (exact distance, index).
    """
    order, width = _radix_order(dist)
    gaps = np.diff(dist[order])
    unsure = gaps <= slack
    mates = np.abs(gaps) < width  # includes every pair of neighbours sharing a bucket
    unsure[1:] |= mates[:-1]
    unsure[:-1] |= mates[1:]
    if unsure.any():
        if np.count_nonzero(unsure) > max(64, len(dist) // 16):
            # buckets too coarse (far outliers squeeze the rest together): sort outright
            order = np.argsort(dist, kind="stable")
            unsure = np.diff(dist[order]) <= slack
        _rerank(order, unsure, train.x, x_row)
    return order


def _radix_order(dist: Floats) -> tuple[Ints, float]:
    """Order by (32-bit bucket of ``dist``, index); and a bound on a bucket's width.

    Two items in one bucket differ in ``dist`` by less than the returned width (one bucket
    plus rounding of the quantisation, generously).
    """
    low, high = float(dist.min()), float(dist.max())
    if not high > low:
        return np.arange(len(dist), dtype=np.int64), math.inf
    scale = 4294963200.0 / (high - low)  # 2^32 − 4096: rounding cannot overflow 32 bits
    scaled = dist - low
    scaled *= scale
    halves = scaled.astype(np.uint32).view(np.uint16).reshape(-1, 2)
    del scaled
    low_half, high_half = (0, 1) if sys.byteorder == "little" else (1, 0)
    first = np.argsort(halves[:, low_half], kind="stable")  # numpy radix-sorts 16-bit keys
    high16 = np.ascontiguousarray(halves[:, high_half])
    order = first[np.argsort(high16[first], kind="stable")]
    return order.astype(np.int64, copy=False), 2.0 / scale


def _nearest_order(dist: Floats, m: int, slack: float, train: Train, x_row: Floats) -> Ints:
    """The ``m`` nearest items by (exact distance, index), without sorting the rest.

    Candidates are every item whose BLAS distance is within ``slack`` of the ``m``-th
    smallest: a superset of the exact ``m`` nearest, since BLAS and exact distances differ
    by at most ``slack / 2``.
    """
    part = np.argpartition(dist, m - 1)
    rest = part[m:]
    extra = rest[dist[rest] <= dist[part[m - 1]] + slack]
    near = np.concatenate([part[:m], extra]).astype(np.int64, copy=False)
    order = near[np.lexsort((near, dist[near]))]
    unsure = np.diff(dist[order]) <= slack
    if unsure.any():
        _rerank(order, unsure, train.x, x_row)
    return order[:m]


def _rerank(order: Ints, unsure: npt.NDArray[np.bool_], x: Floats, x_row: Floats) -> None:
    """Re-sort each run of ``order`` joined by ``unsure`` boundaries by (exact distance, index)."""
    member = np.zeros(len(order), dtype=bool)
    member[:-1] = unsure
    member[1:] |= unsure
    pos = np.flatnonzero(member)
    starts = np.ones(len(pos), dtype=bool)
    inner = pos > 0
    starts[inner] = ~unsure[pos[inner] - 1]
    run = np.cumsum(starts)
    ids = order[pos]
    exact = _squared_distances(x, ids, x_row)
    order[pos] = ids[np.lexsort((ids, exact, run))]


def _squared_distances(x: Floats, ids: Ints, x_row: Floats) -> Floats:
    """``Σ_k (x_ik − t_k)²`` summed in feature order, the same for any number of ``ids``."""
    diff = x[ids] - x_row
    total = diff[:, 0] * diff[:, 0]
    for col in range(1, diff.shape[1]):
        total += diff[:, col] * diff[:, col]
    return total


def _row_values(
    rule: Rule, train: Train, dist: Floats, slack: float, x_row: Floats, y_row: int
) -> tuple[Ints, Floats]:
    if rule.n_ranked < train.n:
        order = _nearest_order(dist, rule.n_ranked, slack, train, x_row)
    else:
        order = _full_order(dist, slack, train, x_row)
    match = train.y[order] == y_row
    values = match * rule.a
    suffix = (match * rule.b)[::-1]
    np.cumsum(suffix, out=suffix)  # in place, far to near
    values[:-1] += suffix[::-1][1:]
    if rule.kind == "shapley":
        values += float(match[-1]) / max(train.n, rule.k)
    elif rule.kind == "soft":
        values += _soft_base(match, rule.k, rule.n_classes)
    return order, values


def _soft_base(match: npt.NDArray[np.bool_], k: int, n_classes: int) -> float:
    n = len(match)
    last = float(match[-1])
    base = last - 1.0 / n_classes
    if n > 1:
        others = float(np.count_nonzero(match)) - last
        base += (last - others / (n - 1)) * (_harmonic(min(k, n)) - 1.0)
    return base / n


# ------------------------------------------------------------------------- sums over test points
def chunk_sum(rule: Rule, train: Train, x_test: Floats, y_test: Ints, batch: int) -> Floats:
    """Σ over the given test points (at most one chunk), added one test point at a time."""
    total = np.zeros(train.n)
    d = train.x.shape[1]
    for start in range(0, len(x_test), batch):
        xb = x_test[start : start + batch]
        xc = xb - train.centre
        sq = np.einsum("ij,ij->i", xc, xc)
        ta = np.empty((len(xb), d + 2))
        ta[:, :d] = -2.0 * xc
        ta[:, d] = 1.0
        ta[:, d + 1] = sq
        dist = ta @ train.xa.T  # |t|² − 2t·x + |x|² in one BLAS call
        # |BLAS − exact| ≤ 4 (d+10) u (|t| + R)² (2× safety over the textbook bound); twice that
        slack = 8.0 * (d + 10) * _U * (np.sqrt(sq) + train.radius) ** 2
        for r in range(len(xb)):
            order, values = _row_values(
                rule, train, dist[r], float(slack[r]), xb[r], int(y_test[start + r])
            )
            np.add.at(total, order, values)
    return total


def node_sum(
    rule: Rule, train: Train, x_test: Floats, y_test: Ints, lo: int, hi: int, batch: int
) -> Floats:
    """Sum over chunks ``lo..hi`` of the fixed binary tree; ``x_test`` holds exactly their rows."""
    if hi - lo == 1:
        return chunk_sum(rule, train, x_test, y_test, batch)
    mid = (lo + hi) // 2
    cut = (mid - lo) * CHUNK
    left = node_sum(rule, train, x_test[:cut], y_test[:cut], lo, mid, batch)
    left += node_sum(rule, train, x_test[cut:], y_test[cut:], mid, hi, batch)
    return left


def frontier(n_chunks: int, want: int) -> list[tuple[int, int]]:
    """A cut of the summation tree with at least ``want`` nodes (or all leaves)."""
    nodes = [(0, n_chunks)]
    while len(nodes) < want and any(hi - lo > 1 for lo, hi in nodes):
        split: list[tuple[int, int]] = []
        for lo, hi in nodes:
            mid = (lo + hi) // 2
            split.extend([(lo, mid), (mid, hi)] if hi - lo > 1 else [(lo, hi)])
        nodes = split
    return nodes


def combine(lo: int, hi: int, parts: dict[tuple[int, int], Floats]) -> Floats:
    """Add the cut's node sums along the same tree as :func:`node_sum`."""
    if (lo, hi) in parts:
        return parts[(lo, hi)]
    mid = (lo + hi) // 2
    left = combine(lo, mid, parts).copy()
    left += combine(mid, hi, parts)
    return left


def rows_of(node: tuple[int, int], n_test: int) -> slice:
    return slice(node[0] * CHUNK, min(node[1] * CHUNK, n_test))


def batch_rows(n_train: int, max_memory: int, n_jobs: int, node_chunks: int) -> int:
    """Test points per BLAS call so that ``n_jobs`` workers stay within ``max_memory``.

    Measured: one test point needs about 57 bytes per training item of buffers (its total
    included), and each level of a worker's subtree holds one more partial sum vector.
    """
    depth = max(1, node_chunks).bit_length()
    fixed = (8 + depth) * 8 * n_train
    rows = (max_memory // n_jobs - fixed) // (8 * n_train)
    return int(min(max(rows, 1), CHUNK))


# ------------------------------------------------------------------------- driver
def _run(
    rule: Rule,
    train: Train,
    x_test: Floats,
    y_test: Ints,
    batch_size: int | None,
    max_memory: int,
    client: Any,
    n_jobs: int | None,
) -> Floats:
    n_test = len(x_test)
    n_chunks = -(-n_test // CHUNK)
    if client is not None:
        from datacoop.algorithms.valuation import distributed

        if n_jobs is not None:
            _check_jobs(n_jobs)  # validated, though each Dask task runs on one worker thread
        batch = batch_size or batch_rows(train.n, max_memory, 1, n_chunks)  # worst case
        total = distributed.sharded_sum(client, rule, train, x_test, y_test, min(batch, CHUNK))
        return total / n_test
    jobs = _check_jobs(n_jobs)
    nodes = frontier(n_chunks, 4 * jobs if jobs > 1 else 1)
    widest = max(hi - lo for lo, hi in nodes)
    batch = min(batch_size or batch_rows(train.n, max_memory, jobs, widest), CHUNK)

    def work(node: tuple[int, int]) -> Floats:
        rows = rows_of(node, n_test)
        return node_sum(rule, train, x_test[rows], y_test[rows], node[0], node[1], batch)

    # One BLAS thread per worker: the work is spread over test points already, and idle
    # BLAS threads spin on the cores the sorts need.
    with single_threaded_blas():
        if jobs == 1 or len(nodes) == 1:
            parts = [work(node) for node in nodes]
        else:
            with ThreadPoolExecutor(jobs) as pool:
                parts = list(pool.map(work, nodes))
    return combine(0, n_chunks, dict(zip(nodes, parts, strict=True))) / n_test


def single_threaded_blas() -> Any:
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _check_jobs(n_jobs: int | None) -> int:
    if n_jobs is None:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int | np.integer) or n_jobs < 1:
        raise InvalidData(f"n_jobs must be an integer >= 1, got {n_jobs!r}")
    return int(n_jobs)


def _check_run_options(batch_size: Any, max_memory: Any) -> None:
    for name, value in (("batch_size", batch_size), ("max_memory", max_memory)):
        if value is None and name == "batch_size":
            continue
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise InvalidData(f"{name} must be an integer >= 1, got {value!r}")


def _inputs(
    x_train: Any, y_train: Any, x_test: Any, y_test: Any, k: Any, batch_size: Any, max_memory: Any
) -> tuple[Train, Floats, Ints, int]:
    xtr, ytr, xte, yte = _checks.train_test(x_train, y_train, x_test, y_test)
    kk = _checks.check_k(k)
    _check_run_options(batch_size, max_memory)
    train = prepare(xtr, ytr)
    check_scale(train, xte)
    return train, xte, yte, kk


# ------------------------------------------------------------------------- public API
def knn_shapley(
    x_train: Any,
    y_train: Any,
    x_test: Any,
    y_test: Any,
    k: int = 5,
    *,
    batch_size: int | None = None,
    max_memory: int = DEFAULT_MAX_MEMORY,
    client: Any = None,
    n_jobs: int | None = None,
) -> Floats:
    """Exact KNN-Shapley value of every training item, averaged over the test points.

    ``v_{α_N} = 1[y_{α_N} = y] / max(N, K)``, ``v_{α_i} = v_{α_{i+1}} + (1[y_{α_i} = y] −
    1[y_{α_{i+1}} = y]) · min(K, i) / (K·i)`` over the (distance, index) ranking of each test
    point (Jia et al. 2019, Theorem 1, with the base case corrected for ``N < K``). The values
    sum to ``U(all) − U(∅)``, the K-NN accuracy of the whole training set (efficiency).

    ``x_*``: features (items × features), finite; ``y_*``: labels of any comparable type.
    ``k`` may exceed the number of items. Test points are processed ``batch_size`` at a time
    (at most 32; by default as many as fit in ``max_memory`` bytes of working memory across
    ``n_jobs`` threads, default: all cores). With a ``distributed.Client`` the test points
    are sharded over its workers. Results are identical whatever the batching, threads or
    workers. Raises :class:`~datacoop.errors.InvalidData` on unusable input.

    >>> knn_shapley([[0.0], [1.0], [5.0]], [0, 1, 1], [[0.1]], [1], k=2).round(4).tolist()
    [-0.1667, 0.3333, 0.3333]
    """
    train, xte, yte, kk = _inputs(x_train, y_train, x_test, y_test, k, batch_size, max_memory)
    rule = shapley_rule(train.n, kk)
    return _run(rule, train, xte, yte, batch_size, max_memory, client, n_jobs)


def soft_knn_shapley(
    x_train: Any,
    y_train: Any,
    x_test: Any,
    y_test: Any,
    k: int = 5,
    *,
    n_classes: int | None = None,
    batch_size: int | None = None,
    max_memory: int = DEFAULT_MAX_MEMORY,
    client: Any = None,
    n_jobs: int | None = None,
) -> Floats:
    """Exact soft-label KNN-Shapley (Wang & Jia 2023), averaged over the test points.

    The utility is the share of correct labels among the ``min(K, |S|)`` nearest items of
    ``S``, and ``1/C`` for the empty set (a random guess among ``C = n_classes`` classes,
    default: the number of distinct labels in ``y_train`` and ``y_test`` together):
    ``U(S) = (1/min(K,|S|)) Σ_{i ∈ top(S)} 1[y_i = y]``. Closed-form recursion (Wang & Jia
    2023, Theorem 2, with ``N ≤ K`` handled exactly) in the module docstring; values sum to
    ``U(all) − 1/C``. Other arguments as :func:`knn_shapley`.

    >>> v = soft_knn_shapley([[0.0], [1.0], [5.0]], [0, 1, 1], [[0.1]], [1], k=2)
    >>> v.round(4).tolist(), round(float(v.sum()), 4)
    ([-0.5, 0.25, 0.25], 0.0)
    """
    train, xte, yte, kk = _inputs(x_train, y_train, x_test, y_test, k, batch_size, max_memory)
    seen = int(max(train.y.max(), yte.max())) + 1
    if n_classes is None:
        classes = seen
    elif isinstance(n_classes, bool) or not isinstance(n_classes, int | np.integer):
        raise InvalidData(f"n_classes must be an integer, got {n_classes!r}")
    elif n_classes < seen:
        raise InvalidData(f"n_classes={n_classes} but the labels hold {seen} classes")
    else:
        classes = int(n_classes)
    rule = soft_rule(train.n, kk, classes)
    return _run(rule, train, xte, yte, batch_size, max_memory, client, n_jobs)


def knn_banzhaf(
    x_train: Any,
    y_train: Any,
    x_test: Any,
    y_test: Any,
    k: int = 5,
    *,
    n_nearest: int | None = None,
    batch_size: int | None = None,
    max_memory: int = DEFAULT_MAX_MEMORY,
    client: Any = None,
    n_jobs: int | None = None,
) -> Floats:
    """Exact Banzhaf value of the hard K-NN utility, averaged over the test points.

    ``β_{α_i} = (1/K) [u_i P(B_{i−1} ≤ K−1) − Σ_{j>i} u_j C(j−2, K−1) / 2^{j−1}]``,
    ``B_n ~ Binomial(n, 1/2)``, ``u_i = 1[y_{α_i} = y]``: item ``α_i`` enters the top ``K`` of
    a random subset when fewer than ``K`` nearer items are present, and then pushes out the
    ``K``-th, which is ``α_j`` with probability ``C(j−2, K−1)/2^{j−1}``. Only the nearest
    ``n_nearest`` items of each test point are ranked; the rest get 0. By default
    ``n_nearest`` is the smallest ``M`` with ``P(B_{M−1} ≤ K−1)/K < 2^-1075`` (about 1,100
    for ``K = 5``): every omitted term is then below the smallest float64, so the result is
    exact. A smaller ``n_nearest`` errs by at most ``P(B_{M−1} ≤ K−1)/K`` per value.
    Other arguments as :func:`knn_shapley`.

    >>> knn_banzhaf([[0.0], [1.0], [5.0]], [0, 1, 1], [[0.1]], [1], k=2).round(4).tolist()
    [-0.125, 0.375, 0.375]
    """
    train, xte, yte, kk = _inputs(x_train, y_train, x_test, y_test, k, batch_size, max_memory)
    if n_nearest is not None and (
        isinstance(n_nearest, bool) or not isinstance(n_nearest, int | np.integer) or n_nearest < 1
    ):
        raise InvalidData(f"n_nearest must be an integer >= 1, got {n_nearest!r}")
    rule = banzhaf_rule(train.n, kk, None if n_nearest is None else int(n_nearest))
    return _run(rule, train, xte, yte, batch_size, max_memory, client, n_jobs)
