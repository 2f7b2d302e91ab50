"""Split an integer pool of minor units (cents) exactly: largest-remainder apportionment.

Each part gets the floor of its exact share ``q_i = pool · w_i / Σw`` (exact rational
arithmetic, :class:`fractions.Fraction`; floats are read as the exact binary value they
hold); the units left over, ``pool − Σ ⌊q_i⌋`` (fewer than the number of parts), go one each
to the parts with the largest remainders ``q_i − ⌊q_i⌋``. So:

* the parts sum to ``pool`` exactly, and none is negative;
* ``⌊q_i⌋ ≤ part_i ≤ ⌈q_i⌉``: each part is within one unit of its exact share;
* a zero weight gets 0; a part whose share is a whole number gets exactly that.

**Ties.** Equal remainders are ordered by the larger weight first (the larger exact share),
then by ``keys`` ascending when given (e.g. member ids; they must be distinct and
comparable). The result depends only on each part's weight and key, never on the order of
the input: permuting ``weights`` and ``keys`` together permutes the result the same way.
Without ``keys``, parts with *identical* weights are interchangeable and, if the last
leftover units fall among them, they go to the earliest such parts in the input. No rule
can avoid that: swapping two equal weights leaves the input unchanged, so a rule based on
values alone cannot give one of them more. The multiset of ``(weight, part)`` pairs is
still order-independent; pass ``keys`` whenever *who* gets the extra unit matters (the
platform passes member ids).

Reference: largest-remainder (Hamilton/Hare) method, e.g. M. Balinski and H. P. Young,
*Fair Representation*, 2nd ed., 2001, ch. 2.

>>> apportion(100, [1, 1, 1])
[34, 33, 33]
>>> apportion(100, [1, 1, 1], keys=["carol", "alice", "bob"])
[33, 34, 33]
>>> apportion(1000, [0.5, 0.25, 0.25, 0])
[500, 250, 250, 0]
>>> apportion(10, [3, 2, 2])
[4, 3, 3]
>>> apportion(2, [1, 3])  # remainders tie at 1/2: the larger weight first
[0, 2]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from decimal import Decimal
from fractions import Fraction
from numbers import Integral, Rational, Real
from typing import Any

from datacoop.errors import InvalidData

__all__ = ["apportion"]


def apportion(pool: int, weights: Sequence[Any], *, keys: Sequence[Any] | None = None) -> list[int]:
    """Split ``pool`` minor units in proportion to ``weights``; see the module docstring."""
    total_units = _check_pool(pool)
    exact = [_as_fraction(w, i) for i, w in enumerate(weights)]
    tie_keys = _check_keys(keys, len(exact))
    total = sum(exact, Fraction(0))
    if not exact and total_units:
        raise InvalidData("cannot split a positive pool into no parts")
    if total == 0:
        if total_units:
            raise InvalidData("cannot split a positive pool over weights that are all zero")
        return [0] * len(exact)
    shares = [total_units * w / total for w in exact]
    parts = [math.floor(q) for q in shares]
    leftover = total_units - sum(parts)
    order = sorted(
        range(len(exact)),
        key=lambda i: (-(shares[i] - parts[i]), -exact[i], *tie_keys(i)),
    )
    for i in order[:leftover]:
        parts[i] += 1
    return [int(p) for p in parts]


def _check_pool(pool: Any) -> int:
    if isinstance(pool, bool) or not isinstance(pool, Integral):
        raise InvalidData(f"pool must be an integer number of minor units, got {pool!r}")
    if pool < 0:
        raise InvalidData(f"pool must not be negative, got {pool}")
    return int(pool)


def _as_fraction(weight: Any, index: int) -> Fraction:
    if isinstance(weight, bool):
        raise InvalidData(f"weight {index} is a boolean, not a number")
    if not (isinstance(weight, Real | Decimal) or hasattr(weight, "__float__")):
        raise InvalidData(f"weight {index} is not a number: {weight!r}")
    try:
        if isinstance(weight, Integral):
            value = Fraction(int(weight))
        elif isinstance(weight, Rational):
            value = Fraction(int(weight.numerator), int(weight.denominator))
        elif isinstance(weight, Decimal):
            value = Fraction(weight)
        else:
            value = Fraction(float(weight))  # the exact binary value of the float
    except (TypeError, ValueError, OverflowError):  # NaN, infinities, arrays
        raise InvalidData(f"weight {index} is not a finite number: {weight!r}") from None
    if value < 0:
        raise InvalidData(f"weight {index} is negative: {weight!r}")
    return value


def _check_keys(keys: Sequence[Any] | None, n: int) -> Callable[[int], tuple[Any, ...]]:
    if keys is None:
        return lambda i: (i,)
    keys = list(keys)
    if len(keys) != n:
        raise InvalidData(f"keys has {len(keys)} entries for {n} weights")
    if not all(isinstance(k, Hashable) for k in keys) or len(set(keys)) != n:
        raise InvalidData("keys must be distinct")
    try:
        sorted(keys)
    except TypeError:
        raise InvalidData("keys must be mutually comparable (e.g. all strings)") from None
    return lambda i: (keys[i],)
