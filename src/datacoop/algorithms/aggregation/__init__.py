"""Label aggregation with crowd-kit's interface: ``Method(...).fit_predict(df) -> Series``.

Categorical methods take a DataFrame ``task, worker, label``; pairwise ones take
``worker, left, right, label``. Each lives in its own module; ``get(name)`` maps the short
names used by the API and CLI to classes, and the classes import lazily from here:

    >>> from datacoop.algorithms.aggregation import DawidSkene  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

from datacoop.errors import InvalidData

# short name -> (module, class); categorical first, then pairwise.
METHODS: dict[str, tuple[str, str]] = {
    "mv": ("majority_vote", "MajorityVote"),
    "wawa": ("wawa", "Wawa"),
    "zbs": ("zero_based_skill", "ZeroBasedSkill"),
    "ds": ("dawid_skene", "DawidSkene"),
    "onecoin": ("dawid_skene", "OneCoinDawidSkene"),
    "glad": ("glad", "GLAD"),
    "mace": ("mace", "MACE"),
    "kos": ("kos", "KOS"),
    "mmsr": ("mmsr", "MMSR"),
}
PAIRWISE_METHODS: dict[str, tuple[str, str]] = {
    "bt": ("bradley_terry", "BradleyTerry"),
    "noisybt": ("bradley_terry", "NoisyBT"),
}
_BY_CLASS = {cls: mod for mod, cls in [*METHODS.values(), *PAIRWISE_METHODS.values()]}

__all__ = sorted(_BY_CLASS) + ["METHODS", "PAIRWISE_METHODS", "get"]


def get(name: str) -> Any:
    """The aggregator class for a short name (``"ds"``, ``"glad"``, ``"bt"``, ...)."""
    table = {**METHODS, **PAIRWISE_METHODS}
    if name not in table:
        raise InvalidData(f"unknown method {name!r}; choose from: {', '.join(table)}")
    module, cls = table[name]
    return getattr(importlib.import_module(f"{__name__}.{module}"), cls)


def __getattr__(attr: str) -> Any:  # PEP 562: import a method's module only when it is used
    if attr in _BY_CLASS:
        return getattr(importlib.import_module(f"{__name__}.{_BY_CLASS[attr]}"), attr)
    raise AttributeError(attr)
