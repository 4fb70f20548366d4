"""Properties of the guardrail decision, over generated facts and policies (pure, no database)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from direkte.guardrails.engine import Decision, Facts, RuleResult, evaluate
from direkte.guardrails.explanations import REASONS
from direkte.guardrails.policy import (
    CATEGORIES,
    Capacity,
    CategoryName,
    Content,
    DiagnosisMateriality,
    EstimateMateriality,
    Frequency,
    Materiality,
    Policy,
    SafetyOverrides,
    WarrantyMateriality,
)

NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
CURRENCIES = ("NOK", "SEK", "DKK", "EUR", "ISK", "USD")
VISIT_STATUSES = (
    "scheduled",
    "checked_in",
    "diagnosing",
    "awaiting_approval",
    "in_repair",
    "ready",
    "closed",
    "cancelled",
)
CREATE_RULES = ("eligibility", "frequency", "content", "duplicate", "materiality", "capacity")
APPEAL_RULES = ("eligibility", "appeal")
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

T = TypeVar("T")

# -- facts ------------------------------------------------------------------------------------


def usually(common: st.SearchStrategy[T], rare: st.SearchStrategy[T]) -> st.SearchStrategy[T]:
    """Mostly ``common``: keeps most requests past eligibility, so later rules get exercised."""
    return st.integers(min_value=0, max_value=9).flatmap(lambda n: rare if n == 0 else common)


ids = st.none() | st.integers(min_value=1, max_value=50)
tiers = st.none() | st.integers(min_value=0, max_value=2)
moments = st.none() | st.integers(min_value=-400 * 24, max_value=48).map(
    lambda hours: NOW + timedelta(hours=hours)
)
amount_values = st.decimals(
    min_value=0, max_value=1_000_000, places=2, allow_nan=False, allow_infinity=False
)
amount_texts = usually(
    st.integers(min_value=0, max_value=40_000).map(str) | amount_values.map(str),
    st.sampled_from((None, "", "0", "0.00")),
)


@st.composite
def facts(draw: st.DrawFn, kind: str | None = None) -> Facts:
    return Facts(
        kind=draw(st.sampled_from(("create", "appeal"))) if kind is None else kind,  # type: ignore[arg-type]
        category=draw(usually(st.sampled_from(CATEGORIES), st.just("other"))),
        program=draw(usually(st.sampled_from(("pilot", "on")), st.just("off"))),
        visit_status=draw(
            usually(st.sampled_from(VISIT_STATUSES[1:-1]), st.sampled_from(VISIT_STATUSES))
        ),
        visit_checked_in_at=draw(usually(moments.filter(bool), moments)),
        visit_closed_at=draw(usually(st.none(), moments)),
        subject_id=draw(ids),
        subject_belongs=draw(usually(st.just(True), st.booleans())),
        open_case_id=draw(usually(st.none(), ids)),
        open_case_tier=draw(tiers),
        similar_case_id=draw(usually(st.none(), ids)),
        similar_case_tier=draw(tiers),
        similarity=draw(st.floats(min_value=0, max_value=1)),
        cases_last_365_days=draw(
            usually(st.integers(min_value=0, max_value=3), st.integers(min_value=0, max_value=25))
        ),
        recent_outcomes=tuple(
            draw(st.lists(st.sampled_from(("upheld", "revised", "goodwill")), max_size=5))
        ),
        last_outcome_at=draw(moments),
        currency=draw(usually(st.sampled_from(CURRENCIES), st.none())),
        estimate_total=draw(amount_texts),
        first_approved_total=draw(amount_texts),
        warranty_claimed=draw(amount_texts),
        warranty_covered=draw(amount_texts),
        warranty_decision=draw(st.none() | st.sampled_from(("approved", "partial", "denied"))),
        within_coverage=draw(st.none() | st.booleans()),
        safety_related=draw(usually(st.just(False), st.just(True))),
        drivable=draw(usually(st.just(True), st.just(False))),
        days_since_previous_visit=draw(st.none() | st.integers(min_value=0, max_value=400)),
        contradicts_previous=draw(usually(st.just(False), st.just(True))),
        language=draw(st.none() | st.sampled_from(("en", "nb", "da", "sv", "de"))),
        threat=draw(usually(st.just(False), st.booleans())),
        abuse=draw(usually(st.just(False), st.booleans())),
        content_matches=tuple(draw(st.lists(st.sampled_from(("threat:x", "abuse:y")), max_size=2))),
        local_manager_id=draw(ids),
        local_open=draw(st.integers(min_value=0, max_value=60)),
        deputy_id=draw(ids),
        deputy_open=draw(st.integers(min_value=0, max_value=60)),
        regional_manager_id=draw(ids),
        regional_open=draw(st.integers(min_value=0, max_value=60)),
        case_status=draw(st.none() | st.sampled_from(("open", "resolved", "held", "closed"))),
        case_outcome_tier=draw(tiers),
        case_resolved_at=draw(moments),
        case_appealed=draw(st.booleans()),
    )


# -- policies ---------------------------------------------------------------------------------

money_bars = st.dictionaries(
    st.sampled_from(CURRENCIES),
    st.integers(min_value=0, max_value=20_000).map(Decimal) | amount_values,
    max_size=len(CURRENCIES),
)


def _in_order(categories: set[CategoryName]) -> tuple[CategoryName, ...]:
    return tuple(c for c in CATEGORIES if c in categories)


percents = st.decimals(min_value=0, max_value=200, places=1, allow_nan=False, allow_infinity=False)


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    return Policy(
        version=draw(st.sampled_from(("1", "2", "7"))),
        allowed_categories=draw(
            usually(st.just(CATEGORIES), st.sets(st.sampled_from(CATEGORIES)).map(_in_order))
        ),
        escalation_window_days=draw(st.integers(min_value=0, max_value=60)),
        appeal_window_days=draw(st.integers(min_value=0, max_value=30)),
        frequency=Frequency(
            max_per_365_days=draw(st.integers(min_value=1, max_value=20)),
            cooldown_days=draw(st.integers(min_value=0, max_value=90)),
            upheld_in_a_row=draw(st.integers(min_value=1, max_value=4)),
        ),
        materiality=Materiality(
            estimate=EstimateMateriality(
                min_increase=draw(money_bars), min_increase_percent=draw(percents)
            ),
            warranty=WarrantyMateriality(
                min_denied=draw(money_bars),
                safety_related=draw(st.booleans()),
                within_coverage=draw(st.booleans()),
            ),
            diagnosis=DiagnosisMateriality(
                repeat_visit_days=draw(st.integers(min_value=0, max_value=90)),
                safety_related=draw(st.booleans()),
                not_drivable=draw(st.booleans()),
                contradicting_revision=draw(st.booleans()),
            ),
        ),
        content=Content(
            moderate_threats=draw(st.booleans()),
            moderate_abuse=draw(st.booleans()),
            near_duplicate_similarity=draw(st.floats(min_value=0.01, max_value=1)),
        ),
        capacity=Capacity(
            local_manager_open_cap=draw(st.integers(min_value=1, max_value=60)),
            regional_manager_open_cap=draw(st.integers(min_value=1, max_value=60)),
        ),
        safety_overrides=SafetyOverrides(enabled=draw(st.booleans())),
    )


# -- raising the bar: each materiality threshold made stricter ----------------------------------

# Draws from a strategy: both ``st.DataObject.draw`` and a composite's ``draw``.
Draw = Callable[[st.SearchStrategy[Any]], Any]
Raise = Callable[[Policy, Draw], Policy]
deltas = st.decimals(
    min_value=0, max_value=100_000, places=2, allow_nan=False, allow_infinity=False
)


def _with(policy: Policy, **parts: object) -> Policy:
    """The policy with materiality parts replaced, validated again."""
    materiality = policy.materiality.model_copy(update=parts)
    body = policy.model_copy(update={"materiality": materiality}).model_dump()
    return Policy.model_validate(body)


def _raise_bars(bars: dict[str, Decimal], draw: Draw) -> dict[str, Decimal]:
    """Each currency's bar up by some amount, or removed (no bar: never material by amount)."""
    raised = {}
    for currency, bar in bars.items():
        if draw(st.integers(min_value=0, max_value=3)) == 0:
            continue
        raised[currency] = bar + draw(deltas)
    return raised


