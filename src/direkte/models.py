"""Every table, imported in one place for Alembic and the test fixtures."""

from direkte.analytics.models import (
    CenterDay,
    CenterDayFigures,
    CenterOpenInterval,
    RolloutWave,
)
from direkte.audit.models import AuditEvent
from direkte.auth.models import ApiKey, RateLimitWindow, RevokedToken
from direkte.db import Base
from direkte.escalations.models import (
    Escalation,
    EscalationEvent,
    EscalationMessage,
    EscalationRequest,
)
from direkte.idempotency import IdempotencyRecord
from direkte.marks import FigureDirtyMark
from direkte.network.models import Center, CenterProgramChange, Region, User
from direkte.notifications.models import (
    Delivery,
    DeliveryAttempt,
    Notification,
    OutboxEvent,
    Webhook,
)
from direkte.policy.models import PolicyVersion
from direkte.visits.models import (
    Diagnosis,
    Estimate,
    EstimateLine,
    Vehicle,
    Visit,
    VisitStatusChange,
    WarrantyCoverage,
    WarrantyDecision,
)

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Base",
    "Center",
    "CenterDay",
    "CenterDayFigures",
    "CenterOpenInterval",
    "CenterProgramChange",
    "Delivery",
    "DeliveryAttempt",
    "Diagnosis",
    "Escalation",
    "EscalationEvent",
    "EscalationMessage",
    "EscalationRequest",
    "Estimate",
    "EstimateLine",
    "FigureDirtyMark",
    "IdempotencyRecord",
    "Notification",
    "OutboxEvent",
    "PolicyVersion",
    "RateLimitWindow",
    "Region",
    "RevokedToken",
    "RolloutWave",
    "User",
    "Vehicle",
    "Visit",
    "VisitStatusChange",
    "WarrantyCoverage",
    "WarrantyDecision",
    "Webhook",
]
