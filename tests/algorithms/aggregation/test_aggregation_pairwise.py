"""Pairwise aggregation: BradleyTerry (MM) and NoisyBT (skill + position bias)."""

from __future__ import annotations

import doctest
import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import approx_fprime, minimize
from scipy.special import expit
from scipy.stats import spearmanr

from datacoop.algorithms.aggregation import bradley_terry as bt_module
from datacoop.algorithms.aggregation.bradley_terry import (
    BradleyTerry,
    NoisyBT,
    bt_objective,
    encode_pairs,
    noisy_bt_objective,
)
from datacoop.errors import InvalidData

AGGREGATORS = [BradleyTerry, NoisyBT]


def frame(rows: list[tuple[object, object, object, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["worker", "left", "right", "label"])


def chain_frame() -> pd.DataFrame:
    """a beats b, b beats c, a beats c; both screen positions, several workers."""
    rows = []
    for w in ["w1", "w2", "w3"]:
        for win, lose in [("a", "b"), ("b", "c"), ("a", "c")]:
            rows.append((w, win, lose, win))
            rows.append((w, lose, win, win))
    return frame(rows)


def symmetric_frame() -> pd.DataFrame:
    """Each worker sees every ordered pair twice and picks each side once: no item is better."""
    rows = []
    for w in ["w1", "w2"]:
        for x, y in itertools.permutations("abc", 2):
            rows.append((w, x, y, x))
            rows.append((w, x, y, y))
    return frame(rows)


def random_frame(
    seed: int, n_items: int = 8, n_rows: int = 300, n_workers: int = 6
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    left = rng.integers(0, n_items, n_rows)
    right = (left + rng.integers(1, n_items, n_rows)) % n_items
    strength = np.linspace(-1.5, 1.5, n_items)
    y = rng.random(n_rows) < expit(strength[left] - strength[right])
    return pd.DataFrame(
        {
            "worker": rng.integers(0, n_workers, n_rows),
            "left": left,
            "right": right,
            "label": np.where(y, left, right),
        }
    )


# --------------------------------------------------------------------------- docs
def test_module_docstring_examples_run() -> None:
    result = doctest.testmod(bt_module, raise_on_error=False)
    assert result.attempted >= 3 and result.failed == 0


# ----------------------------------------------------------------------- toy cases
@pytest.mark.parametrize("cls", AGGREGATORS)
def test_chain_ranks_a_over_b_over_c(cls: type[BradleyTerry] | type[NoisyBT]) -> None:
    scores = cls().fit_predict(chain_frame())
    assert list(scores.index) == ["a", "b", "c"]
    assert scores.name == "agg_score" and scores.index.name == "label"
    assert scores["a"] > scores["b"] > scores["c"] > 0
    assert np.all(np.isfinite(scores))
    assert scores.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("cls", AGGREGATORS)
def test_symmetric_data_gives_equal_scores(cls: type[BradleyTerry] | type[NoisyBT]) -> None:
    model = cls(tol=1e-10, n_iter=1000)
    scores = model.fit_predict(symmetric_frame())
    np.testing.assert_allclose(scores.to_numpy(), np.full(3, 1 / 3), atol=1e-6)


def test_bt_item_without_wins_gets_small_positive_score() -> None:
    scores = BradleyTerry().fit_predict(chain_frame())
    assert 0 < scores["c"] < 0.05


def test_bt_regularization_shrinks_towards_equal_scores() -> None:
    data = chain_frame()
    spread = [
        float(np.ptp(BradleyTerry(regularization=r).fit_predict(data))) for r in (0.01, 0.1, 1, 10)
    ]
    assert spread == sorted(spread, reverse=True)


# ------------------------------------------------------------------- invariances
@pytest.mark.parametrize("cls", AGGREGATORS)
def test_row_order_does_not_change_anything(cls: type[BradleyTerry] | type[NoisyBT]) -> None:
    data = random_frame(1)
    shuffled = data.sample(frac=1.0, random_state=7).reset_index(drop=True)
    a, b = cls().fit(data), cls().fit(shuffled)
    pd.testing.assert_series_equal(a.scores_, b.scores_, check_exact=True)
    if isinstance(a, NoisyBT) and isinstance(b, NoisyBT):
        pd.testing.assert_series_equal(a.skills_, b.skills_, check_exact=True)
        pd.testing.assert_series_equal(a.biases_, b.biases_, check_exact=True)


@pytest.mark.parametrize("cls", AGGREGATORS)
def test_deterministic(cls: type[BradleyTerry] | type[NoisyBT]) -> None:
    data = random_frame(2)
    pd.testing.assert_series_equal(
        cls().fit_predict(data), cls().fit_predict(data), check_exact=True
    )


def test_noisy_bt_seed_only_changes_the_start() -> None:
    data = random_frame(3, n_rows=600)
    a = NoisyBT(random_state=0, tol=1e-10, n_iter=2000).fit_predict(data)
    b = NoisyBT(random_state=1, tol=1e-10, n_iter=2000).fit_predict(data)
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), atol=1e-4)


def test_bt_ignores_screen_position() -> None:
    data = random_frame(4)
    swapped = data.rename(columns={"left": "right", "right": "left"})
    pd.testing.assert_series_equal(
        BradleyTerry(tol=1e-12, n_iter=5000).fit_predict(data),
        BradleyTerry(tol=1e-12, n_iter=5000).fit_predict(swapped),
        rtol=1e-9,
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("uvw"), st.integers(0, 5), st.integers(0, 5), st.booleans()),
        min_size=1,
        max_size=40,
    ).filter(lambda rows: any(a != b for _, a, b, _ in rows)),
    st.randoms(use_true_random=False),
)
def test_bt_properties_on_random_comparisons(
    rows: list[tuple[str, int, int, bool]], rnd: object
) -> None:
    data = frame([(w, a, b, a if left else b) for w, a, b, left in rows if a != b])
    scores = BradleyTerry(n_iter=2000, tol=1e-9).fit_predict(data)
    assert np.all(np.isfinite(scores)) and np.all(scores > 0)
    assert scores.sum() == pytest.approx(1.0, abs=1e-12)
    assert list(scores.index) == sorted(set(data["left"]) | set(data["right"]))
    shuffled = data.sample(frac=1.0, random_state=rnd.randint(0, 10**6)).reset_index(drop=True)  # type: ignore[attr-defined]
    pd.testing.assert_series_equal(
        scores, BradleyTerry(n_iter=2000, tol=1e-9).fit_predict(shuffled), check_exact=True
    )


