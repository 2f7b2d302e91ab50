"""Data-OOB: out-of-bag accuracy per item, checked against a hand-written bagging loop."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import BaggingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from datacoop.algorithms.valuation.oob import data_oob
from datacoop.errors import InvalidData


def _blobs(seed: int, n: int = 200, flip: float = 0.1):
    """Two Gaussian classes; a ``flip`` fraction of labels flipped (returned as a mask)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = rng.normal(size=(n, 2)) + 2.0 * y[:, None]
    flipped = np.zeros(n, bool)
    flipped[rng.choice(n, int(flip * n), replace=False)] = True
    return x, np.where(flipped, 1 - y, y), flipped


def _manual_oob(x, y, estimator, n_estimators, m, seed):
    """The documented sampling scheme, written out as a plain bagging loop."""
    rng = np.random.default_rng(seed)
    n = len(x)
    correct, counts = np.zeros(n), np.zeros(n)
    for _ in range(n_estimators):
        rows = rng.integers(0, n, m)
        random_state = int(rng.integers(2**31 - 1))
        model = clone(estimator)
        params = model.get_params()
        model.set_params(**{k: random_state for k in params if k.split("__")[-1] == "random_state"})
        out = np.setdiff1d(np.arange(n), rows)
        if len(np.unique(y[rows])) == 1:
            pred = np.full(len(out), y[rows][0])
        else:
            pred = model.fit(x[rows], y[rows]).predict(x[out])
        correct[out] += pred == y[out]
        counts[out] += 1
    with np.errstate(invalid="ignore"):
        return np.where(counts > 0, correct / counts, np.nan)


@pytest.mark.parametrize(
    "estimator",
    [
        GaussianNB(),
        DecisionTreeClassifier(max_features=1),
        make_pipeline(StandardScaler(), DecisionTreeClassifier(max_features=1)),
    ],
    ids=["no-random-state", "tree", "pipeline"],
)
def test_equals_a_manual_bagging_loop(estimator):
    x, y, _ = _blobs(1, n=60)
    got = data_oob(x, y, estimator, n_estimators=40, max_samples=0.8, seed=7)
    want = _manual_oob(x, y, estimator, 40, 48, seed=7)
    np.testing.assert_array_equal(got, want)


def test_agrees_with_sklearn_bagging_members_out_of_bag():
    x, y, _ = _blobs(2, n=150)
    bag = BaggingClassifier(GaussianNB(), n_estimators=300, random_state=0).fit(x, y)
    correct, counts = np.zeros(len(x)), np.zeros(len(x))
    for model, rows in zip(bag.estimators_, bag.estimators_samples_, strict=True):
        out = np.setdiff1d(np.arange(len(x)), rows)
        correct[out] += model.predict(x[out]) == y[out]
        counts[out] += 1
    reference = correct / counts
    ours = data_oob(x, y, GaussianNB(), n_estimators=300, seed=0)
    # different random draws of the same quantity: close, not equal
    assert np.mean(np.abs(ours - reference)) < 0.03
    assert np.corrcoef(ours, reference)[0, 1] > 0.95


@pytest.mark.parametrize("seed", [0, 1])
def test_ranks_flipped_labels_low(seed):
    x, y, flipped = _blobs(seed, n=200, flip=0.1)
    values = data_oob(x, y, n_estimators=100, seed=seed)
    assert not np.isnan(values).any()
    assert roc_auc_score(flipped, -values) > 0.85


def test_string_labels_and_values_in_unit_interval():
    x, y, _ = _blobs(3, n=40)
    labels = np.array(["cat", "dog"])[y]
    values = data_oob(x, labels, GaussianNB(), n_estimators=30, seed=0)
    np.testing.assert_array_equal(values, data_oob(x, y, GaussianNB(), n_estimators=30, seed=0))
    assert ((values >= 0) & (values <= 1)).all()


def test_never_out_of_bag_is_nan():
    x, y, _ = _blobs(4, n=30)
    values = data_oob(x, y, GaussianNB(), n_estimators=1, seed=5)
    rows = np.random.default_rng(5).integers(0, 30, 30)
    in_bag = np.isin(np.arange(30), rows)
    assert np.isnan(values[in_bag]).all()
    assert not np.isnan(values[~in_bag]).any()


def test_single_class_bootstrap_predicts_that_class():
    # One-row bootstraps: LogisticRegression alone would refuse to fit.
    x, y, _ = _blobs(5, n=20)
    values = data_oob(x, y, LogisticRegression(), n_estimators=50, max_samples=1, seed=0)
    want = _manual_oob(x, y, LogisticRegression(), 50, 1, seed=0)
    np.testing.assert_array_equal(values, want)


def test_deterministic_given_seed():
    x, y, _ = _blobs(6, n=50)
    a = data_oob(x, y, n_estimators=20, seed=3)
    np.testing.assert_array_equal(a, data_oob(x, y, n_estimators=20, seed=3))
    assert not np.array_equal(a, data_oob(x, y, n_estimators=20, seed=4))
    gen = data_oob(x, y, n_estimators=20, seed=np.random.default_rng(3))
    np.testing.assert_array_equal(a, gen)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_estimators": 0}, "n_estimators"),
        ({"max_samples": 0.0}, "max_samples"),
        ({"max_samples": 1.5}, "max_samples"),
        ({"max_samples": 0}, "max_samples"),
        ({"max_samples": 11}, "max_samples"),
        ({"max_samples": True}, "max_samples"),
        ({"max_samples": "all"}, "max_samples"),
        ({"estimator": object()}, "fit and predict"),
        ({"seed": 1.5}, "seed"),
    ],
)
def test_bad_parameters(kwargs, message):
    x, y, _ = _blobs(0, n=10)
    with pytest.raises(InvalidData, match=message):
        data_oob(x, y, **kwargs)


def test_bad_data():
    x, y, _ = _blobs(0, n=10)
    with pytest.raises(InvalidData, match="single class"):
        data_oob(x, np.zeros(10, int))
    with pytest.raises(InvalidData, match="NaN"):
        data_oob(np.where(x > 1, np.inf, x), y)
    with pytest.raises(InvalidData, match="labels"):
        data_oob(x, y[:-1])
    with pytest.raises(InvalidData, match="empty"):
        data_oob(np.empty((0, 2)), [])
    with pytest.raises(InvalidData, match="mix types"):
        data_oob(x, np.array([1, "a"] * 5, dtype=object))


def test_docstring_examples_run():
    import doctest

    from datacoop.algorithms.valuation import oob as module

    assert doctest.testmod(module).failed == 0
