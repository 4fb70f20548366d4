"""The visit with its escalations and manager contacts, as customers and staff see it."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from direkte.escalations.models import Escalation
from direkte.escalations.schemas import EscalationOut, escalation_out
from direkte.visits.contacts import Contact
from direkte.visits.models import VisitStatus
from direkte.visits.read import VisitDoc, parse_time
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
    money_out,
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
    doc: VisitDoc, contacts: list[Contact], escalations: list[Escalation], now: datetime
) -> VisitOut:
    """The visit as the API shows it."""
    row = doc.row
    return VisitOut(
        id=row.id,
        external_id=row.external_id,
        status=row.status,
        center=CenterRef(
            code=row.center_code,
            name=row.center_name,
            time_zone=row.time_zone,
            country=row.country,
            program=row.program.value,
        ),
        vehicle=VehicleOut(
            vin=row.vin,
            model=row.model,
            model_year=row.model_year,
            odometer_km=row.odometer_km,
            delivery_date=row.delivery_date,
            warranty=[CoverageOut.model_validate(c) for c in doc.coverages],
        ),
        concern=row.concern,
        currency=row.currency,
        drivable=row.drivable,
        booked_at=row.booked_at,
        appointment_date=row.appointment_date,
        checked_in_at=row.checked_in_at,
        promised_at=row.promised_at,
        closed_at=row.closed_at,
        status_history=[
            StatusChangeOut(
                from_status=c["from_status"],
                to_status=c["to_status"],
                changed_at=parse_time(c["changed_at"]),
            )
            for c in doc.status_history
        ],
        diagnoses=[
            DiagnosisOut(
                id=d["id"],
                revision=d["revision"],
                findings=d["findings"],
                codes=d["codes"],
                safety_related=bool(d["safety_related"]),
                author=d["author"],
                created_at=parse_time(d["created_at"]),
            )
            for d in doc.diagnoses
        ],
        estimates=[estimate_out(e) for e in doc.estimates],
        warranty_decisions=[
            WarrantyDecisionOut(
                id=w["id"],
                revision=w["revision"],
                decision=w["decision"],
                claimed=money_out(w["claimed"], w["currency"]),
                covered=money_out(w["covered"], w["currency"]),
                reason_code=w["reason_code"],
                safety_related=bool(w["safety_related"]),
                estimate_id=w["estimate_id"],
                author=w["author"],
                created_at=parse_time(w["created_at"]),
            )
            for w in doc.warranty_decisions
        ],
        escalations=[escalation_out(case, now=now) for case in escalations],
        escalation_contacts=[
            ContactOut(
                role=c.role.value,
                name=c.staff.name,
                title=c.staff.title,
                languages=list(c.staff.languages),
                phone=c.staff.phone if "phone" in c.channels else None,
                channels=list(c.channels),
                available_now=c.available_now,
                business_hours=c.business_hours,
                time_zone=c.time_zone,
            )
            for c in contacts
        ],
    )
