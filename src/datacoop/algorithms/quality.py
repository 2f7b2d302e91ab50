"""Worker quality: accuracy on gold tasks and agreement with the aggregate, with intervals.

Both measures are a proportion ``k / n`` per worker (``k`` answers right out of ``n``
counted), reported with a Wilson score interval so that a worker with 2/2 right is not
ranked above one with 95/100 right: the interval says how much the data supports.

Wilson score interval (Wilson 1927), for ``k`` successes in ``n`` trials, observed share
``p = k / n`` and ``z`` the standard normal quantile at ``1 - (1 - confidence) / 2``
(1.95996... for 95 %)::

                 p + z²/(2n)  ±  z · sqrt( p(1 - p)/n + z²/(4n²) )
    low, high = ---------------------------------------------------
                                  1 + z²/n

Reference: E. B. Wilson, "Probable inference, the law of succession, and statistical
inference", Journal of the American Statistical Association 22 (1927), 209-212. Unlike the
normal ("Wald") interval ``p ± z·sqrt(p(1-p)/n)`` it stays inside [0, 1] and does not
collapse to a point at ``k = 0`` or ``k = n``; Brown, Cai & DasGupta (Statistical Science
16, 2001) recommend it for small ``n``.

Input frames follow the aggregators' convention (``datacoop.algorithms.aggregation``):
one row per answer, columns ``task, worker, label``. Every answer row counts, so a worker
who answered the same task twice counts twice.

>>> import pandas as pd
>>> answers = pd.DataFrame({"task": ["t1", "t2", "t3", "t1"],
...                         "worker": ["ann", "ann", "ann", "bob"],
...                         "label": ["cat", "dog", "dog", "dog"]})
>>> gold = pd.Series({"t1": "cat", "t2": "dog"})
>>> gold_accuracy(answers, gold).round(3)
        n_gold  correct  accuracy    low   high
worker
ann          2        2       1.0  0.342  1.000
bob          1        0       0.0  0.000  0.793
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy.stats import norm

from datacoop.algorithms.aggregation._base import encode
from datacoop.errors import InvalidData

__all__ = ["agreement_with_aggregate", "gold_accuracy", "wilson_interval"]


def _z(confidence: object) -> float:
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, Real)
        or not 0.0 < float(confidence) < 1.0
    ):
        raise InvalidData(
            f"confidence must be a number strictly between 0 and 1, got {confidence!r}"
        )
    return float(norm.ppf(1.0 - (1.0 - float(confidence)) / 2.0))


def _wilson(k: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised Wilson bounds for ``k`` successes of ``n`` trials (all ``n >= 1``)."""
    k = k.astype(np.float64)
    n = n.astype(np.float64)
    p = k / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denom
    half = (z / denom) * np.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n))
    low = np.clip(centre - half, 0.0, 1.0)
    high = np.clip(centre + half, 0.0, 1.0)
    # Exact ends: the formula gives 0 (resp. 1) at k = 0 (resp. k = n) up to rounding.
    low = np.where(k == 0, 0.0, low)
    high = np.where(k == n, 1.0, high)
    return low, high


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion: ``successes`` out of ``n`` trials.

    Returns ``(low, high)``, both in [0, 1]; ``low`` is exactly 0 when ``successes == 0``
    and ``high`` exactly 1 when ``successes == n``. ``z = scipy.stats.norm.ppf(1 - (1 -
    confidence) / 2)``; the formula is in the module docstring (Wilson 1927).

    Raises ``InvalidData`` when ``n < 1`` (no trials: no interval), when ``successes`` is
    not an integer in ``[0, n]``, or when ``confidence`` is not strictly between 0 and 1.

    >>> [round(x, 4) for x in wilson_interval(8, 10)]
    [0.4902, 0.9433]
    >>> [round(x, 4) for x in wilson_interval(0, 10)]
    [0.0, 0.2775]
    """
    for name, value in (("successes", successes), ("n", n)):
        if isinstance(value, bool) or not isinstance(value, Integral):
            raise InvalidData(f"{name} must be an integer, got {value!r}")
    if n < 1:
        raise InvalidData(f"n must be at least 1 (no trials, no interval), got {n}")
    if not 0 <= successes <= n:
        raise InvalidData(f"successes must be between 0 and n={n}, got {successes}")
    z = _z(confidence)
    low, high = _wilson(np.array([int(successes)]), np.array([int(n)]), z)
    return float(low[0]), float(high[0])


def _reference(reference: object, what: str) -> pd.Series:
    """A ``task -> label`` Series from a Series indexed by task or a ``task, label`` frame."""
    if isinstance(reference, pd.DataFrame):
        missing = [c for c in ("task", "label") if c not in reference.columns]
        if missing:
            raise InvalidData(f"{what} DataFrame is missing column(s): {', '.join(missing)}")
        if reference["task"].isna().any():
            raise InvalidData(f"{what} has missing (NaN/None) tasks")
        dedup = reference.drop_duplicates(subset=["task", "label"])
        if dedup["task"].duplicated().any():
            task = dedup.loc[dedup["task"].duplicated(), "task"].iloc[0]
            raise InvalidData(f"{what} gives task {task!r} more than one label")
        series = pd.Series(dedup["label"].to_numpy(), index=pd.Index(dedup["task"].to_numpy()))
    elif isinstance(reference, pd.Series):
        series = reference
        if series.index.has_duplicates:
            task = series.index[series.index.duplicated()][0]
            raise InvalidData(f"{what} lists task {task!r} more than once")
    else:
        raise InvalidData(
            f"{what} must be a pandas Series indexed by task or a task, label DataFrame"
        )
    if len(series) == 0:
        raise InvalidData(f"{what} is empty")
    if series.isna().any():
        raise InvalidData(f"{what} has missing (NaN/None) labels")
    return series


def _numeric(values: pd.Series) -> bool | None:
    """True/False for a numeric/text column, None when the dtype does not say (object)."""
    if values.dtype == object:
        return None
    return bool(pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values))


def _match_counts(
    answers: object, reference: object, what: str, confidence: float
) -> tuple[pd.Index, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per worker: answers on referenced tasks ``n``, of which equal to the reference ``k``.

    Returns ``(workers, n, k, low, high)`` for the workers with ``n >= 1`` only.
    """
    z = _z(confidence)
    enc = encode(answers)
    ref = _reference(reference, what)
    assert isinstance(answers, pd.DataFrame)
    a_num, r_num = _numeric(answers["label"]), _numeric(ref)
    if a_num is not None and r_num is not None and a_num != r_num:
        kinds = {True: "numbers", False: "text"}
        raise InvalidData(
            f"{what} labels are {kinds[r_num]} but answer labels are {kinds[a_num]}: "
            "nothing could ever match"
        )
    # Position of each task of the answers in the reference (-1: not referenced), and the
    # reference label as a class code of the answers (-1: a label nobody gave).
    where = ref.index.get_indexer(enc.tasks)
    ref_code = np.full(enc.n_tasks, -1, dtype=np.int64)
    hit = where >= 0
    ref_code[hit] = pd.Index(enc.classes).get_indexer(ref.to_numpy()[where[hit]])
    counted = hit[enc.t]
    correct = counted & (enc.y == ref_code[enc.t])
    n = np.bincount(enc.w, weights=counted, minlength=enc.n_workers).astype(np.int64)
    k = np.bincount(enc.w, weights=correct, minlength=enc.n_workers).astype(np.int64)
    keep = n > 0
    n, k = n[keep], k[keep]
    if len(n):
        low, high = _wilson(k, n, z)
    else:
        low = high = np.zeros(0)
    workers = pd.Index(enc.workers[keep], name="worker")
    return workers, n, k, low, high


