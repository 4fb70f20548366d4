"""The guardrail decision: a pure function of the request's facts and the policy.

``evaluate(policy, facts, now)`` applies each rule in a fixed order and returns
the decision with every rule's inputs and result. No session, no I/O: the
escalations service gathers the facts and records them with the decision.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from direkte.guardrails.policy import Policy

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
    # appeals
    case_status: str | None = None
    case_outcome_tier: int | None = None
    case_resolved_at: datetime | None = None
    case_appealed: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(self).items()
        }


@dataclass(frozen=True, slots=True)
class RuleResult:
    rule: str
    passed: bool
    inputs: dict[str, Any]
    note: str


@dataclass(frozen=True, slots=True)
class Decision:
    decision: DecisionKind
    tier: int | None
    policy_version: str
    rules: tuple[RuleResult, ...]
    reason: str  # the key of the customer's explanation
    folded_into: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "tier": self.tier,
            "policy_version": self.policy_version,
            "rules": [asdict(r) for r in self.rules],
            "reason": self.reason,
            "folded_into": self.folded_into,
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


def duplicate(facts: Facts) -> RuleResult:
    """One open case per visit and category; a repeat is folded into it."""
    inputs = {"category": facts.category, "open_case_id": facts.open_case_id}
    if facts.open_case_id is None:
        return RuleResult("duplicate", True, inputs, "no open case for this visit and category")
    return RuleResult("duplicate", False, inputs, f"folded into open case {facts.open_case_id}")


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
    """Decide where a request goes: reject if not eligible, fold a duplicate, else route.

    Order: eligibility (reject) → duplicate (fold) → route to tier 1. Appeals:
    eligibility → appeal rule (reject) → route to tier 2.
    """
    first = eligibility(policy, facts, now)
    if facts.kind == "appeal":
        second = appeal(policy, facts, now)
        rules = (first, second)
        if not first.passed:
            return Decision("reject", None, policy.version, rules, "not_eligible")
        if not second.passed:
            return Decision("reject", None, policy.version, rules, _appeal_reason(second))
        return Decision("route", 2, policy.version, rules, "appeal_routed")
    second = duplicate(facts)
    rules = (first, second)
    if not first.passed:
        return Decision("reject", None, policy.version, rules, _reject_reason(first))
    if not second.passed:
        return Decision(
            "route",
            facts.open_case_tier,
            policy.version,
            rules,
            "folded",
            folded_into=facts.open_case_id,
        )
    return Decision("route", 1, policy.version, rules, "routed")


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
