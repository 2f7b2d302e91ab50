"""Brute-force oracles for the valuation tests: Shapley values by enumerating every subset.

Deliberately naive and independent of the library code: plain Python loops, distances by
direct differences, ``sorted`` for the (distance, item index) order, and Shapley weights
from factorials. Only usable for a handful of players (2**M subsets).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Hashable, Sequence

import numpy as np


def shapley_by_enumeration(
    n_players: int, utility: Callable[[frozenset[int]], float]
) -> np.ndarray:
    """``φ_p = Σ_{S ⊆ P∖{p}} |S|!(n−|S|−1)!/n! · (U(S ∪ {p}) − U(S))`` for players ``0..n−1``."""
    cache: dict[frozenset[int], float] = {}

    def u(s: frozenset[int]) -> float:
        if s not in cache:
            cache[s] = utility(s)
        return cache[s]

    values = np.zeros(n_players)
    for p in range(n_players):
        others = [q for q in range(n_players) if q != p]
        for size in range(n_players):
            weight = math.factorial(size) * math.factorial(n_players - size - 1)
            weight /= math.factorial(n_players)
            for subset in itertools.combinations(others, size):
                s = frozenset(subset)
                values[p] += weight * (u(s | {p}) - u(s))
    return values


def sq_distance(a, b) -> float:
    """``Σ_k (a_k − b_k)²`` added in feature order: the distance of the documented tie rule."""
    total = 0.0
    for ak, bk in zip(a.tolist(), b.tolist(), strict=True):
        total += (ak - bk) * (ak - bk)
    return total


def knn_utility(x_train, y_train, x_test, y_test, k: int, items: Sequence[int]) -> float:
    """``(1/T) Σ_t (1/K) Σ_{i ∈ top-min(K,|S|)} 1[y_i = y_t]``, top by (distance, index)."""
    x_train = np.asarray(x_train, dtype=float)
    x_test = np.asarray(x_test, dtype=float)
    if x_train.ndim == 1:
        x_train = x_train[:, None]
    if x_test.ndim == 1:
        x_test = x_test[:, None]
    total = 0.0
    for t in range(len(x_test)):
        ranked = sorted(items, key=lambda i: (sq_distance(x_train[i], x_test[t]), i))
        total += sum(1.0 for i in ranked[:k] if y_train[i] == y_test[t]) / k
    return total / len(x_test)


def contributor_shapley_bruteforce(
    x_train, y_train, owners: Sequence[Hashable], x_test, y_test, k: int
) -> dict[Hashable, float]:
    """Contributor-level Shapley of the K-NN utility, by enumerating coalitions."""
    players = sorted(set(owners))
    items_of = {p: [i for i, o in enumerate(owners) if o == p] for p in players}

    def utility(coalition: frozenset[int]) -> float:
        items = [i for p in coalition for i in items_of[players[p]]]
        return knn_utility(x_train, y_train, x_test, y_test, k, items) if items else 0.0

    values = shapley_by_enumeration(len(players), utility)
    return dict(zip(players, values, strict=True))