# ----------------------------------------------------------- BT: brute-force oracle
# 4 items, 14 comparisons, strongly connected (every item both wins and loses).
ORACLE_WINS = [
    ("a", "b"),
    ("a", "b"),
    ("b", "a"),
    ("a", "c"),
    ("c", "a"),
    ("a", "d"),
    ("b", "c"),
    ("b", "c"),
    ("c", "b"),
    ("b", "d"),
    ("d", "b"),
    ("c", "d"),
    ("d", "c"),
    ("c", "d"),
]


def oracle_frame() -> pd.DataFrame:
    return frame([("w", win, lose, win) for win, lose in ORACLE_WINS])


def direct_neg_loglik(x: np.ndarray, reg: float) -> float:
    """-log L written directly from the model, one comparison at a time (no MM, no bincount)."""
    pi = dict(zip("abcd", np.exp(x), strict=True))
    total = 0.0
    for win, lose in ORACLE_WINS:
        total += np.log(pi[win] / (pi[win] + pi[lose]))
    for item in "abcd":  # r pseudo-wins and r pseudo-losses against a virtual item of strength 1
        total += reg * (np.log(pi[item] / (pi[item] + 1)) + np.log(1 / (pi[item] + 1)))
    return -float(total)


@pytest.mark.parametrize("reg", [0.1, 1.0])
def test_bt_matches_direct_scipy_maximisation_of_the_same_objective(reg: float) -> None:
    best = minimize(
        direct_neg_loglik,
        np.zeros(4),
        args=(reg,),
        method="BFGS",
        options={"gtol": 1e-12, "maxiter": 10_000},
    )
    expected = np.exp(best.x) / np.exp(best.x).sum()
    model = BradleyTerry(n_iter=10_000, tol=1e-11, regularization=reg)
    scores = model.fit_predict(oracle_frame())
    assert model.converged_
    np.testing.assert_allclose(scores.to_numpy(), expected, atol=1e-7)
    assert model.log_likelihood_ == pytest.approx(-best.fun, abs=1e-8)


