"""The suppression rule for published figures (k-anonymity over people).

A published figure computed from fewer than ``K_MIN_PEOPLE`` people is withheld: a total
over three members, or the median pay of two, says too much about each of them. The rule is
applied to every figure on the public transparency page, whatever the figure measures.

    >>> publish(120, people=12).shown, publish(120, people=9).shown
    (True, False)
    >>> publish(None, people=0).reason
    'none yet'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

K_MIN_PEOPLE = 10  # the DESIGN default k; a policy the members may later change by vote

T = TypeVar("T")


@dataclass(frozen=True)
class Figure(Generic[T]):
    """A figure as published: its value only when ``shown``; ``people`` is how many people
    it was computed from (itself withheld with the value)."""

    value: T | None
    people: int
    reason: str = ""  # why it is not shown: "none yet" or "fewer than 10 — hidden"

    @property
    def shown(self) -> bool:
        return not self.reason


def publish(value: T | None, *, people: int, k: int = K_MIN_PEOPLE) -> Figure[T]:
    """The figure, or a withheld one when it rests on fewer than ``k`` people."""
    if people == 0 or value is None:
        return Figure(None, 0, "none yet")
    if people < k:
        return Figure(None, 0, f"fewer than {k} — hidden")
    return Figure(value, people)