def _estimate_amount(policy: Policy, draw: Draw) -> Policy:
    rule = policy.materiality.estimate
    bars = _raise_bars(rule.min_increase, draw)
    return _with(policy, estimate=rule.model_copy(update={"min_increase": bars}))


def _estimate_percent(policy: Policy, draw: Draw) -> Policy:
    rule = policy.materiality.estimate
    percent = min(rule.min_increase_percent + draw(percents), Decimal(1000))
    return _with(policy, estimate=rule.model_copy(update={"min_increase_percent": percent}))


def _warranty_amount(policy: Policy, draw: Draw) -> Policy:
    rule = policy.materiality.warranty
    bars = _raise_bars(rule.min_denied, draw)
    return _with(policy, warranty=rule.model_copy(update={"min_denied": bars}))


def _repeat_visit_window(policy: Policy, draw: Draw) -> Policy:
    # A shorter window counts fewer visits as repeats: the stricter direction.
    rule = policy.materiality.diagnosis
    days = max(0, rule.repeat_visit_days - draw(st.integers(min_value=0, max_value=90)))
    return _with(policy, diagnosis=rule.model_copy(update={"repeat_visit_days": days}))


def _criteria_off(policy: Policy, draw: Draw) -> Policy:
    # Switching a criterion off can only raise the bar.
    warranty = policy.materiality.warranty
    diagnosis = policy.materiality.diagnosis

    def off(current: bool) -> bool:
        return current and draw(st.booleans())

    return _with(
        policy,
        warranty=warranty.model_copy(
            update={
                "safety_related": off(warranty.safety_related),
                "within_coverage": off(warranty.within_coverage),
            }
        ),
        diagnosis=diagnosis.model_copy(
            update={
                "safety_related": off(diagnosis.safety_related),
                "not_drivable": off(diagnosis.not_drivable),
                "contradicting_revision": off(diagnosis.contradicting_revision),
            }
        ),
    )