def test_bt_tiny_regularization_approaches_the_unregularised_mle() -> None:
    def neg_loglik(free: np.ndarray) -> float:  # gauge: log pi_a = 0
        x = np.concatenate([[0.0], free])
        return direct_neg_loglik(x, 0.0)

    best = minimize(neg_loglik, np.zeros(3), method="BFGS", options={"gtol": 1e-12})
    pi = np.exp(np.concatenate([[0.0], best.x]))
    model = BradleyTerry(n_iter=10_000, tol=1e-11, regularization=1e-9)
    assert model.fit(oracle_frame()).converged_
    np.testing.assert_allclose(
        model.fit_predict(oracle_frame()).to_numpy(), pi / pi.sum(), atol=1e-6
    )


def test_bt_plain_mm_and_accelerated_reach_the_same_fixed_point() -> None:
    data = random_frame(5, n_items=12, n_rows=200)
    fast = BradleyTerry(n_iter=10_000, tol=1e-12).fit(data)
    slow = BradleyTerry(n_iter=200_000, tol=1e-12, accelerate=False).fit(data)
    assert fast.converged_ and slow.converged_ and fast.n_iter_ < slow.n_iter_
    assert fast.scores_ is not None and slow.scores_ is not None
    np.testing.assert_allclose(fast.scores_.to_numpy(), slow.scores_.to_numpy(), atol=1e-9)


@pytest.mark.parametrize("accelerate", [False, True])
def test_bt_objective_never_decreases(accelerate: bool) -> None:
    data = random_frame(6, n_items=10, n_rows=80)
    values = [
        BradleyTerry(n_iter=k, tol=0.0, accelerate=accelerate).fit(data).log_likelihood_
        for k in range(1, 40)
    ]
    assert all(b >= a - 1e-12 for a, b in itertools.pairwise(values))
    assert values[-1] > values[0]


def test_bt_fixed_point_is_stationary() -> None:
    data = random_frame(7)
    model = BradleyTerry(n_iter=10_000, tol=1e-12, regularization=0.1).fit(data)
    pairs = encode_pairs(data)
    # Recover the unnormalised strengths: the scale is the one maximising the objective.
    assert model.scores_ is not None
    log_s = np.log(model.scores_.to_numpy())
    best = minimize(lambda c: -bt_objective(np.exp(log_s + c[0]), pairs, 0.1), [0.0], method="BFGS")
    x = log_s + best.x[0]
    grad = approx_fprime(x, lambda z: bt_objective(np.exp(z), pairs, 0.1), 1e-7)
    assert np.max(np.abs(grad)) < 1e-4


def test_bt_counts_and_attributes() -> None:
    model = BradleyTerry(n_iter=3, tol=0.0)
    model.fit(chain_frame())
    assert model.n_iter_ == 3 and not model.converged_
    assert model.get_params() == {
        "n_iter": 3,
        "tol": 0.0,
        "regularization": 0.1,
        "accelerate": True,
    }


# ---------------------------------------------------------------------- NoisyBT
def brute_force_noisy_nll(theta: np.ndarray, data: pd.DataFrame, reg: float) -> float:
    """The NoisyBT objective, one row at a time, from the model's definition."""
    pairs = encode_pairs(data)
    items = {v: i for i, v in enumerate(pairs.items)}
    workers = {v: i for i, v in enumerate(pairs.workers)}
    n, m = len(items), len(workers)
    s, g, q = theta[:n], theta[n : n + m], theta[n + m :]
    total = 0.0
    for row in data.itertuples(index=False):
        li, ri, w = items[row.left], items[row.right], workers[row.worker]
        gamma = 1 / (1 + np.exp(-g[w]))
        p_left = gamma / (1 + np.exp(-(s[li] - s[ri]))) + (1 - gamma) / (1 + np.exp(-q[w]))
        total += np.log(p_left if row.label == row.left else 1 - p_left)
    return -total + reg / 2 * float(np.sum(theta**2))


