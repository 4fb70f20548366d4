"""Figures, rollout and evaluation, in and out (API.md "Ops")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Code = Annotated[str, StringConstraints(min_length=1, max_length=32)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Rate(BaseModel):
    count: int
    of: int
    rate: float | None
    target: float | None = None


class Requests(BaseModel):
    total: int
    by_category: dict[str, int]
    by_decision: dict[str, int]
    reached_managers: int


class Percentiles(BaseModel):
    count: int
    p50: int | None
    p90: int | None


class Satisfaction(BaseModel):
    count: int
    mean: float | None
    share_4_5: float | None


class AccessFigures(BaseModel):
    booking_to_appointment_days_p50: int | None
    vehicles_per_center: float | None


class ManagerLoad(BaseModel):
    cases: int
    manager_business_days: int
    per_manager_per_business_day: float | None


class Count(BaseModel):
    key: str
    count: int


class CodeCount(Count):
    resolved: int  # resolved cases with this code, overturned or not
    rate: float | None  # the overturn rate of cases with this code


class RootCauses(BaseModel):
    overturned: int
    by_diagnosis_code: list[CodeCount]
    by_model: list[Count]
    by_center: list[Count]


class Figures(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    date_from: date = Field(alias="from")
    date_to: date = Field(alias="to")
    centers: int
    visits_checked_in: int
    same_day_resolution: Rate
    requests: Requests
    escalation_rate_per_100: float | None
    escalation_rate_per_100_by_category: dict[str, float | None]
    escalation_rate_per_100_by_decision: dict[str, float | None]
    reach_rate: float | None
    resolved: int
    overturned: int
    overturn_rate: float | None
    first_response_business_minutes: Percentiles
    resolution_business_minutes: Percentiles
    sla_met_rate: float | None
    satisfaction: Satisfaction
    access: AccessFigures
    manager_load: ManagerLoad
    root_causes: RootCauses


class Group(Figures):
    group_by: Literal["center", "region", "week"]
    key: str


class MetricsOut(Figures):
    program: str | None
    groups: list[Group]


# ---- rollout -----------------------------------------------------------------------


class GateCondition(_In):
    figure: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    op: Literal["<=", ">="]
    value: float


class WaveIn(_In):
    id: int | None = Field(default=None, ge=1)
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    date: date
    program: Literal["pilot", "on"] = "pilot"
    centers: list[Code] = Field(min_length=1, max_length=1000)
    gate: list[GateCondition] = Field(default_factory=list, max_length=20)


class CenterStateIn(_In):
    code: Code
    program: Literal["off", "pilot", "on"]


class RolloutIn(_In):
    centers: list[CenterStateIn] = Field(default_factory=list, max_length=5000)
    waves: list[WaveIn] = Field(max_length=200)


class CenterState(BaseModel):
    code: str
    program: str
    since: date | None


class GateOut(BaseModel):
    figure: str
    op: str
    value: float
    measured: float | None
    holds: bool


class WaveOut(BaseModel):
    id: int
    name: str
    date: date
    program: str
    centers: list[str]
    gate: list[GateOut]
    status: Literal["planned", "ready", "blocked", "done"]
    done_at: datetime | None
    done_by: str | None
    forced: bool


class Window(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    date_from: date = Field(alias="from")
    date_to: date = Field(alias="to")


class RolloutOut(BaseModel):
    centers: list[CenterState]
    waves: list[WaveOut]
    gate_window: Window


class AdvanceIn(_In):
    force: bool = False
    reason: Annotated[str, StringConstraints(max_length=2000, strip_whitespace=True)] | None = None


class AdvanceOut(BaseModel):
    id: int
    name: str
    program: str
    moved: list[str]
    forced: bool
    gate: list[GateOut]
    done_at: datetime
    done_by: str


# ---- evaluation ----------------------------------------------------------------------


class TrendPoint(BaseModel):
    event_time: int
    gap: float
    centers: int


class EvaluationOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    figure: str
    method: str
    estimator: str | None = None
    estimate: float | None
    ci: list[float] | None
    level: float
    treated_centers: int
    control_centers: int
    weeks: int
    recommendation: Literal["go", "no_go", "insufficient_data"]
    reason: str
    date_from: date = Field(alias="from")
    date_to: date = Field(alias="to")
    pre_trend: list[TrendPoint] = Field(default_factory=list)
    post_trend: list[TrendPoint] = Field(default_factory=list)
