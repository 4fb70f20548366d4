"""Visit payloads from integrations, and the visit as customers and staff see it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, model_validator

from direkte.fields import (
    AmountText,
    Code,
    Currency,
    Instant,
    Quantity,
    RowRef,
    Vin,
    check_amount_in_range,
)
from direkte.money import MoneyOut
from direkte.visits.models import (
    CoverageKind,
    LineKind,
    VisitStatus,
    WarrantyOutcome,
)
from direkte.visits.read import EstimateDoc

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
    booked_at: Instant | None = None
    appointment_date: date | None = None
    checked_in_at: Instant | None = None
    promised_at: Instant | None = None
    ready_at: Instant | None = None
    closed_at: Instant | None = None
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

    @model_validator(mode="after")
    def _amount_fits(self) -> EstimateLineIn:
        check_amount_in_range(Decimal(self.quantity) * Decimal(self.unit_price), "the line amount")
        return self


def _total_fits(lines: list[EstimateLineIn]) -> None:
    total = sum((Decimal(x.quantity) * Decimal(x.unit_price) for x in lines), Decimal(0))
    check_amount_in_range(total, "the total of the lines")


class EstimateCreate(_In):
    lines: list[EstimateLineIn] = Field(min_length=1, max_length=200)
    currency: Currency | None = None
    reason: Annotated[str, StringConstraints(max_length=2000)] | None = None
    approved: bool = False

    @model_validator(mode="after")
    def _total_fits(self) -> EstimateCreate:
        _total_fits(self.lines)
        return self


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

    @model_validator(mode="after")
    def _total_fits(self) -> WarrantyDecisionCreate:
        _total_fits(self.lines)
        return self


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


def estimate_out(e: EstimateDoc) -> EstimateOut:
    currency = e.currency
    return EstimateOut(
        id=e.id,
        revision=e.revision,
        lines=[
            EstimateLineOut(
                kind=ln.kind,
                description=ln.description,
                quantity=format(ln.quantity.normalize(), "f"),
                unit_price=MoneyOut.of(ln.unit_price, currency),
                amount=MoneyOut.of(ln.amount, currency),
            )
            for ln in e.lines
        ],
        total=MoneyOut.of(e.total, currency),
        reason=e.reason,
        author=e.author,
        created_at=e.created_at,
        approved=e.approved_at is not None,
        approved_at=e.approved_at,
    )
