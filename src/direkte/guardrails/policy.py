"""The guardrail policy: every threshold the rules read, as a versioned document.

A stored document has a ``global`` part (a whole policy) and ``regions``: per
region code, a partial policy merged over the global one. ``Policy`` is the
merged, validated result the rules read.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from direkte.fields import DecimalNumber, check_currency
from direkte.guardrails.categories import CATEGORIES as HOLD_CATEGORIES
from direkte.guardrails.categories import Category

CategoryName = Literal["diagnosis", "warranty", "estimate"]
CATEGORIES: tuple[CategoryName, ...] = ("diagnosis", "warranty", "estimate")
Amount = Annotated[DecimalNumber, Field(ge=0, max_digits=15, decimal_places=4)]


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _currency_keys(value: dict[str, Decimal]) -> dict[str, Decimal]:
    for code in value:
        check_currency(code)
    return value


class SlaTarget(_Part):
    first_response_hours: float = Field(gt=0, le=200)
    # None: by the close of the business day in which the first response is due.
    resolution_hours: float | None = Field(default=None, gt=0, le=400)


def _default_sla() -> dict[Literal["0", "1", "2"], SlaTarget]:
    return {
        "0": SlaTarget(first_response_hours=8, resolution_hours=24),
        "1": SlaTarget(first_response_hours=2, resolution_hours=None),
        "2": SlaTarget(first_response_hours=4, resolution_hours=8),
    }


class Frequency(_Part):
    max_per_365_days: int = Field(default=5, ge=1, le=1000)
    cooldown_days: int = Field(default=30, ge=0, le=365)
    upheld_in_a_row: int = Field(default=2, ge=1, le=20)


class EstimateMateriality(_Part):
    """An increase over the first approved estimate of at least both thresholds."""

    min_increase: dict[str, Amount] = Field(
        default_factory=lambda: {
            "NOK": Decimal(2000),
            "SEK": Decimal(2000),
            "DKK": Decimal(1500),
            "EUR": Decimal(200),
            "ISK": Decimal(30000),
        }
    )
    min_increase_percent: DecimalNumber = Field(default=Decimal(15), ge=0, le=1000)

    _check = field_validator("min_increase")(_currency_keys)


class WarrantyMateriality(_Part):
    """Denied amount over a threshold, or a safety-related part, or within coverage."""

    min_denied: dict[str, Amount] = Field(
        default_factory=lambda: {
            "NOK": Decimal(3000),
            "SEK": Decimal(3000),
            "DKK": Decimal(2000),
            "EUR": Decimal(300),
            "ISK": Decimal(45000),
        }
    )
    safety_related: bool = True
    within_coverage: bool = True

    _check = field_validator("min_denied")(_currency_keys)


class DiagnosisMateriality(_Part):
    repeat_visit_days: int = Field(default=30, ge=0, le=365)
    safety_related: bool = True
    not_drivable: bool = True
    contradicting_revision: bool = True


class Materiality(_Part):
    estimate: EstimateMateriality = EstimateMateriality()
    warranty: WarrantyMateriality = WarrantyMateriality()
    diagnosis: DiagnosisMateriality = DiagnosisMateriality()


class Content(_Part):
    moderate_threats: bool = True  # threat, family_threat
    moderate_abuse: bool = True  # the other categories
    # The categories the screen finds that are held (DESIGN.md §5).
    hold: tuple[Category, ...] = HOLD_CATEGORIES
    near_duplicate_similarity: float = Field(default=0.85, gt=0, le=1)


class Capacity(_Part):
    local_manager_open_cap: int = Field(default=15, ge=1, le=10_000)
    regional_manager_open_cap: int = Field(default=40, ge=1, le=10_000)


class SafetyOverrides(_Part):
    """Safety-related matters always reach a manager, whatever the materiality."""

    enabled: bool = True


class Policy(_Part):
    version: str = "0"
    allowed_categories: tuple[CategoryName, ...] = CATEGORIES
    escalation_window_days: int = Field(default=14, ge=0, le=365)
    appeal_window_days: int = Field(default=7, ge=0, le=90)
    frequency: Frequency = Frequency()
    materiality: Materiality = Materiality()
    content: Content = Content()
    capacity: Capacity = Capacity()
    safety_overrides: SafetyOverrides = SafetyOverrides()
    sla: dict[Literal["0", "1", "2"], SlaTarget] = Field(default_factory=_default_sla)

    def sla_for(self, tier: int) -> SlaTarget:
        return self.sla[str(tier)]  # type: ignore[index]


class PolicyDocument(BaseModel):
    """What ops edit: the global policy and per-region partial overrides."""

    model_config = ConfigDict(extra="forbid")

    global_: dict[str, Any] = Field(default_factory=dict, alias="global")
    regions: dict[str, dict[str, Any]] = Field(default_factory=dict)


DEFAULT_POLICY = Policy()


def default_document() -> dict[str, Any]:
    body = DEFAULT_POLICY.model_dump(mode="json", exclude={"version"})
    return {"global": body, "regions": {}}


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if (
            isinstance(value, dict)
            and isinstance(merged.get(key), dict)
            and key
            not in (
                "min_increase",
                "min_denied",
            )
        ):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _problems(exc: ValidationError, prefix: str) -> list[dict[str, str]]:
    out = []
    for error in exc.errors():
        path = prefix
        for part in error["loc"]:
            path += f"[{part}]" if isinstance(part, int) else f".{part}"
        out.append({"field": path, "message": str(error["msg"]).removeprefix("Value error, ")})
    return out


def validate_document(raw: Any) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Check a whole document: the global part and every region merged over it.

    Returns the normalized document and every problem by path (empty when valid).
    """
    try:
        doc = PolicyDocument.model_validate(raw)
    except ValidationError as exc:
        return {}, _problems(exc, "document")
    problems: list[dict[str, str]] = []
    try:
        base = Policy.model_validate({**doc.global_, "version": "0"})
    except ValidationError as exc:
        return {}, _problems(exc, "global")
    base_json = base.model_dump(mode="json", exclude={"version"})
    for code, override in doc.regions.items():
        try:
            Policy.model_validate({**_merge(base_json, override), "version": "0"})
        except ValidationError as exc:
            problems += _problems(exc, f"regions.{code}")
    return {"global": base_json, "regions": doc.regions}, problems


def policy_for(document: dict[str, Any], version: str, region: str | None) -> Policy:
    """The merged policy a region reads (the global one where it has no override)."""
    body = document["global"]
    override = document.get("regions", {}).get(region) if region else None
    if override:
        body = _merge(body, override)
    return Policy.model_validate({**body, "version": version})


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a policy document (what ``PUT /policy`` accepts)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "direkte guardrail policy document",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "global": Policy.model_json_schema(),
            "regions": {
                "type": "object",
                "description": "per region code, a partial policy merged over the global one",
                "additionalProperties": {"type": "object"},
            },
        },
    }
