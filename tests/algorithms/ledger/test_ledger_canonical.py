"""canonical_json: one spelling per entry."""

from __future__ import annotations

import json
import math
import re
from collections import OrderedDict
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datacoop.algorithms.ledger import MAX_DEPTH, canonical_json


def test_sorted_keys_no_whitespace() -> None:
    entry = {"v": 1, "b": 2, "a": {"z": [3, {"y": None, "x": True}], "c": "d"}}
    assert canonical_json(entry) == (b'{"a":{"c":"d","z":[3,{"x":true,"y":null}]},"b":2,"v":1}')


def test_insertion_order_does_not_matter() -> None:
    one = {"v": 1, "kind": "payment", "meta": {"b": 1, "a": 2}}
    two = OrderedDict([("meta", OrderedDict([("a", 2), ("b", 1)])), ("kind", "payment"), ("v", 1)])
    assert canonical_json(one) == canonical_json(two)


def test_any_mapping_type_is_accepted() -> None:
    assert canonical_json(MappingProxyType({"v": 2, "x": MappingProxyType({"k": 1})})) == (
        b'{"v":2,"x":{"k":1}}'
    )


def test_unicode_stays_utf8() -> None:
    entry = {"v": 1, "name": "Zoë Ñandú 数据 🙂", "ключ": "é"}
    out = canonical_json(entry)
    assert b"\\u" not in out
    assert "Zoë Ñandú 数据 🙂".encode() in out
    assert "ключ".encode() in out
    assert json.loads(out.decode("utf-8")) == entry


def test_escapes() -> None:
    out = canonical_json({"v": 1, "s": 'quote " backslash \\ nl \n tab \t bell \x07 del \x7f'})
    assert out == (b'{"s":"quote \\" backslash \\\\ nl \\n tab \\t bell \\u0007 del \x7f","v":1}')


def test_key_order_is_by_code_point() -> None:
    out = canonical_json({"v": 1, "é": 1, "z": 2, "Z": 3, "a": 4, "\U0001f600": 5, "\uffff": 6})
    keys = list(json.loads(out))
    assert keys == sorted(keys) == ["Z", "a", "v", "z", "é", "\uffff", "\U0001f600"]


def test_bool_none_int_list_tuple_allowed() -> None:
    entry = {"v": 1, "t": True, "f": False, "n": None, "i": -12, "big": 2**70, "l": [1, (2, 3)]}
    assert canonical_json(entry) == (
        b'{"big":1180591620717411303424,"f":false,"i":-12,"l":[1,[2,3]],"n":null,"t":true,"v":1}'
    )


def test_int_subclasses_are_written_as_plain_integers() -> None:
    import enum

    class Kind(enum.IntEnum):
        A = 7

    assert canonical_json({"v": 1, "k": Kind.A}) == b'{"k":7,"v":1}'


@pytest.mark.parametrize(
    ("entry", "path"),
    [
        ({"v": 1, "amount": 1.5}, "amount"),
        ({"v": 1, "amount": 1.0}, "amount"),
        ({"v": 1, "amount": math.nan}, "amount"),
        ({"v": 1, "amount": math.inf}, "amount"),
        ({"v": 1, "amount": -math.inf}, "amount"),
        ({"v": 1, "pay": {"amount": 0.1}}, "pay.amount"),
        ({"v": 1, "items": [1, {"price": 2.5}]}, "items[1].price"),
        ({"v": 1, "m": [[0.0]]}, "m[0][0]"),
        ({"v": 1, "odd key": {"x": 1e9}}, '["odd key"].x'),
        ({"v": 1.0}, "v"),
    ],
)
def test_floats_refused_with_path(entry: dict[str, Any], path: str) -> None:
    with pytest.raises(ValueError) as info:
        canonical_json(entry)
    message = str(info.value)
    assert message.startswith(path + ":"), message
    assert "float" in message


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ({"v": 1, 3: "x"}, "keys must be strings"),
        ({"v": 1, "nested": {(1, 2): "x"}}, "nested: object keys must be strings"),
        ({"v": 1, "nested": {None: "x"}}, "nested: object keys must be strings"),
        ({"v": 1, "b": b"bytes"}, "b: unsupported type bytes"),
        ({"v": 1, "d": Decimal("1.5")}, "d: unsupported type Decimal"),
        ({"v": 1, "s": {1, 2}}, "s: unsupported type set"),
        ({"v": 1, "o": object()}, "o: unsupported type object"),
        ({"v": 1, "s": "lone \ud800 surrogate"}, "s: string is not valid Unicode"),
        ({"v": 1, "\udfff": 1}, "key"),
    ],
)
def test_other_bad_values_refused(entry: dict[Any, Any], fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        canonical_json(entry)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    "entry",
    [{}, {"kind": "x"}, {"v": "1"}, {"v": None}, {"v": True}, {"V": 1}, {"x": {"v": 1}}],
)
def test_integer_v_required(entry: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match='"v"'):
        canonical_json(entry)


@pytest.mark.parametrize("entry", [[{"v": 1}], "v", None, 1, b"{}"])
def test_top_level_must_be_mapping(entry: Any) -> None:
    with pytest.raises(ValueError, match="mapping"):
        canonical_json(entry)


def test_depth_limit_and_cycles() -> None:
    deep: dict[str, Any] = {"v": 1}
    node = deep
    for _ in range(MAX_DEPTH - 1):
        node["x"] = {}
        node = node["x"]
    canonical_json(deep)  # exactly MAX_DEPTH levels of objects: fine
    node["x"] = {}
    with pytest.raises(ValueError, match="deeper"):
        canonical_json(deep)

    cyclic: dict[str, Any] = {"v": 1}
    cyclic["self"] = cyclic
    with pytest.raises(ValueError, match="deeper"):
        canonical_json(cyclic)


def test_does_not_mutate_input() -> None:
    entry = {"v": 1, "b": [3, 2, 1], "a": {"y": 1, "x": 2}}
    snapshot = json.dumps(entry)
    canonical_json(entry)
    assert json.dumps(entry) == snapshot


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None, database=None)
@given(st.dictionaries(st.text(max_size=6), json_values, max_size=6), st.integers())
def test_round_trip_and_idempotence(body: dict[str, Any], version: int) -> None:
    entry = {**body, "v": version}
    out = canonical_json(entry)
    parsed = json.loads(out.decode("utf-8"))
    assert parsed == entry
    assert canonical_json(parsed) == out
    # Outside string literals there is no whitespace at all.
    assert not re.search(r"\s", _STRING.sub('""', out.decode("utf-8")))
    # Re-ordering keys never changes the bytes.
    reordered = dict(reversed(list(entry.items())))
    assert canonical_json(reordered) == out
