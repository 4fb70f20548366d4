"""Use cases on visits, one file per seam, behind the one import the routes use.

``upserts`` takes the integration's visits, ``revisions`` their diagnoses,
estimates and warranty decisions (and the customer's approval), ``read`` the
visit as a document; this module reads visits as a caller may see them. The
visit with its escalations is read above both domains, in ``direkte.overview``.
"""

from __future__ import annotations

from direkte.visits.errors import (
    EstimateNotFound,
    EstimateSuperseded,
    InvalidFields,
    InvalidStatusTransition,
    VisitClosed,
    VisitNotFound,
)
from direkte.visits.read import get_visit, visible_to
from direkte.visits.revisions import (
    add_diagnosis,
    add_estimate,
    add_warranty_decision,
    approve_estimate,
)
from direkte.visits.upserts import TERMINAL, VisitRef, can_transition, upsert_visit

__all__ = [
    "TERMINAL",
    "EstimateNotFound",
    "EstimateSuperseded",
    "InvalidFields",
    "InvalidStatusTransition",
    "VisitClosed",
    "VisitNotFound",
    "VisitRef",
    "add_diagnosis",
    "add_estimate",
    "add_warranty_decision",
    "approve_estimate",
    "can_transition",
    "get_visit",
    "upsert_visit",
    "visible_to",
]
