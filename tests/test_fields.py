"""Pure unit tests for the value types at the edge (direkte.fields) and for money."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from direkte import money
from direkte.fields import (
    AmountText,
    BusinessHours,
    Country,
    Currency,
    DecimalNumber,
    Phone,
    Quantity,
    TimeZoneName,
    Vin,
    check_business_hours,
    check_country,
    check_currency,
    check_phone,
    check_time_zone,
    check_vin,
    parse_interval,
    vin_check_digit,
)

VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"


def with_check_digit(draft: str) -> str:
    return draft[:8] + vin_check_digit(draft) + draft[9:]


def with_wrong_check_digit(draft: str) -> str:
    right = vin_check_digit(draft)
    wrong = "0" if right != "0" else "1"
    return draft[:8] + wrong + draft[9:]


class TestVin:
    # 1M8GDM9AXKP042788 is the textbook example of a valid North American VIN.
    def test_known_north_american_vin_passes(self) -> None:
        assert check_vin("1M8GDM9AXKP042788") == "1M8GDM9AXKP042788"

    def test_lowercase_and_padding_normalized(self) -> None:
        assert check_vin("  1m8gdm9axkp042788 ") == "1M8GDM9AXKP042788"

    @pytest.mark.parametrize("vin", ["1M8GDM9AXKP04278", "1M8GDM9AXKP0427888", ""])
    def test_wrong_length_refused(self, vin: str) -> None:
        with pytest.raises(ValueError, match="17"):
            check_vin(vin)

    @pytest.mark.parametrize("letter", ["I", "O", "Q"])
    def test_letters_i_o_q_refused(self, letter: str) -> None:
        vin = "YV1" + letter + "A22C7" + "1" + "2345678"
        assert len(vin) == 17
        with pytest.raises(ValueError, match="I, O and Q"):
            check_vin(vin)

    def test_punctuation_refused(self) -> None:
        with pytest.raises(ValueError, match="VIN"):
            check_vin("YV1-A22C71234567")

    @pytest.mark.parametrize("wmi", ["1G1", "2HG", "3VW", "4T1", "5YJ", "LRW"])
    def test_check_digit_market_wrong_digit_refused(self, wmi: str) -> None:
        vin = with_wrong_check_digit(f"{wmi}3E1EA0KF123456")
        with pytest.raises(ValueError, match="check digit"):
            check_vin(vin)

    @pytest.mark.parametrize("wmi", ["1G1", "2HG", "3VW", "4T1", "5YJ", "LRW"])
    def test_check_digit_market_right_digit_passes(self, wmi: str) -> None:
        vin = with_check_digit(f"{wmi}3E1EA0KF123456")
        assert check_vin(vin) == vin

    @pytest.mark.parametrize("wmi", ["YV1", "WVW", "WBA", "VF1", "SAL", "JTD"])
    def test_non_check_digit_market_wrong_digit_passes(self, wmi: str) -> None:
        vin = with_wrong_check_digit(f"{wmi}3E1EA0KF123456")
        assert check_vin(vin) == vin

    def test_check_digit_x_for_remainder_ten(self) -> None:
        # The digits below sum (weighted) to a remainder of 10 modulo 11.
        draft = "1M8GDM9A0KP042788"
        assert vin_check_digit(draft) == "X"

    def test_vin_type_reports_validation_error(self) -> None:
        with pytest.raises(ValidationError):
            TypeAdapter(Vin).validate_python("1M8GDM9A1KP042788")

    @given(
        wmi_first=st.sampled_from("12345L"),
        rest=st.text(alphabet=VIN_CHARS, min_size=16, max_size=16),
    )
    def test_any_vin_with_computed_check_digit_passes(self, wmi_first: str, rest: str) -> None:
        vin = with_check_digit(wmi_first + rest)
        assert check_vin(vin) == vin

    @given(
        wmi_first=st.sampled_from("12345L"),
        rest=st.text(alphabet=VIN_CHARS, min_size=16, max_size=16),
        wrong=st.sampled_from("0123456789X"),
    )
    def test_any_check_digit_market_vin_with_other_digit_fails(
        self, wmi_first: str, rest: str, wrong: str
    ) -> None:
        draft = wmi_first + rest
        if vin_check_digit(draft) == wrong:
            return
        with pytest.raises(ValueError, match="check digit"):
            check_vin(draft[:8] + wrong + draft[9:])

    @given(
        wmi_first=st.sampled_from("JKSVWYZ9"),
        rest=st.text(alphabet=VIN_CHARS, min_size=16, max_size=16),
    )
    def test_any_european_or_asian_vin_passes_without_check_digit(
        self, wmi_first: str, rest: str
    ) -> None:
        assert check_vin(wmi_first + rest) == wmi_first + rest


class TestPhone:
    def test_e164_passes(self) -> None:
        assert check_phone("+4791234567") == "+4791234567"

    def test_spaces_normalized_to_e164(self) -> None:
        assert check_phone("+47 912 34 567") == "+4791234567"

    @pytest.mark.parametrize("value", ["91234567", "004791234567", "4791234567"])
    def test_missing_plus_refused(self, value: str) -> None:
        with pytest.raises(ValueError, match=r"E\.164"):
            check_phone(value)

    @pytest.mark.parametrize("value", ["+47123", "+4712345678901234", "+999123456789"])
    def test_invalid_number_refused(self, value: str) -> None:
        with pytest.raises(ValueError, match="phone number"):
            check_phone(value)

    def test_letters_refused(self) -> None:
        with pytest.raises(ValueError, match="phone number"):
            check_phone("+47abcdefgh")

    def test_phone_type_reports_validation_error(self) -> None:
        with pytest.raises(ValidationError):
            TypeAdapter(Phone).validate_python("12345")


class TestTimeZone:
    @pytest.mark.parametrize("zone", ["Europe/Oslo", "America/New_York", "UTC", "Asia/Kolkata"])
    def test_iana_zone_passes(self, zone: str) -> None:
        assert check_time_zone(zone) == zone

    @pytest.mark.parametrize("zone", ["Europe/Osloo", "Mars/Olympus", "", "europe/oslo", "+01:00"])
    def test_unknown_zone_refused(self, zone: str) -> None:
        with pytest.raises(ValueError, match="unknown time zone"):
            check_time_zone(zone)

    def test_path_traversal_refused(self) -> None:
        with pytest.raises(ValueError, match="unknown time zone"):
            TypeAdapter(TimeZoneName).validate_python("../../etc/passwd")


class TestBusinessHours:
    def test_sorted_by_weekday_and_time_empty_days_dropped(self) -> None:
        hours = {
            "fri": ["08:00-15:00"],
            "mon": ["13:00-17:00", "08:00-12:00"],
            "sun": [],
        }
        assert check_business_hours(hours) == {
            "mon": ["08:00-12:00", "13:00-17:00"],
            "fri": ["08:00-15:00"],
        }

    def test_adjacent_intervals_pass(self) -> None:
        assert check_business_hours({"tue": ["08:00-12:00", "12:00-16:00"]}) == {
            "tue": ["08:00-12:00", "12:00-16:00"]
        }

    def test_overlap_refused(self) -> None:
        with pytest.raises(ValueError, match="overlaps"):
            check_business_hours({"mon": ["08:00-12:00", "11:00-16:00"]})

    def test_contained_interval_refused(self) -> None:
        with pytest.raises(ValueError, match="overlaps"):
            check_business_hours({"wed": ["08:00-18:00", "10:00-11:00"]})

    def test_every_problem_reported(self) -> None:
        with pytest.raises(ValueError, match="overlaps") as info:
            check_business_hours({"mon": ["08:00-12:00", "11:00-16:00"], "xyz": ["08:00-09:00"]})
        assert "mon:" in str(info.value)
        assert "xyz:" in str(info.value)

    @pytest.mark.parametrize(
        "text",
        [
            "8-16",
            "08:00",
            "08:00-16",
            "0800-1600",
            "08.00-16.00",
            "08:00-16:00x",
            "\u0660\u0668:00-16:00",  # Arabic-Indic 08: int() would read 8
        ],
    )
    def test_bad_format_refused(self, text: str) -> None:
        with pytest.raises(ValueError, match="HH:MM-HH:MM"):
            check_business_hours({"mon": [text]})

    @pytest.mark.parametrize("text", ["25:00-26:00", "08:60-09:00", "08:00-24:30"])
    def test_impossible_time_refused(self, text: str) -> None:
        with pytest.raises(ValueError, match="time of day"):
            parse_interval(text)

    @pytest.mark.parametrize("text", ["16:00-08:00", "08:00-08:00"])
    def test_end_not_after_start_refused(self, text: str) -> None:
        with pytest.raises(ValueError, match="ends before"):
            parse_interval(text)

    def test_midnight_end_is_end_of_day(self) -> None:
        assert parse_interval("20:00-24:00") == (time(20, 0), time.max)

    def test_unknown_weekday_refused(self) -> None:
        with pytest.raises(ValueError, match="weekday"):
            check_business_hours({"monday": ["08:00-16:00"]})

    def test_type_reports_validation_error(self) -> None:
        with pytest.raises(ValidationError):
            TypeAdapter(BusinessHours).validate_python({"mon": ["08:00-12:00", "09:00-10:00"]})


class TestCurrencyAndCountry:
    @pytest.mark.parametrize("code", ["NOK", "EUR", "JPY", "KWD", "DKK", "SEK"])
    def test_iso_currency_passes(self, code: str) -> None:
        assert check_currency(code) == code

    @pytest.mark.parametrize("code", ["ABC", "XAU", "XXX", "NO", "NOKK"])
    def test_unknown_or_non_tender_currency_refused(self, code: str) -> None:
        with pytest.raises(ValueError, match="currency"):
            check_currency(code)

    def test_currency_type_uppercases(self) -> None:
        assert TypeAdapter(Currency).validate_python("nok") == "NOK"

    @pytest.mark.parametrize("code", ["NO", "DK", "SE", "DE"])
    def test_iso_country_passes(self, code: str) -> None:
        assert check_country(code) == code

    @pytest.mark.parametrize("code", ["XY", "UK", "ZZ", "EU", "UN"])
    def test_unknown_or_pseudo_country_refused(self, code: str) -> None:
        with pytest.raises(ValueError, match="country"):
            check_country(code)

    def test_country_type_reads_yaml11_false_as_norway(self) -> None:
        assert TypeAdapter(Country).validate_python(False) == "NO"

    def test_country_type_uppercases(self) -> None:
        assert TypeAdapter(Country).validate_python("dk") == "DK"


class TestMinorUnits:
    @pytest.mark.parametrize(
        ("currency", "units"), [("NOK", 2), ("EUR", 2), ("JPY", 0), ("KWD", 3)]
    )
    def test_iso_4217_minor_units(self, currency: str, units: int) -> None:
        assert money.minor_units(currency) == units


# Strings Python's Decimal() accepts that are not the contract's decimal string
# (-?digits(.digits)?, ASCII digits only).
NOT_PLAIN_DECIMALS = [
    "\u0661\u0662\u0663",  # Arabic-Indic 123
    "\u0967\u0968",  # Devanagari 12
    "\uff11\uff12",  # fullwidth 12
    "NaN",
    "nan",
    "sNaN",
    "Infinity",
    "-inf",
    "1e3",
    "1E-2",
    "1_000",
    " 5",
    "5 ",
    "5\n",
    "+5",
    ".5",
    "5.",
    "--5",
]


class TestPlainDecimal:
    @pytest.mark.parametrize("text", ["0", "5", "-5", "123.40", "-0.01", "0012.5"])
    def test_plain_decimals(self, text: str) -> None:
        assert money.is_plain_decimal(text)

    @pytest.mark.parametrize("text", NOT_PLAIN_DECIMALS)
    def test_everything_else(self, text: str) -> None:
        assert not money.is_plain_decimal(text)


class TestAmountText:
    @pytest.mark.parametrize("text", ["123.40", "-25.50", "0", "9999999999999.9999"])
    def test_decimal_strings_kept_as_sent(self, text: str) -> None:
        assert TypeAdapter(AmountText).validate_json(f'"{text}"') == text

    @pytest.mark.parametrize("text", NOT_PLAIN_DECIMALS)
    def test_odd_strings_refused(self, text: str) -> None:
        with pytest.raises(ValidationError, match="not a decimal number"):
            TypeAdapter(AmountText).validate_python(text)

    @pytest.mark.parametrize("text", ["12345678901234", "1.23456"])
    def test_too_many_digits_refused(self, text: str) -> None:
        with pytest.raises(ValidationError, match="at most 13 digits"):
            TypeAdapter(AmountText).validate_python(text)

    @pytest.mark.parametrize("raw", ["123", "1.5", "null", "true"])
    def test_json_numbers_refused(self, raw: str) -> None:
        # In requests an amount is a decimal string (API.md), never a JSON number.
        with pytest.raises(ValidationError):
            TypeAdapter(AmountText).validate_json(raw)

    def test_schema_is_a_string_with_the_ascii_pattern(self) -> None:
        schema = TypeAdapter(AmountText).json_schema()
        assert schema["type"] == "string"
        assert schema["pattern"] == r"^-?[0-9]{1,13}(\.[0-9]{1,4})?$"


class TestQuantity:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [("4", "4"), ("0", "0"), ("99999999", "99999999"), ('"1.5"', "1.5"), ('"0.333"', "0.333")],
    )
    def test_json_integer_or_decimal_string(self, raw: str, expected: str) -> None:
        assert TypeAdapter(Quantity).validate_json(raw) == expected

    @pytest.mark.parametrize("raw", ["1.5", "4.0", "1e3"])
    def test_json_float_refused(self, raw: str) -> None:
        with pytest.raises(ValidationError, match="not a float"):
            TypeAdapter(Quantity).validate_json(raw)

    @pytest.mark.parametrize("raw", ["true", "null", "[1]", '{"q": 1}'])
    def test_other_json_refused(self, raw: str) -> None:
        with pytest.raises(ValidationError, match="JSON integer"):
            TypeAdapter(Quantity).validate_json(raw)

    @pytest.mark.parametrize("text", NOT_PLAIN_DECIMALS)
    def test_odd_strings_refused(self, text: str) -> None:
        with pytest.raises(ValidationError, match="not a decimal number"):
            TypeAdapter(Quantity).validate_python(text)

    @pytest.mark.parametrize("raw", ["-1", '"-1"', "100000000", '"1.2345"'])
    def test_negative_or_too_long_refused(self, raw: str) -> None:
        with pytest.raises(ValidationError, match="at most 8 digits"):
            TypeAdapter(Quantity).validate_json(raw)

    def test_schema_is_an_integer_or_a_decimal_string(self) -> None:
        schema = TypeAdapter(Quantity).json_schema()
        assert schema["anyOf"] == [
            {"type": "integer", "minimum": 0, "maximum": 99_999_999},
            {"type": "string", "pattern": r"^[0-9]{1,8}(\.[0-9]{1,3})?$"},
        ]


class TestDecimalNumber:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [("5000", Decimal(5000)), ('"5000"', Decimal(5000)), ("12.5", Decimal("12.5"))],
    )
    def test_json_number_or_decimal_string(self, raw: str, expected: Decimal) -> None:
        assert TypeAdapter(DecimalNumber).validate_json(raw) == expected

    @pytest.mark.parametrize("text", NOT_PLAIN_DECIMALS)
    def test_odd_strings_refused(self, text: str) -> None:
        with pytest.raises(ValidationError, match="not a decimal number"):
            TypeAdapter(DecimalNumber).validate_python(text)


class TestParseAmount:
    @pytest.mark.parametrize(
        ("text", "currency", "expected"),
        [
            ("123.40", "NOK", Decimal("123.40")),
            ("5", "NOK", Decimal("5")),
            ("-0.01", "NOK", Decimal("-0.01")),
            ("100", "JPY", Decimal("100")),
            ("1.234", "KWD", Decimal("1.234")),
            (Decimal("9.99"), "EUR", Decimal("9.99")),
            (7, "EUR", Decimal("7")),
        ],
    )
    def test_valid_amount_parsed_exactly(
        self, text: str | int | Decimal, currency: str, expected: Decimal
    ) -> None:
        value = money.parse_amount(text, currency)
        assert value == expected
        assert isinstance(value, Decimal)

    @pytest.mark.parametrize(
        ("text", "currency"),
        [("1.234", "NOK"), ("100.5", "JPY"), ("1.2345", "KWD"), ("0.001", "EUR")],
    )
    def test_excess_decimals_refused(self, text: str, currency: str) -> None:
        with pytest.raises(ValueError, match="decimal places"):
            money.parse_amount(text, currency)

    @pytest.mark.parametrize("text", ["NaN", "nan", "sNaN", "Infinity", "-inf"])
    def test_non_finite_refused(self, text: str) -> None:
        with pytest.raises(ValueError, match="not a"):
            money.parse_amount(text, "NOK")

    @pytest.mark.parametrize("text", ["abc", "", "1,50", "1.2.3"])
    def test_not_a_number_refused(self, text: str) -> None:
        with pytest.raises(ValueError, match="decimal"):
            money.parse_amount(text, "NOK")

    @pytest.mark.parametrize("text", NOT_PLAIN_DECIMALS)
    def test_only_plain_ascii_decimals(self, text: str) -> None:
        # Decimal() reads all of these; the contract's decimal string is none of them.
        with pytest.raises(ValueError, match="not a decimal number"):
            money.parse_amount(text, "NOK")

    def test_non_finite_decimal_refused(self) -> None:
        with pytest.raises(ValueError, match="not a finite number"):
            money.parse_amount(Decimal("NaN"), "NOK")

    def test_too_large_refused(self) -> None:
        with pytest.raises(ValueError, match="too large"):
            money.parse_amount("10000000000000", "NOK")


class TestQuantize:
    @pytest.mark.parametrize(
        ("amount", "currency", "expected"),
        [
            ("2.345", "NOK", "2.35"),
            ("2.344", "NOK", "2.34"),
            ("2025.075", "NOK", "2025.08"),
            ("-2.345", "NOK", "-2.35"),
            ("0.5", "JPY", "1"),
            ("1.4", "JPY", "1"),
            ("1.2345", "KWD", "1.235"),
            ("3", "NOK", "3.00"),
        ],
    )
    def test_rounds_half_up_to_minor_units(self, amount: str, currency: str, expected: str) -> None:
        assert format(money.quantize(Decimal(amount), currency), "f") == expected

    def test_money_out_is_decimal_string(self) -> None:
        out = money.MoneyOut.of(Decimal("123.4"), "NOK")
        assert out.model_dump() == {"amount": "123.40", "currency": "NOK"}

    @given(
        amount=st.decimals(
            min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=6, allow_nan=False
        ),
        currency=st.sampled_from(["NOK", "JPY", "KWD"]),
    )
    def test_quantized_within_half_a_minor_unit(self, amount: Decimal, currency: str) -> None:
        rounded = money.quantize(amount, currency)
        units = money.minor_units(currency)
        assert rounded.as_tuple().exponent == -units
        assert abs(rounded - amount) <= Decimal(5).scaleb(-units - 1)
        # Idempotent: rounding a rounded amount changes nothing.
        assert money.quantize(rounded, currency) == rounded
