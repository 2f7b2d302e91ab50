"""Canonical JSON encoding of ledger entries.

The bytes that go into the Merkle tree (RFC 9162 §2.1.1 leaf input ``d(i)``) are the canonical
JSON encoding of an entry::

    canonical_json(entry) = UTF-8( json.dumps(entry, sort_keys=True, separators=(",", ":"),
                                              ensure_ascii=False) )

restricted to the JSON values that have exactly one spelling: objects with string keys, arrays,
strings, integers, booleans and ``null``. Floats (including NaN and the infinities) are refused
because their decimal spelling is not portable between languages; amounts are stored as integer
minor units instead. The top level must be an object holding an integer ``"v"`` (format version).

Spelled out for implementers in other languages (see ``docs/ledger.md``):

* object members sorted by key, comparing keys by Unicode code point; no duplicate keys;
* no whitespace at all: ``,`` between items and ``:`` between key and value;
* strings are written as UTF-8, escaping only ``"`` as ``\\"``, ``\\`` as ``\\\\``, the control
  characters U+0008, U+0009, U+000A, U+000C, U+000D as ``\\b \\t \\n \\f \\r`` and every other
  character below U+0020 as ``\\u00XX`` (lower-case hex); everything else, including non-ASCII,
  is written literally;
* integers in plain decimal (``-`` sign, no leading zeros, no exponent);
* ``true``, ``false`` and ``null``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["MAX_DEPTH", "canonical_json"]

#: Deepest nesting of objects/arrays accepted (also stops self-referencing structures).
MAX_DEPTH = 64

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _child_path(path: str, key: str) -> str:
    part = key if _IDENTIFIER.match(key) else "[" + json.dumps(key, ensure_ascii=False) + "]"
    if not path:
        return part
    return path + part if part.startswith("[") else f"{path}.{part}"


def _where(path: str) -> str:
    return path if path else "the top level"


def _check_text(text: str, path: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{_where(path)}: {what} is not valid Unicode (lone surrogate)") from exc


def _normalize(value: Any, path: str, depth: int) -> Any:
    """Return a plain dict/list copy of ``value``, or raise ValueError naming the bad path."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        raise ValueError(
            f"{_where(path)}: floats are not allowed in ledger entries "
            f"(got {value!r}); use an integer in minor units or a string"
        )
    if isinstance(value, str):
        _check_text(value, path, "string")
        return str(value)
    if depth >= MAX_DEPTH:
        raise ValueError(f"{_where(path)}: nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(
                    f"{_where(path)}: object keys must be strings (got {type(key).__name__} "
                    f"{key!r})"
                )
            _check_text(key, path, f"key {key!r}")
            out[str(key)] = _normalize(item, _child_path(path, key), depth + 1)
        return out
    if isinstance(value, list | tuple):
        return [_normalize(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
    raise ValueError(
        f"{_where(path)}: unsupported type {type(value).__name__} (allowed: object with string "
        "keys, array, string, integer, boolean, null)"
    )


def canonical_json(entry: Mapping[str, Any]) -> bytes:
    """Encode a ledger entry as canonical JSON bytes (the Merkle leaf input).

    ``UTF-8(json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False))``

    Raises ``ValueError`` (with the offending path, e.g. ``"amount"`` or ``"items[2].price"``) for
    floats, non-string keys, unsupported types, lone surrogates, nesting deeper than
    ``MAX_DEPTH``, a top level that is not a mapping, or a missing/non-integer ``"v"`` field.
    """
    if not isinstance(entry, Mapping):
        raise ValueError(
            f"a ledger entry must be a mapping (JSON object), not {type(entry).__name__}"
        )
    normalized = _normalize(entry, "", 0)
    version = normalized.get("v")
    if "v" not in normalized or isinstance(version, bool) or not isinstance(version, int):
        raise ValueError('v: a ledger entry must hold an integer "v" (format version) field')
    text = json.dumps(
        normalized, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")
