"""Dynamic overlap: posteriors under a worker model and the "needs more answers" rule."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

from datacoop.algorithms import overlap
from datacoop.algorithms.overlap import (
    DEFAULT_SKILL,
    is_confident,
    items_needing_answers,
    posteriors,
    worker_model,
)
from datacoop.errors import InvalidData


def frame(rows):
    return pd.DataFrame(rows, columns=["task", "worker", "label"])


# ---------------------------------------------------------------------------- posteriors
def test_two_class_one_coin_by_hand():
    answers = frame([("t", "a", "x"), ("t", "b", "y"), ("t", "c", "x"), ("u", "b", "y")])
    skills = pd.Series({"a": 0.8, "b": 0.6, "c": 0.9})
    post = posteriors(answers, skills=skills)
    # t: P(x) ∝ .8 · .4 · .9 = .288 ; P(y) ∝ .2 · .6 · .1 = .012  -> .96 / .04
    # u: P(x) ∝ .4 ; P(y) ∝ .6
    assert post.loc["t", "x"] == pytest.approx(0.96)
    assert post.loc["t", "y"] == pytest.approx(0.04)
    assert post.loc["u"].tolist() == pytest.approx([0.4, 0.6])
    assert list(post.columns) == ["x", "y"] and post.columns.name == "label"
    assert list(post.index) == ["t", "u"] and post.index.name == "task"
    # with a prior (.25, .75): .288 · .25 = .072 vs .012 · .75 = .009
    with_prior = posteriors(answers, skills=skills, priors={"x": 0.25, "y": 0.75})
    assert with_prior.loc["t", "x"] == pytest.approx(0.072 / 0.081)
    # un-normalised priors are normalised; an array in class order works the same
    same = posteriors(answers, skills=skills, priors=np.array([1.0, 3.0]))
    pd.testing.assert_frame_equal(same, with_prior)


def test_one_coin_spreads_errors_over_all_classes():
    answers = frame([("t", "a", "x")])
    # K = 4: P(x) ∝ .7 ; every other class ∝ .1
    post = posteriors(answers, classes=["w", "x", "y", "z"])
    assert post.loc["t"].tolist() == pytest.approx([0.1, 0.7, 0.1, 0.1])
    # an explicit single class leaves nothing to doubt ...
    assert posteriors(answers, classes=["x"]).loc["t", "x"] == 1.0
    # ... but one label seen in the answers is not taken to be the whole label set
    with pytest.raises(InvalidData, match="pass classes"):
        posteriors(answers)
    with pytest.raises(InvalidData, match="pass classes"):
        items_needing_answers(answers)


def test_confusion_matrices_by_hand():
    answers = frame([("t", "a", 0), ("t", "b", 1), ("u", "a", 2)])
    pi_a = np.array([[0.8, 0.1, 0.1], [0.3, 0.6, 0.1], [0.0, 0.5, 0.5]])
    pi_b = np.array([[0.5, 0.5, 0.0], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8]])
    post = posteriors(answers, confusion={"a": pi_a, "b": pi_b}, priors=[0.5, 0.3, 0.2])
    # t: j=0: .5·.8·.5 = .2 ; j=1: .3·.3·.7 = .063 ; j=2: .2·0·.1 = 0 (floored)
    assert post.loc["t"].tolist() == pytest.approx([0.2 / 0.263, 0.063 / 0.263, 0.0], abs=1e-9)
    # u: j=0: .5·.1 = .05 ; j=1: .3·.1 = .03 ; j=2: .2·.5 = .1
    assert post.loc["u"].tolist() == pytest.approx([0.05 / 0.18, 0.03 / 0.18, 0.1 / 0.18])


def test_confusion_formats_agree():
    answers = frame([("t", "a", "x"), ("t", "b", "y"), ("u", "b", "x")])
    pi_a = np.array([[0.9, 0.1], [0.2, 0.8]])
    pi_b = np.array([[0.6, 0.4], [0.3, 0.7]])
    ref = posteriors(answers, confusion={"a": pi_a, "b": pi_b})
    # DataFrames with labels, in another order
    as_frames = {
        w: pd.DataFrame(m, index=["x", "y"], columns=["x", "y"]).loc[["y", "x"], ["y", "x"]]
        for w, m in (("a", pi_a), ("b", pi_b))
    }
    pd.testing.assert_frame_equal(posteriors(answers, confusion=as_frames), ref)
    # crowd-kit errors_ layout: rows (worker, answered label), columns true label
    rows = [(w, ans) for w in ("a", "b") for ans in ("x", "y")]
    data = [[m[0, col], m[1, col]] for m in (pi_a, pi_b) for col in (0, 1)]
    ck = pd.DataFrame(data, index=pd.MultiIndex.from_tuples(rows), columns=["x", "y"])
    pd.testing.assert_frame_equal(posteriors(answers, confusion=ck), ref)
    # one shared matrix equals the same matrix given to everybody
    pd.testing.assert_frame_equal(
        posteriors(answers, confusion=pi_a), posteriors(answers, confusion={"a": pi_a, "b": pi_a})
    )


def test_unknown_workers_use_skill_then_default():
    answers = frame([("t1", "known", "x"), ("t2", "coin", "x"), ("t3", "stranger", "x")])
    confusion = {"known": np.array([[0.9, 0.1], [0.05, 0.95]]), "absent": np.eye(2)}
    post = posteriors(answers, confusion=confusion, skills={"coin": 0.8}, classes=["x", "y"])
    assert post.loc["t1", "x"] == pytest.approx(0.9 / 0.95)
    assert post.loc["t2", "x"] == pytest.approx(0.8)
    assert post.loc["t3", "x"] == pytest.approx(DEFAULT_SKILL)
    again = posteriors(answers, skills={"coin": 0.8}, classes=["x", "y"], default_skill=0.6)
    assert again.loc["t3", "x"] == pytest.approx(0.6)
    assert again.loc["t1", "x"] == pytest.approx(0.6)  # no confusion given: default


def test_log_space_survives_many_answers():
    n = 2000
    answers = frame(
        [("t", f"w{i}", "x") for i in range(n)] + [("u", f"w{i}", "xy"[i % 2]) for i in range(n)]
    )
    post = posteriors(answers, skills={f"w{i}": 0.99 for i in range(n)})
    assert np.isfinite(post.to_numpy()).all()
    assert post.loc["t", "x"] == 1.0
    assert post.loc["u"].tolist() == pytest.approx([0.5, 0.5])


def test_contradictory_certain_workers_do_not_divide_by_zero():
    answers = frame([("t", "a", "x"), ("t", "b", "y")])
    post = posteriors(answers, skills={"a": 1.0, "b": 1.0})
    assert np.isfinite(post.to_numpy()).all()
    assert post.loc["t"].tolist() == pytest.approx([0.5, 0.5])


def test_posteriors_do_not_depend_on_row_order():
    rng = np.random.default_rng(1)
    answers = frame(
        [(int(t), f"w{w}", int(y)) for t, w, y in rng.integers(0, [40, 7, 3], size=(300, 3))]
    )
    skills = pd.Series({f"w{i}": 0.4 + 0.08 * i for i in range(7)})
    a = posteriors(answers, skills=skills)
    b = posteriors(answers.sample(frac=1.0, random_state=2), skills=skills)
    pd.testing.assert_frame_equal(a, b)
    assert a.sum(axis=1).to_numpy() == pytest.approx(np.ones(len(a)))


@pytest.mark.parametrize("fitted_cls", ["DawidSkene", "OneCoinDawidSkene"])
def test_matches_the_fitted_dawid_skene_posteriors(fitted_cls):
    ds = pytest.importorskip("datacoop.algorithms.aggregation.dawid_skene")
    rng = np.random.default_rng(7)
    truth = rng.integers(0, 3, size=150)
    acc = {"a": 0.9, "b": 0.8, "c": 0.6, "d": 0.4}
    rows = [
        (t, w, int(z if rng.random() < p else rng.integers(0, 3)))
        for t, z in enumerate(truth)
        for w, p in acc.items()
        if rng.random() < 0.8
    ]
    answers = frame(rows)
    model = getattr(ds, fitted_cls)().fit(answers)
    ours = posteriors(answers, **worker_model(model))
    np.testing.assert_allclose(ours.to_numpy(), model.probas_.to_numpy(), atol=1e-8)
    assert list(ours.index) == list(model.probas_.index)


def test_worker_model_needs_a_fitted_model():
    with pytest.raises(InvalidData):
        worker_model(object())


# ---------------------------------------------------------------------------- the rule
def test_three_agreeing_good_workers_are_confident_one_mediocre_answer_is_not():
    good = {"a": 0.9, "b": 0.9, "c": 0.9, "m": 0.7}
    answers = frame([("t", "a", "x"), ("t", "b", "x"), ("t", "c", "x"), ("u", "m", "x")])
    for classes in (["x", "y"], ["w", "x", "y", "z"]):
        assert list(items_needing_answers(answers, skills=good, classes=classes)) == ["u"]
        assert is_confident(answers, "t", skills=good, classes=classes)
        assert not is_confident(answers, "u", skills=good, classes=classes)
    # K=2: three at 0.9 give .729 / .730 = 0.9986
    assert posteriors(answers, skills=good, classes=["x", "y"]).loc["t", "x"] == pytest.approx(
        0.729 / 0.730
    )


def test_default_skill_needs_three_agreeing_of_four_classes():
    classes = ["a", "b", "c", "d"]
    two = frame([("t", "w1", "a"), ("t", "w2", "a")])
    three = frame([("t", "w1", "a"), ("t", "w2", "a"), ("t", "w3", "a")])
    assert not is_confident(two, "t", classes=classes)  # .49 / .52 = .942
    assert is_confident(three, "t", classes=classes)  # .343 / .346 = .991


def test_max_overlap_caps():
    answers = frame([("t", f"w{i}", "xy"[i % 2]) for i in range(5)])
    assert list(items_needing_answers(answers, max_overlap=6)) == ["t"]
    assert list(items_needing_answers(answers, max_overlap=5)) == []
    assert list(items_needing_answers(answers, max_overlap=3)) == []


def test_min_overlap_forces_answers_even_when_confident():
    answers = frame([("t", "a", "x"), ("t", "b", "x"), ("u", "a", "x")])
    skills = {"a": 0.999, "b": 0.999}
    assert list(items_needing_answers(answers, skills=skills, classes=["x", "y"])) == []
    assert list(
        items_needing_answers(answers, skills=skills, classes=["x", "y"], min_overlap=2)
    ) == ["u"]
    assert list(
        items_needing_answers(
            answers, skills=skills, classes=["x", "y"], min_overlap=3, max_overlap=3
        )
    ) == ["u", "t"]  # fewest answers first


def test_confidence_threshold():
    answers = frame([("t", "a", "x")])
    assert list(items_needing_answers(answers, classes=["x", "y"], confidence=0.7)) == []
    assert list(items_needing_answers(answers, classes=["x", "y"], confidence=0.71)) == ["t"]


def test_all_tasks_without_answers_come_first_and_order_is_by_need():
    answers = frame(
        [
            ("sure", "a", "x"),
            ("sure", "b", "x"),
            ("sure", "c", "x"),
            ("half", "a", "x"),
            ("half", "b", "y"),
            ("lean", "a", "x"),
        ]
    )
    skills = {"a": 0.9, "b": 0.9, "c": 0.9}
    got = items_needing_answers(
        answers,
        skills=skills,
        classes=["x", "y"],
        all_tasks=["new1", "sure", "new2", "half", "lean"],
    )
    assert list(got) == ["new1", "new2", "half", "lean"]
    assert got.name == "task"


def test_empty_answers_with_all_tasks():
    empty = frame([])
    assert list(items_needing_answers(empty, all_tasks=[3, 1, 2])) == [3, 1, 2]
    # a prior that is already confident needs nothing when min_overlap is 0
    got = items_needing_answers(empty, all_tasks=[1], min_overlap=0, priors={"x": 0.99, "y": 0.01})
    assert list(got) == []
    with pytest.raises(InvalidData):
        items_needing_answers(empty)  # nothing to judge


def test_is_confident_on_an_unanswered_task_uses_the_prior():
    answers = frame([("t", "a", "x")])
    assert not is_confident(answers, "other", classes=["x", "y"])
    assert is_confident(answers, "other", priors={"x": 0.97, "y": 0.03})


# ---------------------------------------------------------------------------- bad input
ANS = frame([("t", "a", "x"), ("t", "b", "y")])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"classes": ["x"]},  # y is not a class
        {"classes": []},
        {"classes": ["x", "x", "y"]},
        {"classes": "xy"},
        {"skills": {"a": 1.5}},
        {"skills": {"a": -0.1}},
        {"skills": {"a": "high"}},
        {"skills": [0.9, 0.8]},
        {"default_skill": 2.0},
        {"confusion": np.array([[0.9, 0.2], [0.1, 0.9]])},  # rows do not sum to 1
        {"confusion": np.array([[0.9, 0.1, 0.0], [0.1, 0.9, 0.0], [0, 0, 1]])},  # 3 x 3
        {"confusion": {"a": np.array([[1.5, -0.5], [0.0, 1.0]])}},
        {"confusion": {"a": np.array([[np.nan, 0.5], [0.5, 0.5]])}},
        {"confusion": {"zed": [[0.5, 0.5]]}},  # checked even for workers without answers
        {"confusion": {"a": pd.DataFrame([[1.0]], index=["x"], columns=["x"])}},
        {"confusion": "diagonal"},
        {"priors": [0.5, 0.3, 0.2]},
        {"priors": [-1.0, 2.0]},
        {"priors": [0.0, 0.0]},
        {"priors": {"x": 0.5, "q": 0.5}, "classes": ["x", "y"]},
    ],
)
def test_bad_model_is_invalid_data(kwargs):
    with pytest.raises(InvalidData):
        posteriors(ANS, **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"confidence": 0},
        {"confidence": 1.5},
        {"confidence": True},
        {"max_overlap": 0},
        {"max_overlap": 2.5},
        {"min_overlap": -1},
        {"min_overlap": 4, "max_overlap": 3},
        {"all_tasks": "abc"},
    ],
)
def test_bad_rule_parameters_are_invalid_data(kwargs):
    with pytest.raises(InvalidData):
        items_needing_answers(ANS, **kwargs)


@pytest.mark.parametrize(
    "answers", [ANS.drop(columns="label"), ANS.head(0), "answers", ANS.assign(worker=[None, "b"])]
)
def test_bad_answers_are_invalid_data(answers):
    with pytest.raises(InvalidData):
        posteriors(answers)
    with pytest.raises(InvalidData):
        items_needing_answers(answers)


# ---------------------------------------------------------------------------- docs
def test_docstring_examples_run():
    result = doctest.testmod(overlap, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 8 and result.failed == 0
