"""Money: exact parsing, formatting, no arithmetic across currencies, exponents from Babel."""

from __future__ import annotations

import doctest
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datacoop.errors import ValidationFailed
from datacoop.pay import money
from datacoop.pay.money import CurrencyMismatch, Money


def test_the_docstring_examples_run():
    assert doctest.testmod(money).failed == 0


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("15.00", "USD", 1500),
        ("15", "USD", 1500),
        ("0.5", "USD", 50),
        ("15.000", "USD", 1500),  # trailing zeros are not fractional cents
        ("1500", "JPY", 1500),  # exponent 0
        ("1.234", "KWD", 1234),  # exponent 3
        (" 2.50 ", "EUR", 250),
    ],
)
def test_decimal_strings_parse_exactly(text, currency, minor):
    assert Money.parse(text, currency) == Money(minor, currency)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("15.001", "more decimals than USD allows (2)"),
        ("-1.00", "must not be negative"),
        ("1e3", "is not a decimal"),
        ("", "is not a decimal"),
        ("1,00", "is not a decimal"),
        (15.0, "must be a decimal string"),
        (15, "must be a decimal string"),
        (None, "must be a decimal string"),
    ],
)
def test_bad_amounts_are_refused(value, message):
    with pytest.raises(ValidationFailed, match=re.escape(message)):
        Money.parse(value, "USD")


def test_negative_amounts_only_where_allowed():
    assert Money.parse("-1.50", "USD", allow_negative=True) == Money(-150, "USD")
    assert Money.parse("-0.00", "USD") == Money(0, "USD")


@pytest.mark.parametrize("currency", ["usd", "US", "XYZ", "", 840])
def test_currencies_must_be_iso_4217(currency):
    with pytest.raises(ValidationFailed, match="currency"):
        Money(1, currency)


def test_amounts_are_integers_never_floats():
    with pytest.raises(ValidationFailed, match="never a float"):
        Money(1.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed):
        Money(True, "USD")  # type: ignore[arg-type]


def test_arithmetic_across_currencies_is_refused():
    usd, eur = Money(100, "USD"), Money(100, "EUR")
    assert usd + Money(50, "USD") == Money(150, "USD")
    assert usd - Money(150, "USD") == Money(-50, "USD")
    assert -usd == Money(-100, "USD")
    assert usd < Money(101, "USD") and usd >= Money(100, "USD")
    for op in (
        lambda: usd + eur,
        lambda: usd - eur,
        lambda: usd < eur,
        lambda: usd >= eur,
    ):
        with pytest.raises(CurrencyMismatch, match="cannot combine USD with EUR"):
            op()


def test_formatting():
    assert Money(-1750, "USD").format() == "-17.50 USD"
    assert Money(5, "USD").decimal() == "0.05"
    assert str(Money(1500, "JPY")) == "1500 JPY"
    assert Money(1, "KWD").decimal() == "0.001"


@given(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.sampled_from(["USD", "EUR", "JPY", "KWD", "CLF"]),
)
def test_decimal_round_trips(amount, currency):
    m = Money(amount, currency)
    assert Money.parse(m.decimal(), currency, allow_negative=True) == m
