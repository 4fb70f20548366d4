"""The guardrail decision: a pure function of the request's facts and the policy.

``evaluate(policy, facts, now)`` applies each rule in a fixed order and returns
the decision with every rule's inputs and result. No session, no I/O: the
escalations service gathers the facts and records them with the decision.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from direkte.guardrails.categories import THREAT_CATEGORIES
from direkte.guardrails.content import parse_match
from direkte.guardrails.policy import (
    DiagnosisMateriality,
    EstimateMateriality,
    Policy,
    WarrantyMateriality,
)

DecisionKind = Literal["route", "reject", "moderate"]


@dataclass(frozen=True, slots=True)
class Facts:
    """What the decision may look at, as it was when the request came in."""

    kind: Literal["create", "appeal"]
    category: str
    program: str
    visit_status: str
    visit_checked_in_at: datetime | None
    visit_closed_at: datetime | None
    subject_id: int | None
    subject_belongs: bool
    open_case_id: int | None = None
    open_case_tier: int | None = None
    # near-duplicates: the customer's most similar open case on this visit
    similar_case_id: int | None = None
    similar_case_tier: int | None = None
    similarity: float = 0.0
    # frequency: the customer's cases in the last 365 days and recent outcomes
    cases_last_365_days: int = 0
    recent_outcomes: tuple[str, ...] = ()  # newest first
    last_outcome_at: datetime | None = None
    # materiality
    currency: str | None = None
    estimate_total: str | None = None
    first_approved_total: str | None = None
    warranty_claimed: str | None = None
    warranty_covered: str | None = None
    warranty_decision: str | None = None
    within_coverage: bool | None = None
    safety_related: bool = False
    drivable: bool = True
    days_since_previous_visit: int | None = None
    contradicts_previous: bool = False
    # content
    language: str | None = None
    threat: bool = False
    abuse: bool = False
    content_matches: tuple[str, ...] = ()  # "<list>/<category>: <words>" per phrase hit
    content_categories: tuple[str, ...] = ()  # held categories, most severe first
    content_screen: str | None = None  # the screen's version; None: before version 2
    # capacity: who would take it and how many open cases each has
    local_manager_id: int | None = None
    local_open: int = 0
    deputy_id: int | None = None
    deputy_open: int = 0
    regional_manager_id: int | None = None
    regional_open: int = 0
    # appeals
    case_status: str | None = None
    case_outcome_tier: int | None = None
    case_resolved_at: datetime | None = None
    case_appealed: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            k: (
                v.isoformat() if isinstance(v, datetime) else list(v) if isinstance(v, tuple) else v
            )
            for k, v in ((name, getattr(self, name)) for name, _ in _FACT_DEFAULTS)
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Facts:
        """Facts as recorded (for backtests); unknown keys from older records are ignored.

        A backtest reads a hundred thousand of these, so this skips ``__init__``
        (a frozen dataclass sets each of its 40-odd fields through
        ``object.__setattr__`` with keyword handling) and fills the slots directly.
        """
        facts = _new_facts(cls)
        get = data.get
        for name, default in _FACT_DEFAULTS:
            _set(facts, name, get(name, default))
        for name in _REQUIRED_FIELDS:
            if getattr(facts, name) is _REQUIRED:
                raise TypeError(f"recorded facts lack {name!r}")
        for name in _TIME_FIELDS:
            value = getattr(facts, name)
            if isinstance(value, str):
                _set(facts, name, datetime.fromisoformat(value))
        for name in _TUPLE_FIELDS:
            value = getattr(facts, name)
            if isinstance(value, list):
                _set(facts, name, tuple(value))
        return facts


_TIME_FIELDS = frozenset(
    {"visit_checked_in_at", "visit_closed_at", "last_outcome_at", "case_resolved_at"}
)
_TUPLE_FIELDS = frozenset({"recent_outcomes", "content_matches", "content_categories"})
_FACT_FIELDS = frozenset(f.name for f in fields(Facts))
_REQUIRED = object()
# (name, default) per field; every Facts default is immutable (no default factories).
_FACT_DEFAULTS = tuple(
    (f.name, _REQUIRED if f.default is MISSING else f.default) for f in fields(Facts)
)
_REQUIRED_FIELDS = tuple(name for name, default in _FACT_DEFAULTS if default is _REQUIRED)
_new_facts = object.__new__
_set = object.__setattr__


# RuleResult and Decision are not frozen: a frozen dataclass sets each field through
# object.__setattr__ (3.5 times the plain __init__), and a backtest makes twelve
# rule results and two decisions per recorded request. Nothing changes them.
@dataclass(slots=True)
class RuleResult:
    rule: str
    passed: bool
    inputs: dict[str, Any]
    note: str


@dataclass(slots=True)
class Decision:
    decision: DecisionKind
    tier: int | None
    policy_version: str
    rules: tuple[RuleResult, ...]
    reason: str  # the key of the customer's explanation
    folded_into: int | None = None
    assignee_id: int | None = None  # who takes it, as capacity decided (tier 1 or 2)
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "tier": self.tier,
            "policy_version": self.policy_version,
            # Field by field: dataclasses.asdict deep-copies, at about 1 ms a request.
            "rules": [
                {"rule": r.rule, "passed": r.passed, "inputs": dict(r.inputs), "note": r.note}
                for r in self.rules
            ],
            "reason": self.reason,
            "folded_into": self.folded_into,
            "assignee_id": self.assignee_id,
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def eligibility(policy: Policy, facts: Facts, now: datetime) -> RuleResult:
    """Program running, visit active or closed within the window, category allowed, own subject."""
    window_ends = (
        facts.visit_closed_at + timedelta(days=policy.escalation_window_days)
        if facts.visit_closed_at
        else None
    )
    checks = {
        "program_running": facts.program in ("pilot", "on"),
        "visit_checked_in": facts.visit_checked_in_at is not None
        and facts.visit_status not in ("scheduled", "cancelled"),
        "within_window": window_ends is None or now <= window_ends,
        "category_allowed": facts.category in policy.allowed_categories,
        "subject_of_visit": facts.subject_belongs,
    }
    failed = [name for name, ok in checks.items() if not ok]
    inputs = {
        "program": facts.program,
        "visit_status": facts.visit_status,
        "visit_closed_at": _iso(facts.visit_closed_at),
        "window_days": policy.escalation_window_days,
        "category": facts.category,
        "allowed_categories": list(policy.allowed_categories),
        "subject_id": facts.subject_id,
        "checks": checks,
    }
    note = "eligible" if not failed else "not eligible: " + ", ".join(failed)
    return RuleResult("eligibility", not failed, inputs, note)


def duplicate(policy: Policy, facts: Facts) -> RuleResult:
    """One open case per visit and category; a near-identical re-submission folds too."""
    threshold = policy.content.near_duplicate_similarity
    inputs = {
        "category": facts.category,
        "open_case_id": facts.open_case_id,
        "similar_case_id": facts.similar_case_id,
        "similarity": round(facts.similarity, 3),
        "similarity_threshold": threshold,
    }
    if facts.open_case_id is not None:
        return RuleResult("duplicate", False, inputs, f"folded into open case {facts.open_case_id}")
    if facts.similar_case_id is not None and facts.similarity >= threshold:
        return RuleResult(
            "duplicate", False, inputs, f"nearly identical to open case {facts.similar_case_id}"
        )
    return RuleResult("duplicate", True, inputs, "no open case for this visit and category")


def frequency(policy: Policy, facts: Facts, now: datetime) -> RuleResult:
    """At most N cases a customer in 365 days; a cooldown after upheld outcomes in a row."""
    rule = policy.frequency
    streak = facts.recent_outcomes[: rule.upheld_in_a_row]
    upheld_streak = len(streak) == rule.upheld_in_a_row and all(o == "upheld" for o in streak)
    cooling = (
        upheld_streak
        and facts.last_outcome_at is not None
        and now < facts.last_outcome_at + timedelta(days=rule.cooldown_days)
    )
    safety_exempt = policy.safety_overrides.enabled and facts.safety_related
    checks = {
        "under_limit": facts.cases_last_365_days < rule.max_per_365_days,
        "not_cooling_down": not cooling or safety_exempt,
    }
    failed = [name for name, ok in checks.items() if not ok]
    inputs = {
        "cases_last_365_days": facts.cases_last_365_days,
        "max_per_365_days": rule.max_per_365_days,
        "recent_outcomes": list(facts.recent_outcomes[:5]),
        "last_outcome_at": _iso(facts.last_outcome_at),
        "cooldown_days": rule.cooldown_days,
        "upheld_in_a_row": rule.upheld_in_a_row,
        "safety_exempt": safety_exempt,
        "checks": checks,
    }
    note = "within limits" if not failed else "over the limit: " + ", ".join(failed)
    return RuleResult("frequency", not failed, inputs, note)


def _amount(text: str | None) -> Decimal:
    return Decimal(text) if text else Decimal(0)


def materiality(policy: Policy, facts: Facts) -> RuleResult:
    """Whether the matter is substantive enough for a manager (else tier 0, not dropped)."""
    rule = policy.materiality
    safety = policy.safety_overrides.enabled and facts.safety_related
    inputs: dict[str, Any] = {"category": facts.category, "safety_override": safety}
    reasons: list[str] = []
    if facts.category == "estimate":
        _estimate_materiality(rule.estimate, facts, inputs, reasons)
    elif facts.category == "warranty":
        _warranty_materiality(rule.warranty, facts, inputs, reasons)
    else:
        _diagnosis_materiality(rule.diagnosis, facts, inputs, reasons)
    if safety and "safety_related" not in reasons:
        reasons.append("safety_override")
    inputs["material_because"] = reasons
    note = (
        "material: " + ", ".join(reasons)
        if reasons
        else "below the bar: the service advisor answers"
    )
    return RuleResult("materiality", bool(reasons), inputs, note)


# The three category rules below add their inputs and reasons to the caller's dict
# and list in place: materiality runs on every request and every backtested one.
def _estimate_materiality(
    rule: EstimateMateriality, facts: Facts, inputs: dict[str, Any], reasons: list[str]
) -> None:
    base, total = _amount(facts.first_approved_total), _amount(facts.estimate_total)
    increase = total - base
    percent = increase * 100 / base if base > 0 else Decimal(0) if increase <= 0 else Decimal(100)
    minimum = rule.min_increase.get(facts.currency or "", None)
    inputs |= {
        "first_approved_total": str(base),
        "estimate_total": str(total),
        "increase": str(increase),
        "increase_percent": str(round(percent, 1)),
        "min_increase": str(minimum) if minimum is not None else None,
        "min_increase_percent": str(rule.min_increase_percent),
        "currency": facts.currency,
    }
    if minimum is not None and increase >= minimum and percent >= rule.min_increase_percent:
        reasons.append("large_increase")


def _warranty_materiality(
    rule: WarrantyMateriality, facts: Facts, inputs: dict[str, Any], reasons: list[str]
) -> None:
    denied = _amount(facts.warranty_claimed) - _amount(facts.warranty_covered)
    minimum = rule.min_denied.get(facts.currency or "", None)
    inputs |= {
        "denied": str(denied),
        "min_denied": str(minimum) if minimum is not None else None,
        "currency": facts.currency,
        "decision": facts.warranty_decision,
        "safety_related": facts.safety_related,
        "within_coverage": facts.within_coverage,
    }
    if minimum is not None and denied >= minimum:
        reasons.append("large_denial")
    if rule.safety_related and facts.safety_related:
        reasons.append("safety_related")
    if rule.within_coverage and facts.within_coverage and denied > 0:
        reasons.append("within_coverage")


def _diagnosis_materiality(
    rule: DiagnosisMateriality, facts: Facts, inputs: dict[str, Any], reasons: list[str]
) -> None:
    repeat = (
        facts.days_since_previous_visit is not None
        and facts.days_since_previous_visit <= rule.repeat_visit_days
    )
    inputs |= {
        "days_since_previous_visit": facts.days_since_previous_visit,
        "repeat_visit_days": rule.repeat_visit_days,
        "safety_related": facts.safety_related,
        "drivable": facts.drivable,
        "contradicts_previous": facts.contradicts_previous,
    }
    if repeat:
        reasons.append("repeat_visit")
    if rule.safety_related and facts.safety_related:
        reasons.append("safety_related")
    if rule.not_drivable and not facts.drivable:
        reasons.append("not_drivable")
    if rule.contradicting_revision and facts.contradicts_previous:
        reasons.append("contradicts_previous")


def screened_categories(facts: Facts) -> tuple[str, ...]:
    """The categories the screen found; for requests recorded before the screen named
    them, "threat" and "abuse" from the two flags."""
    if facts.content_categories or facts.content_screen is not None:
        return facts.content_categories
    return (("threat",) if facts.threat else ()) + (("abuse",) if facts.abuse else ())


def held_categories(policy: Policy, categories: tuple[str, ...]) -> tuple[str, ...]:
    """Of the categories found, those the policy holds for a human check."""
    rule = policy.content
    return tuple(
        c
        for c in categories
        if c in rule.hold
        and (rule.moderate_threats if c in THREAT_CATEGORIES else rule.moderate_abuse)
    )


def content(policy: Policy, facts: Facts) -> RuleResult:
    """Threats and abuse, by category, are held for a human check; the language is
    recorded. The inputs name each category held and the words that decided."""
    found = screened_categories(facts) if facts.threat or facts.abuse else ()
    held = held_categories(policy, found) if found else ()
    inputs: dict[str, Any] = {
        "language": facts.language,
        "threat": facts.threat,
        "abuse": facts.abuse,
        "matches": list(facts.content_matches),
        "categories": list(held),
        "evidence": _evidence(facts.content_matches, held) if held else [],
    }
    if not held:
        return RuleResult("content", True, inputs, "no threats or abuse")
    shown = [e for e in facts.content_matches if parse_match(e) is None] + [
        f"{e['category']}: {e['words']}" for e in inputs["evidence"]
    ]
    return RuleResult("content", False, inputs, "held for review: " + ", ".join(shown))


def _evidence(matches: tuple[str, ...], held: tuple[str, ...]) -> list[dict[str, str]]:
    """The phrase hits of the held categories: category, phrase list, words matched."""
    found = []
    for match in matches:
        parsed = parse_match(match)
        if parsed is not None and parsed.category in held:
            found.append(
                {"category": parsed.category, "list": parsed.language, "words": parsed.words}
            )
    return found


def capacity(policy: Policy, facts: Facts) -> RuleResult:
    """A manager over the open-case cap gets no more: the deputy, else tier 2."""
    cap = policy.capacity
    inputs: dict[str, Any] = {
        "local_manager_id": facts.local_manager_id,
        "local_open": facts.local_open,
        "deputy_id": facts.deputy_id,
        "deputy_open": facts.deputy_open,
        "regional_manager_id": facts.regional_manager_id,
        "regional_open": facts.regional_open,
        "local_cap": cap.local_manager_open_cap,
        "regional_cap": cap.regional_manager_open_cap,
    }
    if facts.local_manager_id is not None and facts.local_open < cap.local_manager_open_cap:
        inputs["to"] = "local_manager"
        return RuleResult("capacity", True, inputs, "the local manager has room")
    if facts.deputy_id is not None and facts.deputy_open < cap.local_manager_open_cap:
        inputs["to"] = "deputy"
        return RuleResult("capacity", False, inputs, "the local manager is full: to the deputy")
    inputs["to"] = "regional_manager"
    return RuleResult("capacity", False, inputs, "local managers are full: to tier 2")


def appeal(policy: Policy, facts: Facts, now: datetime) -> RuleResult:
    """Once, within the appeal window after a tier-1 outcome."""
    window_ends = (
        facts.case_resolved_at + timedelta(days=policy.appeal_window_days)
        if facts.case_resolved_at
        else None
    )
    checks = {
        "has_outcome": facts.case_status == "resolved",
        "tier1_outcome": facts.case_outcome_tier == 1,
        "first_appeal": not facts.case_appealed,
        "within_window": window_ends is not None and now <= window_ends,
    }
    failed = [name for name, ok in checks.items() if not ok]
    inputs = {
        "case_status": facts.case_status,
        "outcome_tier": facts.case_outcome_tier,
        "resolved_at": _iso(facts.case_resolved_at),
        "appeal_window_days": policy.appeal_window_days,
        "already_appealed": facts.case_appealed,
        "checks": checks,
    }
    note = "appeal allowed" if not failed else "appeal not allowed: " + ", ".join(failed)
    return RuleResult("appeal", not failed, inputs, note)


def evaluate(policy: Policy, facts: Facts, now: datetime) -> Decision:
    """Decide where a request goes, applying every rule and listing each.

    Order of effect: eligibility, then frequency (reject); content (moderate);
    duplicate (fold into the open case); materiality (below the bar: tier 0);
    capacity (tier 1 to the local manager or the deputy, else tier 2). A request
    that would fold is not counted against the frequency limit.
    Appeals: eligibility, then the appeal rule (reject), else tier 2.
    """
    first = eligibility(policy, facts, now)
    if facts.kind == "appeal":
        second = appeal(policy, facts, now)
        rules: tuple[RuleResult, ...] = (first, second)
        if not first.passed:
            return Decision("reject", None, policy.version, rules, _reject_reason(first))
        if not second.passed:
            return Decision("reject", None, policy.version, rules, _appeal_reason(second))
        return Decision(
            "route",
            2,
            policy.version,
            rules,
            "appeal_routed",
            assignee_id=facts.regional_manager_id,
        )
    dup = duplicate(policy, facts)
    freq = frequency(policy, facts, now)
    said = content(policy, facts)
    material = materiality(policy, facts)
    room = capacity(policy, facts)
    rules = (first, freq, said, dup, material, room)
    version = policy.version
    if not first.passed:
        return Decision("reject", None, version, rules, _reject_reason(first))
    folds_into = facts.open_case_id if facts.open_case_id is not None else facts.similar_case_id
    if not freq.passed and dup.passed:
        return Decision("reject", None, version, rules, _frequency_reason(freq))
    if not said.passed:
        return Decision(
            "moderate",
            _tier(material, room),
            version,
            rules,
            "held",
            assignee_id=_assignee(material, room, facts),
        )
    if not dup.passed:
        tier = facts.open_case_tier if facts.open_case_id is not None else facts.similar_case_tier
        return Decision("route", tier, version, rules, "folded", folded_into=folds_into)
    tier = _tier(material, room)
    return Decision(
        "route",
        tier,
        version,
        rules,
        f"routed.tier{tier}",
        assignee_id=_assignee(material, room, facts),
    )


def _tier(material: RuleResult, room: RuleResult) -> int:
    if not material.passed:
        return 0
    return 2 if room.inputs["to"] == "regional_manager" else 1


def _assignee(material: RuleResult, room: RuleResult, facts: Facts) -> int | None:
    if not material.passed:
        return None  # tier 0: the visit's advisor, chosen when the case is made
    return {
        "local_manager": facts.local_manager_id,
        "deputy": facts.deputy_id,
        "regional_manager": facts.regional_manager_id,
    }[room.inputs["to"]]


def _frequency_reason(result: RuleResult) -> str:
    checks: dict[str, bool] = result.inputs["checks"]
    return "frequency.under_limit" if not checks["under_limit"] else "frequency.not_cooling_down"


def _reject_reason(result: RuleResult) -> str:
    checks: dict[str, bool] = result.inputs["checks"]
    for name in (
        "program_running",
        "visit_checked_in",
        "within_window",
        "category_allowed",
        "subject_of_visit",
    ):
        if not checks[name]:
            return f"not_eligible.{name}"
    return "not_eligible"  # pragma: no cover


def _appeal_reason(result: RuleResult) -> str:
    checks: dict[str, bool] = result.inputs["checks"]
    # A case appealed once is told so first, whatever state the appeal left it in.
    for name in ("first_appeal", "has_outcome", "tier1_outcome", "within_window"):
        if not checks[name]:
            return f"appeal.{name}"
    return "appeal"  # pragma: no cover