def gold_accuracy(
    answers: pd.DataFrame, gold: pd.Series | pd.DataFrame, confidence: float = 0.95
) -> pd.DataFrame:
    """Each worker's accuracy on gold (known-answer) tasks, with a Wilson interval.

    ``answers``: columns ``task, worker, label``, one row per answer. ``gold``: the true
    label of each gold task, either a Series indexed by task or a DataFrame with columns
    ``task, label``. Answers on tasks that are not gold are ignored.

    For worker ``w`` with ``n_gold`` answers on gold tasks, of which ``correct`` equal the
    gold label: ``accuracy = correct / n_gold`` and ``(low, high)`` is the Wilson score
    interval of ``correct`` out of ``n_gold`` at ``confidence`` (see the module docstring).

    Returns one row per worker who answered at least one gold task (an empty frame when
    nobody did), indexed by ``worker`` in sorted order, with columns ``n_gold`` (int),
    ``correct`` (int), ``accuracy``, ``low``, ``high``.

    Raises ``InvalidData`` for a malformed ``answers`` frame (see ``encode``), an empty gold
    set, a gold task listed with two different labels, missing gold labels, gold and
    answer labels of different kinds (numbers vs text), or a bad ``confidence``.

    >>> import pandas as pd
    >>> answers = pd.DataFrame({"task": [1, 2, 3, 1, 2], "worker": ["a", "a", "a", "b", "b"],
    ...                         "label": ["x", "y", "x", "x", "x"]})
    >>> gold_accuracy(answers, pd.DataFrame({"task": [1, 2], "label": ["x", "y"]}))[
    ...     ["n_gold", "correct", "accuracy"]]
            n_gold  correct  accuracy
    worker
    a            2        2       1.0
    b            2        1       0.5
    """
    workers, n, k, low, high = _match_counts(answers, gold, "gold", confidence)
    return pd.DataFrame(
        {"n_gold": n, "correct": k, "accuracy": k / np.maximum(n, 1), "low": low, "high": high},
        index=workers,
    )


