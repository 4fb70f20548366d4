"""What a customer is shown of a guardrail decision (DESIGN §5, issue 15 §7).

The decision, its tier, the policy version, every rule the customer's request
was judged by with whether it passed and a plain note, and the explanation in
their language. Of the inputs, only the eligibility checks about their own visit
(program running, checked in, within the window, category, subject); never
managers' ids and open-case counts, the customer's history counts against the
policy's limits or the phrases that matched, nor the capacity rule, which is how
the network shares its load. Staff and ops see the decision whole
(``access.sees_decision_inputs`` says who).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

INTERNAL_RULES = frozenset({"capacity"})
# The inputs a customer sees, by rule; every other input is left out.
_CUSTOMER_INPUTS = {"eligibility": ("checks",)}
# Notes that would name internal inputs, said plainly: (passed, not passed).
_PLAIN_NOTES = {"content": ("no threats or abuse", "held for a human check")}


def customer_view(guardrail: Mapping[str, Any]) -> dict[str, Any]:
    """The decision without internal inputs, in the same shape."""
    rules = [
        {"rule": r["rule"], "passed": r["passed"], "inputs": _inputs(r), "note": _note(r)}
        for r in guardrail.get("rules") or ()
        if r["rule"] not in INTERNAL_RULES
    ]
    return {**guardrail, "rules": rules}


def _note(rule: Mapping[str, Any]) -> str:
    plain = _PLAIN_NOTES.get(rule["rule"])
    if plain is None:
        return str(rule["note"])
    return plain[0] if rule["passed"] else plain[1]


def _inputs(rule: Mapping[str, Any]) -> dict[str, Any]:
    inputs = rule.get("inputs") or {}
    return {k: inputs[k] for k in _CUSTOMER_INPUTS.get(rule["rule"], ()) if k in inputs}
