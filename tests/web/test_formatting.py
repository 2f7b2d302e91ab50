"""Figures on pages: money from integer minor units (never a float), durations, answers."""

from __future__ import annotations

import pytest

from datacoop.web.formatting import format_answer, format_duration, format_money


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (0, "USD", "0.00 USD"),
        (5, "USD", "0.05 USD"),
        (1800, "EUR", "18.00 EUR"),
        (123456789, "USD", "1,234,567.89 USD"),
        (-250, "USD", "-2.50 USD"),
        (5, "JPY", "5 JPY"),
        (12345, "KWD", "12.345 KWD"),
        (10**15 + 1, "USD", "10,000,000,000,000.01 USD"),  # exact far past float precision
    ],
)
def test_format_money(amount, currency, text):
    assert format_money(amount, currency) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 s"), (3.4, "3 s"), (45, "45 s"), (60, "1 min"), (95, "1 min 35 s"),
     (3600, "1 h"), (3780, "1 h 3 min"), (-5, "0 s")],
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_format_answer():
    assert format_answer("blue") == "blue"
    assert format_answer(["a", "b"]) == '["a", "b"]'
    assert format_answer({"x": "é"}) == '{"x": "é"}'
    assert format_answer("a\n  b") == "a b"
    assert format_answer("x" * 100, limit=10) == "x" * 9 + "…"