def test_noisy_bt_objective_matches_brute_force_and_its_gradient_is_exact() -> None:
    data = random_frame(8, n_items=5, n_rows=60, n_workers=4)
    pairs = encode_pairs(data)
    rng = np.random.default_rng(0)
    for _ in range(5):
        theta = rng.normal(0, 1.5, pairs.n_items + 2 * pairs.n_workers)
        value, grad = noisy_bt_objective(theta, pairs, 0.05)
        assert value == pytest.approx(brute_force_noisy_nll(theta, data, 0.05), rel=1e-12)
        numeric = approx_fprime(theta, lambda t: noisy_bt_objective(t, pairs, 0.05)[0], 1e-7)
        np.testing.assert_allclose(grad, numeric, atol=2e-4, rtol=1e-5)


def test_noisy_bt_recovers_ranking_and_flags_a_biased_worker() -> None:
    rng = np.random.default_rng(11)
    n_items, n_rows = 15, 3000
    left = rng.integers(0, n_items, n_rows)
    right = (left + rng.integers(1, n_items, n_rows)) % n_items
    worker = rng.integers(0, 8, n_rows)
    truth = np.linspace(-2, 2, n_items)
    says_left = rng.random(n_rows) < expit(truth[left] - truth[right])
    says_left = np.where(worker == 0, True, says_left)  # worker 0 always clicks left
    data = pd.DataFrame(
        {"worker": worker, "left": left, "right": right, "label": np.where(says_left, left, right)}
    )
    model = NoisyBT(n_iter=500).fit(data)
    assert model.scores_ is not None and model.skills_ is not None and model.biases_ is not None
    assert spearmanr(model.scores_.to_numpy(), truth).statistic > 0.97
    assert model.skills_[0] < 0.2 and model.biases_[0] > 2
    assert (model.skills_.drop(0) > 0.8).all()
    assert model.skills_.name == "skill" and model.biases_.name == "bias"
    assert model.skills_.index.name == "worker" and list(model.skills_.index) == list(range(8))
    assert model.converged_ and np.isfinite(model.log_likelihood_)


def test_noisy_bt_get_params() -> None:
    assert NoisyBT().get_params() == {
        "n_iter": 100,
        "tol": 1e-5,
        "random_state": 0,
        "regularization": 0.01,
    }


# -------------------------------------------------------------------- bad input
BAD_FRAMES = {
    "not a frame": [("w", "a", "b", "a")],
    "missing column": pd.DataFrame({"worker": ["w"], "left": ["a"], "right": ["b"]}),
    "empty": frame([]),
    "NaN label": frame([("w", "a", "b", None)]),
    "label is neither": frame([("w", "a", "b", "a"), ("w", "a", "b", "c")]),
    "self comparison": frame([("w", "a", "a", "a")]),
    "NaN worker": frame([(None, "a", "b", "a")]),
    "mixed item types": frame([("w", "a", 1, "a"), ("w", 2, "b", "b")]),
}


@pytest.mark.parametrize("cls", AGGREGATORS)
@pytest.mark.parametrize("case", list(BAD_FRAMES))
def test_bad_input_raises_invalid_data(cls: type[BradleyTerry] | type[NoisyBT], case: str) -> None:
    with pytest.raises(InvalidData):
        cls().fit(BAD_FRAMES[case])


def test_label_neither_message_names_the_rows() -> None:
    with pytest.raises(InvalidData, match="positions 1"):
        BradleyTerry().fit(BAD_FRAMES["label is neither"])


@pytest.mark.parametrize("cls", AGGREGATORS)
@pytest.mark.parametrize(
    "kwargs",
    [{"n_iter": 0}, {"tol": -1.0}, {"regularization": 0.0}, {"regularization": float("nan")}],
)
def test_bad_parameters(cls: type[BradleyTerry] | type[NoisyBT], kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        cls(**kwargs)
