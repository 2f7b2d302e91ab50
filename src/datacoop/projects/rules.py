"""Pure rules for projects: the project spec, and who may see or change a project."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeGuard

from datacoop.errors import PermissionDenied, ValidationFailed
from datacoop.members.models import Member, Role
from datacoop.projects import tasktypes
from datacoop.projects.models import Project, Sensitivity

COMMON_FIELDS = {
    "title",
    "instructions",
    "task_type",
    "overlap",
    "lease_seconds",
    "pay_per_item",
    "estimated_seconds",
    "currency",
    "sensitivity",
    "dynamic_overlap",
}
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
MAX_OVERLAP = 50
DEFAULT_LEASE_SECONDS = 600
MAX_INSTRUCTIONS = 100_000


@dataclass(frozen=True)
class ProjectSpec:
    title: str
    instructions: str
    task_type: str
    config: dict[str, Any]
    overlap: int
    lease_seconds: int
    pay_per_item: int
    estimated_seconds: int
    currency: str
    sensitivity: Sensitivity
    dynamic_overlap: dict[str, Any] | None = None


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_spec(spec: object) -> ProjectSpec:
    """Check a project spec (the JSON/YAML shape in docs/projects.md), reporting every bad field.

    Task-type fields (``labels``, ``min``, ``max``, ...) sit at the top level next to the common
    fields and are checked by :mod:`datacoop.projects.tasktypes`.
    """
    if not isinstance(spec, dict):
        raise ValidationFailed.field("spec", "must be a JSON object")
    errors: list[dict[str, str]] = []

    def bad(field: str, message: str) -> None:
        errors.append({"field": field, "message": message})

    title = spec.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > 200:
        bad("title", "must be a string of 1 to 200 characters")
    instructions = spec.get("instructions", "")
    if not isinstance(instructions, str) or len(instructions) > MAX_INSTRUCTIONS:
        bad("instructions", f"must be a string of at most {MAX_INSTRUCTIONS} characters")
    task_type = spec.get("task_type")
    if task_type not in tasktypes.TASK_TYPES:
        bad("task_type", "must be one of: " + ", ".join(tasktypes.TASK_TYPES))
    overlap = spec.get("overlap", 1)
    if not _is_int(overlap) or not 1 <= overlap <= MAX_OVERLAP:
        bad("overlap", f"must be an integer from 1 to {MAX_OVERLAP}")
    lease = spec.get("lease_seconds", DEFAULT_LEASE_SECONDS)
    if not _is_int(lease) or not 10 <= lease <= 86_400:
        bad("lease_seconds", "must be an integer from 10 to 86400")
    pay = spec.get("pay_per_item")
    if not _is_int(pay) or not 0 <= pay <= 10**9:
        bad("pay_per_item", "must be an integer number of minor units (cents), 0 or more")
    estimate = spec.get("estimated_seconds")
    if not _is_int(estimate) or not 1 <= estimate <= 86_400:
        bad("estimated_seconds", "must be an integer from 1 to 86400")
    currency = spec.get("currency", "USD")
    if not isinstance(currency, str) or not CURRENCY_RE.match(currency):
        bad("currency", "must be a three-letter ISO 4217 code such as USD or EUR")
    sensitivity = spec.get("sensitivity", "none")
    if sensitivity not in {s.value for s in Sensitivity}:
        bad("sensitivity", "must be one of: none, sensitive, disturbing")

    dynamic = _dynamic_overlap(spec.get("dynamic_overlap"), overlap, bad)

    config = {k: v for k, v in spec.items() if k not in COMMON_FIELDS}
    normalised: dict[str, Any] = {}
    if dynamic is not None and task_type not in DYNAMIC_TASK_TYPES:
        bad("dynamic_overlap", "works for single_choice, rating and pairwise projects only")
    if task_type in tasktypes.TASK_TYPES:
        try:
            normalised = tasktypes.validate_config(str(task_type), config)
        except ValidationFailed as exc:
            errors.extend(exc.details or [])
    if errors:
        raise ValidationFailed(
            "; ".join(f"{e['field']}: {e['message']}" for e in errors), details=errors
        )
    return ProjectSpec(
        title=str(title).strip(),
        instructions=str(instructions),
        task_type=str(task_type),
        config=normalised,
        overlap=int(overlap),
        lease_seconds=int(lease),
        pay_per_item=int(pay),  # type: ignore[arg-type]
        estimated_seconds=int(estimate),  # type: ignore[arg-type]
        currency=str(currency),
        sensitivity=Sensitivity(sensitivity),
        dynamic_overlap=dynamic,
    )


DYNAMIC_TASK_TYPES = ("single_choice", "rating", "pairwise")


def _dynamic_overlap(value: object, overlap: object, bad: Any) -> dict[str, Any] | None:
    """``{"confidence": 0.95, "max_overlap": 5}``: keep asking for answers on an item while
    its label's posterior is below ``confidence``, up to ``max_overlap`` answers; ``overlap``
    stays the minimum."""
    if value is None or value is False:
        return None
    if value is True:
        value = {}
    if not isinstance(value, dict):
        bad("dynamic_overlap", 'must be an object like {"confidence": 0.95, "max_overlap": 5}')
        return None
    unknown = set(value) - {"confidence", "max_overlap"}
    if unknown:
        bad("dynamic_overlap", f"unknown setting {sorted(unknown)[0]!r}")
    confidence = value.get("confidence", 0.95)
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, int | float)
        or not 0.5 <= confidence < 1
    ):
        bad("dynamic_overlap.confidence", "must be a number from 0.5 up to (not including) 1")
    max_overlap = value.get("max_overlap", 5)
    floor = overlap if _is_int(overlap) else 1
    if not _is_int(max_overlap) or not floor <= max_overlap <= MAX_OVERLAP:
        bad(
            "dynamic_overlap.max_overlap",
            f"must be an integer from overlap ({floor}) to {MAX_OVERLAP}",
        )
    return {"confidence": confidence, "max_overlap": max_overlap}


def implied_hourly(pay_per_item: int, estimated_seconds: int) -> int:
    """Hourly pay the estimate implies, in minor units, rounded down (integers only)."""
    return pay_per_item * 3600 // estimated_seconds


def can_manage(member: Member, project: Project) -> bool:
    """Owners manage their projects; stewards administer every project."""
    return member.role is Role.steward or project.owner_id == member.id


def require_manage(member: Member, project: Project) -> None:
    if not can_manage(member, project):
        raise PermissionDenied("only the project's requester can do this")
