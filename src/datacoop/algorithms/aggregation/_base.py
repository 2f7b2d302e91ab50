"""Shared machinery of the aggregators: input checks, integer coding, the common API.

Every aggregator takes a pandas DataFrame with columns ``task, worker, label`` (pairwise:
``worker, left, right, label``) exactly like crowd-kit, works on integer-coded NumPy arrays
inside, and exposes its results as learned attributes ending in ``_``.

Tie rule (all methods): when several labels are equally probable for a task, the label that
sorts first wins (labels are sorted with NumPy's ``np.unique`` order), so results never
depend on row order or on a random draw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import pandas as pd

from datacoop.errors import InvalidData

CLASSIFICATION_COLUMNS = ("task", "worker", "label")


@dataclass(frozen=True)
class Encoded:
    """Answers coded as integers: row ``i`` says worker ``w[i]`` gave task ``t[i]`` label ``y[i]``.

    ``tasks[t[i]]``, ``workers[w[i]]`` and ``classes[y[i]]`` recover the original values.
    """

    tasks: np.ndarray
    workers: np.ndarray
    classes: np.ndarray
    t: np.ndarray
    w: np.ndarray
    y: np.ndarray

    @property
    def n_tasks(self) -> int:
        return len(self.tasks)

    @property
    def n_workers(self) -> int:
        return len(self.workers)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def counts(self) -> np.ndarray:
        """``(n_tasks, n_classes)`` matrix: how many answers gave each task each class."""
        out = np.zeros((self.n_tasks, self.n_classes))
        np.add.at(out, (self.t, self.y), 1.0)
        return out


def check_frame(data: object, columns: tuple[str, ...]) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise InvalidData(f"expected a pandas DataFrame with columns {', '.join(columns)}")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise InvalidData(f"missing column(s): {', '.join(missing)}")
    if len(data) == 0:
        raise InvalidData("no answers: the DataFrame is empty")
    for c in columns:
        if data[c].isna().any():
            raise InvalidData(f"column {c!r} has missing (NaN/None) values")
    return data


def _codes(values: pd.Series, name: str) -> tuple[np.ndarray, np.ndarray]:
    kinds = {type(v) for v in values.array[:10_000]} if values.dtype == object else set()
    numeric = {int, float, np.integer, np.floating, bool, np.bool_}
    if kinds and any(issubclass(k, tuple(numeric)) for k in kinds) and str in kinds:
        raise InvalidData(f"column {name!r} mixes numbers and text")
    # hash-based factorize, then sort the (few) uniques: much faster than np.unique's sort
    # of every row for worker and label columns
    try:
        codes, uniques = pd.factorize(values, sort=True)
    except TypeError:
        raise InvalidData(f"column {name!r} mixes values that cannot be ordered") from None
    return np.asarray(uniques), codes.astype(np.int64)


def encode(data: object) -> Encoded:
    """Check a ``task, worker, label`` frame and code it as integers."""
    frame = check_frame(data, CLASSIFICATION_COLUMNS)
    tasks, t = _codes(frame["task"], "task")
    workers, w = _codes(frame["worker"], "worker")
    classes, y = _codes(frame["label"], "label")
    return Encoded(tasks=tasks, workers=workers, classes=classes, t=t, w=w, y=y)


def argmax_first(scores: np.ndarray, rtol: float = 1e-12) -> np.ndarray:
    """Row-wise argmax; ties go to the lowest column (the label that sorts first).

    Scores within ``rtol`` (relative) of a row's best count as tied, so that the order in
    which floating-point weights were summed (that is, the row order) never breaks a tie.
    """
    best = scores.max(axis=1, keepdims=True)
    near = scores >= best - rtol * np.abs(best)
    return np.asarray(np.argmax(near, axis=1))


class BaseClassificationAggregator:
    """The shared API: ``fit(data) -> self``, ``fit_predict(data) -> Series``.

    Subclasses implement ``_fit(enc)`` and set ``labels_`` (a Series indexed by task, named
    ``agg_label``) and, where the model has them, ``probas_`` (a DataFrame, tasks × labels)
    and ``skills_`` (a Series indexed by worker).
    """

    labels_: pd.Series | None = None
    probas_: pd.DataFrame | None = None
    skills_: pd.Series | None = None

    def fit(self, data: pd.DataFrame) -> Self:
        enc = encode(data)
        self._fit(enc)
        return self

    def fit_predict(self, data: pd.DataFrame) -> pd.Series:
        self.fit(data)
        assert self.labels_ is not None
        return self.labels_

    def fit_predict_proba(self, data: pd.DataFrame) -> pd.DataFrame:
        self.fit(data)
        if self.probas_ is None:
            raise NotImplementedError(f"{type(self).__name__} has no probabilities")
        return self.probas_

    def _fit(self, enc: Encoded) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # Helpers for subclasses -------------------------------------------------------------
    def _set_from_probas(self, enc: Encoded, probas: np.ndarray) -> None:
        index = pd.Index(enc.tasks, name="task")
        self.probas_ = pd.DataFrame(
            probas, index=index, columns=pd.Index(enc.classes, name="label")
        )
        self.labels_ = pd.Series(enc.classes[argmax_first(probas)], index=index, name="agg_label")

    def _set_skills(self, enc: Encoded, skills: np.ndarray) -> None:
        self.skills_ = pd.Series(skills, index=pd.Index(enc.workers, name="worker"), name="skill")

    def get_params(self) -> dict[str, Any]:
        return {
            k: v for k, v in vars(self).items() if not k.endswith("_") and not k.startswith("_")
        }
