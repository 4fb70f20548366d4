"""Money: exact decimals in an ISO 4217 currency, rounded only here, half up."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
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


def parse_amount(text: str | int | Decimal, currency: str) -> Decimal:
    """Parse an amount, refusing floats' cousins: NaN, infinities and excess decimals."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValueError("not a decimal number") from None
    if not value.is_finite():
        raise ValueError("not a finite number")
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > minor_units(currency):
        raise ValueError(f"{currency} has {minor_units(currency)} decimal places")
    if abs(value) >= Decimal(10) ** 13:
        raise ValueError("amount too large")
    return value


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor units, half up (the one rounding point)."""
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP)


class MoneyOut(BaseModel):
    amount: str
    currency: str

    @classmethod
    def of(cls, amount: Decimal, currency: str) -> MoneyOut:
        return cls(amount=format(quantize(amount, currency), "f"), currency=currency)
