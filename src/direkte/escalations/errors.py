"""Errors of the escalations domain."""

from __future__ import annotations

from direkte.errors import Conflict, NotFound, RuleViolation


class EscalationNotFound(NotFound):
    code = "escalation_not_found"


class NotEligible(RuleViolation):
    code = "not_eligible"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class StaleVersion(Conflict):
    code = "stale_version"


class AlreadyAppealed(Conflict):
    code = "already_appealed"


class AppealWindowClosed(RuleViolation):
    code = "appeal_window_closed"


class AppealNotAllowed(RuleViolation):
    code = "appeal_not_allowed"


class AlreadyRated(Conflict):
    code = "already_rated"


class InvalidOutcome(RuleViolation):
    code = "validation_error"
