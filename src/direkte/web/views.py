"""What the customer's pages show beside the API's own schemas: how each revision of a
visit differs from the one before it. Presentation only: the amounts come from the
API's output, the baseline from ``visits.revisions.estimate_baseline`` (the same one
materiality is measured from)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from direkte.money import MoneyOut
from direkte.visits.revisions import estimate_baseline
from direkte.visits.schemas import (
    DiagnosisOut,
    EstimateLineOut,
    EstimateOut,
    WarrantyDecisionOut,
)


@dataclass(frozen=True, slots=True)
class Change:
    """An amount's change: in money (the currency's) and in percent of the old one."""

    amount: Decimal
    currency: str
    percent: Decimal | None

    @classmethod
    def between(cls, old: MoneyOut, new: MoneyOut) -> Change:
        before, after = Decimal(old.amount), Decimal(new.amount)
        percent = (
            None if before == 0 else ((after - before) * 100 / before).quantize(Decimal("0.1"))
        )
        return cls(after - before, new.currency, percent)

    @property
    def money(self) -> tuple[Decimal, str]:
        return self.amount, self.currency


@dataclass(frozen=True, slots=True)
class LineChange:
    description: str
    before: EstimateLineOut | None
    after: EstimateLineOut | None


@dataclass(frozen=True, slots=True)
class EstimateRevision:
    estimate: EstimateOut
    previous: EstimateOut | None
    change: Change | None  # from the previous revision
    from_baseline: Change | None  # from the first approved (else the first) estimate
    is_baseline: bool
    lines: list[LineChange] = field(default_factory=list)  # what changed, line by line


def _line_key(line: EstimateLineOut) -> tuple[str, str]:
    return line.kind.value, line.description.strip().lower()


def _line_changes(before: EstimateOut, after: EstimateOut) -> list[LineChange]:
    old = {_line_key(line): line for line in before.lines}
    new = {_line_key(line): line for line in after.lines}
    changes = []
    for key, line in new.items():
        was = old.get(key)
        if was is None or (was.quantity, was.amount.amount) != (line.quantity, line.amount.amount):
            changes.append(LineChange(line.description, was, line))
    changes.extend(
        LineChange(line.description, line, None) for k, line in old.items() if k not in new
    )
    return changes


def estimate_revisions(estimates: list[EstimateOut]) -> list[EstimateRevision]:
    """Each estimate revision with its change from the one before and from the baseline."""
    baseline = estimate_baseline(estimates)
    revisions = []
    previous: EstimateOut | None = None
    for estimate in estimates:
        revisions.append(
            EstimateRevision(
                estimate=estimate,
                previous=previous,
                change=Change.between(previous.total, estimate.total) if previous else None,
                from_baseline=(
                    Change.between(baseline.total, estimate.total)
                    if baseline is not None and baseline is not estimate
                    else None
                ),
                is_baseline=baseline is estimate,
                lines=_line_changes(previous, estimate) if previous else [],
            )
        )
        previous = estimate
    return revisions


@dataclass(frozen=True, slots=True)
class DiagnosisRevision:
    diagnosis: DiagnosisOut
    added_codes: list[str]
    removed_codes: list[str]
    findings_changed: bool
    safety_changed: bool
    first: bool


def diagnosis_revisions(diagnoses: list[DiagnosisOut]) -> list[DiagnosisRevision]:
    found = []
    previous: DiagnosisOut | None = None
    for diagnosis in diagnoses:
        before = set(previous.codes) if previous else set()
        found.append(
            DiagnosisRevision(
                diagnosis=diagnosis,
                added_codes=sorted(set(diagnosis.codes) - before) if previous else [],
                removed_codes=sorted(before - set(diagnosis.codes)),
                findings_changed=previous is not None and previous.findings != diagnosis.findings,
                safety_changed=(
                    previous is not None and previous.safety_related != diagnosis.safety_related
                ),
                first=previous is None,
            )
        )
        previous = diagnosis
    return found


@dataclass(frozen=True, slots=True)
class WarrantyRevision:
    decision: WarrantyDecisionOut
    previous: WarrantyDecisionOut | None
    covered_change: Change | None
    decision_changed: bool


def warranty_revisions(decisions: list[WarrantyDecisionOut]) -> list[WarrantyRevision]:
    found = []
    previous: WarrantyDecisionOut | None = None
    for decision in decisions:
        found.append(
            WarrantyRevision(
                decision=decision,
                previous=previous,
                covered_change=(
                    Change.between(previous.covered, decision.covered) if previous else None
                ),
                decision_changed=previous is not None and previous.decision != decision.decision,
            )
        )
        previous = decision
    return found