def _all_together(policy: Policy, draw: Draw) -> Policy:
    for one in (_estimate_amount, _estimate_percent, _warranty_amount, _repeat_visit_window):
        policy = one(policy, draw)
    return policy


RAISES: dict[str, Raise] = {
    "estimate.min_increase": _estimate_amount,
    "estimate.min_increase_percent": _estimate_percent,
    "warranty.min_denied": _warranty_amount,
    "diagnosis.repeat_visit_days": _repeat_visit_window,
    "all thresholds together": _all_together,
    "criteria switched off": _criteria_off,
}


def _reaches_a_manager(decision: Decision) -> bool:
    return decision.decision in ("route", "moderate") and (decision.tier or 0) >= 1


class TestRaisingTheBar:
    @pytest.mark.parametrize("which", RAISES)
    @PROPERTY
    @given(data=st.data(), policy=policies(), request=facts(kind="create"))
    def test_never_sends_more_to_managers(
        self, which: str, data: st.DataObject, policy: Policy, request: Facts
    ) -> None:
        stricter = RAISES[which](policy, data.draw)
        if _reaches_a_manager(evaluate(stricter, request, NOW)):
            assert _reaches_a_manager(evaluate(policy, request, NOW))

    @PROPERTY
    @given(data=st.data(), policy=policies(), request=facts(kind="create"))
    def test_materiality_rule_alone_is_monotone(
        self, data: st.DataObject, policy: Policy, request: Facts
    ) -> None:
        stricter = _criteria_off(_all_together(policy, data.draw), data.draw)
        if _rule(evaluate(stricter, request, NOW), "materiality").passed:
            assert _rule(evaluate(policy, request, NOW), "materiality").passed


def _rule(decision: Decision, name: str) -> RuleResult:
    return next(r for r in decision.rules if r.rule == name)


class TestDeterminism:
    @PROPERTY
    @given(policy=policies(), request=facts())
    def test_same_facts_and_policy_give_the_same_decision(
        self, policy: Policy, request: Facts
    ) -> None:
        assert evaluate(policy, request, NOW) == evaluate(policy, request, NOW)

    @PROPERTY
    @given(policy=policies(), request=facts())
    def test_recorded_facts_give_the_same_decision(self, policy: Policy, request: Facts) -> None:
        recorded = Facts.from_json(json.loads(json.dumps(request.as_json())))
        replayed = Policy.model_validate(json.loads(policy.model_dump_json()))
        assert recorded == request
        assert evaluate(replayed, recorded, NOW) == evaluate(policy, request, NOW)


class TestEveryRuleListed:
    @PROPERTY
    @given(policy=policies(), request=facts(kind="create"))
    def test_create_lists_all_six_rules_in_order(self, policy: Policy, request: Facts) -> None:
        decision = evaluate(policy, request, NOW)
        assert tuple(r.rule for r in decision.rules) == CREATE_RULES
        _check_listing(decision, policy)

    @PROPERTY
    @given(policy=policies(), request=facts(kind="appeal"))
    def test_appeal_lists_eligibility_and_appeal(self, policy: Policy, request: Facts) -> None:
        decision = evaluate(policy, request, NOW)
        assert tuple(r.rule for r in decision.rules) == APPEAL_RULES
        _check_listing(decision, policy)


def _check_listing(decision: Decision, policy: Policy) -> None:
    for result in decision.rules:
        assert isinstance(result.passed, bool)
        assert isinstance(result.inputs, dict)
        assert result.inputs
        assert isinstance(result.note, str)
        assert result.note
    assert decision.policy_version == policy.version
    assert decision.reason in REASONS
    if decision.decision == "reject":
        assert decision.tier is None
        assert not all(r.passed for r in decision.rules)
    json.dumps(decision.as_json())  # what is recorded must be storable as it is
