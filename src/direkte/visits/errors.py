"""Errors of the visits domain."""

from __future__ import annotations

from direkte.errors import Conflict, NotFound, RuleViolation


class InvalidStatusTransition(Conflict):
    code = "invalid_status_transition"


class VisitNotFound(NotFound):
    code = "visit_not_found"


class EstimateNotFound(NotFound):
    code = "estimate_not_found"


class EstimateSuperseded(Conflict):
    code = "estimate_superseded"


class VisitClosed(Conflict):
    code = "visit_closed"


class InvalidFields(RuleViolation):
    code = "validation_error"

    def __init__(self, problems: list[dict[str, str]]) -> None:
        summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        super().__init__(summary, problems)
