"""Every table, imported in one place for Alembic and the test fixtures."""

from direkte.audit.models import AuditEvent
from direkte.auth.models import ApiKey
from direkte.db import Base
from direkte.network.models import Center, Region, User
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
    "Diagnosis",
    "Estimate",
    "EstimateLine",
    "Region",
    "User",
    "Vehicle",
    "Visit",
    "VisitStatusChange",
    "WarrantyCoverage",
    "WarrantyDecision",
]
