"""Task types: what a project asks workers to do, and what a valid answer looks like.

A project has one task type and a JSON ``config`` for it. Each item carries a JSON object
``data`` that is shown to the worker; a worker's answer is a JSON value. This module checks
all three. It is pure (standard library only) so the web layer, importers and CLI share it.

``single_choice`` -- pick exactly one label.
    config:  {"labels": ["cat", "dog"]}                  2..200 labels, required
    answer:  "cat"                                       one of the labels, exact string

``multi_label`` -- pick a number of labels within bounds.
    config:  {"labels": [...], "min_choices": 0, "max_choices": len(labels)}
             1..200 labels; 0 <= min_choices <= max_choices <= len(labels), max_choices >= 1
    answer:  ["dog", "cat"]       distinct labels, normalised to the order of ``labels``

``pairwise`` -- compare two things shown side by side.
    config:  {"allow_tie": true, "left_field": "a", "right_field": "b"}
             the normalised config also holds "labels": ["A", "B", "tie"] (["A", "B"] when
             ties are not allowed); a given "labels" must equal that
    data:    must hold non-null values under both ``left_field`` and ``right_field``
    answer:  "A" (left wins), "B" (right wins) or, when allowed, "tie"

``rating`` -- a whole number on a scale.
    config:  {"min": 1, "max": 5, "anchors": {"1": "poor", "5": "excellent"}}
             max > min and at most 100 steps; ``anchors`` (optional, default {}) names
             some scale points for display, keyed by the point written as a string
    answer:  3            an integer within [min, max]; true/false and 3.0 are refused

``free_text`` -- write a text.
    config:  {"min_length": 1, "max_length": 2000}       0 <= min <= max <= 100000
    answer:  "some text"  surrounding whitespace is stripped; the stripped length must fit

``span`` -- mark labelled stretches of a text.
    config:  {"labels": ["PER", "ORG"], "text_field": "text", "allow_overlap": false}
    data:    data[text_field] must be a string
    answer:  [{"start": 0, "end": 5, "label": "PER"}, ...]   (may be empty)
             0 <= start < end <= len(text): offsets count Unicode code points (Python
             str indices), end exclusive; no other keys; exact duplicates are refused,
             and so are overlapping spans unless allow_overlap; normalised by sorting on
             (start, end, label)

Common rules: labels are strings, stripped, non-empty, at most 200 characters, unique;
unknown config keys are refused; booleans must be true/false and integers must not be
booleans. Every failure raises ``ValidationFailed`` whose details list every bad field as
``{"field", "message"}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeGuard

from datacoop.errors import ValidationFailed

TASK_TYPES: tuple[str, ...] = (
    "single_choice",
    "multi_label",
    "pairwise",
    "rating",
    "free_text",
    "span",
)

MAX_LABELS = 200
MAX_LABEL_LENGTH = 200
MAX_TEXT_LENGTH = 100_000
MAX_RATING_STEPS = 100
PAIRWISE_LABELS = ("A", "B", "tie")
_ANCHOR_KEY = re.compile(r"0|-?[1-9][0-9]*")
_INTEGER_TEXT = re.compile(r"\s*[+-]?[0-9]+\s*")
_MISSING: Any = object()


class _Errors:
    """Collects ``{"field", "message"}`` details; ``check`` raises if there are any."""

    def __init__(self) -> None:
        self.details: list[dict[str, str]] = []

    def add(self, field: str, message: str) -> None:
        self.details.append({"field": field, "message": message})

    def check(self) -> None:
        if self.details:
            message = "; ".join(f"{d['field']}: {d['message']}" for d in self.details)
            raise ValidationFailed(message, details=self.details)


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _q(value: str) -> str:
    return f"'{value}'" if len(value) <= 60 else f"'{value[:57]}...'"


def _clean_label(value: object) -> tuple[str, str]:
    """Return (stripped label, "") or ("", error message)."""
    if not isinstance(value, str):
        return "", "must be a string"
    label = value.strip()
    if not label:
        return "", "must not be empty"
    if len(label) > MAX_LABEL_LENGTH:
        return "", f"must be at most {MAX_LABEL_LENGTH} characters"
    return label, ""


def _one_of(labels: list[str], value: object, field: str, errors: _Errors) -> str | None:
    if not isinstance(value, str):
        errors.add(field, "must be a string")
        return None
    if value not in labels:
        shown = ", ".join(labels[:10])
        if len(labels) > 10:
            shown += f", ... ({len(labels) - 10} more)"
        errors.add(field, f"{_q(value)} is not one of the labels: {shown}")
        return None
    return value


class _Config:
    """Reads one raw config, collecting errors; getters return None for a bad value."""

    def __init__(self, raw: object, allowed: tuple[str, ...], errors: _Errors) -> None:
        if not isinstance(raw, dict):
            raise ValidationFailed.field("config", "must be an object")
        self.raw, self.errors = raw, errors
        for key in raw:
            if key not in allowed:
                errors.add(str(key), f"unknown setting; allowed: {', '.join(allowed)}")

    def given(self, key: str) -> bool:
        return key in self.raw

    def integer(
        self, key: str, default: int | None, lo: int | None = None, hi: int | None = None
    ) -> int | None:
        value = self.raw.get(key, default)
        if value is None and not self.given(key):
            return None
        if not _is_int(value):
            self.errors.add(key, "must be an integer")
        elif lo is not None and value < lo:
            self.errors.add(key, f"must be at least {lo}")
        elif hi is not None and value > hi:
            self.errors.add(key, f"must be at most {hi}")
        else:
            return value
        return None

    def boolean(self, key: str, default: bool) -> bool | None:
        value = self.raw.get(key, default)
        if isinstance(value, bool):
            return value
        self.errors.add(key, "must be true or false")
        return None

    def name(self, key: str, default: str) -> str | None:
        value = self.raw.get(key, default)
        if isinstance(value, str) and value.strip() and len(value) <= MAX_LABEL_LENGTH:
            return value
        self.errors.add(key, f"must be a non-empty string of at most {MAX_LABEL_LENGTH} characters")
        return None

    def labels(self, key: str, fewest: int) -> list[str] | None:
        value = self.raw.get(key, _MISSING)
        if value is _MISSING:
            self.errors.add(key, "is required")
            return None
        if not isinstance(value, list):
            self.errors.add(key, "must be a list of strings")
            return None
        ok = fewest <= len(value) <= MAX_LABELS
        if len(value) < fewest:
            self.errors.add(key, f"must have at least {_plural(fewest, 'label')}")
        elif len(value) > MAX_LABELS:
            self.errors.add(key, f"must have at most {MAX_LABELS} labels")
        out: list[str] = []
        seen: set[str] = set()
        for i, item in enumerate(value):
            label, problem = _clean_label(item)
            if label in seen:
                problem = f"duplicate label {_q(label)}"
            if problem:
                self.errors.add(f"{key}[{i}]", problem)
                ok = False
            else:
                out.append(label)
                seen.add(label)
        return out if ok else None


# --- single_choice -------------------------------------------------------------------------


def _single_choice_config(c: _Config) -> dict[str, Any]:
    return {"labels": c.labels("labels", 2)}


def _choice_answer(
    config: dict[str, Any], data: dict[str, Any], answer: Any, errors: _Errors
) -> Any:
    """Answer check for single_choice and pairwise: one of ``config["labels"]``."""
    return _one_of(config["labels"], answer, "answer", errors)


# --- multi_label ---------------------------------------------------------------------------


def _multi_label_config(c: _Config) -> dict[str, Any]:
    labels = c.labels("labels", 1)
    least = c.integer("min_choices", 0, lo=0)
    most = c.integer("max_choices", len(labels) if labels else None, lo=1)
    if labels is not None and most is not None and most > len(labels):
        c.errors.add("max_choices", f"must be at most the number of labels ({len(labels)})")
    elif least is not None and most is not None and least > most:
        if c.given("max_choices"):
            c.errors.add("max_choices", f"must be at least min_choices ({least})")
        else:
            c.errors.add("min_choices", f"must be at most the number of labels ({most})")
    return {"labels": labels, "min_choices": least, "max_choices": most}


def _multi_label_answer(
    config: dict[str, Any], data: dict[str, Any], answer: Any, errors: _Errors
) -> Any:
    if not isinstance(answer, list):
        errors.add("answer", "must be a list of labels")
        return None
    chosen: set[str] = set()
    for i, value in enumerate(answer):
        label = _one_of(config["labels"], value, f"answer[{i}]", errors)
        if label is not None and label in chosen:
            errors.add(f"answer[{i}]", f"duplicate label {_q(label)}")
        elif label is not None:
            chosen.add(label)
    if len(answer) < config["min_choices"]:
        errors.add("answer", f"choose at least {_plural(config['min_choices'], 'label')}")
    elif len(answer) > config["max_choices"]:
        errors.add("answer", f"choose at most {_plural(config['max_choices'], 'label')}")
    return [label for label in config["labels"] if label in chosen]


def _multi_label_from_text(config: dict[str, Any], text: str) -> Any:
    if text.strip().startswith("["):
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if not isinstance(value, list):
            raise ValidationFailed.field("gold", "is not a valid JSON list")
        return value
    return [part.strip() for part in text.split("|") if part.strip()]


# --- pairwise ------------------------------------------------------------------------------


def _pairwise_config(c: _Config) -> dict[str, Any]:
    allow_tie = c.boolean("allow_tie", True)
    left, right = c.name("left_field", "a"), c.name("right_field", "b")
    if left is not None and left == right:
        c.errors.add("right_field", "must differ from left_field")
    labels = list(PAIRWISE_LABELS) if allow_tie is not False else ["A", "B"]
    if c.given("labels") and c.raw["labels"] not in (list(PAIRWISE_LABELS), labels):
        c.errors.add("labels", "must be left out; pairwise labels are always A, B, tie")
    return {"allow_tie": allow_tie, "left_field": left, "right_field": right, "labels": labels}


def _pairwise_item(config: dict[str, Any], data: dict[str, Any], errors: _Errors) -> None:
    for key in ("left_field", "right_field"):
        if data.get(config[key]) is None:
            errors.add(f"data.{config[key]}", "is required")


# --- rating --------------------------------------------------------------------------------


def _rating_config(c: _Config) -> dict[str, Any]:
    lo, hi = c.integer("min", 1), c.integer("max", 5)
    scale: tuple[int, int] | None = None
    if lo is not None and hi is not None:
        if hi <= lo:
            c.errors.add("max", f"must be greater than min ({lo})")
        elif hi - lo > MAX_RATING_STEPS:
            c.errors.add(
                "max",
                f"must be at most {lo + MAX_RATING_STEPS} "
                f"(a scale has at most {MAX_RATING_STEPS} steps)",
            )
        else:
            scale = (lo, hi)
    raw = c.raw.get("anchors", {})
    anchors: dict[str, str] = {}
    if not isinstance(raw, dict):
        c.errors.add("anchors", "must be an object mapping scale points to labels")
        raw = {}
    for key, value in raw.items():
        field = f"anchors.{key}"
        if not (isinstance(key, str) and _ANCHOR_KEY.fullmatch(key)):
            c.errors.add(field, "key must be a whole number written as a string, like '3'")
            continue
        if scale and not scale[0] <= int(key) <= scale[1]:
            c.errors.add(field, f"is outside the scale {lo}..{hi}")
        label, problem = _clean_label(value)
        if problem:
            c.errors.add(field, problem)
        else:
            anchors[key] = label
    return {"min": lo, "max": hi, "anchors": anchors}


def _rating_answer(
    config: dict[str, Any], data: dict[str, Any], answer: Any, errors: _Errors
) -> Any:
    if not _is_int(answer):
        errors.add("answer", "must be an integer")
    elif not config["min"] <= answer <= config["max"]:
        errors.add("answer", f"must be between {config['min']} and {config['max']}")
    return answer


def _rating_from_text(config: dict[str, Any], text: str) -> Any:
    if not _INTEGER_TEXT.fullmatch(text):
        raise ValidationFailed.field("gold", f"{_q(text)} is not a whole number")
    return int(text)


# --- free_text -----------------------------------------------------------------------------


def _free_text_config(c: _Config) -> dict[str, Any]:
    least = c.integer("min_length", 1, lo=0, hi=MAX_TEXT_LENGTH)
    most = c.integer("max_length", 2000, lo=1, hi=MAX_TEXT_LENGTH)
    if least is not None and most is not None and least > most:
        if c.given("max_length"):
            c.errors.add("max_length", f"must be at least min_length ({least})")
        else:
            c.errors.add("min_length", f"must be at most max_length ({most})")
    return {"min_length": least, "max_length": most}


def _free_text_answer(
    config: dict[str, Any], data: dict[str, Any], answer: Any, errors: _Errors
) -> Any:
    if not isinstance(answer, str):
        errors.add("answer", "must be a string")
        return None
    text = answer.strip()
    if len(text) < config["min_length"]:
        errors.add("answer", f"must be at least {_plural(config['min_length'], 'character')}")
    elif len(text) > config["max_length"]:
        errors.add("answer", f"must be at most {_plural(config['max_length'], 'character')}")
    return text


# --- span ----------------------------------------------------------------------------------


def _span_config(c: _Config) -> dict[str, Any]:
    return {
        "labels": c.labels("labels", 1),
        "text_field": c.name("text_field", "text"),
        "allow_overlap": c.boolean("allow_overlap", False),
    }


def _span_item(config: dict[str, Any], data: dict[str, Any], errors: _Errors) -> None:
    name = config["text_field"]
    if name not in data:
        errors.add(f"data.{name}", "is required")
    elif not isinstance(data[name], str):
        errors.add(f"data.{name}", "must be a string")


def _span_answer(config: dict[str, Any], data: dict[str, Any], answer: Any, errors: _Errors) -> Any:
    if not isinstance(answer, list):
        errors.add("answer", "must be a list of spans")
        return None
    size = len(data[config["text_field"]])
    spans: list[tuple[int, int, str, int]] = []
    for i, span in enumerate(answer):
        where = f"answer[{i}]"
        if not isinstance(span, dict):
            errors.add(where, "must be an object with start, end and label")
            continue
        before = len(errors.details)
        extra = sorted(str(key) for key in span if key not in ("start", "end", "label"))
        if extra:
            errors.add(where, f"unknown keys: {', '.join(extra)}")
        for key in ("start", "end", "label"):
            if key not in span:
                errors.add(f"{where}.{key}", "is required")
            elif key != "label" and not _is_int(span[key]):
                errors.add(f"{where}.{key}", "must be an integer")
        if "label" in span:
            _one_of(config["labels"], span["label"], f"{where}.label", errors)
        if _is_int(span.get("start")) and _is_int(span.get("end")):
            start, end = span["start"], span["end"]
            if start < 0:
                errors.add(f"{where}.start", "must be at least 0")
            if end > size:
                errors.add(f"{where}.end", f"must be at most the text length ({size})")
            if start >= end:
                errors.add(f"{where}.end", f"must be greater than start ({start})")
        if len(errors.details) == before:
            spans.append((span["start"], span["end"], span["label"], i))
    spans.sort()
    kept: list[tuple[int, int, str, int]] = []
    reach, reach_index = -1, -1
    for start, end, label, i in spans:
        if kept and kept[-1][:3] == (start, end, label):
            errors.add(f"answer[{i}]", f"duplicate span (same as answer[{kept[-1][3]}])")
            continue
        if not config["allow_overlap"] and start < reach:
            errors.add(f"answer[{i}]", f"overlaps answer[{reach_index}]")
        if end > reach:
            reach, reach_index = end, i
        kept.append((start, end, label, i))
    return [{"start": s, "end": e, "label": lab} for s, e, lab, _ in kept]


def _span_from_text(config: dict[str, Any], text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise ValidationFailed.field("gold", "is not valid JSON") from None


# --- registry and public API ---------------------------------------------------------------


def _no_item_check(config: dict[str, Any], data: dict[str, Any], errors: _Errors) -> None:
    return None


def _text_as_is(config: dict[str, Any], text: str) -> Any:
    return text


@dataclass(frozen=True)
class _TaskType:
    description: str
    keys: tuple[str, ...]
    config: Callable[[_Config], dict[str, Any]]
    answer: Callable[[dict[str, Any], dict[str, Any], Any, _Errors], Any]
    item: Callable[[dict[str, Any], dict[str, Any], _Errors], None] = _no_item_check
    from_text: Callable[[dict[str, Any], str], Any] = _text_as_is


_REGISTRY: dict[str, _TaskType] = {
    "single_choice": _TaskType(
        "Pick exactly one label from a list.", ("labels",), _single_choice_config, _choice_answer
    ),
    "multi_label": _TaskType(
        "Pick any number of labels from a list, within set bounds.",
        ("labels", "min_choices", "max_choices"),
        _multi_label_config,
        _multi_label_answer,
        from_text=_multi_label_from_text,
    ),
    "pairwise": _TaskType(
        "Compare two items side by side and say which is better (A, B, or a tie).",
        ("allow_tie", "left_field", "right_field", "labels"),
        _pairwise_config,
        _choice_answer,
        item=_pairwise_item,
    ),
    "rating": _TaskType(
        "Rate an item with a whole number on a fixed scale.",
        ("min", "max", "anchors"),
        _rating_config,
        _rating_answer,
        from_text=_rating_from_text,
    ),
    "free_text": _TaskType(
        "Write a free-form text answer of bounded length.",
        ("min_length", "max_length"),
        _free_text_config,
        _free_text_answer,
    ),
    "span": _TaskType(
        "Mark labelled stretches (start/end offsets) of a text.",
        ("labels", "text_field", "allow_overlap"),
        _span_config,
        _span_answer,
        item=_span_item,
        from_text=_span_from_text,
    ),
}
assert tuple(_REGISTRY) == TASK_TYPES


def _spec(task_type: object) -> _TaskType:
    if not isinstance(task_type, str) or task_type not in _REGISTRY:
        raise ValidationFailed.field("task_type", f"must be one of: {', '.join(TASK_TYPES)}")
    return _REGISTRY[task_type]


def validate_config(task_type: str, config: dict[str, Any]) -> dict[str, Any]:
    """Validate a project's task config; return a new, normalised config with defaults."""
    spec, errors = _spec(task_type), _Errors()
    normalised = spec.config(_Config(config, spec.keys, errors))
    errors.check()
    return normalised


def validate_item_data(
    task_type: str, config: dict[str, Any], data: dict[str, Any]
) -> dict[str, Any]:
    """Check an item's data fits the task type (config normalised); return data unchanged."""
    spec, errors = _spec(task_type), _Errors()
    if not isinstance(data, dict):
        raise ValidationFailed.field("data", "must be an object")
    spec.item(config, data, errors)
    errors.check()
    return data


def validate_answer(
    task_type: str, config: dict[str, Any], data: dict[str, Any], answer: object
) -> object:
    """Validate a worker's answer to an item (checking the item data first); return it
    normalised."""
    spec, errors = _spec(task_type), _Errors()
    validate_item_data(task_type, config, data)
    normalised = spec.answer(config, data, answer, errors)
    errors.check()
    return normalised


def answer_from_text(task_type: str, config: dict[str, Any], text: str) -> object:
    """Turn a CSV cell into an answer value, to be checked with ``validate_answer``."""
    spec = _spec(task_type)
    if not isinstance(text, str):
        raise ValidationFailed.field("gold", "must be text")
    return spec.from_text(config, text)


def describe(task_type: str) -> str:
    """One-line human description of a task type."""
    return _spec(task_type).description
