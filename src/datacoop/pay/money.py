"""An amount of money: integer minor units of one ISO 4217 currency.

No float ever touches money. A currency's exponent (2 for USD, 0 for JPY, 3 for KWD) comes
from Babel's copy of the Unicode CLDR, not from a hand-typed table. Arithmetic across
currencies is refused: there is no implicit exchange rate anywhere in datacoop.

    >>> price = Money.parse("15.00", "USD")
    >>> price
    Money(amount=1500, currency='USD')
    >>> (price + Money(250, "USD")).format()
    '17.50 USD'
    >>> Money.parse("15.001", "USD")
    Traceback (most recent call last):
    ...
    datacoop.errors.ValidationFailed: amount: 15.001 has more decimals than USD allows (2)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from babel.numbers import get_currency_precision, is_currency

from datacoop.errors import ValidationFailed

_DECIMAL_RE = re.compile(r"^(-?)(\d+)(?:\.(\d+))?$")
# Far below 2**53 - 1, so every amount also survives a JavaScript JSON round trip.
MAX_AMOUNT = 10**15


class CurrencyMismatch(ValidationFailed):
    """Two amounts in different currencies were combined."""

    code = "currency_mismatch"


@lru_cache(maxsize=256)
def exponent(currency: str) -> int:
    """The number of decimal places of a valid ISO 4217 code (``USD`` → 2)."""
    return int(get_currency_precision(check_currency(currency)))


def check_currency(currency: object, field: str = "currency") -> str:
    """The code itself when it is an active ISO 4217 currency known to the CLDR."""
    if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
        raise ValidationFailed.field(field, "must be a three-letter ISO 4217 code such as USD")
    if not is_currency(currency):
        raise ValidationFailed.field(field, f"{currency} is not an ISO 4217 currency")
    return currency


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """``amount`` minor units of ``currency`` (cents for USD). Immutable."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise ValidationFailed.field(
                "amount", "must be an integer number of minor units (never a float)"
            )
        if abs(self.amount) > MAX_AMOUNT:
            raise ValidationFailed.field("amount", f"must be at most {MAX_AMOUNT} minor units")
        check_currency(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def parse(
        cls, text: object, currency: str, *, allow_negative: bool = False, field: str = "amount"
    ) -> Money:
        """Read a decimal string such as ``"15.00"`` or ``"15"`` exactly.

        Refuses floats and ints (a JSON number is ambiguous: cents or units?), more decimals
        than the currency has (no fractional minor units), and negatives unless allowed.
        """
        if not isinstance(text, str):
            raise ValidationFailed.field(field, 'must be a decimal string such as "15.00"')
        digits = exponent(currency)
        match = _DECIMAL_RE.match(text.strip())
        if match is None:
            raise ValidationFailed.field(field, f'{text!r} is not a decimal such as "15.00"')
        sign, whole, frac = match.groups()
        frac = frac or ""
        if len(frac.rstrip("0")) > digits:
            raise ValidationFailed.field(
                field, f"{text} has more decimals than {currency} allows ({digits})"
            )
        if sign and not allow_negative and (int(whole) or int(frac or "0")):
            raise ValidationFailed.field(field, "must not be negative")
        # Past the currency's digits only zeros remain (checked above).
        minor = int(whole) * 10**digits + (int(frac[:digits].ljust(digits, "0")) if digits else 0)
        return cls(-minor if sign else minor, currency)

    @property
    def exponent(self) -> int:
        return exponent(self.currency)

    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(
                f"cannot combine {self.currency} with {other.currency}: no exchange rates",
                details={"currencies": [self.currency, other.currency]},
            )
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same(other).amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same(other).amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other).amount

    def decimal(self) -> str:
        """The amount as an exact decimal string, ``"-17.50"``."""
        digits = self.exponent
        sign = "-" if self.amount < 0 else ""
        whole, frac = divmod(abs(self.amount), 10**digits)
        return f"{sign}{whole}.{frac:0{digits}d}" if digits else f"{sign}{whole}"

    def format(self) -> str:
        """For display: ``"17.50 USD"``."""
        return f"{self.decimal()} {self.currency}"

    def __str__(self) -> str:
        return self.format()
