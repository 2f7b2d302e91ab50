"""Inter-annotator agreement: Krippendorff's alpha, Fleiss' kappa and Cohen's kappa.

Pure NumPy/SciPy/pandas. Every function raises :class:`~datacoop.errors.InvalidData` (a
``ValueError``) on unusable input, including inputs for which the coefficient is undefined
(0/0: every pairable value is the same), instead of returning ``nan``.

Inputs
------
* ``krippendorff_alpha`` and ``coincidence_matrix`` take either a *reliability matrix*
  (coders × units: a 2-D NumPy array, nested list or DataFrame, missing values as
  ``NaN``/``None``) or a crowd-kit style DataFrame with columns ``task, worker, label`` (one
  row per answer; detected by those three columns; ``task`` is the unit; rows whose label is
  missing are ignored; a worker answering a task twice is an error, as a coder has one value
  per unit).
* ``fleiss_kappa`` takes a task × category count matrix, or a ``task, worker, label`` frame.
* ``cohen_kappa`` takes two equal-length label sequences.

Example
-------
>>> import numpy as np
>>> nan = np.nan
>>> data = [[1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],     # Krippendorff (2011), sec. C
...         [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
...         [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
...         [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]]
>>> round(krippendorff_alpha(data), 3), round(krippendorff_alpha(data, "interval"), 3)
(0.743, 0.849)
>>> round(cohen_kappa(["y", "y", "n", "n"], ["y", "n", "n", "n"]), 3)
0.5
>>> round(fleiss_kappa([[2, 0], [0, 2], [1, 1]]), 3)
0.333
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import sparse

from datacoop.errors import InvalidData

__all__ = ["LEVELS", "cohen_kappa", "coincidence_matrix", "fleiss_kappa", "krippendorff_alpha"]

Level = Literal["nominal", "ordinal", "interval"]
LEVELS: tuple[str, ...] = ("nominal", "ordinal", "interval")
LONG_COLUMNS = ("task", "worker", "label")
_NUMERIC_KINDS = {"integer", "floating", "mixed-integer-float", "decimal"}


# ---------------------------------------------------------------------------------- input
def _is_long(data: object) -> bool:
    return isinstance(data, pd.DataFrame) and all(c in data.columns for c in LONG_COLUMNS)


def _long_frame(data: pd.DataFrame) -> pd.DataFrame:
    if len(data) == 0:
        raise InvalidData("no answers: the DataFrame is empty")
    for c in ("task", "worker"):
        if data[c].isna().any():
            raise InvalidData(f"column {c!r} has missing (NaN/None) values")
    frame = data.loc[data["label"].notna(), list(LONG_COLUMNS)]
    dup = frame.duplicated(subset=["task", "worker"])
    if dup.any():
        first = frame.loc[dup].iloc[0]
        raise InvalidData(
            f"worker {first['worker']!r} labelled task {first['task']!r} more than once "
            f"({int(dup.sum())} duplicate (task, worker) row(s))"
        )
    return frame


def _unit_values(data: object) -> tuple[np.ndarray, np.ndarray]:
    """``(unit code, value)`` of every non-missing value, from either input shape."""
    if _is_long(data):
        assert isinstance(data, pd.DataFrame)
        frame = _long_frame(data)
        units = pd.factorize(frame["task"])[0].astype(np.int64)
        return units, frame["label"].to_numpy(dtype=object)
    if isinstance(data, pd.DataFrame):
        matrix = data.to_numpy(dtype=object)
    else:
        try:
            matrix = np.asarray(data, dtype=object)
        except (TypeError, ValueError) as exc:
            raise InvalidData(f"cannot read the reliability data as a matrix: {exc}") from exc
    if matrix.ndim != 2:
        raise InvalidData(
            "expected a 2-D coders × units reliability matrix, or a DataFrame with columns "
            f"task, worker, label; got an array with {matrix.ndim} dimension(s)"
        )
    if matrix.size == 0:
        raise InvalidData("the reliability matrix is empty")
    present = ~pd.isna(matrix)
    _, units = np.nonzero(present)  # row-major: coder by coder, unit code = column index
    return units.astype(np.int64), matrix[present]


def _pairable(data: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values in units with at least two values: ``(unit code, value, m_u per unit)``."""
    units, values = _unit_values(data)
    if len(values) == 0:
        raise InvalidData("no values: the data are empty or all missing")
    m = np.bincount(units)
    keep = m[units] >= 2
    if not keep.any():
        raise InvalidData("no unit has two or more values, so nothing can be compared")
    kept_units, units = np.unique(units[keep], return_inverse=True)
    if len(kept_units) < 2:
        raise InvalidData(
            "only one unit has two or more values; alpha needs at least two such units "
            "(with one unit it is 0 whatever the values)"
        )
    units = units.astype(np.int64).reshape(-1)
    return units, values[keep], np.bincount(units).astype(float)


