"""Largest-remainder apportionment of an integer pool.

Properties (hypothesis): the parts sum to the pool exactly, none is negative, each lies
between the floor and the ceiling of its exact share, and permuting the input (with keys)
permutes the output the same way. Examples worked by hand, and a slow oracle that hands out
the leftover units one at a time.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datacoop.algorithms.apportion import apportion
from datacoop.errors import InvalidData

pools = st.integers(min_value=0, max_value=10**12)
int_weights = st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=30)
float_weights = st.lists(
    st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=30,
)
small_weights = st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=12)


def exact_shares(pool, weights):
    w = [Fraction(x) for x in weights]
    return [pool * x / sum(w) for x in w]


def positive(weights) -> bool:
    return sum(Fraction(x) for x in weights) > 0


@settings(max_examples=300, deadline=None)
@given(pool=pools, weights=st.one_of(int_weights, float_weights))
def test_sum_is_exact_and_each_part_within_one_unit(pool, weights):
    if not positive(weights):
        return
    parts = apportion(pool, weights)
    assert all(type(p) is int for p in parts)
    assert sum(parts) == pool
    for part, share in zip(parts, exact_shares(pool, weights), strict=True):
        assert math.floor(share) <= part <= math.ceil(share)
        assert abs(part - share) < 1
        assert part >= 0


@settings(max_examples=300, deadline=None)
@given(pool=st.integers(0, 1000), weights=small_weights, data=st.data())
def test_permuting_input_and_keys_permutes_output(pool, weights, data):
    if not positive(weights):
        return
    keys = [f"member-{i:03d}" for i in range(len(weights))]
    perm = data.draw(st.permutations(range(len(weights))))
    parts = apportion(pool, weights, keys=keys)
    permuted = apportion(pool, [weights[i] for i in perm], keys=[keys[i] for i in perm])
    assert permuted == [parts[i] for i in perm]


@settings(max_examples=300, deadline=None)
@given(pool=st.integers(0, 1000), weights=small_weights, data=st.data())
def test_without_keys_the_weight_part_pairs_do_not_depend_on_order(pool, weights, data):
    if not positive(weights):
        return
    perm = data.draw(st.permutations(range(len(weights))))
    parts = apportion(pool, weights)
    permuted = apportion(pool, [weights[i] for i in perm])
    assert sorted(zip(weights, parts, strict=True)) == sorted(
        zip([weights[i] for i in perm], permuted, strict=True)
    )
    # distinct weights are never interchangeable: then the output permutes exactly
    if len(set(weights)) == len(weights):
        assert permuted == [parts[i] for i in perm]


@settings(max_examples=200, deadline=None)
@given(pool=st.integers(0, 200), weights=small_weights)
def test_matches_one_unit_at_a_time_oracle(pool, weights):
    """Oracle: floors first, then each leftover unit to the best (remainder, weight, index)."""
    if not positive(weights):
        return
    shares = exact_shares(pool, weights)
    parts = [math.floor(q) for q in shares]
    candidates = list(range(len(weights)))
    for _ in range(pool - sum(parts)):
        best = max(candidates, key=lambda i: (shares[i] - parts[i], weights[i], -i))
        parts[best] += 1
        candidates.remove(best)
    assert apportion(pool, weights) == parts


def test_worked_examples():
    assert apportion(100, [1, 1, 1]) == [34, 33, 33]
    assert apportion(100, [1, 1, 1], keys=["c", "a", "b"]) == [33, 34, 33]
    assert apportion(10, [3, 2, 2]) == [4, 3, 3]
    assert apportion(2, [1, 3]) == [0, 2]  # remainders tie: the larger weight first
    assert apportion(7, [0, 0, 1]) == [0, 0, 7]
    assert apportion(0, [5, 3]) == [0, 0]
    assert apportion(0, [0, 0]) == [0, 0]
    assert apportion(0, []) == []
    assert apportion(1, [1e-300, 1e-300, 3e-300]) == [0, 0, 1]
    # Decimal and Fraction weights are exact; floats are their exact binary value
    assert apportion(3, [Decimal("0.1"), Decimal("0.2")]) == [1, 2]
    assert apportion(3, [Fraction(1, 3), Fraction(2, 3)]) == [1, 2]
    assert apportion(10**18 + 1, [1, 1]) == [5 * 10**17 + 1, 5 * 10**17]
    assert apportion(np.int64(10), np.array([1.0, 2.0, 2.0])) == [2, 4, 4]


def test_zero_weights_get_nothing_and_whole_shares_are_exact():
    assert apportion(999, [0, 1, 0, 2]) == [0, 333, 0, 666]


@pytest.mark.parametrize(
    ("pool", "weights", "keys", "message"),
    [
        (-1, [1], None, "negative"),
        (10.0, [1], None, "integer"),
        (Decimal(10), [1], None, "integer"),
        (True, [1], None, "integer"),
        (10, [float("nan"), 1], None, "finite"),
        (10, [float("inf"), 1], None, "finite"),
        (10, [Decimal("NaN")], None, "finite"),
        (10, [-1, 2], None, "negative"),
        (10, [-0.5, 2], None, "negative"),
        (10, [0, 0], None, "all zero"),
        (10, [], None, "no parts"),
        (10, ["1", 2], None, "not a number"),
        (10, [None, 2], None, "not a number"),
        (10, [True, 2], None, "boolean"),
        (10, [1, 1], ["a"], "entries"),
        (10, [1, 1], ["a", "a"], "distinct"),
        (10, [1, 1], ["a", 1], "comparable"),
    ],
)
def test_bad_input(pool, weights, keys, message):
    with pytest.raises(InvalidData, match=message):
        apportion(pool, weights, keys=keys)
