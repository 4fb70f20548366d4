"""Policy documents in and out."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from direkte.policy.service import Published


class PolicyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    document: dict[str, Any]
    version: int = Field(ge=0, description="the version you edited (a stale one is refused)")
    note: Annotated[str, StringConstraints(max_length=2000)] | None = None


class PolicyOut(BaseModel):
    version: int
    document: dict[str, Any]
    author: str
    created_at: datetime | None
    note: str | None

    @classmethod
    def of(cls, published: Published) -> PolicyOut:
        return cls(
            version=published.version,
            document=published.document,
            author=published.author,
            created_at=published.created_at,
            note=published.note,
        )


class PolicyVersionPage(BaseModel):
    items: list[PolicyOut]
    next_cursor: str | None


def _date_as_midnight(value: Any) -> Any:
    if isinstance(value, str) and len(value) == 10:
        value = date.fromisoformat(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time(0), tzinfo=UTC)
    return value


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a time needs a UTC offset (or give a date)")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range once converted to UTC") from None


# A date reads as midnight UTC; a time needs its offset.
Instant = Annotated[datetime, BeforeValidator(_date_as_midnight), AfterValidator(_as_utc)]


class BacktestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    policy: dict[str, Any] = Field(description="the candidate policy document")
    date_from: Instant = Field(alias="from", description="start (inclusive), ISO date or time")
    date_to: Instant = Field(alias="to", description="end (exclusive), ISO date or time")
    rescreen: bool = Field(
        default=False,
        description="screen the texts recorded by an earlier content screen again for the "
        "candidate, to see what the running screen would hold or release",
    )


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class BacktestLoadOut(_Read):
    managers: int
    manager_days: int
    mean: float
    p95: float
    unassigned: int


class BacktestFiguresOut(_Read):
    policy_version: str
    requests: int
    decisions: dict[str, int]
    tiers: dict[str, int]
    folded: int
    reached: int
    reach_share: float
    load: BacktestLoadOut
    deflected: int
    deflected_right: int
    deflected_right_share: float
    deflected_right_by_outcome: dict[str, int]


class BacktestDifferenceOut(_Read):
    reached: int
    reach_share: float
    load_mean: float
    load_p95: float
    managers: int
    deflected: int
    deflected_right: int
    newly_deflected: int
    newly_reached: int
    newly_deflected_right: int


class BacktestContentOut(_Read):
    screen: str
    rescreen: bool
    rescreened: int
    held: int
    released: int


class BacktestOut(_Read):
    model_config = ConfigDict(from_attributes=True, serialize_by_alias=True)

    date_from: datetime = Field(serialization_alias="from")
    date_to: datetime = Field(serialization_alias="to")
    requests: int
    with_outcome: int
    current: BacktestFiguresOut
    candidate: BacktestFiguresOut
    difference: BacktestDifferenceOut
    content: BacktestContentOut
    notes: list[str]
