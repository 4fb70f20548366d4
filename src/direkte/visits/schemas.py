"""Visit payloads from integrations, and the visit as customers and staff see it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from direkte.escalations.models import Escalation
from direkte.escalations.schemas import EscalationOut, escalation_out
from direkte.fields import AmountText, Code, Currency, Quantity, RowRef, Vin
from direkte.money import MoneyOut
from direkte.visits.contacts import Contact
from direkte.visits.models import (
    CoverageKind,
    LineKind,
    VisitStatus,
    WarrantyOutcome,
)
from direkte.visits.read import VisitDoc, as_decimal, parse_time

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
TroubleCode = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_-]{2,16}$")
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CoverageIn(_In):
    kind: CoverageKind
    years: int = Field(ge=0, le=30)
    distance_km: int = Field(ge=0, le=2_000_000)


class VehicleIn(_In):
    vin: Vin
    model: ShortText
    model_year: int = Field(ge=1980, le=2100)
    odometer_km: int = Field(ge=0, le=5_000_000)
    delivery_date: date | None = None
    warranty: list[CoverageIn] | None = Field(default=None, max_length=10)


class VisitUpsert(_In):
    center: Code
    customer_email: EmailStr
    vehicle: VehicleIn
    concern: Text
    status: VisitStatus = VisitStatus.scheduled
    booked_at: AwareDatetime | None = None
    appointment_date: date | None = None
    checked_in_at: AwareDatetime | None = None
    promised_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = None
    drivable: bool = True
    advisor_email: EmailStr | None = None


class DiagnosisCreate(_In):
    findings: Text
    codes: list[TroubleCode] = Field(default_factory=list, max_length=50)
    safety_related: bool = False
    revises_id: RowRef | None = None


class EstimateLineIn(_In):
    kind: LineKind
    description: ShortText
    quantity: Quantity
    unit_price: AmountText


class EstimateCreate(_In):
    lines: list[EstimateLineIn] = Field(min_length=1, max_length=200)
    currency: Currency | None = None
    reason: Annotated[str, StringConstraints(max_length=2000)] | None = None
    approved: bool = False


class WarrantyDecisionCreate(_In):
    decision: WarrantyOutcome
    claimed: AmountText
    covered: AmountText
    reason_code: Annotated[
        str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    ]
    safety_related: bool = False
    currency: Currency | None = None
    estimate_id: RowRef | None = None
    lines: list[EstimateLineIn] = Field(default_factory=list, max_length=200)


class VisitUpserted(BaseModel):
    id: int
    external_id: str
    status: VisitStatus


class CreatedRef(BaseModel):
    id: int


class EstimateCreated(BaseModel):
    id: int
    total: MoneyOut


# ---- the visit as read -------------------------------------------------------------


class CenterRef(BaseModel):
    code: str
    name: str
    time_zone: str
    country: str
    program: str


class CoverageOut(BaseModel):
    kind: CoverageKind
    years: int
    distance_km: int


class VehicleOut(BaseModel):
    vin: str
    model: str
    model_year: int
    odometer_km: int
    delivery_date: date | None
    warranty: list[CoverageOut]


class DiagnosisOut(BaseModel):
    id: int
    revision: int
    findings: str
    codes: list[str]
    safety_related: bool
    author: str
    created_at: datetime


class EstimateLineOut(BaseModel):
    kind: LineKind
    description: str
    quantity: str
    unit_price: MoneyOut
    amount: MoneyOut


class EstimateOut(BaseModel):
    id: int
    revision: int
    lines: list[EstimateLineOut]
    total: MoneyOut
    reason: str | None
    author: str
    created_at: datetime
    approved: bool
    approved_at: datetime | None


class WarrantyDecisionOut(BaseModel):
    id: int
    revision: int
    decision: WarrantyOutcome
    claimed: MoneyOut
    covered: MoneyOut
    reason_code: str
    safety_related: bool
    estimate_id: int | None
    author: str
    created_at: datetime


class ContactOut(BaseModel):
    role: str
    name: str
    title: str | None
    languages: list[str]
    phone: str | None
    channels: list[str]
    available_now: bool
    business_hours: dict[str, list[str]]
    time_zone: str


class StatusChangeOut(BaseModel):
    from_status: VisitStatus | None
    to_status: VisitStatus
    changed_at: datetime


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


def _money(amount: Decimal | str, currency: str) -> MoneyOut:
    return MoneyOut.of(as_decimal(amount), currency)


def estimate_out(e: dict[str, Any]) -> EstimateOut:
    currency = e["currency"]
    return EstimateOut(
        id=e["id"],
        revision=e["revision"],
        lines=[
            EstimateLineOut(
                kind=ln["kind"],
                description=ln["description"],
                quantity=format(as_decimal(ln["quantity"]).normalize(), "f"),
                unit_price=_money(ln["unit_price"], currency),
                amount=_money(ln["amount"], currency),
            )
            for ln in e["lines"]
        ],
        total=_money(e["total"], currency),
        reason=e["reason"],
        author=e["author"],
        created_at=parse_time(e["created_at"]),
        approved=e["approved_at"] is not None,
        approved_at=parse_time(e["approved_at"]),
    )


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
                claimed=_money(w["claimed"], w["currency"]),
                covered=_money(w["covered"], w["currency"]),
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
