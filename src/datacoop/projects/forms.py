"""The "new project" HTML form: its fields, and how they become a project spec.

Pure: no database, no HTTP. The page turns the posted form into the same spec the JSON API
takes (``rules.validate_spec`` then checks it), and maps each error back to the form field
that caused it, so the page can show it next to that field.

    >>> spec, errors = spec_from_form({"title": "Colours", "task_type": "single_choice",
    ...     "labels": "red\\nblue", "overlap": "3", "pay_per_item": "5",
    ...     "estimated_seconds": "10", "currency": "USD"})
    >>> spec["labels"], spec["overlap"], errors
    (['red', 'blue'], 3, [])
"""

from __future__ import annotations

from typing import Any

from datacoop.projects import rules

# Which task-type settings the form offers, per task type. Everything else keeps its default.
TYPE_FIELDS: dict[str, tuple[str, ...]] = {
    "single_choice": ("labels",),
    "multi_label": ("labels", "min_choices", "max_choices"),
    "pairwise": ("allow_tie",),
    "rating": ("min", "max"),
    "free_text": ("min_length", "max_length"),
    "span": ("labels",),
}
INTEGER_FIELDS = (
    "overlap",
    "pay_per_item",
    "estimated_seconds",
    "min_choices",
    "max_choices",
    "min",
    "max",
    "min_length",
    "max_length",
)
REQUIRED_INTEGERS = ("pay_per_item", "estimated_seconds")
TEXT_FIELDS = ("title", "instructions", "task_type", "currency", "sensitivity", "labels")
DEFAULTS: dict[str, str] = {
    "title": "",
    "instructions": "",
    "task_type": "single_choice",
    "labels": "",
    "overlap": "1",
    "pay_per_item": "",
    "estimated_seconds": "",
    "currency": "USD",
    "sensitivity": "none",
    "min_choices": "",
    "max_choices": "",
    "min": "1",
    "max": "5",
    "min_length": "",
    "max_length": "",
    "allow_tie": "on",
}


def _integer(text: str) -> int | None:
    text = text.strip()
    if text.lstrip("-").isdigit() and len(text) <= 12:
        return int(text)
    return None


def spec_from_form(form: dict[str, str]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The project spec a posted form describes, and the errors found before validation
    (numbers that are not whole numbers). Blank optional numbers keep their defaults."""
    task_type = form.get("task_type", "")
    wanted = TYPE_FIELDS.get(task_type, ())
    spec: dict[str, Any] = {
        "title": form.get("title", ""),
        "instructions": form.get("instructions", ""),
        "task_type": task_type,
        "currency": form.get("currency", "").strip().upper() or "USD",
        "sensitivity": form.get("sensitivity", "none"),
    }
    errors: list[dict[str, str]] = []
    for name in INTEGER_FIELDS:
        if name not in wanted and name not in ("overlap", *REQUIRED_INTEGERS):
            continue
        text = form.get(name, "").strip()
        if not text and name not in REQUIRED_INTEGERS:
            continue
        value = _integer(text)
        if value is None:
            errors.append({"field": name, "message": "must be a whole number"})
        else:
            spec[name] = value
    if "labels" in wanted:
        spec["labels"] = [
            line.strip() for line in form.get("labels", "").splitlines() if line.strip()
        ]
    if "allow_tie" in wanted:
        spec["allow_tie"] = form.get("allow_tie") == "on"
    return spec, errors


def form_field(detail_field: str) -> str:
    """The form field an error detail belongs to: ``labels[2]`` → ``labels``."""
    name = detail_field.split("[", 1)[0].split(".", 1)[0]
    return name if name in DEFAULTS else "form"


def errors_by_field(details: list[dict[str, str]]) -> dict[str, list[str]]:
    """Error messages grouped by form field, in the order they were found."""
    grouped: dict[str, list[str]] = {}
    for detail in details:
        field = form_field(detail["field"])
        message = detail["message"]
        if field != detail["field"]:
            message = f"{detail['field']}: {message}"
        grouped.setdefault(field, []).append(message)
    return grouped


def implied_hourly_of(form: dict[str, str]) -> int | None:
    """The hourly rate (minor units) the pay and estimate imply, or None if either is unset."""
    pay = _integer(form.get("pay_per_item", ""))
    seconds = _integer(form.get("estimated_seconds", ""))
    if pay is None or seconds is None or pay < 0 or seconds < 1:
        return None
    return rules.implied_hourly(pay, seconds)