def agreement_with_aggregate(
    answers: pd.DataFrame, labels: pd.Series, confidence: float = 0.95
) -> pd.DataFrame:
    """How often each worker agrees with the aggregated label, with a Wilson interval.

    ``answers``: columns ``task, worker, label``; ``labels``: the aggregated label of each
    task, a Series indexed by task such as an aggregator's ``labels_`` (a ``task, label``
    DataFrame is accepted too). Answers on tasks without an aggregated label are ignored.

    For worker ``w``: ``n`` answers on labelled tasks, ``agree`` of them equal to the
    aggregated label, ``rate = agree / n``, and ``(low, high)`` the Wilson score interval.

    Caveat: the worker's own answer helped form the aggregate, so the rate is biased
    upwards, most for tasks with few answers (with one answer per task every worker agrees
    100 %). Use it to rank workers of similar volume or spot spammers, and prefer
    ``gold_accuracy`` when gold tasks exist.

    Returns one row per worker with ``n >= 1``, indexed by ``worker`` in sorted order, with
    columns ``n`` (int), ``agree`` (int), ``rate``, ``low``, ``high``. Raises
    ``InvalidData`` on malformed input, as ``gold_accuracy``.

    >>> import pandas as pd
    >>> answers = pd.DataFrame({"task": [1, 1, 1, 2, 2, 2], "worker": list("abcabc"),
    ...                         "label": ["x", "x", "y", "y", "y", "y"]})
    >>> agreed = pd.Series({1: "x", 2: "y"}, name="agg_label")
    >>> agreement_with_aggregate(answers, agreed)[["n", "agree", "rate"]]
            n  agree  rate
    worker
    a       2      2   1.0
    b       2      2   1.0
    c       2      1   0.5
    """
    workers, n, k, low, high = _match_counts(answers, labels, "labels", confidence)
    return pd.DataFrame(
        {"n": n, "agree": k, "rate": k / np.maximum(n, 1), "low": low, "high": high},
        index=workers,
    )
