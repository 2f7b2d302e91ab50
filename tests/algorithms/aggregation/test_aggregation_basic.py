"""MajorityVote, Wawa, ZeroBasedSkill, DawidSkene, OneCoinDawidSkene.

Toy cases with hand-computed answers, invariances (determinism, row order, label types),
edge cases, a plain-Python oracle for one EM iteration, and accuracy on the shared real
benchmarks against the crowd-kit 1.4.2 figures of ``CROWDKIT_BASELINE.md``.
"""

from __future__ import annotations

import doctest
import functools
import math
import os
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from datacoop.algorithms.aggregation import dawid_skene, majority_vote, wawa, zero_based_skill
from datacoop.algorithms.aggregation._base import BaseClassificationAggregator, argmax_first, encode
from datacoop.algorithms.aggregation.dawid_skene import (
    DawidSkene,
    OneCoinDawidSkene,
    ds_e_step,
    ds_m_step,
)
from datacoop.algorithms.aggregation.majority_vote import (
    MajorityVote,
    agreement,
    vote_shares,
)
from datacoop.algorithms.aggregation.wawa import Wawa
from datacoop.algorithms.aggregation.zero_based_skill import ZeroBasedSkill
from datacoop.errors import InvalidData

METHODS: dict[str, type[BaseClassificationAggregator]] = {
    "MajorityVote": MajorityVote,
    "Wawa": Wawa,
    "ZeroBasedSkill": ZeroBasedSkill,
    "OneCoinDawidSkene": OneCoinDawidSkene,
    "DawidSkene": DawidSkene,
}
ALL = list(METHODS.values())


