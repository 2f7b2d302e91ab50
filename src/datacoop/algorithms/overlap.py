r"""Dynamic overlap: ask for more answers only where the label is still uncertain.

A fixed overlap (say 5 answers per item) spends as much on an item three good workers
already agree on as on one they split over. Dynamic overlap computes, after the answers so
far, the posterior probability of each class for each task under a worker model, and keeps
asking only for tasks whose most probable class is below a confidence threshold, up to a
maximum number of answers.

The rule
--------
Classes ``j = 1..K`` with prior ``ρ_j``. Worker ``w`` is described by a confusion matrix
``π_w`` with ``π_w[j, l] = P(w answers l | true class j)`` (rows sum to 1). Assuming the
answers are independent given the true class (the Dawid–Skene model), the posterior of task
``t`` with answers ``{(w, l_w)}`` is::

    P(T_t = j | answers)  ∝  ρ_j · Π_w π_w[j, l_w]

computed in log space, ``log ρ_j + Σ_w log π_w[j, l_w]``, and normalised with log-sum-exp.
The worker model comes from one of:

* ``confusion``: per-worker confusion matrices (e.g. estimated by Dawid–Skene);
* ``skills``: one-coin accuracies ``p_w``: ``π_w[j, j] = p_w`` and the errors spread
  uniformly, ``π_w[j, l] = (1 - p_w) / (K - 1)`` for ``l ≠ j``;
* neither: every worker is one-coin with ``DEFAULT_SKILL`` = 0.7, a cautious guess for an
  unvetted crowd: to pass 0.95 with a uniform prior it takes three agreeing answers with
  four classes, four with two classes.

``worker_model(fitted)`` turns a fitted ``DawidSkene`` (``errors_``, ``priors_``) or
``OneCoinDawidSkene`` (``skills_``) into these keywords. Workers missing from ``confusion``
fall back to their ``skills`` entry, then to ``default_skill``. Probabilities in the
confusion matrices are floored at ``1e-10`` (then rows renormalised) so that one
"impossible" answer never vetoes a class outright and contradictory answers cannot produce 0/0.

A task *needs answers* when::

    n_t < min_overlap   or   (max_j P(T_t = j | answers) < confidence  and  n_t < max_overlap)

where ``n_t`` is its number of answers (rows; tasks known but unanswered have ``n_t = 0``
and the prior as posterior).

Assumptions and limits: answers are conditionally independent given the true class (workers
do not copy each other, and a task's difficulty does not make everyone err the same way);
the worker model is right. Estimated confusion matrices are themselves uncertain, so with
few answers per worker the posteriors are over-confident: re-estimate as answers come in,
keep ``min_overlap >= 2`` while the estimates are young, or use gold tasks
(``datacoop.algorithms.quality.gold_accuracy``) for skills.

References: A. P. Dawid and A. M. Skene, "Maximum likelihood estimation of observer
error-rates using the EM algorithm", Applied Statistics 28 (1979), 20-28. P. G. Ipeirotis,
F. Provost, V. S. Sheng and J. Wang, "Repeated labeling using multiple noisy labelers",
Data Mining and Knowledge Discovery 28 (2014), 402-441 (selective repeated labeling by
label uncertainty).

Example
-------
>>> import pandas as pd
>>> answers = pd.DataFrame({"task": ["a", "a", "a", "b", "c", "c"],
...                         "worker": ["w1", "w2", "w3", "w1", "w1", "w2"],
...                         "label": ["cat", "cat", "cat", "cat", "cat", "dog"]})
>>> posteriors(answers, classes=["cat", "dog"]).round(3)
label    cat    dog
task
a      0.927  0.073
b      0.700  0.300
c      0.500  0.500
>>> skills = pd.Series({"w1": 0.9, "w2": 0.9, "w3": 0.9})
>>> list(items_needing_answers(answers, skills=skills, classes=["cat", "dog"],
...                            all_tasks=["a", "b", "c", "d"]))
['d', 'c', 'b']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from numbers import Integral, Real
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from datacoop.algorithms.aggregation._base import CLASSIFICATION_COLUMNS, check_frame, encode
from datacoop.errors import InvalidData

__all__ = [
    "DEFAULT_SKILL",
    "PROBABILITY_FLOOR",
    "is_confident",
    "items_needing_answers",
    "posteriors",
    "worker_model",
]

#: One-coin accuracy assumed for workers the model knows nothing about.
DEFAULT_SKILL = 0.7
#: Smallest probability a confusion-matrix cell may take (log(0) would veto a class).
PROBABILITY_FLOOR = 1e-10

Confusion: TypeAlias = Mapping[Any, Any] | np.ndarray | pd.DataFrame


# --------------------------------------------------------------------------------------
# Model inputs
# --------------------------------------------------------------------------------------
def _skill(value: object, who: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not 0.0 <= float(value) <= 1.0:
        raise InvalidData(f"skill of {who} must be a number in [0, 1], got {value!r}")
    return float(value)


def _one_coin(p: np.ndarray, k: int) -> np.ndarray:
    """``(len(p), k, k)`` one-coin matrices: ``p`` on the diagonal, the rest spread evenly."""
    if k == 1:
        return np.ones((len(p), 1, 1))
    off = (1.0 - p) / (k - 1)
    out = np.repeat(off[:, None, None], k, axis=1).repeat(k, axis=2)
    idx = np.arange(k)
    out[:, idx, idx] = p[:, None]
    return np.asarray(out)


def _matrix(value: object, classes: pd.Index, who: str) -> np.ndarray:
    """One ``K x K`` confusion matrix, rows = true class, columns = answered class."""
    k = len(classes)
    if isinstance(value, pd.DataFrame):
        for axis, labels in (("rows", value.index), ("columns", value.columns)):
            if labels.has_duplicates or not set(classes).issubset(set(labels)):
                raise InvalidData(f"confusion matrix of {who}: {axis} must list every class once")
        extra = (set(value.index) | set(value.columns)) - set(classes)
        if extra:
            raise InvalidData(
                f"confusion matrix of {who} has unknown class(es) {sorted(map(str, extra))}"
            )
        arr = np.asarray(value.loc[classes, classes].to_numpy(dtype=np.float64))
    else:
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidData(f"confusion matrix of {who} is not numeric") from exc
    if arr.shape != (k, k):
        raise InvalidData(f"confusion matrix of {who} has shape {arr.shape}, expected ({k}, {k})")
    if not np.isfinite(arr).all() or (arr < 0).any():
        raise InvalidData(f"confusion matrix of {who} has negative or non-finite entries")
    if not np.allclose(arr.sum(axis=1), 1.0, atol=1e-6):
        raise InvalidData(
            f"confusion matrix of {who}: each row (a true class) must sum to 1, "
            f"got sums {np.round(arr.sum(axis=1), 6).tolist()}"
        )
    return arr


def _confusions_from_frame(frame: pd.DataFrame) -> dict[Any, pd.DataFrame]:
    """Split a crowd-kit style ``errors_`` frame into one matrix per worker.

    Layout (crowd-kit's ``DawidSkene.errors_``): rows indexed by ``(worker, answered
    label)``, one column per true label, so ``frame.loc[(w, l), j] = P(w answers l | j)``.
    Returned matrices are transposed to this module's rows = true class.
    """
    if not isinstance(frame.index, pd.MultiIndex) or frame.index.nlevels != 2:
        raise InvalidData(
            "a confusion DataFrame must be indexed by (worker, answered label) with one "
            "column per true label (crowd-kit's errors_ layout)"
        )
    out: dict[Any, pd.DataFrame] = {}
    for worker, block in frame.groupby(level=0, sort=False):
        out[worker] = block.droplevel(0).T
    return out


def _class_index(
    answers: pd.DataFrame | None,
    classes: Iterable[Any] | None,
    confusion: object,
    priors: object,
) -> pd.Index:
    """The label set: ``classes`` if given, else priors / confusion labels, else the answers."""
    if classes is not None:
        if isinstance(classes, str | bytes) or not isinstance(classes, Iterable):
            raise InvalidData("classes must be a list of labels")
        values = list(classes)
        if not values:
            raise InvalidData("classes is empty")
        if pd.Index(values).hasnans:
            raise InvalidData("classes contains a missing (NaN/None) label")
        if len(set(values)) != len(values):
            raise InvalidData("classes lists a label more than once")
        try:
            return pd.Index(np.unique(np.asarray(values, dtype=object)), name="label")
        except TypeError as exc:
            raise InvalidData("classes mixes labels that cannot be sorted together") from exc
    found: set[Any] = set()
    if isinstance(priors, pd.Series | Mapping):
        found.update(priors.index if isinstance(priors, pd.Series) else priors.keys())
    if isinstance(confusion, pd.DataFrame):
        found.update(confusion.columns)
    elif isinstance(confusion, Mapping):
        for m in confusion.values():
            if isinstance(m, pd.DataFrame):
                found.update(m.columns)
    if answers is not None and len(answers):
        found.update(pd.unique(answers["label"]))
    if len(found) < 2:
        # One label seen is not evidence that only one exists: every task would look
        # certain and dynamic overlap would stop asking. Make the caller say so.
        raise InvalidData(
            f"cannot tell the classes ({len(found)} label(s) seen): pass classes=[...]"
        )
    try:
        return pd.Index(sorted(found), name="label")
    except TypeError as exc:
        raise InvalidData("labels mix numbers and text") from exc


def _prior_vector(priors: object, classes: pd.Index) -> np.ndarray:
    k = len(classes)
    if priors is None:
        return np.full(k, 1.0 / k)
    if isinstance(priors, Mapping):
        priors = pd.Series(dict(priors))
    if isinstance(priors, pd.Series):
        unknown = set(priors.index) - set(classes)
        if unknown:
            raise InvalidData(f"priors name unknown class(es) {sorted(map(str, unknown))}")
        vec = priors.reindex(classes).fillna(0.0).to_numpy(dtype=np.float64)
    else:
        try:
            vec = np.asarray(priors, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidData("priors must be numbers") from exc
        if vec.shape != (k,):
            raise InvalidData(f"priors has shape {vec.shape}, expected ({k},) in class order")
    if not np.isfinite(vec).all() or (vec < 0).any() or vec.sum() <= 0:
        raise InvalidData("priors must be non-negative, finite and not all zero")
    return np.asarray(vec / vec.sum())


def _log_confusions(
    workers: np.ndarray,
    classes: pd.Index,
    confusion: object,
    skills: object,
    default_skill: float,
) -> np.ndarray:
    """``(len(workers), K, K)`` log confusion matrices for the given workers."""
    k = len(classes)
    default_skill = _skill(default_skill, "default_skill")
    p = np.full(len(workers), default_skill)
    if skills is not None:
        if isinstance(skills, Mapping):
            skills = pd.Series(dict(skills), dtype=object)
        if not isinstance(skills, pd.Series):
            raise InvalidData("skills must be a pandas Series (or dict) indexed by worker")
        if skills.index.has_duplicates:
            raise InvalidData("skills lists a worker more than once")
        pos = skills.index.get_indexer(workers)
        for i in np.flatnonzero(pos >= 0):
            p[i] = _skill(skills.iloc[pos[i]], f"worker {workers[i]!r}")
    mats = _one_coin(p, k)
    if confusion is not None:
        shared = isinstance(confusion, np.ndarray) or (
            isinstance(confusion, pd.DataFrame) and not isinstance(confusion.index, pd.MultiIndex)
        )
        if shared:
            mats[:] = _matrix(confusion, classes, "every worker")
        else:
            if isinstance(confusion, pd.DataFrame):
                confusion = _confusions_from_frame(confusion)
            if not isinstance(confusion, Mapping):
                raise InvalidData(
                    "confusion must be a dict worker -> K x K matrix, one K x K array or "
                    "DataFrame for every worker, or a (worker, label) x label DataFrame"
                )
            lookup = pd.Index(workers)
            for worker, m in confusion.items():
                i = lookup.get_indexer([worker])[0]
                matrix = _matrix(m, classes, f"worker {worker!r}")  # check even if unused
                if i >= 0:
                    mats[i] = matrix
    mats = np.maximum(mats, PROBABILITY_FLOOR)
    mats /= mats.sum(axis=2, keepdims=True)
    return np.asarray(np.log(mats))


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------
def posteriors(
    answers: pd.DataFrame,
    confusion: Confusion | None = None,
    skills: pd.Series | Mapping[Any, float] | None = None,
    priors: pd.Series | Mapping[Any, float] | np.ndarray | list[float] | None = None,
    classes: Iterable[Any] | None = None,
    *,
    default_skill: float = DEFAULT_SKILL,
) -> pd.DataFrame:
    """``P(true class | answers)`` for every task in ``answers``, under a worker model.

    ``posterior[t, j] ∝ priors[j] · Π_{answers (w, l) on t} π_w[j, l]`` (module docstring).

    Parameters
    ----------
    answers:
        ``task, worker, label`` frame, one row per answer.
    confusion:
        Per-worker confusion matrices, rows = true class and columns = answered class, in
        the order of ``classes`` (sorted), as one of: a dict ``worker -> K x K`` array or
        DataFrame (labels on both axes); a single ``K x K`` array or DataFrame used for
        every worker; or
        a DataFrame in crowd-kit's ``errors_`` layout (rows ``(worker, answered label)``,
        one column per true label). Rows must sum to 1.
    skills:
        One-coin accuracy ``p_w`` in [0, 1] per worker (Series or dict), used for workers
        without a confusion matrix.
    priors:
        Class prior: a Series/dict by label, or an array in class order; normalised to sum
        to 1. Default: uniform.
    classes:
        The label set. Default: the labels named by ``priors`` / ``confusion`` DataFrames
        plus those seen in ``answers``. Pass it whenever it is known: with one-coin workers
        the error spread ``(1 - p) / (K - 1)`` depends on ``K``.
    default_skill:
        One-coin accuracy of workers with neither a confusion matrix nor a skill.

    Returns a DataFrame indexed by ``task`` (sorted) with one column per class (sorted,
    axis name ``label``); rows sum to 1.

    >>> import pandas as pd
    >>> answers = pd.DataFrame({"task": [1, 1], "worker": ["a", "b"], "label": [0, 1]})
    >>> posteriors(answers, skills={"a": 0.9, "b": 0.6}, classes=[0, 1]).round(4)
    label       0       1
    task
    1      0.8571  0.1429
    """
    frame = check_frame(answers, CLASSIFICATION_COLUMNS)
    enc = encode(frame)
    cls = _class_index(frame, classes, confusion, priors)
    return _posteriors_encoded(enc, cls, confusion, skills, priors, default_skill)


def _posteriors_encoded(
    enc: Any,
    cls: pd.Index,
    confusion: object,
    skills: object,
    priors: object,
    default_skill: float,
) -> pd.DataFrame:
    k = len(cls)
    y = cls.get_indexer(enc.classes)
    if (y < 0).any():
        unknown = [str(c) for c in enc.classes[y < 0]]
        raise InvalidData(f"answer label(s) {unknown} are not among the classes")
    log_prior = np.log(np.maximum(_prior_vector(priors, cls), 1e-300))
    log_pi = _log_confusions(enc.workers, cls, confusion, skills, default_skill)
    # Row i contributes log π_{w_i}[:, y_i]; sum the contributions per task column by column.
    contrib = log_pi[enc.w, :, y[enc.y]]  # (n_answers, K)
    log_post = np.empty((enc.n_tasks, k))
    for j in range(k):
        log_post[:, j] = np.bincount(enc.t, weights=contrib[:, j], minlength=enc.n_tasks)
    log_post += log_prior
    log_post -= logsumexp(log_post, axis=1, keepdims=True)
    return pd.DataFrame(
        np.exp(log_post), index=pd.Index(enc.tasks, name="task"), columns=cls.rename("label")
    )


def _count(value: object, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or int(value) < low:
        raise InvalidData(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def items_needing_answers(
    answers: pd.DataFrame,
    *,
    confidence: float = 0.95,
    max_overlap: int = 5,
    min_overlap: int = 1,
    all_tasks: Iterable[Any] | None = None,
    confusion: Confusion | None = None,
    skills: pd.Series | Mapping[Any, float] | None = None,
    priors: pd.Series | Mapping[Any, float] | np.ndarray | list[float] | None = None,
    classes: Iterable[Any] | None = None,
    default_skill: float = DEFAULT_SKILL,
) -> pd.Index:
    """The tasks that should get another answer, most in need first.

    A task needs answers when it has fewer than ``min_overlap`` answers, or when its most
    probable class has posterior below ``confidence`` and it has fewer than
    ``max_overlap`` answers. Tasks of ``all_tasks`` absent from ``answers`` count as having
    no answers (posterior = prior); ``answers`` may then be an empty frame (with the
    columns). The model keywords (``confusion``, ``skills``, ``priors``, ``classes``,
    ``default_skill``) are those of ``posteriors``.

    Order: first the tasks below ``min_overlap`` (fewest answers first), then the others by
    increasing top posterior (least certain first); remaining ties keep task order
    (``all_tasks`` order, then sorted tasks from ``answers``). The Index is named ``task``.

    >>> import pandas as pd
    >>> answers = pd.DataFrame({"task": ["t1"] * 3 + ["t2"], "worker": ["a", "b", "c", "a"],
    ...                         "label": ["yes"] * 4})
    >>> list(items_needing_answers(answers, skills={"a": .9, "b": .9, "c": .9},
    ...                            classes=["yes", "no"]))
    ['t2']
    >>> list(items_needing_answers(answers, classes=["yes", "no"], max_overlap=3))
    ['t2']
    """
    if isinstance(confidence, bool) or not isinstance(confidence, Real) or not 0 < confidence <= 1:
        raise InvalidData(f"confidence must be in (0, 1], got {confidence!r}")
    max_overlap = _count(max_overlap, "max_overlap", 1)
    min_overlap = _count(min_overlap, "min_overlap", 0)
    if min_overlap > max_overlap:
        raise InvalidData(f"min_overlap ({min_overlap}) exceeds max_overlap ({max_overlap})")

    cls: pd.Index | None
    if isinstance(answers, pd.DataFrame) and len(answers) == 0 and all_tasks is not None:
        missing = [c for c in CLASSIFICATION_COLUMNS if c not in answers.columns]
        if missing:
            raise InvalidData(f"missing column(s): {', '.join(missing)}")
        answered = pd.Index([], name="task")
        top = np.zeros(0)
        n = np.zeros(0, dtype=np.int64)
        try:
            cls = _class_index(None, classes, confusion, priors)
        except InvalidData:
            if classes is not None:
                raise
            cls = None  # label set unknown yet: no task can be confident
    else:
        frame = check_frame(answers, CLASSIFICATION_COLUMNS)
        enc = encode(frame)
        known = _class_index(frame, classes, confusion, priors)
        cls = known
        post = _posteriors_encoded(enc, known, confusion, skills, priors, default_skill)
        answered = post.index
        top = post.to_numpy().max(axis=1)
        n = np.bincount(enc.t, minlength=enc.n_tasks)

    if all_tasks is not None:
        if isinstance(all_tasks, str | bytes) or not isinstance(all_tasks, Iterable):
            raise InvalidData("all_tasks must be a list of tasks")
        extra = pd.Index(list(all_tasks)).drop_duplicates()
        extra = extra[answered.get_indexer(extra) < 0]
        prior_top = 0.0 if cls is None else float(_prior_vector(priors, cls).max())
        tasks = extra.append(answered)
        top = np.concatenate([np.full(len(extra), prior_top), top])
        n = np.concatenate([np.zeros(len(extra), dtype=np.int64), n])
    else:
        tasks = answered

    below_min = n < min_overlap
    need = below_min | ((top < confidence) & (n < max_overlap))
    # Sort key: below-min tasks first by count, then the rest by top posterior.
    key_group = np.where(below_min, 0, 1)
    key_value = np.where(below_min, n.astype(np.float64), top)
    order = np.lexsort((np.arange(len(tasks)), key_value, key_group))
    order = order[need[order]]
    return tasks[order].rename("task")


def is_confident(
    answers: pd.DataFrame,
    task: Any,
    *,
    confidence: float = 0.95,
    confusion: Confusion | None = None,
    skills: pd.Series | Mapping[Any, float] | None = None,
    priors: pd.Series | Mapping[Any, float] | np.ndarray | list[float] | None = None,
    classes: Iterable[Any] | None = None,
    default_skill: float = DEFAULT_SKILL,
) -> bool:
    """Whether ``task``'s most probable class has posterior ``>= confidence``.

    A task without answers is judged on the prior. Classes default as in ``posteriors``,
    taken from the whole ``answers`` frame.

    >>> import pandas as pd
    >>> answers = pd.DataFrame({"task": [7, 7, 7], "worker": ["a", "b", "c"], "label": [1, 1, 1]})
    >>> is_confident(answers, 7, skills={"a": .9, "b": .9, "c": .9}, classes=[0, 1])
    True
    >>> is_confident(answers.head(1), 7, classes=[0, 1])
    False
    """
    if isinstance(confidence, bool) or not isinstance(confidence, Real) or not 0 < confidence <= 1:
        raise InvalidData(f"confidence must be in (0, 1], got {confidence!r}")
    frame = check_frame(answers, CLASSIFICATION_COLUMNS)
    cls = _class_index(frame, classes, confusion, priors)
    mine = frame[frame["task"] == task]
    if len(mine) == 0:
        return bool(_prior_vector(priors, cls).max() >= confidence)
    post = _posteriors_encoded(encode(mine), cls, confusion, skills, priors, default_skill)
    return bool(post.to_numpy().max() >= confidence)


def worker_model(fitted: Any) -> dict[str, Any]:
    """The model keywords of ``posteriors`` / ``items_needing_answers`` from a fitted aggregator.

    Works with ``DawidSkene`` (uses ``errors_``, ``priors_``) and any aggregator exposing
    ``skills_`` (one-coin accuracies, e.g. ``OneCoinDawidSkene``) and optionally
    ``priors_``; ``classes`` are the columns of ``probas_``. Duck-typed: nothing from
    ``datacoop.algorithms.aggregation`` is imported.

    >>> import pandas as pd
    >>> from datacoop.algorithms.aggregation.dawid_skene import DawidSkene
    >>> answers = pd.DataFrame({"task": [1, 1, 2, 2], "worker": ["a", "b", "a", "b"],
    ...                         "label": ["x", "x", "y", "y"]})
    >>> model = worker_model(DawidSkene().fit(answers))
    >>> sorted(model), model["classes"]
    (['classes', 'confusion', 'priors'], ['x', 'y'])
    """
    probas = getattr(fitted, "probas_", None)
    skills = getattr(fitted, "skills_", None)
    if not isinstance(probas, pd.DataFrame) or not isinstance(skills, pd.Series):
        raise InvalidData("worker_model needs a fitted aggregator with probas_ and skills_")
    out: dict[str, Any] = {"classes": list(probas.columns)}
    errors = getattr(fitted, "errors_", None)
    if isinstance(errors, np.ndarray):
        k = len(probas.columns)
        if errors.shape != (len(skills), k, k):
            raise InvalidData(
                f"errors_ has shape {errors.shape}, expected ({len(skills)}, {k}, {k})"
            )
        out["confusion"] = dict(zip(skills.index, errors, strict=True))
    else:
        out["skills"] = skills
    priors = getattr(fitted, "priors_", None)
    if priors is not None:
        out["priors"] = priors
    return out
