"""Worker quality: Wilson intervals, gold accuracy, agreement with the aggregate."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pandas as pd
import pytest

from datacoop.algorithms import quality
from datacoop.algorithms.quality import agreement_with_aggregate, gold_accuracy, wilson_interval
from datacoop.errors import InvalidData


def _wilson_by_quadratic(k: int, n: int, z: float) -> tuple[float, float]:
    """Independent check: the Wilson bounds are the roots in p of (k/n - p)^2 = z^2 p(1-p)/n."""
    ph = k / n
    a = 1 + z * z / n
    b = -(2 * ph + z * z / n)
    c = ph * ph
    roots = np.sort(np.roots([a, b, c]).real)
    return float(roots[0]), float(roots[1])


# ---------------------------------------------------------------------------- wilson
@pytest.mark.parametrize(
    ("k", "n", "conf", "expected"),
    [
        (8, 10, 0.95, (0.4902, 0.9433)),  # the textbook example
        (0, 10, 0.95, (0.0, 0.2775)),
        (10, 10, 0.95, (0.7225, 1.0)),
        (50, 100, 0.95, (0.4038, 0.5962)),
        (1, 1, 0.95, (0.2065, 1.0)),
        (8, 10, 0.90, (0.5408, 0.9314)),  # z = 1.6449
    ],
)
def test_wilson_hand_values(k, n, conf, expected):
    low, high = wilson_interval(k, n, conf)
    assert (round(low, 4), round(high, 4)) == expected


@pytest.mark.parametrize(("k", "n"), [(1, 3), (7, 20), (13, 17), (499, 1000), (2, 5)])
@pytest.mark.parametrize("conf", [0.8, 0.95, 0.99])
def test_wilson_matches_quadratic_roots(k, n, conf):
    z = {0.8: 1.2815515655446004, 0.95: 1.959963984540054, 0.99: 2.5758293035489004}[conf]
    assert wilson_interval(k, n, conf) == pytest.approx(_wilson_by_quadratic(k, n, z), abs=1e-12)


def test_wilson_ends_are_exact_and_symmetric():
    for n in (1, 2, 5, 40, 10_000):
        low, high = wilson_interval(0, n)
        assert low == 0.0 and 0 < high < 1
        low2, high2 = wilson_interval(n, n)
        assert high2 == 1.0 and low2 == pytest.approx(1 - high)
        for k in range(0, n + 1, max(1, n // 7)):
            lo, hi = wilson_interval(k, n)
            lo_c, hi_c = wilson_interval(n - k, n)
            assert 0.0 <= lo <= k / n <= hi <= 1.0
            assert lo == pytest.approx(1 - hi_c) and hi == pytest.approx(1 - lo_c)


def test_wilson_narrows_with_more_data_and_widens_with_confidence():
    widths = [np.subtract(*wilson_interval(8 * m, 10 * m)[::-1]) for m in (1, 4, 16)]
    assert widths[0] > widths[1] > widths[2]
    assert np.subtract(*wilson_interval(8, 10, 0.99)[::-1]) > widths[0]


def test_wilson_accepts_numpy_integers():
    assert wilson_interval(np.int64(8), np.int32(10)) == wilson_interval(8, 10)


@pytest.mark.parametrize(
    ("k", "n", "conf"),
    [
        (0, 0, 0.95),  # no trials
        (1, 0, 0.95),
        (-1, 5, 0.95),
        (6, 5, 0.95),
        (2.5, 5, 0.95),
        (True, 5, 0.95),
        (2, 5.0, 0.95),
        (2, 5, 0.0),
        (2, 5, 1.0),
        (2, 5, 95),
        (2, 5, "0.95"),
        (2, 5, math.nan),
    ],
)
def test_wilson_rejects_bad_input(k, n, conf):
    with pytest.raises(InvalidData):
        wilson_interval(k, n, conf)


def test_wilson_n0_is_also_a_value_error():
    with pytest.raises(ValueError, match="n must be at least 1"):
        wilson_interval(0, 0)


# ---------------------------------------------------------------------------- gold
ANSWERS = pd.DataFrame(
    [
        # task, worker, label
        ("g1", "ann", "cat"),
        ("g2", "ann", "dog"),
        ("g3", "ann", "cat"),  # wrong (g3 is dog)
        ("t9", "ann", "dog"),  # not gold: ignored
        ("g1", "bob", "dog"),  # wrong
        ("g2", "bob", "dog"),
        ("t9", "cy", "cat"),  # cy answered no gold task
        ("g3", "dee", "dog"),
    ],
    columns=["task", "worker", "label"],
)
GOLD = pd.Series({"g1": "cat", "g2": "dog", "g3": "dog"})


def test_gold_accuracy_hand_checked():
    out = gold_accuracy(ANSWERS, GOLD)
    assert list(out.index) == ["ann", "bob", "dee"]  # sorted, cy absent
    assert out.index.name == "worker"
    assert list(out.columns) == ["n_gold", "correct", "accuracy", "low", "high"]
    assert out["n_gold"].tolist() == [3, 2, 1]
    assert out["correct"].tolist() == [2, 1, 1]
    assert out["accuracy"].tolist() == pytest.approx([2 / 3, 0.5, 1.0])
    assert out["n_gold"].dtype == np.int64 and out["correct"].dtype == np.int64
    for worker, row in out.iterrows():
        assert (row["low"], row["high"]) == pytest.approx(
            wilson_interval(int(row["correct"]), int(row["n_gold"])), abs=1e-15
        ), worker
    # 2 of 3 at 95 %: (0.2077, 0.9385)
    assert (round(out.loc["ann", "low"], 4), round(out.loc["ann", "high"], 4)) == (0.2077, 0.9385)


def test_gold_as_frame_equals_gold_as_series():
    frame = pd.DataFrame({"task": GOLD.index, "label": GOLD.to_numpy()})
    pd.testing.assert_frame_equal(gold_accuracy(ANSWERS, frame), gold_accuracy(ANSWERS, GOLD))
    # repeating the same (task, label) pair is harmless
    twice = pd.concat([frame, frame.head(1)])
    pd.testing.assert_frame_equal(gold_accuracy(ANSWERS, twice), gold_accuracy(ANSWERS, GOLD))


def test_gold_accuracy_confidence_changes_only_the_interval():
    a, b = gold_accuracy(ANSWERS, GOLD), gold_accuracy(ANSWERS, GOLD, confidence=0.5)
    pd.testing.assert_frame_equal(
        a[["n_gold", "correct", "accuracy"]], b[["n_gold", "correct", "accuracy"]]
    )
    assert (b["high"] - b["low"] < a["high"] - a["low"]).all()


def test_gold_label_nobody_gave_counts_as_wrong():
    out = gold_accuracy(ANSWERS, pd.Series({"g1": "bird"}))
    assert out["n_gold"].tolist() == [1, 1] and out["correct"].tolist() == [0, 0]


def test_gold_accuracy_does_not_depend_on_row_order():
    shuffled = ANSWERS.sample(frac=1.0, random_state=3).reset_index(drop=True)
    pd.testing.assert_frame_equal(gold_accuracy(shuffled, GOLD), gold_accuracy(ANSWERS, GOLD))


def test_duplicate_answers_count_twice():
    doubled = pd.concat([ANSWERS, ANSWERS[ANSWERS["worker"] == "bob"]])
    out = gold_accuracy(doubled, GOLD)
    assert out.loc["bob", "n_gold"] == 4 and out.loc["bob", "correct"] == 2


def test_no_gold_answered_gives_an_empty_frame():
    out = gold_accuracy(ANSWERS, pd.Series({"elsewhere": "cat"}))
    assert out.empty and list(out.columns) == ["n_gold", "correct", "accuracy", "low", "high"]
    assert out.index.name == "worker"


def test_numeric_labels_and_tasks():
    answers = pd.DataFrame(
        {"task": [1, 2, 1, 2], "worker": [10, 10, 11, 11], "label": [0, 1, 1, 1]}
    )
    out = gold_accuracy(answers, pd.Series({1: 0, 2: 1}))
    assert out["correct"].to_dict() == {10: 2, 11: 1}


@pytest.mark.parametrize(
    "gold",
    [
        pd.Series(dtype=object),  # empty
        pd.Series({"g1": "cat", "g2": None}),  # missing label
        pd.Series(["cat", "dog"], index=["g1", "g1"]),  # duplicate task
        pd.DataFrame({"task": ["g1", "g1"], "label": ["cat", "dog"]}),  # conflicting labels
        pd.DataFrame({"task": ["g1"]}),  # no label column
        pd.DataFrame({"task": [None], "label": ["cat"]}),
        {"g1": "cat"},  # not a Series
        pd.Series({"g1": 1, "g2": 0}),  # numbers against text answers
    ],
)
def test_bad_gold_is_invalid_data(gold):
    with pytest.raises(InvalidData):
        gold_accuracy(ANSWERS, gold)


@pytest.mark.parametrize(
    "answers",
    [
        ANSWERS.drop(columns="worker"),
        ANSWERS.head(0),
        ANSWERS.assign(label=[None] + ["cat"] * (len(ANSWERS) - 1)),
        "not a frame",
    ],
)
def test_bad_answers_are_invalid_data(answers):
    with pytest.raises(InvalidData):
        gold_accuracy(answers, GOLD)
    with pytest.raises(InvalidData):
        agreement_with_aggregate(answers, GOLD)


def test_bad_confidence_is_invalid_data():
    with pytest.raises(InvalidData):
        gold_accuracy(ANSWERS, GOLD, confidence=1.2)


# ---------------------------------------------------------------------------- agreement
def test_agreement_hand_checked():
    answers = pd.DataFrame(
        {
            "task": ["t1", "t1", "t1", "t2", "t2", "t2", "t3"],
            "worker": ["a", "b", "c", "a", "b", "c", "c"],
            "label": ["x", "x", "y", "y", "y", "x", "x"],
        }
    )
    labels = pd.Series({"t1": "x", "t2": "y"}, name="agg_label")  # t3 unlabelled: ignored
    out = agreement_with_aggregate(answers, labels)
    assert list(out.columns) == ["n", "agree", "rate", "low", "high"]
    assert out["n"].to_dict() == {"a": 2, "b": 2, "c": 2}
    assert out["agree"].to_dict() == {"a": 2, "b": 2, "c": 0}
    assert out["rate"].to_dict() == {"a": 1.0, "b": 1.0, "c": 0.0}
    assert out.loc["c", "low"] == 0.0 and out.loc["a", "high"] == 1.0
    assert (out.loc["a", "low"], out.loc["c", "high"]) == pytest.approx(
        (wilson_interval(2, 2)[0], wilson_interval(0, 2)[1])
    )


def test_agreement_with_a_real_aggregator():
    majority_vote = pytest.importorskip("datacoop.algorithms.aggregation.majority_vote")
    rng = np.random.default_rng(5)
    truth = rng.integers(0, 3, size=200)
    rows = []
    for t, z in enumerate(truth):
        for w, acc in (("good", 0.9), ("ok", 0.7), ("spam", 1 / 3)):
            label = z if rng.random() < acc else rng.integers(0, 3)
            rows.append((t, w, int(label)))
    answers = pd.DataFrame(rows, columns=["task", "worker", "label"])
    labels = majority_vote.MajorityVote().fit_predict(answers)
    out = agreement_with_aggregate(answers, labels)
    assert out["n"].tolist() == [200, 200, 200]
    assert out.loc["good", "rate"] > out.loc["ok", "rate"] > out.loc["spam", "rate"]
    assert out.loc["good", "low"] > out.loc["spam", "high"]


# ---------------------------------------------------------------------------- docs
def test_docstring_examples_run():
    result = doctest.testmod(quality, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 5 and result.failed == 0
