"""The network file (API.md, "Network file"): regions, centers, staff and customers."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from direkte.fields import BusinessHours, Code, Country, Language, Phone, TimeZoneName
from direkte.network.models import Program, Role
from direkte.network.passwords import MIN_PASSWORD_LENGTH

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Password = Annotated[str, StringConstraints(min_length=MIN_PASSWORD_LENGTH, max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RegionIn(_Strict):
    code: Code
    name: Name
    countries: list[Country] = Field(min_length=1)
    time_zone: TimeZoneName


class CenterIn(_Strict):
    code: Code
    name: Name
    region: Code
    country: Country
    time_zone: TimeZoneName
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    business_hours: BusinessHours
    program: Program = Program.off
    closed_dates: list[date] = Field(default_factory=list)
    address: Annotated[str, StringConstraints(max_length=300)] | None = None
    capacity_bays: int = Field(default=4, ge=0, le=500)
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None


def _english() -> list[Language]:
    return ["en"]


StaffRole = Literal["service_advisor", "local_manager", "regional_manager", "ops_admin"]


class StaffIn(_Strict):
    email: EmailStr
    password: Password
    role: StaffRole
    name: Name
    title: Annotated[str, StringConstraints(max_length=200)] | None = None
    phone: Phone | None = None
    languages: list[Language] = Field(default_factory=_english)
    center: Code | None = None
    region: Code | None = None
    on_duty: bool = False
    deputy: EmailStr | None = None

    @property
    def role_enum(self) -> Role:
        return Role(self.role)


class CustomerIn(_Strict):
    email: EmailStr
    password: Password
    name: Name
    phone: Phone | None = None
    language: Language = "en"


class NetworkFile(_Strict):
    regions: list[RegionIn] = Field(default_factory=list)
    centers: list[CenterIn] = Field(default_factory=list)
    staff: list[StaffIn] = Field(default_factory=list)
    customers: list[CustomerIn] = Field(default_factory=list)


class LoadReport(BaseModel):
    created: dict[str, int]
    updated: dict[str, int]
    unchanged: dict[str, int]
