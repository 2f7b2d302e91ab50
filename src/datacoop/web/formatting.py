"""How figures read on pages: money from integer minor units, durations from seconds.

Pure functions, registered as Jinja filters (``money``, ``duration``). Money never passes
through a float: the amount is split with ``divmod`` by 10 ** (the currency's exponent).

    >>> format_money(1234, "USD")
    '12.34 USD'
    >>> format_money(5, "JPY")
    '5 JPY'
    >>> format_duration(95)
    '1 min 35 s'
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

DEFAULT_EXPONENT = 2


@lru_cache(maxsize=256)
def currency_exponent(currency: str) -> int:
    """Decimal places of an ISO 4217 currency (USD 2, JPY 0, KWD 3), from the Unicode CLDR."""
    from babel.numbers import get_currency_precision

    try:
        return int(get_currency_precision(currency))
    except (KeyError, ValueError):  # pragma: no cover - project currencies are validated
        return DEFAULT_EXPONENT


def format_money(amount: int, currency: str) -> str:
    """``amount`` minor units as a decimal string with the currency code."""
    exponent = currency_exponent(currency)
    sign = "-" if amount < 0 else ""
    units, minor = divmod(abs(int(amount)), 10**exponent)
    if exponent == 0:
        return f"{sign}{units:,} {currency}"
    return f"{sign}{units:,}.{minor:0{exponent}d} {currency}"


def format_duration(seconds: float) -> str:
    """A short human duration: ``45 s``, ``2 min 5 s``, ``1 h 3 min``."""
    total = max(0, int(round(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def format_answer(answer: Any, limit: int = 80) -> str:
    """An answer as one short line: text as is, anything else as compact JSON."""
    text = answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