def _numeric(values: np.ndarray, level: str) -> np.ndarray:
    kind = pd.api.types.infer_dtype(values, skipna=False)
    if kind not in _NUMERIC_KINDS:
        raise InvalidData(f"the {level} level needs numeric values; got values of kind {kind!r}")
    out = values.astype(float)
    if not np.all(np.isfinite(out)):
        raise InvalidData(f"the {level} level needs finite values (no inf)")
    return out


def _sorted_codes(values: np.ndarray, level: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        uniques, codes = np.unique(values, return_inverse=True)
    except TypeError as exc:
        raise InvalidData(
            f"the {level} level needs values that can be ordered (not numbers mixed with text)"
        ) from exc
    return uniques, np.asarray(codes, dtype=np.int64).reshape(-1)


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise InvalidData(f"level must be one of {', '.join(LEVELS)}; got {level!r}")


# ------------------------------------------------------------------------------ Krippendorff
def _ordinal_positions(codes: np.ndarray) -> np.ndarray:
    """Map each value to ``M_c = sum_{g<c} n_g + n_c / 2`` (its mid-rank among pairable values).

    Krippendorff's ordinal difference ``(sum_{g=c}^{k} n_g - (n_c + n_k)/2)^2`` equals
    ``(M_k - M_c)^2``, so the ordinal metric is the interval metric on ``M``.
    """
    n_g = np.bincount(codes).astype(float)
    mid = np.cumsum(n_g) - n_g / 2.0
    return np.asarray(mid[codes])


def krippendorff_alpha(data: object, level: str = "nominal") -> float:
    """Krippendorff's alpha: ``1 - D_o / D_e`` from the coincidence matrix.

    With the coincidences ``o_ck = sum_u (number of c-k pairs of values in unit u, ordered,
    from different coders) / (m_u - 1)``, their marginals ``n_c`` and ``n = sum_c n_c`` (only
    *pairable* values count: units with fewer than 2 values are dropped),

    .. math::

        \\alpha = 1 - \\frac{D_o}{D_e}
              = 1 - (n - 1)\\,\\frac{\\sum_{c,k} o_{ck}\\,\\delta^2_{ck}}
                                  {\\sum_{c,k} n_c n_k\\,\\delta^2_{ck}}

    with ``delta^2_ck = [c != k]`` (nominal), ``(c - k)^2`` (interval), or
    ``(sum_{g=c}^{k} n_g - (n_c + n_k)/2)^2`` (ordinal, ranks from the marginals ``n_g``).
    Reference: K. Krippendorff, "Computing Krippendorff's Alpha-Reliability", University of
    Pennsylvania, 2011.

    Computation: the double sums never materialise the ``V × V`` matrix. Nominal:
    ``sum o δ² = sum_u (m_u² - sum_c n_uc²)/(m_u - 1)`` and ``sum n_c n_k δ² = n² - sum n_c²``
    with ``n_uc`` counted by ``np.unique`` over (unit, value) pairs. Interval (and ordinal,
    which is interval on the mid-ranks ``M_c``): ``sum o δ² = 2 sum_u m_u SS_u / (m_u - 1)``
    and ``sum n_c n_k δ² = 2 n SS``, with ``SS_u`` and ``SS`` the sums of squared deviations
    from the unit and overall means (numerically stable). All O(number of values).

    ``data``: a coders × units matrix (NaN/None = missing) or a ``task, worker, label``
    DataFrame. ``level``: ``"nominal"`` (any hashable values), ``"ordinal"`` (values that
    sort) or ``"interval"`` (numbers).

    Raises InvalidData on an unknown level, empty or all-missing data, fewer than two units
    with two or more values, values unfit for the level, or when alpha is undefined
    (``D_e = 0``: all pairable values are equal).

    >>> round(krippendorff_alpha([[1, 2, 3, 1], [1, 2, 3, 2]], level="interval"), 4)
    0.8205
    """
    _check_level(level)
    units, values, m = _pairable(data)
    n = float(len(values))
    if level == "nominal":
        codes = pd.factorize(values)[0].astype(np.int64)
        n_c = np.bincount(codes).astype(float)
        expected = n * n - float(n_c @ n_c)
        if expected <= 0.0:
            raise _undefined()
        pair_key = units * (int(codes.max()) + 1) + codes
        keys, n_uc = np.unique(pair_key, return_counts=True)
        per_unit_sq = np.bincount(
            keys // (int(codes.max()) + 1), weights=n_uc.astype(float) ** 2, minlength=len(m)
        )
        observed = float(np.sum((m * m - per_unit_sq) / (m - 1.0)))
        return float(1.0 - (n - 1.0) * observed / expected)
    if level == "interval":
        x = _numeric(values, level)
    else:
        x = _ordinal_positions(_sorted_codes(values, level)[1])
    ss_total = float(np.sum((x - x.mean()) ** 2))
    unit_mean = np.bincount(units, weights=x) / m
    ss_unit = np.bincount(units, weights=(x - unit_mean[units]) ** 2, minlength=len(m))
    if ss_total <= 0.0:
        raise _undefined()
    observed = float(np.sum(m * ss_unit / (m - 1.0)))
    return float(1.0 - (n - 1.0) * observed / (n * ss_total))


def _undefined() -> InvalidData:
    return InvalidData(
        "alpha is undefined: all pairable values are the same, so the expected disagreement "
        "D_e is 0 (alpha would be 0/0)"
    )


def coincidence_matrix(data: object) -> pd.DataFrame:
    """Krippendorff's coincidence matrix ``o_ck`` (values × values), for inspection.

    ``o_ck = sum_u sum_{i != j in u} [v_i = c][v_j = k] / (m_u - 1)`` over units with at
    least two values, computed as ``N^T diag(1/(m_u - 1)) N - diag(...)`` with the sparse
    unit × value count matrix ``N``. Rows and columns are the values in sorted order (in
    first-seen order if they do not sort). Its row sums are ``n_c``, its total ``n``.

    >>> coincidence_matrix([[1, 1, 2], [1, 2, 2]]).to_numpy().tolist()
    [[2.0, 1.0], [1.0, 2.0]]
    """
    units, values, m = _pairable(data)
    try:
        labels, codes = _sorted_codes(values, "nominal")
    except InvalidData:
        codes_f, labels_f = pd.factorize(values)
        labels, codes = np.asarray(labels_f, dtype=object), codes_f.astype(np.int64)
    counts = sparse.csr_matrix((np.ones(len(codes)), (units, codes)), shape=(len(m), len(labels)))
    weights = sparse.diags(1.0 / (m - 1.0))
    within = (counts.T @ weights @ counts).toarray()
    self_pairs = np.asarray(counts.T @ (1.0 / (m - 1.0))).reshape(-1)
    index = pd.Index(labels, name="value")
    return pd.DataFrame(within - np.diag(self_pairs), index=index, columns=index.rename("value"))


# -------------------------------------------------------------------------------- Fleiss
def _fleiss_counts(data: object) -> np.ndarray:
    if _is_long(data):
        assert isinstance(data, pd.DataFrame)
        frame = _long_frame(data)
        if len(frame) == 0:
            raise InvalidData("every label is missing")
        t, tasks = pd.factorize(frame["task"])
        y = pd.factorize(frame["label"])[0]
        k = int(y.max()) + 1
        counts = np.bincount(t * k + y, minlength=len(tasks) * k).reshape(len(tasks), k)
        raters = counts.sum(axis=1)
        if np.any(raters != raters[0]):
            per_task = frame.groupby("task", sort=False).size()
            mode = int(per_task.mode().iloc[0])
            odd = per_task[per_task != mode]
            shown = ", ".join(f"{task!r} has {c}" for task, c in list(odd.items())[:5])
            raise InvalidData(
                "Fleiss' kappa needs the same number of raters for every task; most tasks have "
                f"{mode}, but {shown}" + (f" (and {len(odd) - 5} more)" if len(odd) > 5 else "")
            )
        return counts.astype(float)
    raw = data.to_numpy() if isinstance(data, pd.DataFrame) else data
    try:
        counts = np.asarray(raw, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidData(f"the count matrix must be numeric: {exc}") from exc
    if counts.ndim != 2:
        raise InvalidData(
            "expected a 2-D tasks × categories count matrix, or a DataFrame with columns "
            f"task, worker, label; got {counts.ndim} dimension(s)"
        )
    if counts.size == 0:
        raise InvalidData("the count matrix is empty")
    if not np.all(np.isfinite(counts)) or np.any(counts < 0) or np.any(counts != np.round(counts)):
        raise InvalidData("counts must be finite non-negative integers")
    raters = counts.sum(axis=1)
    if np.any(raters != raters[0]):
        bad = np.flatnonzero(raters != raters[0])
        raise InvalidData(
            "Fleiss' kappa needs the same number of raters for every task; row 0 has "
            f"{int(raters[0])} but row {int(bad[0])} has {int(raters[bad[0]])}"
        )
    return counts


def fleiss_kappa(data: object) -> float:
    """Fleiss' kappa for ``N`` tasks each rated by the same number ``n`` of raters.

    With ``n_ij`` the number of raters putting task ``i`` in category ``j``:

    .. math::

        p_j = \\frac{1}{N n}\\sum_i n_{ij}, \\quad
        P_i = \\frac{\\sum_j n_{ij}^2 - n}{n(n-1)}, \\quad
        \\kappa = \\frac{\\bar P - \\bar P_e}{1 - \\bar P_e}, \\quad
        \\bar P = \\frac1N \\sum_i P_i, \\ \\bar P_e = \\sum_j p_j^2.

    Reference: J. L. Fleiss, "Measuring nominal scale agreement among many raters",
    Psychological Bulletin 76(5), 378-382, 1971.

    ``data``: a tasks × categories count matrix (array, nested list or DataFrame), or a
    ``task, worker, label`` DataFrame (missing labels are ignored). Raises InvalidData when
    tasks have different numbers of raters (naming them), fewer than 2 raters per task,
    empty input, bad counts, or when kappa is undefined (``P_e = 1``: one category only).

    >>> round(fleiss_kappa([[3, 0], [0, 3], [3, 0]]), 3)
    1.0
    """
    counts = _fleiss_counts(data)
    n_tasks = counts.shape[0]
    n = float(counts[0].sum())
    if n < 2:
        raise InvalidData(f"Fleiss' kappa needs at least 2 raters per task; got {n:g}")
    p_j = counts.sum(axis=0) / (n_tasks * n)
    p_i = (np.sum(counts * counts, axis=1) - n) / (n * (n - 1.0))
    p_bar, p_e = float(p_i.mean()), float(p_j @ p_j)
    if p_e >= 1.0:
        raise InvalidData(
            "Fleiss' kappa is undefined: every rating is in one category, so chance "
            "agreement P_e is 1 (kappa would be 0/0)"
        )
    return (p_bar - p_e) / (1.0 - p_e)


# --------------------------------------------------------------------------------- Cohen
def _labels_1d(x: object, name: str) -> np.ndarray:
    arr = (
        x.to_numpy(dtype=object)
        if isinstance(x, pd.Series | pd.Index)
        else np.asarray(x, dtype=object)
    )
    if arr.ndim != 1:
        raise InvalidData(f"{name} must be a 1-D sequence of labels; got {arr.ndim} dimension(s)")
    if pd.isna(arr).any():
        raise InvalidData(f"{name} has missing (NaN/None) values")
    return arr


def cohen_kappa(
    a: Sequence[Any] | np.ndarray | pd.Series,
    b: Sequence[Any] | np.ndarray | pd.Series,
    labels: Sequence[Any] | None = None,
) -> float:
    """Cohen's kappa between two raters who labelled the same items (paired by position).

    .. math::

        \\kappa = \\frac{p_o - p_e}{1 - p_e}, \\quad
        p_o = \\frac1N \\sum_c C_{cc}, \\quad
        p_e = \\frac{1}{N^2} \\sum_c C_{c\\cdot} C_{\\cdot c},

    with ``C`` the confusion matrix of the ``N`` pairs. Reference: J. Cohen, "A coefficient
    of agreement for nominal scales", Educational and Psychological Measurement 20(1),
    37-46, 1960.

    ``labels``: the allowed categories; a value outside them raises InvalidData (categories
    that never occur do not change kappa). Raises InvalidData on unequal lengths, empty
    input, missing values, or when kappa is undefined (``p_e = 1``: both raters used one and
    the same category throughout).

    >>> cohen_kappa([1, 1, 0, 0], [1, 1, 0, 0])
    1.0
    """
    x, y = _labels_1d(a, "a"), _labels_1d(b, "b")
    if len(x) != len(y):
        raise InvalidData(f"a and b must have equal lengths; got {len(x)} and {len(y)}")
    if len(x) == 0:
        raise InvalidData("no labels: a and b are empty")
    codes, uniques = pd.factorize(np.concatenate([x, y]))
    if labels is not None:
        allowed = pd.Index(list(labels))
        outside = ~pd.Index(uniques).isin(allowed)
        if outside.any():
            raise InvalidData(f"label(s) not in labels: {list(pd.Index(uniques)[outside])[:5]}")
    k, n = len(uniques), len(x)
    ca, cb = codes[:n], codes[n:]
    confusion = np.bincount(ca * k + cb, minlength=k * k).reshape(k, k).astype(float)
    p_o = float(np.trace(confusion)) / n
    p_e = float(confusion.sum(axis=1) @ confusion.sum(axis=0)) / (n * n)
    if p_e >= 1.0:
        raise InvalidData(
            "Cohen's kappa is undefined: both raters used one and the same category for every "
            "item, so chance agreement p_e is 1 (kappa would be 0/0)"
        )
    return (p_o - p_e) / (1.0 - p_e)
