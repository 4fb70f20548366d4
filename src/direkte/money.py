"""Money: exact decimals in an ISO 4217 currency, rounded only here, half up."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.numbers import get_currency_precision, list_currencies
from pydantic import BaseModel

# Historical and fund codes Babel also knows that no invoice should carry.
_NOT_TENDER = frozenset(
    {"XAU", "XAG", "XPD", "XPT", "XTS", "XXX", "XDR", "XBA", "XBB", "XBC", "XBD"}
)


@lru_cache
def currencies() -> frozenset[str]:
    return frozenset(c for c in list_currencies() if len(c) == 3 and c not in _NOT_TENDER)


def is_currency(code: str) -> bool:
    return code in currencies()


@lru_cache
def minor_units(currency: str) -> int:
    return int(get_currency_precision(currency))


# What the contract means by a decimal string: an optional minus, ASCII digits, and
# optionally a point followed by ASCII digits. Python's Decimal() (and a regex \d)
# would also take other scripts' digits (Arabic-Indic 123), NaN, Infinity, "1_000",
# "1e3", "+1", ".5" and surrounding spaces; none of them is a price a dealer sends.
_PLAIN_DECIMAL_RE = re.compile(r"-?[0-9]+(\.[0-9]+)?")
PLAIN_DECIMAL_HINT = 'a plain decimal string of ASCII digits, like "123.40" or "-5"'


def is_plain_decimal(text: str) -> bool:
    """True for ``-?digits(.digits)?`` in ASCII digits, with nothing around it."""
    # fullmatch: "$" alone would let a trailing newline through.
    return _PLAIN_DECIMAL_RE.fullmatch(text) is not None


def parse_amount(text: str | int | Decimal, currency: str) -> Decimal:
    """Parse an amount: a plain decimal string (or an int or finite Decimal) within the
    currency's minor units. Refuses NaN, infinities, exponents, non-ASCII digits."""
    if isinstance(text, str):
        if not is_plain_decimal(text):
            raise ValueError(f"not a decimal number: write {PLAIN_DECIMAL_HINT}")
        value = Decimal(text)
    elif isinstance(text, bool):
        raise ValueError("not a decimal number")
    else:
        value = Decimal(text)
        if not value.is_finite():
            raise ValueError("not a finite number")
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > minor_units(currency):
        raise ValueError(f"{currency} has {minor_units(currency)} decimal places")
    if abs(value) >= Decimal(10) ** 13:
        raise ValueError("amount too large")
    return value


@lru_cache
def _unit(currency: str) -> Decimal:
    """The currency's smallest unit as a Decimal exponent (0.01 for NOK)."""
    return Decimal(1).scaleb(-minor_units(currency))


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor units, half up (the one rounding point)."""
    return amount.quantize(_unit(currency), rounding=ROUND_HALF_UP)


class MoneyOut(BaseModel):
    amount: str
    currency: str

    @classmethod
    def of(cls, amount: Decimal, currency: str) -> MoneyOut:
        return cls(amount=format(quantize(amount, currency), "f"), currency=currency)
