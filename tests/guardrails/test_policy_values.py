"""The policy document's decimals: JSON/YAML numbers or plain ASCII decimal strings."""

from __future__ import annotations

from decimal import Decimal

import pytest

from direkte.guardrails.policy import default_document, policy_for, validate_document


def _with_estimate(**values: object) -> dict[str, object]:
    document = default_document()
    document["global"]["materiality"]["estimate"].update(values)
    return document


@pytest.mark.parametrize("bar", [5000, "5000", "5000.50"])
def test_amount_as_number_or_decimal_string(bar: object) -> None:
    normalized, problems = validate_document(_with_estimate(min_increase={"NOK": bar}))
    assert problems == []
    policy = policy_for(normalized, "1", None)
    assert policy.materiality.estimate.min_increase["NOK"] == Decimal(str(bar))


@pytest.mark.parametrize("bar", ["\u0665\u0660\u0660\u0660", "NaN", "5e3", "5_000", " 5000"])
def test_odd_amount_string_is_a_problem_at_its_path(bar: str) -> None:
    # Arabic-Indic 5000: Python's Decimal() would read it as 5000.
    _, problems = validate_document(_with_estimate(min_increase={"NOK": bar}))
    assert [p["field"] for p in problems] == ["global.materiality.estimate.min_increase.NOK"]


@pytest.mark.parametrize("percent", ["\u0661\u0665", "Infinity", "1.5e1"])
def test_odd_percent_string_is_a_problem_at_its_path(percent: str) -> None:
    _, problems = validate_document(_with_estimate(min_increase_percent=percent))
    assert [p["field"] for p in problems] == ["global.materiality.estimate.min_increase_percent"]
