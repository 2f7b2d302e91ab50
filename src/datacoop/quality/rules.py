"""Pure rules for quality runs: which projects can be aggregated, and with what parameters."""

from __future__ import annotations

import inspect
from typing import Any

from datacoop.errors import ValidationFailed

AGGREGATABLE = ("single_choice", "rating", "pairwise")
# Methods whose skills_ are accuracies in [0, 1], usable by dynamic overlap as one-coin skills.
ACCURACY_SKILLS = ("ds", "onecoin", "wawa", "mv")


def require_aggregatable(task_type: str) -> None:
    if task_type not in AGGREGATABLE:
        raise ValidationFailed.field(
            "method",
            f"{task_type} answers cannot be aggregated into one label; "
            f"aggregation works for {', '.join(AGGREGATABLE)}",
        )


def check_params(cls: type, params: object, seed: int) -> dict[str, Any]:
    """Keyword arguments for ``cls``: only its own hyper-parameters, JSON scalars only; the
    seed goes in as ``seed`` when the method takes one."""
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ValidationFailed.field("params", "must be an object of hyper-parameters")
    accepted = set(inspect.signature(cls).parameters)
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key not in accepted or key == "seed":
            allowed = ", ".join(sorted(accepted - {"seed"})) or "none"
            raise ValidationFailed.field(
                f"params.{key}", f"unknown; {cls.__name__} takes: {allowed}"
            )
        if not isinstance(value, int | float | str | bool) or value is None:
            raise ValidationFailed.field(f"params.{key}", "must be a number, string or boolean")
        out[key] = value
    if "seed" in accepted:
        out["seed"] = seed
    return out
