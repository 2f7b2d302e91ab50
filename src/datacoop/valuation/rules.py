"""Pure rules for valuation runs: which projects can be valued, with what parameters, and
what each person may see of the result (a member their own standing, the requester the
distribution without names)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from datacoop.errors import PermissionDenied, ValidationFailed
from datacoop.members.models import Member
from datacoop.projects.models import Project
from datacoop.projects.rules import can_manage

# knn: answer-level KNN-Shapley summed per contributor; knn-contributors: exact
# contributor-level Shapley for K = 1 (each contributor is one player).
METHODS = ("knn", "knn-contributors")
VALIDATIONS = ("gold", "holdout")
# Answers must be one label from a fixed set for a KNN classifier utility.
VALUABLE = ("single_choice", "rating", "pairwise")
DEFAULT_K = {"knn": 5, "knn-contributors": 1}
MAX_K = 1000
QUANTILES = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)
HISTOGRAM_BINS = 10


@dataclass(frozen=True)
class Request:
    """A checked valuation request."""

    method: str
    k: int
    validation: str
    holdout: float | None  # the held-out fraction of items; None with gold validation
    seed: int


def check_request(
    *, method: str, k: int | None, validation: str, holdout: float | None, seed: int
) -> Request:
    """Check every parameter, reporting all bad fields at once."""
    errors: list[dict[str, str]] = []

    def bad(field: str, message: str) -> None:
        errors.append({"field": field, "message": message})

    if method not in METHODS:
        bad("method", f"unknown method {method!r}; choose from: {', '.join(METHODS)}")
    if k is None:
        k = DEFAULT_K.get(method, 5)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        bad("k", f"must be an integer from 1 to {MAX_K}")
    elif method == "knn-contributors" and k != 1:
        bad("k", "knn-contributors is exact for K = 1 only; leave k out or use method knn")
    if validation not in VALIDATIONS:
        bad("validation", f"must be one of: {', '.join(VALIDATIONS)}")
    fraction: float | None = None
    if validation != "holdout" and holdout is not None:
        bad("holdout", "is used with validation holdout only")
    if validation == "holdout":
        fraction = 0.2 if holdout is None else holdout
        if isinstance(fraction, bool) or not isinstance(fraction, int | float):
            bad("holdout", "must be a number between 0 and 1")
        elif not (math.isfinite(fraction) and 0 < fraction < 1):
            bad("holdout", "must be a fraction between 0 and 1 (exclusive)")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= 2**62:
        bad("seed", "must be an integer from 0 to 2**62")
    if errors:
        raise ValidationFailed(
            "; ".join(f"{e['field']}: {e['message']}" for e in errors), details=errors
        )
    return Request(
        method=method,
        k=int(k),
        validation=validation,
        holdout=None if fraction is None else float(fraction),
        seed=seed,
    )


def require_valuable(task_type: str) -> None:
    if task_type not in VALUABLE:
        raise ValidationFailed.field(
            "project",
            f"{task_type} answers cannot be valued with a KNN classifier; "
            f"valuation works for {', '.join(VALUABLE)}",
        )


def holdout_size(n_items: int, fraction: float) -> int:
    """Items held out: ``round(fraction · n)``, at least 1, leaving at least 1 to train on."""
    return min(max(1, math.floor(fraction * n_items + 0.5)), n_items - 1)


def may_see_distribution(member: Member, project: Project) -> bool:
    """The project's requester (and stewards) see the distribution of values, never who got
    which value."""
    return can_manage(member, project)


def require_see_distribution(member: Member, project: Project) -> None:
    if not may_see_distribution(member, project):
        raise PermissionDenied(
            "only the project's requester sees the distribution of values; "
            "members see their own value"
        )


def distribution(values: Sequence[float]) -> dict[str, Any]:
    """What the requester sees: count, total, mean, quantiles and a histogram of the values,
    with no contributor ids.

    Quantiles use linear interpolation between order statistics (NumPy's default). The
    histogram has ``HISTOGRAM_BINS`` equal-width bins from the smallest to the largest value
    (one bin when they are equal); each bin holds its left edge, the last also its right.
    """
    if not values:
        return {"count": 0, "total": 0.0, "mean": None, "quantiles": {}, "histogram": None}
    arr = np.sort(np.asarray(values, dtype=np.float64))
    lo, hi = float(arr[0]), float(arr[-1])
    bins = HISTOGRAM_BINS if hi > lo else 1
    counts, edges = np.histogram(arr, bins=bins, range=(lo, hi) if hi > lo else (lo, lo + 1))
    if hi == lo:
        edges = np.array([lo, hi])
    return {
        "count": len(arr),
        "total": float(arr.sum()),
        "mean": float(arr.mean()),
        "quantiles": {_quantile_name(q): float(np.quantile(arr, q)) for q in QUANTILES},
        "histogram": {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]},
    }


def _quantile_name(q: float) -> str:
    return {0.0: "min", 1.0: "max"}.get(q, f"p{round(q * 100)}")


def standing(values: Sequence[float], mine: float) -> dict[str, Any]:
    """What a member sees besides their own value: their rank (1 = highest; equal values share
    the better rank) and percentile rank (the share of contributors whose value is at most
    theirs, in percent), out of how many contributors."""
    arr = np.asarray(values, dtype=np.float64)
    return {
        "rank": int((arr > mine).sum()) + 1,
        "percentile": float(100.0 * (arr <= mine).sum() / len(arr)),
        "contributors": len(arr),
    }