def frame(rows: list[tuple[object, object, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["task", "worker", "label"])


def synthetic(seed: int = 0, n_tasks: int = 150, n_workers: int = 12, k: int = 3) -> pd.DataFrame:
    """Random crowd: workers of mixed quality (one adversarial), a few duplicate answers."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n_tasks)
    acc = np.linspace(0.35, 0.95, n_workers)
    acc[0] = 0.05  # adversarial
    rows = []
    for t in range(n_tasks):
        for w in rng.choice(n_workers, size=rng.integers(1, 7), replace=False):
            y = truth[t] if rng.random() < acc[w] else rng.integers(0, k)
            rows.append((f"t{t:03d}", f"w{w:02d}", f"c{y}"))
    rows += rows[:10]  # duplicates count as separate votes
    return frame(rows)


# --- toy datasets with hand-computed answers ------------------------------------------------


def test_majority_vote_counts_shares_and_ties_to_first_label():
    df = frame(
        [
            ("t1", "a", "cat"),
            ("t1", "b", "dog"),
            ("t1", "c", "dog"),
            ("t2", "a", "dog"),
            ("t2", "b", "cat"),  # 1-1 tie -> 'cat' sorts first
            ("t3", "a", "emu"),
        ]
    )
    model = MajorityVote().fit(df)
    assert model.labels_.to_dict() == {"t1": "dog", "t2": "cat", "t3": "emu"}
    assert model.labels_.name == "agg_label" and model.labels_.index.name == "task"
    assert model.probas_.loc["t1"].tolist() == pytest.approx([1 / 3, 2 / 3, 0.0])
    assert model.probas_.loc["t2"].tolist() == pytest.approx([0.5, 0.5, 0.0])
    assert model.skills_ is None


def test_majority_vote_integer_labels_tie_goes_to_smallest():
    df = frame([(1, "a", 7), (1, "b", 3), (2, "a", 7), (2, "b", 7), (2, "c", 3)])
    labels = MajorityVote().fit_predict(df)
    assert labels.to_dict() == {1: 3, 2: 7}
    assert np.issubdtype(labels.dtype, np.integer)


def test_wawa_weights_by_agreement_with_majority_vote():
    df = frame(
        [
            ("t1", "a", 1),
            ("t1", "b", 1),
            ("t1", "c", 0),
            ("t2", "a", 0),
            ("t2", "c", 1),  # MV tie -> 0; c agrees with MV on t3 only
            ("t3", "a", 1),
            ("t3", "b", 1),
            ("t3", "c", 1),
        ]
    )
    model = Wawa().fit(df)
    assert model.skills_.to_dict() == pytest.approx({"a": 1.0, "b": 1.0, "c": 1 / 3})
    assert model.labels_.to_dict() == {"t1": 1, "t2": 0, "t3": 1}
    # t2: weight 1 for label 0 (a) against 1/3 for label 1 (c)
    assert model.probas_.loc["t2"].tolist() == pytest.approx([0.75, 0.25])


def test_wawa_can_overturn_majority_vote():
    # 'bad' agrees with MV on 1 of 4 tasks, 'good1/good2' on all; on t4 two bad-ish workers
    # outvote one good worker under MV but not under Wawa.
    rows = [(f"t{i}", w, "x") for i in range(3) for w in ("good1", "good2")]
    rows += [(f"t{i}", "bad", "y") for i in range(3)]
    rows += [("t4", "good1", "x"), ("t4", "bad", "y"), ("t4", "bad2", "y")]
    rows += [(f"t{i}", "bad2", "y") for i in range(3)]
    df = frame(rows)
    assert MajorityVote().fit_predict(df)["t4"] == "y"
    model = Wawa().fit(df)
    assert model.skills_["bad"] == pytest.approx(1 / 4)
    assert model.labels_["t4"] == "x"  # 1.0 against 0.25 + 0.25


def test_zero_based_skill_first_step_is_scaled_wawa():
    df = frame(
        [
            ("t1", "a", 1),
            ("t1", "b", 1),
            ("t1", "c", 0),
            ("t2", "a", 0),
            ("t2", "c", 1),
            ("t3", "a", 1),
            ("t3", "b", 1),
            ("t3", "c", 1),
        ]
    )
    # s = 0 + lr * (agreement with MV - 0)
    one = ZeroBasedSkill(n_iter=1, lr=0.5).fit(df)
    assert one.skills_.to_dict() == pytest.approx({"a": 0.5, "b": 0.5, "c": 1 / 6})
    assert one.n_iter_ == 1 and not one.converged_
    full = ZeroBasedSkill().fit(df)
    assert full.converged_ and full.n_iter_ == 2
    assert full.skills_.to_dict() == pytest.approx({"a": 1.0, "b": 1.0, "c": 1 / 3})
    assert full.labels_.to_dict() == {"t1": 1, "t2": 0, "t3": 1}


def test_zero_based_skill_learning_rate_schedule():
    # lr=0.5 halved after every step (lr_steps_to_reduce=1):
    #   s1 = 0.5 * agree(MV);  the vote with s1 is Wawa's (weights are proportional)
    #   s2 = s1 + 0.25 * (agree(Wawa labels) - s1)
    df = synthetic(seed=3)
    enc = encode(df)
    mv_agree = agreement(enc, argmax_first(vote_shares(enc)))
    wawa_codes = argmax_first(vote_shares(enc, mv_agree))
    s1 = 0.5 * mv_agree
    s2 = s1 + 0.25 * (agreement(enc, wawa_codes) - s1)
    model = ZeroBasedSkill(n_iter=2, lr=0.5, lr_steps_to_reduce=1).fit(df)
    np.testing.assert_allclose(model.skills_.to_numpy(), s2, rtol=0, atol=1e-12)
    assert not np.allclose(s2, 0.625 * mv_agree)  # the labels did move between the steps


def adversarial_toy() -> tuple[pd.DataFrame, pd.Series]:
    """a and b are right except on one task each; c is always wrong (binary labels)."""
    truth = {"t1": "x", "t2": "y", "t3": "x", "t4": "y", "t5": "x", "t6": "y"}
    flip = {"x": "y", "y": "x"}
    rows = [(t, "c", flip[z]) for t, z in truth.items()]
    rows += [(t, "a", z) for t, z in truth.items() if t != "t5"] + [("t5", "a", "y")]
    rows += [(t, "b", z) for t, z in truth.items() if t != "t6"] + [("t6", "b", "x")]
    return frame(rows), pd.Series(truth)


def test_dawid_skene_learns_adversarial_worker_and_trusts_the_others():
    df, truth = adversarial_toy()
    mv = MajorityVote().fit_predict(df)
    assert (mv == truth).sum() == 4  # t5, t6: c sides with the mistaken good worker
    model = DawidSkene().fit(df)
    assert (model.labels_ == truth).all()
    assert model.converged_ and model.n_iter_ < 100
    # c's confusion matrix is (almost) the anti-diagonal: it always flips the label
    c = list(model.skills_.index).index("c")
    assert model.errors_[c, 0, 1] > 0.99 and model.errors_[c, 1, 0] > 0.99
    assert model.skills_["c"] < 0.01 < 0.8 < model.skills_["a"] == pytest.approx(5 / 6, abs=0.01)
    assert model.errors_.shape == (3, 2, 2)
    np.testing.assert_allclose(model.errors_.sum(axis=2), 1.0)
    np.testing.assert_allclose(model.priors_, [0.5, 0.5])


def test_one_coin_adversarial_toy():
    df, truth = adversarial_toy()
    # textbook bounds: c gets accuracy ~0 and a negative weight, so it is read inverted
    adv = OneCoinDawidSkene(allow_adversarial=True).fit(df)
    assert (adv.labels_ == truth).all()
    assert adv.skills_["c"] < 0.01 and adv.skills_["a"] == adv.skills_["b"] > 0.8
    # default: c is clipped at chance (weight ~0); a and b tie on t5/t6 and c's vanishing
    # weight breaks the tie the way plain majority vote does.
    model = OneCoinDawidSkene().fit(df)
    assert model.skills_["c"] == pytest.approx(0.5 + model.eps)
    assert model.labels_.equals(MajorityVote().fit_predict(df))
    np.testing.assert_allclose(model.priors_, [0.5, 0.5])


# --- plain-Python oracle for one EM iteration ---------------------------------------------------


def _oracle_mv(rows, tasks, classes):
    post = {}
    for t in tasks:
        answers = [y for (tt, _, y) in rows if tt == t]
        post[t] = {c: answers.count(c) / len(answers) for c in classes}
    return post


def oracle_ds_iteration(rows, alpha):
    tasks = sorted({r[0] for r in rows})
    workers = sorted({r[1] for r in rows})
    classes = sorted({r[2] for r in rows})
    k = len(classes)
    post = _oracle_mv(rows, tasks, classes)
    errors = {}
    for w in workers:
        for j in classes:
            den = k * alpha + sum(post[t][j] for (t, ww, _) in rows if ww == w)
            for m in classes:
                num = alpha + sum(post[t][j] for (t, ww, y) in rows if ww == w and y == m)
                errors[w, j, m] = num / den
    priors = {
        j: (alpha + sum(post[t][j] for t in tasks)) / (k * alpha + len(tasks)) for j in classes
    }
    new = {}
    for t in tasks:
        logs = {}
        for j in classes:
            logs[j] = math.log(priors[j]) + sum(
                math.log(errors[w, j, y]) for (tt, w, y) in rows if tt == t
            )
        top = max(logs.values())
        z = sum(math.exp(v - top) for v in logs.values())
        new[t] = {j: math.exp(logs[j] - top) / z for j in classes}
    return tasks, workers, classes, errors, priors, new


def oracle_one_coin_iteration(rows, alpha, low, high):
    tasks = sorted({r[0] for r in rows})
    workers = sorted({r[1] for r in rows})
    classes = sorted({r[2] for r in rows})
    k = len(classes)
    post = _oracle_mv(rows, tasks, classes)
    skill = {}
    for w in workers:
        mine = [(t, y) for (t, ww, y) in rows if ww == w]
        p = (alpha + sum(post[t][y] for (t, y) in mine)) / (2 * alpha + len(mine))
        skill[w] = min(max(p, low), high)
    new = {}
    for t in tasks:
        logs = dict.fromkeys(classes, math.log(1 / k))
        for tt, w, y in rows:
            if tt != t:
                continue
            for j in classes:  # the full likelihood, not the log-odds shortcut
                p = skill[w]
                logs[j] += math.log(p if y == j else (1 - p) / (k - 1))
        top = max(logs.values())
        z = sum(math.exp(v - top) for v in logs.values())
        new[t] = {j: math.exp(logs[j] - top) / z for j in classes}
    return skill, new


ORACLE_ROWS = [
    ("t1", "w1", "a"),
    ("t1", "w2", "a"),
    ("t1", "w3", "b"),
    ("t2", "w1", "b"),
    ("t2", "w2", "c"),
    ("t2", "w3", "b"),
    ("t2", "w3", "b"),  # duplicate answer
    ("t3", "w2", "c"),
    ("t4", "w1", "a"),
    ("t4", "w3", "c"),
    ("t4", "w4", "a"),
    ("t5", "w4", "b"),
    ("t5", "w1", "b"),
    ("t5", "w2", "a"),
]


@pytest.mark.parametrize("alpha", [0.01, 0.5])
def test_dawid_skene_one_iteration_matches_python_oracle(alpha):
    tasks, workers, classes, errors, priors, post = oracle_ds_iteration(ORACLE_ROWS, alpha)
    model = DawidSkene(max_iter=1, smoothing=alpha).fit(frame(ORACLE_ROWS))
    assert list(model.probas_.index) == tasks and list(model.probas_.columns) == classes
    expected_post = np.array([[post[t][j] for j in classes] for t in tasks])
    np.testing.assert_allclose(model.probas_.to_numpy(), expected_post, rtol=1e-12, atol=1e-14)
    expected_errors = np.array(
        [[[errors[w, j, m] for m in classes] for j in classes] for w in workers]
    )
    np.testing.assert_allclose(model.errors_, expected_errors, rtol=1e-12)
    np.testing.assert_allclose(model.priors_, [priors[j] for j in classes], rtol=1e-12)
    skills = [sum(priors[j] * errors[w, j, j] for j in classes) for w in workers]
    np.testing.assert_allclose(model.skills_.to_numpy(), skills, rtol=1e-12)


def test_dawid_skene_steps_match_oracle_from_any_posterior():
    # the module-level steps on the encoded data, started from MV, are the same EM iteration
    enc = encode(frame(ORACLE_ROWS))
    errors, priors = ds_m_step(enc, vote_shares(enc), 0.01)
    post, _ = ds_e_step(enc, errors, priors)
    *_, oracle = oracle_ds_iteration(ORACLE_ROWS, 0.01)
    expected = np.array([[oracle[t][j] for j in enc.classes] for t in enc.tasks])
    np.testing.assert_allclose(post, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("adversarial", [False, True])
def test_one_coin_one_iteration_matches_python_oracle(adversarial):
    model = OneCoinDawidSkene(max_iter=1, allow_adversarial=adversarial).fit(frame(ORACLE_ROWS))
    low = (0.0 if adversarial else 1 / 3) + model.eps
    skill, post = oracle_one_coin_iteration(ORACLE_ROWS, model.smoothing, low, 1 - model.eps)
    np.testing.assert_allclose(model.skills_.to_numpy(), [skill[w] for w in model.skills_.index])
    expected = np.array([[post[t][j] for j in model.probas_.columns] for t in model.probas_.index])
    np.testing.assert_allclose(model.probas_.to_numpy(), expected, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("cls", [DawidSkene, OneCoinDawidSkene])
def test_em_never_lowers_the_log_posterior(cls):
    df = synthetic(seed=2)
    values = [cls(max_iter=i, tol=0.0).fit(df).log_posterior_ for i in range(1, 12)]
    assert all(b >= a - 1e-9 * abs(a) for a, b in zip(values, values[1:], strict=False))
    assert values[-1] > values[0]  # and it does climb


def test_em_stops_on_the_log_posterior_change():
    df = synthetic(seed=2)
    loose, tight = DawidSkene(tol=1e-3).fit(df), DawidSkene(tol=1e-9, max_iter=1000).fit(df)
    assert loose.converged_ and tight.converged_ and loose.n_iter_ < tight.n_iter_
    before = DawidSkene(max_iter=loose.n_iter_ - 1, tol=0.0).fit(df).log_posterior_
    assert abs(loose.log_posterior_ - before) <= 1e-3 * abs(loose.log_posterior_)


def test_em_fixed_point_is_self_consistent():
    df = synthetic(seed=1)
    ds = DawidSkene(tol=1e-15, max_iter=5000).fit(df)
    assert ds.converged_
    enc = encode(df)
    errors, priors = ds_m_step(enc, ds.probas_.to_numpy(), ds.smoothing)
    np.testing.assert_allclose(errors, ds.errors_, atol=1e-7)
    np.testing.assert_allclose(priors, ds.priors_, atol=1e-7)


# --- invariances ------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_deterministic(cls):
    df = synthetic(seed=2)
    a, b = cls().fit(df), cls().fit(df)
    pd.testing.assert_series_equal(a.labels_, b.labels_)
    pd.testing.assert_frame_equal(a.probas_, b.probas_)
    if a.skills_ is not None:
        pd.testing.assert_series_equal(a.skills_, b.skills_)


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
@pytest.mark.parametrize("seed", [0, 1])
def test_row_order_invariance(cls, seed):
    df = synthetic(seed=seed)
    shuffled = df.sample(frac=1.0, random_state=seed + 10).reset_index(drop=True)
    a, b = cls().fit(df), cls().fit(shuffled)
    pd.testing.assert_series_equal(a.labels_, b.labels_)
    pd.testing.assert_frame_equal(a.probas_, b.probas_, rtol=0, atol=1e-9)
    if a.skills_ is not None:
        pd.testing.assert_series_equal(a.skills_, b.skills_, rtol=0, atol=1e-9)


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_row_order_invariance_on_real_data(cls):
    df, _ = load("dog")
    shuffled = df.sample(frac=1.0, random_state=7).reset_index(drop=True)
    a, b = cls().fit(df), cls().fit(shuffled)
    pd.testing.assert_series_equal(a.labels_, b.labels_)
    pd.testing.assert_frame_equal(a.probas_, b.probas_, rtol=0, atol=1e-9)


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_label_types_ints_and_strings_give_the_same_answer(cls):
    df = synthetic(seed=4)
    as_int = df.assign(label=df["label"].str[1:].astype(int))
    codes = {"c0": 0, "c1": 1, "c2": 2}
    by_str = cls().fit_predict(df).map(codes)
    by_int = cls().fit_predict(as_int)
    assert np.issubdtype(by_int.dtype, np.integer)
    pd.testing.assert_series_equal(by_str.astype(by_int.dtype), by_int)
    # integer task and worker ids work too
    numeric = as_int.assign(
        task=as_int["task"].str[1:].astype(int), worker=as_int["worker"].str[1:].astype(int)
    )
    assert cls().fit_predict(numeric).tolist() == by_int.tolist()


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_probas_are_distributions_and_labels_their_argmax(cls):
    model = cls().fit(synthetic(seed=5))
    probas = model.probas_.to_numpy()
    assert np.all(probas >= 0) and np.all(np.isfinite(probas))
    np.testing.assert_allclose(probas.sum(axis=1), 1.0)
    best = model.probas_.columns[probas.argmax(axis=1)]
    chosen = probas[np.arange(len(probas)), model.probas_.columns.get_indexer(model.labels_)]
    assert np.all(chosen >= probas.max(axis=1) - 1e-12)
    assert (model.labels_.to_numpy() == best).mean() > 0.99  # only exact ties can differ


# --- edge cases -------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_task_with_one_answer_and_worker_with_one_answer(cls):
    df = synthetic(seed=6)
    extra = frame([("lonely", "w05", "c2"), ("t000", "newcomer", "c1")])
    model = cls().fit(pd.concat([df, extra], ignore_index=True))
    assert model.labels_["lonely"] == "c2"
    assert "newcomer" in (model.skills_.index if model.skills_ is not None else ["newcomer"])
    assert np.isfinite(model.probas_.to_numpy()).all()


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_single_class(cls):
    df = frame([("t1", "a", "only"), ("t1", "b", "only"), ("t2", "a", "only")])
    model = cls().fit(df)
    assert model.labels_.to_dict() == {"t1": "only", "t2": "only"}
    np.testing.assert_allclose(model.probas_.to_numpy(), 1.0)


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_single_answer(cls):
    model = cls().fit(frame([("t1", "a", 5)]))
    assert model.labels_.to_dict() == {"t1": 5}


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
@pytest.mark.parametrize(
    "bad",
    [
        pd.DataFrame(columns=["task", "worker", "label"]),
        pd.DataFrame({"task": [1], "worker": [1]}),
        pd.DataFrame({"task": [1, 2], "worker": ["a", "b"], "label": ["x", None]}),
        pd.DataFrame({"task": [1, 2], "worker": ["a", "b"], "label": pd.Series([1, "x"])}),
        "not a frame",
    ],
    ids=["empty", "missing-column", "nan", "mixed-types", "not-a-frame"],
)
def test_bad_input_raises_invalid_data(cls, bad):
    with pytest.raises(InvalidData):
        cls().fit(bad)


@pytest.mark.parametrize(
    "model",
    [
        DawidSkene(max_iter=0),
        DawidSkene(tol=-1),
        DawidSkene(smoothing=0),
        OneCoinDawidSkene(eps=0.5),
        ZeroBasedSkill(n_iter=0),
        ZeroBasedSkill(lr=0),
        ZeroBasedSkill(lr_reduce_factor=2),
        ZeroBasedSkill(lr_steps_to_reduce=0),
        ZeroBasedSkill(eps=-1),
    ],
    ids=repr,
)
def test_bad_hyper_parameters_raise_invalid_data(model):
    with pytest.raises(InvalidData):
        model.fit(frame([("t1", "a", "x")]))


def test_hyper_parameters_are_plain_attributes():
    assert DawidSkene(tol=1e-3).get_params() == {"max_iter": 100, "tol": 1e-3, "smoothing": 0.01}
    assert set(OneCoinDawidSkene().get_params()) == {
        "max_iter",
        "tol",
        "smoothing",
        "eps",
        "allow_adversarial",
        "learn_priors",
    }
    assert ZeroBasedSkill().get_params() == {
        "n_iter": 100,
        "lr": 1.0,
        "lr_steps_to_reduce": 20,
        "lr_reduce_factor": 0.5,
        "eps": 1e-5,
    }


def test_dawid_skene_does_not_underflow_with_many_answers_per_task():
    # 3,000 answers on each task: a product of probabilities would underflow to 0/0
    rng = np.random.default_rng(0)
    rows = []
    for t in range(4):
        truth = t % 2
        for w in range(3000):
            y = truth if rng.random() < 0.8 else 1 - truth
            rows.append((t, w, y))
    model = DawidSkene().fit(frame(rows))
    assert np.isfinite(model.probas_.to_numpy()).all()
    assert model.labels_.tolist() == [0, 1, 0, 1]
    one = OneCoinDawidSkene().fit(frame(rows))
    assert one.labels_.tolist() == [0, 1, 0, 1]


@pytest.mark.parametrize("module", [majority_vote, wawa, zero_based_skill, dawid_skene])
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# --- real data vs crowd-kit -----------------------------------------------------------------

BENCH = Path(
    os.environ.get(
        "DATACOOP_CROWD_BENCH", Path(__file__).resolve().parents[4] / "shared/benchmarks/crowd"
    )
)

# crowd-kit 1.4.2, default hyper-parameters (CROWDKIT_BASELINE.md / crowdkit_baseline_raw.jsonl)
CROWDKIT = {
    "bluebirds": {
        "MajorityVote": 0.7593,
        "Wawa": 0.7593,
        "ZeroBasedSkill": 0.7593,
        "OneCoinDawidSkene": 0.5833,
        "DawidSkene": 0.8889,
    },
    "rte": {
        "MajorityVote": 0.9187,
        "Wawa": 0.9213,
        "ZeroBasedSkill": 0.9213,
        "OneCoinDawidSkene": 0.9250,
        "DawidSkene": 0.9275,
    },
    "d_product": {
        "MajorityVote": 0.8966,
        "Wawa": 0.8966,
        "ZeroBasedSkill": 0.8966,
        "OneCoinDawidSkene": 0.9084,
        "DawidSkene": 0.9397,
    },
    "d_possent": {
        "MajorityVote": 0.9320,
        "Wawa": 0.9510,
        "ZeroBasedSkill": 0.9530,
        "OneCoinDawidSkene": 0.9490,
        "DawidSkene": 0.9600,
    },
    "fact_eval": {
        "MajorityVote": 0.9010,
        "Wawa": 0.9010,
        "ZeroBasedSkill": 0.9010,
        "OneCoinDawidSkene": 0.9010,
        "DawidSkene": 0.8924,
    },
    "dog": {
        "MajorityVote": 0.8178,
        "Wawa": 0.8290,
        "ZeroBasedSkill": 0.8302,
        "OneCoinDawidSkene": 0.8302,
        "DawidSkene": 0.8426,
    },
    "face": {
        "MajorityVote": 0.6301,
        "Wawa": 0.6301,
        "ZeroBasedSkill": 0.6301,
        "OneCoinDawidSkene": 0.6113,
        "DawidSkene": 0.6404,
    },
    "s_rel": {
        "MajorityVote": 0.5357,
        "Wawa": 0.5578,
        "ZeroBasedSkill": 0.5563,
        "OneCoinDawidSkene": 0.2578,
        "DawidSkene": 0.6173,
    },
    "s_adult": {
        "MajorityVote": 0.7628,
        "Wawa": 0.7658,
        "ZeroBasedSkill": 0.7658,
        "OneCoinDawidSkene": 0.7087,
        "DawidSkene": 0.7658,
    },
}

# crowd-kit's DawidSkene stops when its reported loss fails to rise by tol; on these three
# datasets that loss *falls* after the first iterations (loss_history_ has 2 entries on
# fact_eval and s_adult, 22 on s_rel), so its figure is an early-stopped EM. Our EM runs to
# the posterior-change criterion; converged Dawid-Skene scores lower there (our EM after
# exactly 2 iterations reproduces 0.8924 and 0.7658). Documented in the report; the
# comparison is kept as a strict xfail and our own figure is locked in below.
DS_EARLY_STOP_GAPS = {"fact_eval": 0.8490, "s_rel": 0.6101, "s_adult": 0.7387}

# Regression floors for our one-coin model, which crowd-kit's collapses on (0.583 / 0.258)
ONE_COIN_OWN = {"bluebirds": 0.7685, "s_rel": 0.5186, "s_adult": 0.7628, "d_product": 0.9313}


@functools.cache
def load(name: str) -> tuple[pd.DataFrame, pd.Series]:
    if not (BENCH / name).is_dir():
        pytest.skip(f"shared benchmark data not found at {BENCH}")
    labels = pd.read_csv(BENCH / name / "labels.csv", dtype=str)
    gold = pd.read_csv(BENCH / name / "gold.csv", dtype=str).set_index("task")["label"]
    return labels, gold


@functools.cache
def accuracy(dataset: str, method: str) -> float:
    labels, gold = load(dataset)
    pred = METHODS[method]().fit_predict(labels)
    gold = gold[gold.index.isin(pred.index)]  # gold tasks with at least one answer
    return float((pred.reindex(gold.index) == gold).mean())


def _cases():
    for dataset, row in CROWDKIT.items():
        for method, figure in row.items():
            marks = []
            if method == "DawidSkene" and dataset in DS_EARLY_STOP_GAPS:
                marks = [pytest.mark.xfail(strict=True, reason="crowd-kit EM stopped early")]
            yield pytest.param(dataset, method, figure, marks=marks, id=f"{dataset}-{method}")


@pytest.mark.parametrize(("dataset", "method", "figure"), list(_cases()))
def test_accuracy_at_least_crowdkit(dataset, method, figure):
    assert accuracy(dataset, method) >= figure - 0.001


@pytest.mark.parametrize("dataset", sorted(DS_EARLY_STOP_GAPS))
def test_dawid_skene_converged_accuracy_where_crowdkit_stops_early(dataset):
    assert accuracy(dataset, "DawidSkene") >= DS_EARLY_STOP_GAPS[dataset] - 0.001


@pytest.mark.parametrize("dataset", sorted(ONE_COIN_OWN))
def test_one_coin_does_not_collapse(dataset):
    own = accuracy(dataset, "OneCoinDawidSkene")
    assert own >= ONE_COIN_OWN[dataset] - 0.001
    assert own >= CROWDKIT[dataset]["MajorityVote"] - 0.02


def test_one_coin_textbook_setting_collapses_like_crowdkit():
    # documents why learn_priors / allow_adversarial default to False
    labels, _ = load("bluebirds")
    textbook = OneCoinDawidSkene(learn_priors=True, allow_adversarial=True).fit(labels)
    assert textbook.priors_.max() > 0.95  # everything drifts to one class
    assert OneCoinDawidSkene().fit(labels).labels_.value_counts(normalize=True).max() < 0.8


def test_vectorised_vote_shares_match_a_loop():
    df = synthetic(seed=8)
    enc = encode(df)
    counts: dict[tuple[int, int], float] = defaultdict(float)
    for t, y in zip(enc.t, enc.y, strict=True):
        counts[int(t), int(y)] += 1
    shares = vote_shares(enc)
    for (t, y), n in counts.items():
        total = sum(v for (tt, _), v in counts.items() if tt == t)
        assert shares[t, y] == pytest.approx(n / total)
