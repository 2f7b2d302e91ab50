"""Contributor-level values: exact K = 1, Monte Carlo for K > 1, and the item sum."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from datacoop.algorithms.valuation import contributors
from datacoop.algorithms.valuation._checks import as_owners
from datacoop.algorithms.valuation.contributors import (
    contributor_knn_shapley,
    contributor_shapley_mc,
    contributor_values,
)
from datacoop.algorithms.valuation.tmc import Estimate
from datacoop.errors import InvalidData

sys.path.insert(0, str(Path(__file__).parent))
from oracles import contributor_shapley_bruteforce, knn_utility, sq_distance  # noqa: E402


def _problem(seed: int, n: int = 14, m: int = 6, n_test: int = 7, classes: int = 3, grid=False):
    """Random items, owners and test points; ``grid`` gives integer features with many ties."""
    rng = np.random.default_rng(seed)
    if grid:
        x = rng.integers(0, 3, (n, 2)).astype(float)
        xt = rng.integers(0, 3, (n_test, 2)).astype(float)
    else:
        x = rng.normal(size=(n, 3))
        xt = rng.normal(size=(n_test, 3))
    y = rng.integers(0, classes, n)
    y[:2] = [0, 1]  # at least two classes
    owners = np.array([f"c{o}" for o in rng.integers(0, m, n)])
    yt = rng.integers(0, classes, n_test)
    return x, y, owners, xt, yt


def _as_series(d: dict) -> pd.Series:
    return pd.Series(d).sort_index()


# ------------------------------------------------------------------------ exact K = 1
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("grid", [False, True])
def test_exact_k1_equals_enumeration_over_contributors(seed, grid):
    x, y, owners, xt, yt = _problem(seed, n=10 + seed, m=3 + seed, grid=grid)
    got = contributor_knn_shapley(x, y, owners, xt, yt)
    want = _as_series(contributor_shapley_bruteforce(x, y, list(owners), xt, yt, k=1))
    assert list(got.index) == list(want.index)
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=0, atol=1e-12)


def test_exact_k1_with_16_items_8_contributors_and_ties():
    x, y, owners, xt, yt = _problem(99, n=16, m=8, n_test=9, classes=4, grid=True)
    x[5] = x[3]  # exact duplicates across (probably) different contributors
    got = contributor_knn_shapley(x, y, owners, xt, yt)
    want = _as_series(contributor_shapley_bruteforce(x, y, list(owners), xt, yt, k=1))
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=0, atol=1e-12)


def test_tie_rule_prefers_the_lower_item_index():
    # Two contributors at the same distance with different labels: the lower index wins.
    x = [[1.0], [-1.0]]
    test = [[0.0]]
    first = contributor_knn_shapley(x, [1, 0], ["a", "b"], test, [1])
    second = contributor_knn_shapley(x, [0, 1], ["a", "b"], test, [1])
    # a (index 0) is "nearer": U({a,b}) = 1[y_a = 1]
    assert first.to_dict() == {"a": 1.0, "b": 0.0}
    assert second.to_dict() == {"a": -0.5, "b": 0.5}  # a blocks the right label b
    assert (
        second.to_dict()
        == _as_series(
            contributor_shapley_bruteforce(x, [0, 1], ["a", "b"], test, [1], k=1)
        ).to_dict()
    )


@pytest.mark.parametrize("k", [1, 3])
def test_near_ties_follow_the_exact_distance_not_the_blas_one(k):
    # Items 1e6 + tiny offsets seen from far away: BLAS distances cannot separate them, the
    # tie rule's exact (feature-order) distances can; some are exact duplicates.
    rng = np.random.default_rng(0)
    x = 1e6 + rng.integers(0, 4, (14, 2)) * 1e-9 + rng.normal(0, 1e-10, (14, 2))
    x[7] = x[3]
    y = rng.integers(0, 2, 14)
    xt = rng.normal(0, 1, (5, 2))
    yt = rng.integers(0, 2, 5)
    owners = np.array([f"c{i % 6}" for i in range(14)])
    want = _as_series(contributor_shapley_bruteforce(x, y, list(owners), xt, yt, k=k))
    if k == 1:
        got = contributor_knn_shapley(x, y, owners, xt, yt)
        np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=0, atol=1e-12)
    est = contributor_shapley_mc(x, y, owners, xt, yt, k=k, n_permutations=3000, seed=0)
    assert ((est.values - want).abs() <= 4 * est.stderr + 1e-12).all()


def test_one_item_per_contributor_equals_item_level_knn_shapley():
    knn_shapley = pytest.importorskip("datacoop.algorithms.valuation.knn").knn_shapley
    x, y, _owners, xt, yt = _problem(14, n=40, n_test=30)
    x[5] = x[9]  # a tie across items
    got = contributor_knn_shapley(x, y, np.arange(40), xt, yt)
    np.testing.assert_allclose(got.to_numpy(), knn_shapley(x, y, xt, yt, k=1), atol=1e-12)


def test_exact_k1_does_not_depend_on_batching(monkeypatch):
    x, y, owners, xt, yt = _problem(3, n=60, m=9, n_test=40)
    whole = contributor_knn_shapley(x, y, owners, xt, yt)
    monkeypatch.setattr(contributors, "_BLOCK_ELEMENTS", 7)  # one test point per batch
    batched = contributor_knn_shapley(x, y, owners, xt, yt)
    np.testing.assert_allclose(batched.to_numpy(), whole.to_numpy(), rtol=0, atol=1e-12)


def test_owners_may_be_integers_and_each_item_its_own_contributor():
    # With one item per contributor the contributor game is the item game.
    x, y, _owners, xt, yt = _problem(4, n=9)
    got = contributor_knn_shapley(x, y, np.arange(9)[::-1], xt, yt)
    want = _as_series(contributor_shapley_bruteforce(x, y, list(range(9))[::-1], xt, yt, k=1))
    assert list(got.index) == list(range(9))
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=0, atol=1e-12)


# ------------------------------------------------------------------------------ axioms
def test_efficiency_values_sum_to_the_utility_of_everyone():
    x, y, owners, xt, yt = _problem(5, n=40, m=7, n_test=25)
    total = knn_utility(x, y, xt, yt, 1, range(len(x)))
    assert contributor_knn_shapley(x, y, owners, xt, yt).sum() == pytest.approx(total, abs=1e-12)
    # Monte Carlo: in expectation ...
    est = contributor_shapley_mc(x, y, owners, xt, yt, k=3, n_permutations=400, seed=1)
    total3 = knn_utility(x, y, xt, yt, 3, range(len(x)))
    assert abs(est.values.sum() - total3) <= 4 * est.stderr.sum()
    # ... and along every sampled permutation, exactly
    _uniques, codes = as_owners(owners, len(x))
    groups = contributors._Groups(x, y, codes, 7)
    cand_rank, match = contributors._candidate_ranks(groups, xt, yt, 3)
    perms = np.stack([np.random.default_rng(s).permutation(7) for s in range(20)])
    marginals = contributors._mc_marginals(cand_rank, match, perms, 3)
    np.testing.assert_allclose(marginals.sum(axis=1), total3, rtol=0, atol=1e-12)
    # the exact first stratum: U({c}) for each contributor
    alone = contributors._singleton_utilities(cand_rank, match, 3)
    for c, owner in enumerate(_uniques):
        items = np.flatnonzero(owners == owner)
        assert alone[c] == pytest.approx(knn_utility(x, y, xt, yt, 3, items), abs=1e-12)


def test_symmetry_contributors_with_identical_data_get_equal_values():
    x, y, owners, xt, yt = _problem(6, n=8, m=3)
    # "twin" holds an exact copy of c0's items (same features, same labels)
    mine = owners == owners[0]
    x2 = np.r_[x, x[mine]]
    y2 = np.r_[y, y[mine]]
    owners2 = np.r_[owners, ["twin"] * int(mine.sum())]
    exact = contributor_knn_shapley(x2, y2, owners2, xt, yt)
    assert exact[owners[0]] == pytest.approx(exact["twin"], abs=1e-12)
    brute = contributor_shapley_bruteforce(x2, y2, list(owners2), xt, yt, k=3)
    assert brute[owners[0]] == pytest.approx(brute["twin"], abs=1e-12)
    est = contributor_shapley_mc(x2, y2, owners2, xt, yt, k=3, n_permutations=3000, seed=0)
    gap = abs(est.values[owners[0]] - est.values["twin"])
    assert gap <= 4 * np.hypot(est.stderr[owners[0]], est.stderr["twin"]) + 1e-12


def test_null_player_gets_exactly_zero():
    # "far" holds items far from every test point, with a label no test point has: adding
    # them never changes any coalition's utility.
    x, y, owners, xt, yt = _problem(7, n=10, m=4, classes=2)
    x2 = np.r_[x, [[50.0, 50.0, 50.0], [60.0, 60.0, 60.0]]]
    y2 = np.r_[y, [7, 7]]
    owners2 = np.r_[owners, ["far", "far"]]
    assert contributor_knn_shapley(x2, y2, owners2, xt, yt)["far"] == 0.0
    est = contributor_shapley_mc(x2, y2, owners2, xt, yt, k=3, n_permutations=50)
    assert est.values["far"] == 0.0 and est.stderr["far"] == 0.0
    assert contributor_shapley_bruteforce(x2, y2, list(owners2), xt, yt, k=3)["far"] == 0.0


# ------------------------------------------------------------------------- Monte Carlo
@pytest.mark.parametrize("seed", range(3))
def test_mc_k3_is_within_its_standard_errors_of_enumeration(seed):
    x, y, owners, xt, yt = _problem(seed + 20, n=16, m=8, n_test=6, grid=seed == 2)
    want = _as_series(contributor_shapley_bruteforce(x, y, list(owners), xt, yt, k=3))
    est = contributor_shapley_mc(x, y, owners, xt, yt, k=3, n_permutations=1500, seed=seed)
    assert list(est.values.index) == list(want.index)
    err = (est.values - want).abs()
    assert (err <= 4 * est.stderr + 1e-12).all(), pd.DataFrame({"err": err, "se": est.stderr})
    assert err.max() < 0.02


def test_mc_converges_like_one_over_root_t():
    x, y, owners, xt, yt = _problem(31, n=16, m=7, n_test=6)
    want = _as_series(contributor_shapley_bruteforce(x, y, list(owners), xt, yt, k=3))
    small = contributor_shapley_mc(x, y, owners, xt, yt, k=3, n_permutations=100, seed=2)
    large = contributor_shapley_mc(x, y, owners, xt, yt, k=3, n_permutations=6400, seed=2)
    ratio = (large.stderr / small.stderr)[small.stderr > 0]
    # ≈ √(100/6400) = 0.125; each ratio is noisy (the small run's stderr rests on 100 samples)
    assert ratio.between(0.06, 0.25).all() and 0.1 < ratio.median() < 0.15
    assert (large.values - want).abs().max() < 0.006
    assert (large.values - want).abs().max() < (small.values - want).abs().max()


def test_mc_with_k1_agrees_with_the_exact_k1_values():
    x, y, owners, xt, yt = _problem(8, n=30, m=6, n_test=12)
    exact = contributor_knn_shapley(x, y, owners, xt, yt)
    est = contributor_shapley_mc(x, y, owners, xt, yt, k=1, n_permutations=2000, seed=3)
    assert ((est.values - exact).abs() <= 4 * est.stderr + 1e-12).all()


def test_mc_handles_k_larger_than_any_contributor_and_than_n():
    x, y, owners, xt, yt = _problem(9, n=8, m=4, n_test=5)
    want = _as_series(contributor_shapley_bruteforce(x, y, list(owners), xt, yt, k=10))
    est = contributor_shapley_mc(x, y, owners, xt, yt, k=10, n_permutations=2000, seed=0)
    assert ((est.values - want).abs() <= 4 * est.stderr + 1e-12).all()


def test_mc_is_deterministic_given_seed_and_independent_of_blocking(monkeypatch):
    x, y, owners, xt, yt = _problem(10, n=30, m=6, n_test=9)
    a = contributor_shapley_mc(x, y, owners, xt, yt, k=2, n_permutations=40, seed=5)
    b = contributor_shapley_mc(x, y, owners, xt, yt, k=2, n_permutations=40, seed=5)
    pd.testing.assert_series_equal(a.values, b.values)
    pd.testing.assert_series_equal(a.stderr, b.stderr)
    c = contributor_shapley_mc(x, y, owners, xt, yt, k=2, n_permutations=40, seed=6)
    assert not np.allclose(a.values, c.values)
    monkeypatch.setattr(contributors, "_BLOCK_ELEMENTS", 5)  # tiny batches and blocks
    d = contributor_shapley_mc(x, y, owners, xt, yt, k=2, n_permutations=40, seed=5)
    np.testing.assert_allclose(d.values, a.values, rtol=0, atol=1e-12)
    np.testing.assert_allclose(d.stderr, a.stderr, rtol=0, atol=1e-12)


def test_mc_returns_a_labelled_estimate():
    x, y, owners, xt, yt = _problem(11)
    est = contributor_shapley_mc(x, y, owners, xt, yt, k=2, n_permutations=10, seed=0)
    assert isinstance(est, Estimate)
    assert est.n_samples == 10 and est.seed == 0
    assert "ESTIMATE" in repr(est) and "stderr" in repr(est)
    low, high = est.interval()
    assert (low <= est.values).all() and (est.values <= high).all()
    gen = contributor_shapley_mc(
        x, y, owners, xt, yt, k=2, n_permutations=10, seed=np.random.default_rng(0)
    )
    assert gen.seed is None


# ---------------------------------------------------------- item sum vs contributor level
def test_item_sum_and_contributor_shapley_differ_for_duplicates():
    # ann gives the same item twice, bob a similar one a little farther, cy a far item of the
    # other class; one test point, of the first class. Item level (K = 1): the three right
    # items get 1/3 each, so ann's sum is 2/3. As people, ann or bob alone gives the full
    # utility: the contributor game splits it 1/2, 1/2.
    x = [[0.0], [0.0], [1.0], [5.0]]
    y = [1, 1, 1, 0]
    owners = ["ann", "ann", "bob", "cy"]
    test_x, test_y = [[0.0]], [1]
    item = contributor_knn_shapley(x, y, [0, 1, 2, 3], test_x, test_y)  # one item per player
    assert item.to_numpy() == pytest.approx([1 / 3, 1 / 3, 1 / 3, 0.0], abs=1e-12)
    summed = contributor_values(item.to_numpy(), owners)
    person = contributor_knn_shapley(x, y, owners, test_x, test_y)
    assert summed.to_dict() == pytest.approx({"ann": 2 / 3, "bob": 1 / 3, "cy": 0.0}, abs=1e-12)
    assert person.to_dict() == pytest.approx({"ann": 0.5, "bob": 0.5, "cy": 0.0}, abs=1e-12)
    brute = contributor_shapley_bruteforce(x, y, owners, test_x, test_y, k=1)
    assert brute == pytest.approx(person.to_dict(), abs=1e-12)
    # both are efficient: same total, split differently
    assert summed.sum() == pytest.approx(person.sum(), abs=1e-12)
    # duplicating your own item pays at item level, not at contributor level (K = 1)
    x3, y3, owners3 = x + [[0.0]], y + [1], owners + ["ann"]
    item3 = contributor_knn_shapley(x3, y3, np.arange(5), test_x, test_y)
    assert contributor_values(item3.to_numpy(), owners3)["ann"] == pytest.approx(3 / 4)
    assert contributor_knn_shapley(x3, y3, owners3, test_x, test_y)["ann"] == pytest.approx(0.5)


def test_item_sum_equals_contributor_shapley_when_items_never_interact():
    # One item per contributor: the two notions coincide.
    x, y, _owners, xt, yt = _problem(12, n=9)
    owners = [f"p{i}" for i in range(9)]
    item = contributor_knn_shapley(x, y, np.arange(9), xt, yt)
    summed = contributor_values(item.to_numpy(), owners)
    person = contributor_knn_shapley(x, y, owners, xt, yt)
    np.testing.assert_allclose(summed.to_numpy(), person.to_numpy(), rtol=0, atol=1e-12)


def test_a_single_contributor_gets_the_whole_utility():
    x, y, _owners, xt, yt = _problem(15, n=12)
    owners = ["solo"] * 12
    for k in (1, 3):
        total = knn_utility(x, y, xt, yt, k, range(12))
        est = contributor_shapley_mc(x, y, owners, xt, yt, k=k, n_permutations=3)
        assert est.values.to_dict() == pytest.approx({"solo": total}, abs=1e-12)
        assert est.stderr["solo"] == 0.0
    exact = contributor_knn_shapley(x, y, owners, xt, yt)
    assert exact["solo"] == pytest.approx(knn_utility(x, y, xt, yt, 1, range(12)), abs=1e-12)


def test_contributor_values_sums_per_sorted_owner():
    got = contributor_values([0.5, 0.25, 1.0, -0.5], ["bob", "ann", "bob", "cy"])
    assert list(got.index) == ["ann", "bob", "cy"]
    assert got.to_dict() == {"ann": 0.25, "bob": 1.5, "cy": -0.5}
    assert got.index.name == "contributor"


# --------------------------------------------------------------------------- bad input
def _ok():
    return _problem(13, n=6, m=2, n_test=3)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda a: {**a, "owners": a["owners"][:-1]}, "owners"),
        (lambda a: {**a, "x_train": np.where(np.eye(6, 3) > 0, np.nan, a["x_train"])}, "NaN"),
        (lambda a: {**a, "x_test": a["x_test"][:0]}, "empty"),
        (lambda a: {**a, "y_train": np.zeros(6, int)}, "single class"),
        (lambda a: {**a, "y_train": a["y_train"][:-1]}, "labels"),
        (lambda a: {**a, "x_test": np.ones((3, 2))}, "features"),
        (lambda a: {**a, "x_train": np.full((6, 3), 1e200)}, "overflow"),
    ],
)
@pytest.mark.parametrize("which", ["exact", "mc"])
def test_bad_input_raises_invalid_data(mutate, message, which):
    x, y, owners, xt, yt = _ok()
    args = mutate({"x_train": x, "y_train": y, "owners": owners, "x_test": xt, "y_test": yt})
    with pytest.raises(InvalidData, match=message):
        if which == "exact":
            contributor_knn_shapley(**args)
        else:
            contributor_shapley_mc(**args, k=2, n_permutations=5)


@pytest.mark.parametrize("k", [0, -1, 1.5, True, "3"])
def test_bad_k(k):
    x, y, owners, xt, yt = _ok()
    with pytest.raises(InvalidData, match="k must be"):
        contributor_shapley_mc(x, y, owners, xt, yt, k=k)


@pytest.mark.parametrize("n", [0, 1, 2.5])
def test_bad_n_permutations(n):
    x, y, owners, xt, yt = _ok()
    with pytest.raises(InvalidData, match="n_permutations"):
        contributor_shapley_mc(x, y, owners, xt, yt, n_permutations=n)


@pytest.mark.parametrize("seed", [-1, 1.0, "a", None])
def test_bad_seed(seed):
    x, y, owners, xt, yt = _ok()
    with pytest.raises(InvalidData, match="seed"):
        contributor_shapley_mc(x, y, owners, xt, yt, seed=seed)


@pytest.mark.parametrize(
    "values, owners, message",
    [
        ([1.0, 2.0], ["a"], "owners"),
        ([1.0, np.nan], ["a", "b"], "NaN"),
        ([], [], "non-empty"),
        ([[1.0]], ["a"], "1-D"),
        ([1.0, 2.0], ["a", None], "missing"),
    ],
)
def test_contributor_values_bad_input(values, owners, message):
    with pytest.raises(InvalidData, match=message):
        contributor_values(values, np.array(owners, dtype=object) if None in owners else owners)


@pytest.mark.parametrize("k", [1, 3, 4])
@pytest.mark.parametrize("kind", ["near-ties", "grid", "normal"])
def test_each_contributors_k_nearest_follow_the_tie_rule(k, kind):
    rng = np.random.default_rng(k)
    n = 40
    if kind == "near-ties":
        x = 1e6 + rng.integers(0, 3, (n, 2)) * 1e-9 + rng.normal(0, 1e-10, (n, 2))
    elif kind == "grid":
        x = rng.integers(0, 3, (n, 2)).astype(float)
    else:
        x = rng.normal(size=(n, 2))
    xt = rng.normal(size=(6, 2)) if kind != "grid" else rng.integers(0, 3, (6, 2)) * 1.0
    y = rng.integers(0, 2, n)
    yt = rng.integers(0, 2, 6)
    codes = np.repeat(np.arange(9), [1, 2, 3, 4, 5, 6, 7, 8, 4])  # sizes below and above k
    rng.shuffle(codes)
    groups = contributors._Groups(x, y, codes, 9)
    dist, item, match = groups.nearest(xt, yt, k)
    for t in range(6):
        for c in range(9):
            mine = np.flatnonzero(codes == c)
            want = sorted(mine, key=lambda i: (sq_distance(x[i], xt[t]), i))[:k]
            got = [int(i) for i in item[t, c] if i < n]
            assert got == want, (t, c)
            assert dist[t, c, : len(want)].tolist() == [sq_distance(x[i], xt[t]) for i in want]
            assert match[t, c, : len(want)].tolist() == [bool(y[i] == yt[t]) for i in want]
            assert np.isinf(dist[t, c, len(want) :]).all() and not match[t, c, len(want) :].any()


def test_docstring_examples_run():
    import doctest

    from datacoop.algorithms.valuation import contributors as module

    assert doctest.testmod(module).failed == 0
