"""KNN-Shapley, soft-label KNN-Shapley and KNN-Banzhaf.

Oracles, all independent of the library's recursions:
* enumeration of every subset (N ≤ 12) of the game itself, with plain Python loops, the
  ranking by (distance summed in feature order, item index) built with ``sorted``;
* for larger N, a line-by-line transcription of Jia et al.'s recursion (per test point, a
  Python loop), with the corrected base case ``1[y = y_test] / max(N, K)``.
Plus the axioms (efficiency, symmetry, null player), invariance under batching, threads and
item order, and bad input.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from datacoop.algorithms.valuation import knn as knn_module
from datacoop.algorithms.valuation.knn import knn_banzhaf, knn_shapley, soft_knn_shapley
from datacoop.errors import InvalidData

TOL = 1e-12


# ---------------------------------------------------------------------------- oracles
def _ranking(x_train: np.ndarray, x_row: np.ndarray) -> list[int]:
    dist = []
    for item in x_train:
        total = 0.0
        for a, b in zip(item.tolist(), x_row.tolist(), strict=True):
            total += (a - b) * (a - b)
        dist.append(total)
    return sorted(range(len(x_train)), key=lambda i: (dist[i], i))


def _game(x_train, y_train, x_row, y_row, k: int, soft: bool, n_classes: int) -> list[float]:
    """U(S) for every subset S, indexed by the bit mask of S."""
    ranked = _ranking(x_train, x_row)
    n = len(x_train)
    table = []
    for mask in range(2**n):
        members = [i for i in ranked if mask >> i & 1]
        hits = sum(1 for i in members[:k] if y_train[i] == y_row)
        if soft:
            table.append(hits / min(k, len(members)) if members else 1.0 / n_classes)
        else:
            table.append(hits / k)
    return table


def _shapley(table: list[float], n: int) -> np.ndarray:
    values = np.zeros(n)
    for i in range(n):
        for mask in range(2**n):
            if mask >> i & 1:
                continue
            size = bin(mask).count("1")
            weight = 1.0 / (n * math.comb(n - 1, size))
            values[i] += weight * (table[mask | 1 << i] - table[mask])
    return values


def _banzhaf(table: list[float], n: int) -> np.ndarray:
    values = np.zeros(n)
    for i in range(n):
        for mask in range(2**n):
            if not mask >> i & 1:
                values[i] += table[mask | 1 << i] - table[mask]
    return values / 2 ** (n - 1)


def brute_force(x_train, y_train, x_test, y_test, k, game, n_classes=0) -> np.ndarray:
    x_train, x_test = np.asarray(x_train, float), np.asarray(x_test, float)
    n = len(x_train)
    total = np.zeros(n)
    for x_row, y_row in zip(x_test, y_test, strict=True):
        table = _game(x_train, y_train, x_row, y_row, k, game == "soft", n_classes)
        total += _banzhaf(table, n) if game == "banzhaf" else _shapley(table, n)
    return total / len(x_test)


def jia_recursion(x_train, y_train, x_test, y_test, k) -> np.ndarray:
    """Jia et al. 2019, Theorem 1, one test point at a time (base case over max(N, K))."""
    n = len(x_train)
    total = np.zeros(n)
    for x_row, y_row in zip(x_test, y_test, strict=True):
        ranked = _ranking(x_train, x_row)
        match = [float(y_train[i] == y_row) for i in ranked]
        s = [0.0] * n
        s[n - 1] = match[n - 1] / max(n, k)
        for i in range(n - 2, -1, -1):  # rank i + 1
            s[i] = s[i + 1] + (match[i] - match[i + 1]) / k * min(k, i + 1) / (i + 1)
        for pos, item in enumerate(ranked):
            total[item] += s[pos]
    return total / len(x_test)


def full_utility(x_train, y_train, x_row, y_row, k) -> float:
    ranked = _ranking(x_train, x_row)
    return sum(1 for i in ranked[:k] if y_train[i] == y_row) / min(k, len(ranked))


# ---------------------------------------------------------------------------- data
def blobs(n, n_test, n_classes=3, dim=2, seed=0, grid=False):
    """Labelled points; ``grid`` puts them on a small integer grid, so distances tie exactly."""
    rng = np.random.default_rng(seed)
    if grid:
        x = rng.integers(0, 3, size=(n, dim)).astype(float)
        xt = rng.integers(0, 3, size=(n_test, dim)).astype(float)
    else:
        x = rng.normal(size=(n, dim))
        xt = rng.normal(size=(n_test, dim))
    y = rng.integers(0, n_classes, size=n)
    y[:2] = [0, 1]  # at least two classes
    yt = rng.integers(0, n_classes, size=n_test)
    return x, y, xt, yt


CASES = [  # (n, k, n_classes, grid)
    (2, 1, 2, False),
    (5, 3, 2, False),
    (7, 7, 3, True),  # K = N
    (6, 10, 3, False),  # K > N
    (9, 4, 3, True),  # exact ties everywhere
    (10, 13, 4, True),  # K > N with ties
    (11, 2, 4, False),
    (12, 5, 3, True),
    (12, 1, 2, False),
]
FUNCS = {"shapley": knn_shapley, "soft": soft_knn_shapley, "banzhaf": knn_banzhaf}


# ---------------------------------------------------------------------------- exactness
@pytest.mark.parametrize(("n", "k", "n_classes", "grid"), CASES)
@pytest.mark.parametrize("game", ["shapley", "soft", "banzhaf"])
def test_matches_enumeration_of_all_subsets(game, n, k, n_classes, grid):
    x, y, xt, yt = blobs(n, 3, n_classes, seed=n * 31 + k, grid=grid)
    c = int(max(y.max(), yt.max())) + 1
    got = FUNCS[game](x, y, xt, yt, k=k)
    want = brute_force(x, y, xt, yt, k, game, n_classes=c)
    assert got.dtype == np.float64 and got.shape == (n,)
    np.testing.assert_allclose(got, want, rtol=0, atol=TOL)


def test_soft_uses_the_given_number_of_classes():
    x, y, xt, yt = blobs(6, 2, 2, seed=4)
    got = soft_knn_shapley(x, y, xt, yt, k=2, n_classes=5)
    np.testing.assert_allclose(got, brute_force(x, y, xt, yt, 2, "soft", 5), rtol=0, atol=TOL)


def test_base_case_divides_by_max_n_k_not_n():
    # N = 2 < K = 4: the utility is additive, so each value is 1[y = y_test] / K.
    got = knn_shapley([[0.0], [1.0]], [1, 0], [[0.0]], [1], k=4)
    np.testing.assert_allclose(got, [0.25, 0.0], rtol=0, atol=TOL)


@pytest.mark.parametrize("grid", [False, True])
@pytest.mark.parametrize("k", [1, 5, 400])
def test_matches_jia_recursion_on_larger_sets(k, grid):
    x, y, xt, yt = blobs(300, 40, 4, dim=3, seed=k, grid=grid)
    got = knn_shapley(x, y, xt, yt, k=k)
    np.testing.assert_allclose(got, jia_recursion(x, y, xt, yt, k), rtol=0, atol=TOL)


def test_blas_rounding_cannot_change_the_order():
    # Far outliers make the BLAS error bound larger than every gap, so every row is re-ranked
    # exactly; near-ties 1e-12 apart must still come out in exact-distance order.
    rng = np.random.default_rng(7)
    x = np.concatenate([[[1e7, 1e7], [-1e7, -1e7]], rng.integers(0, 3, (60, 2)) + 0.0])
    x[5:10] += 1e-12 * np.arange(5)[:, None]
    y = rng.integers(0, 3, len(x))
    y[:2] = [0, 1]
    xt = rng.integers(0, 3, (20, 2)) + 0.5
    yt = rng.integers(0, 3, 20)
    np.testing.assert_allclose(
        knn_shapley(x, y, xt, yt, k=3), jia_recursion(x, y, xt, yt, 3), rtol=0, atol=TOL
    )


def _crafted():
    """Items on a line; ``dist`` plays BLAS with errors up to ``slack / 2`` = 0.01.

    Exact squared distances from 0: A 1.005, B 0.5, Y 1.0, Z 0, far 4294963200 (so the 32-bit
    buckets are one unit wide). BLAS puts A below Y, and A shares bucket 0 with B and Z.
    """
    exact = np.array([1.005, 0.5, 1.0, 0.0, 4294963200.0])
    blas = np.array([0.997, 0.5, 1.003, 0.0, 4294963200.0])
    train = knn_module.prepare(np.sqrt(exact)[:, None], np.array([0, 1, 0, 1, 0]))
    return train, blas, 0.02


def test_full_order_rechecks_neighbours_of_shared_buckets():
    train, blas, slack = _crafted()
    order = knn_module._full_order(blas, slack, train, np.zeros(1))
    assert order.tolist() == [3, 1, 2, 0, 4]  # Z, B, Y, A: Y before A, as the exact rule says


def test_full_order_rechecks_bucket_mates_after_a_boundary():
    # Exact: Z 0, X 4.007, Y 4.9, W 4.0; BLAS puts X (bucket 3) before W (bucket 4, listed
    # after its bucket-mate Y), so the X | Y boundary hides W, which is nearer than X.
    exact = np.array([0.0, 4.007, 4.9, 4.0, 4294963200.0])
    blas = np.array([0.0, 3.999, 4.9, 4.001, 4294963200.0])
    train = knn_module.prepare(np.sqrt(exact)[:, None], np.array([0, 1, 0, 1, 0]))
    assert knn_module._full_order(blas, 0.02, train, np.zeros(1)).tolist() == [0, 3, 1, 2, 4]


def test_nearest_order_looks_past_the_blas_cut():
    train, blas, slack = _crafted()
    assert knn_module._nearest_order(blas, 3, slack, train, np.zeros(1)).tolist() == [3, 1, 2]


# ---------------------------------------------------------------------------- Banzhaf cut
def test_banzhaf_cut_is_exact_in_float64():
    x, y, xt, yt = blobs(2500, 6, 3, dim=2, seed=3)
    rule = knn_module.banzhaf_rule(2500, 5, None)
    assert 1000 < rule.n_ranked < 2500  # only the nearest ~1,100 are ranked
    default = knn_banzhaf(x, y, xt, yt, k=5)
    everything = knn_banzhaf(x, y, xt, yt, k=5, n_nearest=2500)
    np.testing.assert_allclose(default, everything, rtol=0, atol=1e-300)


def test_banzhaf_small_cut_errs_within_its_bound():
    x, y, xt, yt = blobs(400, 5, 3, dim=2, seed=5)
    m, k = 30, 3
    bound = sum(math.comb(m - 1, j) for j in range(k)) / 2 ** (m - 1) / k
    full = knn_banzhaf(x, y, xt, yt, k=k, n_nearest=400)
    cut = knn_banzhaf(x, y, xt, yt, k=k, n_nearest=m)
    assert 0 < np.abs(full - cut).max() <= bound


# ---------------------------------------------------------------------------- axioms
@pytest.mark.parametrize("k", [1, 3, 250])
def test_efficiency(k):
    x, y, xt, yt = blobs(200, 15, 3, seed=k, grid=True)
    gain = np.mean([full_utility(x, y, a, b, k) for a, b in zip(xt, yt, strict=True)])
    hard = gain * min(k, 200) / k  # hard utility divides by K, not min(K, N)
    assert knn_shapley(x, y, xt, yt, k=k).sum() == pytest.approx(hard, abs=TOL)
    soft = soft_knn_shapley(x, y, xt, yt, k=k).sum()
    assert soft == pytest.approx(gain - 1 / 3, abs=TOL)


@pytest.mark.parametrize("game", ["shapley", "soft", "banzhaf"])
def test_symmetry_of_identical_items(game):
    x, y, xt, yt = blobs(40, 8, 3, seed=11)
    x[17], y[17] = x[3], y[3]  # a duplicate of item 3; no other ties
    values = FUNCS[game](x, y, xt, yt, k=4)
    assert values[17] == pytest.approx(values[3], abs=TOL)


@pytest.mark.parametrize("game", ["shapley", "banzhaf"])
def test_null_players_get_exactly_zero(game):
    # Items farther than every other item from every test point, with a label no test point
    # has, never change U(S): K-NN utility is unchanged whether they are in or out.
    x, y, xt, yt = blobs(30, 6, 2, seed=2)
    far = np.array([[100.0, 100.0], [101.0, 100.0], [100.0, 102.0]])
    values = FUNCS[game](np.vstack([x, far]), np.concatenate([y, [7, 7, 7]]), xt, yt, k=3)
    assert values[-3:].tolist() == [0.0, 0.0, 0.0]
    assert np.abs(values[:-3]).max() > 0


@pytest.mark.parametrize("game", ["shapley", "soft", "banzhaf"])
def test_item_order_does_not_matter_without_ties(game):
    x, y, xt, yt = blobs(120, 10, 3, seed=8)
    perm = np.random.default_rng(1).permutation(120)
    f = FUNCS[game]
    np.testing.assert_allclose(
        f(x[perm], y[perm], xt, yt, k=5), f(x, y, xt, yt, k=5)[perm], rtol=0, atol=TOL
    )


def test_tie_rule_is_distance_then_index():
    # Two items at the same distance with different labels: the lower index ranks first.
    x = [[1.0], [-1.0], [5.0]]
    a = knn_shapley(x, [0, 1, 1], [[0.0]], [1], k=1)
    b = knn_shapley(x[::-1], [1, 1, 0], [[0.0]], [1], k=1)
    np.testing.assert_allclose(a, brute_force(x, [0, 1, 1], [[0.0]], [1], 1, "shapley"), atol=TOL)
    assert a[0] != b[2]  # the same item, ranked before vs after its tie


# ---------------------------------------------------------------------------- invariance
@pytest.mark.parametrize("game", ["shapley", "soft", "banzhaf"])
@pytest.mark.parametrize("grid", [False, True])
def test_identical_for_any_batch_size_and_threads(game, grid):
    x, y, xt, yt = blobs(500, 70, 4, dim=3, seed=9, grid=grid)
    f = FUNCS[game]
    reference = f(x, y, xt, yt, k=5, batch_size=1, n_jobs=1)
    for batch_size in (7, 32, 1000, None):
        for n_jobs in (1, 2):
            got = f(x, y, xt, yt, k=5, batch_size=batch_size, n_jobs=n_jobs)
            np.testing.assert_array_equal(got, reference)
    np.testing.assert_array_equal(f(x, y, xt, yt, k=5, max_memory=1), reference)


def test_batch_size_from_memory_budget():
    assert knn_module.batch_rows(20_000, 256 * 2**20, 2, 63) == 32
    assert knn_module.batch_rows(1_000_000, 256 * 2**20, 2, 32) == 2
    assert knn_module.batch_rows(10**8, 2**20, 1, 1) == 1


def test_labels_of_any_type():
    x, y, xt, yt = blobs(30, 5, 3, seed=6)
    names = np.array(["ant", "bee", "cat"])
    np.testing.assert_array_equal(
        knn_shapley(x, names[y], xt, names[yt], k=3), knn_shapley(x, y, xt, yt, k=3)
    )


# ---------------------------------------------------------------------------- bad input
GOOD = blobs(10, 3, 2, seed=1)


@pytest.mark.parametrize("game", ["shapley", "soft", "banzhaf"])
@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: {**a, "y_train": a["y_train"][:-1]}, "labels for"),
        (lambda a: {**a, "y_test": a["y_test"][:-1]}, "labels for"),
        (lambda a: {**a, "x_train": np.where(np.eye(10, 2) > 0, np.nan, a["x_train"])}, "NaN"),
        (lambda a: {**a, "x_test": np.full((3, 2), np.inf)}, "infinite"),
        (lambda a: {**a, "x_test": np.zeros((0, 2)), "y_test": []}, "empty"),
        (lambda a: {**a, "x_test": np.zeros((3, 3))}, "features"),
        (lambda a: {**a, "y_train": np.zeros(10, int)}, "single class"),
        (lambda a: {**a, "k": 0}, "k must be"),
        (lambda a: {**a, "k": -2}, "k must be"),
        (lambda a: {**a, "k": 2.5}, "k must be"),
        (lambda a: {**a, "k": True}, "k must be"),
        (lambda a: {**a, "batch_size": 0}, "batch_size"),
        (lambda a: {**a, "max_memory": 0}, "max_memory"),
        (lambda a: {**a, "n_jobs": 0}, "n_jobs"),
        (lambda a: {**a, "x_train": np.outer(np.arange(10), [1e200, 0])}, "too large"),
        (lambda a: {**a, "x_test": np.full((3, 2), 1e200)}, "too large"),
    ],
)
def test_bad_input(game, change, message):
    x, y, xt, yt = GOOD
    args = change({"x_train": x, "y_train": y, "x_test": xt, "y_test": yt, "k": 3})
    with pytest.raises(InvalidData, match=message):
        FUNCS[game](**args)


def test_bad_options_of_soft_and_banzhaf():
    x, y, xt, yt = GOOD
    with pytest.raises(InvalidData, match="n_classes"):
        soft_knn_shapley(x, y, xt, yt, n_classes=1)
    with pytest.raises(InvalidData, match="n_classes"):
        soft_knn_shapley(x, y, xt, yt, n_classes=2.0)  # type: ignore[arg-type]
    with pytest.raises(InvalidData, match="n_nearest"):
        knn_banzhaf(x, y, xt, yt, n_nearest=0)
    with pytest.raises(InvalidData, match="client"):
        knn_shapley(x, y, xt, yt, client=object())
