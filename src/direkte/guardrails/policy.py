"""The guardrail policy: every threshold the rules read, as data."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SlaTarget(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    first_response_hours: float = Field(gt=0, le=200)
    # None: by the close of the business day in which the first response is due.
    resolution_hours: float | None = Field(default=None, gt=0, le=400)


def _default_sla() -> dict[str, SlaTarget]:
    return {
        "0": SlaTarget(first_response_hours=8, resolution_hours=24),
        "1": SlaTarget(first_response_hours=2, resolution_hours=None),
        "2": SlaTarget(first_response_hours=4, resolution_hours=8),
    }


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = "builtin-1"
    allowed_categories: tuple[str, ...] = ("diagnosis", "warranty", "estimate")
    escalation_window_days: int = Field(default=14, ge=0, le=365)
    appeal_window_days: int = Field(default=7, ge=0, le=90)
    sla: dict[str, SlaTarget] = Field(default_factory=_default_sla)

    def sla_for(self, tier: int) -> SlaTarget:
        return self.sla[str(tier)]


DEFAULT_POLICY = Policy()
