"""TMC-Shapley: a Monte-Carlo estimate, checked against exact Shapley by subset enumeration."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

from datacoop.algorithms.valuation.tmc import Estimate, RunningMoments, tmc_shapley
from datacoop.errors import InvalidData

sys.path.insert(0, str(Path(__file__).parent))
from oracles import knn_utility, shapley_by_enumeration  # noqa: E402


class NearestMean(ClassifierMixin, BaseEstimator):
    """A cheap classifier (class means, nearest wins) so the tests can afford many fits."""

    def fit(self, x, y):
        self.classes_ = np.unique(y)
        self.means_ = np.stack([x[y == c].mean(axis=0) for c in self.classes_])
        return self

    def predict(self, x):
        dist = ((x[:, None, :] - self.means_[None, :, :]) ** 2).sum(axis=2)
        return self.classes_[np.argmin(dist, axis=1)]


class OneNN(ClassifierMixin, BaseEstimator):
    """1-nearest-neighbour, ties to the lower training row (rows arrive in index order)."""

    def fit(self, x, y):
        self.x_, self.y_ = x, y
        return self

    def predict(self, x):
        dist = ((x[:, None, :] - self.x_[None, :, :]) ** 2).sum(axis=2)
        return self.y_[np.argmin(dist, axis=1)]


def _problem(seed: int, n: int = 7, n_test: int = 12, classes: int = 3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    y = rng.integers(0, classes, n)
    y[:2] = [0, 1]
    xt = rng.normal(size=(n_test, 2))
    yt = rng.integers(0, classes, n_test)
    return x, y, xt, yt


def _accuracy_utility(estimator, x, y, xt, yt):
    """The documented utility, written out: U(∅) = 0, one class → predict it, else fit."""

    def utility(subset: frozenset[int]) -> float:
        rows = sorted(subset)
        if not rows:
            return 0.0
        if len(set(y[rows])) == 1:
            return float(np.mean(yt == y[rows[0]]))
        model = estimator.fit(x[rows], y[rows])
        return float(np.mean(model.predict(xt) == yt))

    return utility


@pytest.mark.parametrize("seed", range(3))
def test_matches_exact_shapley_of_the_same_utility(seed):
    x, y, xt, yt = _problem(seed)
    exact = shapley_by_enumeration(len(x), _accuracy_utility(NearestMean(), x, y, xt, yt))
    est = tmc_shapley(
        x, y, xt, yt, NearestMean(), n_permutations=400, truncation_tol=0.0, seed=seed
    )
    err = np.abs(est.values - exact)
    assert (err <= 4 * est.stderr + 1e-12).all(), (err, est.stderr)
    assert err.max() < 0.05


def test_one_nearest_neighbour_converges_to_knn_shapley_k1():
    # With a 1-NN classifier the accuracy utility is the K = 1 KNN utility.
    x, y, xt, yt = _problem(7, n=8)
    exact = shapley_by_enumeration(
        8, lambda s: knn_utility(x, y, xt, yt, 1, sorted(s)) if s else 0.0
    )
    est = tmc_shapley(x, y, xt, yt, OneNN(), n_permutations=300, truncation_tol=0.0, seed=1)
    assert (np.abs(est.values - exact) <= 4 * est.stderr + 1e-12).all()


def test_a_scikit_learn_estimator_gives_the_same_numbers_as_its_twin():
    x, y, xt, yt = _problem(8, n=8)
    ours = tmc_shapley(x, y, xt, yt, OneNN(), n_permutations=3, truncation_tol=0.0, seed=2)
    sk = tmc_shapley(
        x, y, xt, yt, KNeighborsClassifier(1), n_permutations=3, truncation_tol=0.0, seed=2
    )
    np.testing.assert_allclose(sk.values, ours.values, rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_efficiency_every_permutation_sums_to_full_utility(seed):
    x, y, xt, yt = _problem(seed + 10, n=9)
    full = _accuracy_utility(NearestMean(), x, y, xt, yt)(frozenset(range(9)))
    est = tmc_shapley(x, y, xt, yt, NearestMean(), n_permutations=5, truncation_tol=0.0, seed=seed)
    assert est.values.sum() == pytest.approx(full, abs=1e-12)


def test_truncation_keeps_the_total_within_the_tolerance():
    x, y, xt, yt = _problem(3, n=20, n_test=30, classes=2)
    full = _accuracy_utility(NearestMean(), x, y, xt, yt)(frozenset(range(20)))
    tol = 0.05
    est = tmc_shapley(x, y, xt, yt, NearestMean(), n_permutations=20, truncation_tol=tol)
    assert abs(est.values.sum() - full) < tol
    assert "truncation_tol=0.05" in est.method


def test_deterministic_given_seed_also_for_randomised_estimators():
    x, y, xt, yt = _problem(4, n=10)
    tree = DecisionTreeClassifier(max_features=1)  # random feature choice
    a = tmc_shapley(x, y, xt, yt, tree, n_permutations=6, seed=11)
    b = tmc_shapley(x, y, xt, yt, tree, n_permutations=6, seed=11)
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.stderr, b.stderr)
    c = tmc_shapley(x, y, xt, yt, tree, n_permutations=6, seed=12)
    assert not np.array_equal(a.values, c.values)


def test_result_is_labelled_an_estimate_with_standard_errors():
    x, y, xt, yt = _problem(5, n=6)
    est = tmc_shapley(x, y, xt, yt, NearestMean(), n_permutations=4, seed=3)
    assert isinstance(est, Estimate)
    assert est.n_samples == 4 and est.seed == 3 and est.values.shape == est.stderr.shape == (6,)
    text = repr(est)
    assert "Monte-Carlo ESTIMATE" in text and "stderr" in text and "4 permutations" in text
    assert "ESTIMATE" in Estimate.__doc__.upper()
    with pytest.raises(AttributeError):
        est.n_samples = 5  # frozen
    gen = tmc_shapley(x, y, xt, yt, NearestMean(), n_permutations=2, seed=np.random.default_rng(0))
    assert gen.seed is None


def test_default_estimator_runs():
    x, y, xt, yt = _problem(6, n=6, n_test=5, classes=2)
    est = tmc_shapley(x, y, xt, yt, n_permutations=2, truncation_tol=0.0)
    full = _accuracy_utility(
        __import__("sklearn.linear_model").linear_model.LogisticRegression(max_iter=1000),
        x,
        y,
        xt,
        yt,
    )(frozenset(range(6)))
    assert est.values.sum() == pytest.approx(full, abs=1e-12)


def test_running_moments_match_numpy_in_blocks():
    rng = np.random.default_rng(0)
    rows = rng.normal(3.0, 0.01, size=(50, 4))
    moments = RunningMoments(4)
    for block in np.array_split(rows, [1, 7, 8, 30]):
        moments.add(block)
    np.testing.assert_allclose(moments.mean, rows.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(moments.stderr(), rows.std(axis=0, ddof=1) / np.sqrt(50), rtol=1e-9)
    assert np.isnan(RunningMoments(2).stderr()).all()


def test_running_moments_with_a_mask_use_only_the_marked_samples():
    rng = np.random.default_rng(1)
    rows = rng.normal(size=(40, 3))
    mask = rng.random((40, 3)) < 0.6
    mask[:, 2] = False
    mask[5, 2] = True  # a single sample: no standard error
    moments = RunningMoments(3)
    for r, m in zip(np.array_split(rows, 3), np.array_split(mask, 3), strict=True):
        moments.add(r, m)
    for j in range(2):
        kept = rows[mask[:, j], j]
        assert moments.mean[j] == pytest.approx(kept.mean(), abs=1e-13)
        assert moments.stderr()[j] == pytest.approx(kept.std(ddof=1) / np.sqrt(len(kept)))
    assert moments.mean[2] == rows[5, 2] and np.isnan(moments.stderr()[2])


class _NoPredict:
    def fit(self, x, y):
        return self


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_permutations": 1}, "n_permutations"),
        ({"truncation_tol": -0.1}, "truncation_tol"),
        ({"truncation_tol": float("nan")}, "truncation_tol"),
        ({"truncation_tol": "x"}, "truncation_tol"),
        ({"estimator": _NoPredict()}, "fit and predict"),
        ({"seed": -3}, "seed"),
    ],
)
def test_bad_parameters(kwargs, message):
    x, y, xt, yt = _problem(0)
    with pytest.raises(InvalidData, match=message):
        tmc_shapley(x, y, xt, yt, **kwargs)


def test_bad_data():
    x, y, xt, yt = _problem(0)
    with pytest.raises(InvalidData, match="single class"):
        tmc_shapley(x, np.zeros(len(x), int), xt, yt)
    with pytest.raises(InvalidData, match="empty"):
        tmc_shapley(x, y, xt[:0], yt[:0])
    with pytest.raises(InvalidData, match="NaN"):
        tmc_shapley(np.where(x > 1, np.nan, x), y, xt, yt)
    with pytest.raises(InvalidData, match="labels"):
        tmc_shapley(x, y[:-1], xt, yt)


def test_docstring_examples_run():
    import doctest

    from datacoop.algorithms.valuation import tmc as module

    assert doctest.testmod(module).failed == 0
