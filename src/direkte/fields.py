"""Value types checked at the edge: VIN, E.164 phone, time zone, currency, language,
and the decimals clients send (amounts, quantities)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal
from itertools import pairwise
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers
from babel import Locale
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    PlainValidator,
    StringConstraints,
)

from direkte import money

# Row ids are 32-bit on both databases: a larger id in a request is bad input, not a crash.
MAX_ROW_ID = 2**31 - 1
RowRef = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]

Language = Literal["en", "nb", "da", "sv", "de"]
LANGUAGES: tuple[str, ...] = ("en", "nb", "da", "sv", "de")
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_VIN_RE = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
_VIN_VALUES = dict(
    zip(
        "ABCDEFGHJKLMNPRSTUVWXYZ",
        [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9],
        strict=True,
    )
)
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
# North America (WMI 1-5) requires the check digit in position 9; China (L) uses it too.
_CHECK_DIGIT_MARKETS = frozenset("12345L")


def vin_check_digit(vin: str) -> str:
    total = sum(
        (int(ch) if ch.isdigit() else _VIN_VALUES[ch]) * weight
        for ch, weight in zip(vin, _VIN_WEIGHTS, strict=True)
    )
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def check_vin(value: str) -> str:
    vin = value.strip().upper()
    if len(vin) != 17:
        raise ValueError("a VIN has 17 characters")
    if not _VIN_RE.match(vin):
        raise ValueError("a VIN uses digits and letters other than I, O and Q")
    if vin[0] in _CHECK_DIGIT_MARKETS and vin[8] != vin_check_digit(vin):
        raise ValueError("VIN check digit (9th character) does not match")
    return vin


def check_phone(value: str) -> str:
    if not value.startswith("+"):
        raise ValueError("phone numbers are E.164: + and country code, e.g. +4791234567")
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number")
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if formatted != value.replace(" ", ""):
        raise ValueError(f"write it in E.164: {formatted}")
    return str(formatted)


_ZONES: frozenset[str] = frozenset(available_timezones())


def check_time_zone(value: str) -> str:
    if value not in _ZONES:
        raise ValueError("unknown time zone")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("unknown time zone") from None
    return value


def check_currency(value: str) -> str:
    if not money.is_currency(value):
        raise ValueError("unknown ISO 4217 currency")
    return value


# Babel's territories also hold CLDR groupings and pseudo-regions that are not ISO 3166-1.
_NOT_COUNTRIES = frozenset({"CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "UN", "XA", "XB", "ZZ"})
_TERRITORIES = frozenset(
    str(k)
    for k in Locale("en").territories
    if isinstance(k, str) and len(k) == 2 and k.isalpha() and k not in _NOT_COUNTRIES
)


def check_country(value: str) -> str:
    if value not in _TERRITORIES:
        raise ValueError("unknown ISO 3166 country code")
    return value


def _as_text(value: object) -> object:
    # YAML 1.1 readers turn NO into False and 0800 into numbers; take the text back.
    if value is False:
        return "NO"
    return value


Vin = Annotated[str, AfterValidator(check_vin)]
Phone = Annotated[str, AfterValidator(check_phone)]
TimeZoneName = Annotated[str, AfterValidator(check_time_zone)]
Currency = Annotated[str, StringConstraints(to_upper=True), AfterValidator(check_currency)]
Country = Annotated[
    str, BeforeValidator(_as_text), StringConstraints(to_upper=True), AfterValidator(check_country)
]


def _trimmed(value: str) -> str:
    """The text without the whitespace around it; refuses one that keeps nothing."""
    trimmed = value.strip()
    if not trimmed:
        raise ValueError("must not be empty or only whitespace")
    return trimmed


# Text is trimmed of the whitespace around it and must keep a character. Its limits
# hold for the text as sent, so that what the OpenAPI document says (``maxLength``,
# ``pattern``) is what is refused: a text padded past its length is refused, not
# trimmed to fit, and a pattern is written with the whitespace around it allowed
# (``padded``). For example:
#     Annotated[str, StringConstraints(min_length=1, max_length=500), TRIMMED]
TRIMMED = AfterValidator(_trimmed)


def padded(pattern: str) -> str:
    """``pattern`` (``^…$``, for the trimmed text) with whitespace allowed around it."""
    return rf"^\s*(?:{pattern.removeprefix('^').removesuffix('$')})\s*$"


Code = Annotated[
    str,
    StringConstraints(min_length=1, max_length=32, pattern=padded(r"^[A-Za-z0-9_.-]+$")),
    TRIMMED,
]

_INTERVAL_RE = re.compile(r"([0-9]{2}):([0-9]{2})-([0-9]{2}):([0-9]{2})")


def parse_interval(text: str) -> tuple[time, time]:
    """Parse ``HH:MM-HH:MM``; the end may be 24:00 (midnight)."""
    # ASCII digits only: int() would read other scripts' digits too.
    match = _INTERVAL_RE.fullmatch(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not HH:MM-HH:MM")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 != 0):
        raise ValueError(f"{text!r} is not a time of day")
    start = time(h1, m1)
    end = time.max if h2 == 24 else time(h2, m2)
    if end <= start:
        raise ValueError(f"{text!r} ends before it starts")
    return start, end


def check_business_hours(value: dict[str, list[str]]) -> dict[str, list[str]]:
    """Weekdays ``mon``..``sun`` to lists of ``HH:MM-HH:MM``, without overlaps."""
    problems: list[str] = []
    normalized: dict[str, list[str]] = {}
    for day, intervals in value.items():
        if day not in WEEKDAYS:
            problems.append(f"{day}: not a weekday (mon..sun)")
            continue
        parsed: list[tuple[time, time, str]] = []
        for text in intervals:
            try:
                start, end = parse_interval(text)
            except ValueError as exc:
                problems.append(f"{day}: {exc}")
                continue
            parsed.append((start, end, text.strip()))
        parsed.sort()
        for (_, end, first), (start, _, second) in pairwise(parsed):
            if start < end:
                problems.append(f"{day}: {first} overlaps {second}")
        normalized[day] = [text for _, _, text in parsed]
    if problems:
        raise ValueError("; ".join(problems))
    return {day: normalized[day] for day in WEEKDAYS if normalized.get(day)}


BusinessHours = Annotated[dict[str, list[str]], AfterValidator(check_business_hours)]


# ---- decimals as clients send them -------------------------------------------------
# The contract's decimal string is money.is_plain_decimal (ASCII digits, an optional
# minus and point; no exponent, NaN, Infinity, "_", "+", spaces or other scripts'
# digits); the types below add each field's size. Amounts are only strings: their
# decimal places depend on the currency, checked by money.parse_amount in the service.


def _decimal_pattern(*, digits: int, places: int, signed: bool) -> str:
    sign = "-?" if signed else ""
    return rf"^{sign}[0-9]{{1,{digits}}}(\.[0-9]{{1,{places}}})?$"


AMOUNT_PATTERN = _decimal_pattern(digits=13, places=4, signed=True)
QUANTITY_PATTERN = _decimal_pattern(digits=8, places=3, signed=False)
_AMOUNT_RE = re.compile(AMOUNT_PATTERN)
_QUANTITY_RE = re.compile(QUANTITY_PATTERN)


def check_amount_text(value: str) -> str:
    """An amount as a decimal string: ``-?digits(.digits)?``, 13 digits and 4 places at most."""
    if not money.is_plain_decimal(value):
        raise ValueError(f"not a decimal number: write {money.PLAIN_DECIMAL_HINT}")
    if _AMOUNT_RE.fullmatch(value) is None:
        raise ValueError("at most 13 digits before the point and 4 after it")
    return value


def check_quantity(value: object) -> str:
    """A quantity as a JSON integer (``4``) or a decimal string (``"1.5"``), as text.

    A JSON float (``1.5``) is refused: binary floats do not hold decimal quantities
    exactly, and the contract asks for a string where there is a fraction.
    """
    if isinstance(value, bool) or not isinstance(value, int | str):
        if isinstance(value, float | Decimal):
            raise ValueError('a JSON integer (4) or a decimal string ("1.5"), not a float')
        raise ValueError('a JSON integer (4) or a decimal string ("1.5")')
    text = str(value) if isinstance(value, int) else value
    if isinstance(value, str) and not money.is_plain_decimal(value):
        raise ValueError(f"not a decimal number: write {money.PLAIN_DECIMAL_HINT}")
    if _QUANTITY_RE.fullmatch(text) is None:
        raise ValueError("0 or more, at most 8 digits before the point and 3 after it")
    return text


def _plain_if_text(value: object) -> object:
    if isinstance(value, str) and not money.is_plain_decimal(value):
        raise ValueError(f"not a decimal number: write {money.PLAIN_DECIMAL_HINT}")
    return value


# Documents (the guardrail policy) take JSON/YAML numbers as well as decimal strings.
DecimalNumber = Annotated[Decimal, BeforeValidator(_plain_if_text)]
AmountText = Annotated[
    str,
    AfterValidator(check_amount_text),
    Field(
        json_schema_extra={"pattern": AMOUNT_PATTERN},
        description='a decimal string in ASCII digits, e.g. "123.40" or "-5"',
    ),
]
Quantity = Annotated[
    str,
    PlainValidator(
        check_quantity,
        json_schema_input_type=(
            Annotated[int, Field(ge=0, le=99_999_999)]
            | Annotated[str, StringConstraints(pattern=QUANTITY_PATTERN)]
        ),
    ),
    Field(description='a JSON integer (4) or a decimal string in ASCII digits ("1.5")'),
]


def check_utc_range(value: datetime) -> datetime:
    """A time that still exists once converted to UTC (year 1 to 9999 there).

    ``9999-12-31T23:59:59-14:00`` parses, but is in year 10000 in UTC, where it
    is stored and compared.
    """
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range once converted to UTC") from None
    return value


# A time with its UTC offset, whose UTC time exists.


def _iso_text(value: object) -> object:
    """A date or time in a request is ISO 8601 text, as the OpenAPI document says;
    Pydantic would also take a number (seconds since 1970, or since midnight)."""
    if isinstance(value, int | float):  # bool too
        raise ValueError("must be an ISO 8601 string")
    return value


ISO_TEXT = BeforeValidator(_iso_text)
Instant = Annotated[AwareDatetime, ISO_TEXT, AfterValidator(check_utc_range)]
Day = Annotated[date, ISO_TEXT]
LocalTime = Annotated[time, ISO_TEXT]

# The largest amount a stored money column holds (18 digits, 4 after the point),
# kept at the contract's 13 digits before the point for sums and products too.
MAX_AMOUNT = Decimal(10) ** 13


def check_amount_in_range(value: Decimal, what: str) -> None:
    """Raises ValueError when ``value`` would not fit an amount column."""
    if abs(value) >= MAX_AMOUNT:
        raise ValueError(f"{what} has more than 13 digits before the point")
