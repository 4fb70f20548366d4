"""The visit with its escalations and manager contacts, as customers and staff see it."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from direkte.escalations.models import Escalation
from direkte.escalations.schemas import EscalationOut, escalation_out
from direkte.money import MoneyOut
from direkte.network.models import User
from direkte.visits.contacts import Contact
from direkte.visits.models import VisitStatus
from direkte.visits.read import VisitDoc
from direkte.visits.schemas import (
    CenterRef,
    ContactOut,
    CoverageOut,
    DiagnosisOut,
    EstimateOut,
    StatusChangeOut,
    VehicleOut,
    WarrantyDecisionOut,
    estimate_out,
)


class VisitOut(BaseModel):
    id: int
    external_id: str
    status: VisitStatus
    center: CenterRef
    vehicle: VehicleOut
    concern: str
    currency: str
    drivable: bool
    booked_at: datetime | None
    appointment_date: date | None
    checked_in_at: datetime | None
    promised_at: datetime | None
    closed_at: datetime | None
    status_history: list[StatusChangeOut]
    diagnoses: list[DiagnosisOut]
    estimates: list[EstimateOut]
    warranty_decisions: list[WarrantyDecisionOut]
    escalations: list[EscalationOut]
    escalation_contacts: list[ContactOut]


class VisitPage(BaseModel):
    items: list[VisitOut]
    next_cursor: str | None


def visit_out(
    doc: VisitDoc,
    contacts: list[Contact],
    escalations: list[Escalation],
    now: datetime,
    viewer: User,
) -> VisitOut:
    """The visit as the API shows it.

    Long because it is one flat mapping of the read model onto the contract's fields;
    split, the mapping would only be harder to check against API.md.
    """
    return VisitOut(
        id=doc.id,
        external_id=doc.external_id,
        status=doc.status,
        center=CenterRef(
            code=doc.center_code,
            name=doc.center_name,
            time_zone=doc.time_zone,
            country=doc.country,
            program=doc.program.value,
        ),
        vehicle=VehicleOut(
            vin=doc.vin,
            model=doc.model,
            model_year=doc.model_year,
            odometer_km=doc.odometer_km,
            delivery_date=doc.delivery_date,
            warranty=[
                CoverageOut(kind=c.kind, years=c.years, distance_km=c.distance_km)
                for c in doc.coverages
            ],
        ),
        concern=doc.concern,
        currency=doc.currency,
        drivable=doc.drivable,
        booked_at=doc.booked_at,
        appointment_date=doc.appointment_date,
        checked_in_at=doc.checked_in_at,
        promised_at=doc.promised_at,
        closed_at=doc.closed_at,
        status_history=[
            StatusChangeOut(
                from_status=c.from_status, to_status=c.to_status, changed_at=c.changed_at
            )
            for c in doc.status_history
        ],
        diagnoses=[
            DiagnosisOut(
                id=d.id,
                revision=d.revision,
                findings=d.findings,
                codes=d.codes,
                safety_related=d.safety_related,
                author=d.author,
                created_at=d.created_at,
            )
            for d in doc.diagnoses
        ],
        estimates=[estimate_out(e) for e in doc.estimates],
        warranty_decisions=[
            WarrantyDecisionOut(
                id=w.id,
                revision=w.revision,
                decision=w.decision,
                claimed=MoneyOut.of(w.claimed, w.currency),
                covered=MoneyOut.of(w.covered, w.currency),
                reason_code=w.reason_code,
                safety_related=w.safety_related,
                estimate_id=w.estimate_id,
                author=w.author,
                created_at=w.created_at,
            )
            for w in doc.warranty_decisions
        ],
        escalations=[escalation_out(case, now=now, viewer=viewer) for case in escalations],
        escalation_contacts=[contact_out(c) for c in contacts],
    )


def contact_out(c: Contact) -> ContactOut:
    return ContactOut(
        role=c.role.value,
        name=c.staff.name,
        title=c.staff.title,
        languages=list(c.staff.languages),
        phone=c.staff.phone if "phone" in c.channels else None,
        channels=list(c.channels),
        available_now=c.available_now,
        available_from=c.available_from,
        business_hours=c.business_hours,
        time_zone=c.time_zone,
    )
