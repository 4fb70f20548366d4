"""Visit endpoints: the integration's pushes and the customer's reads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Response

from direkte.auth.deps import CurrentUser, IntegrationActor, authenticated_router
from direkte.kit.deps import ClockDep, SessionDep
from direkte.kit.errors import ERROR_RESPONSES, REFUSED
from direkte.kit.params import RowId
from direkte.money import MoneyOut
from direkte.visits import service
from direkte.visits.schemas import (
    CreatedRef,
    DiagnosisCreate,
    EstimateCreate,
    EstimateCreated,
    EstimateOut,
    VisitUpsert,
    VisitUpserted,
    WarrantyDecisionCreate,
    estimate_out,
)

integration = authenticated_router(
    prefix="/integration", tags=["integration"], responses=ERROR_RESPONSES
)
customer = authenticated_router(tags=["visits"], responses=ERROR_RESPONSES)

ExternalId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "The visit's status does not allow this"}
}


@integration.put(
    "/visits/{external_id}",
    status_code=200,
    responses={201: {"model": VisitUpserted, "description": "Created"}, **CONFLICT},
)
def upsert_visit(
    external_id: ExternalId,
    body: VisitUpsert,
    response: Response,
    session: SessionDep,
    clock: ClockDep,
    actor: IntegrationActor,
) -> VisitUpserted:
    """Create or update a visit by the dealer system's id (201 created, 200 updated)."""
    visit, created = service.upsert_visit(
        session, clock, external_id=external_id, data=body, actor=actor
    )
    session.commit()
    response.status_code = 201 if created else 200
    return VisitUpserted(id=visit.id, external_id=visit.external_id, status=visit.status)


@integration.post("/visits/{external_id}/diagnoses", status_code=201, responses=CONFLICT)
def add_diagnosis(
    external_id: ExternalId,
    body: DiagnosisCreate,
    session: SessionDep,
    clock: ClockDep,
    actor: IntegrationActor,
) -> CreatedRef:
    """Append a diagnosis revision to a visit."""
    diagnosis = service.add_diagnosis(
        session, clock, external_id=external_id, data=body, actor=actor
    )
    session.commit()
    return CreatedRef(id=diagnosis.id)


@integration.post("/visits/{external_id}/estimates", status_code=201, responses=CONFLICT)
def add_estimate(
    external_id: ExternalId,
    body: EstimateCreate,
    session: SessionDep,
    clock: ClockDep,
    actor: IntegrationActor,
) -> EstimateCreated:
    """Append an estimate revision; the total is computed from the lines."""
    estimate = service.add_estimate(session, clock, external_id=external_id, data=body, actor=actor)
    session.commit()
    return EstimateCreated(id=estimate.id, total=MoneyOut.of(estimate.total, estimate.currency))


@integration.post("/visits/{external_id}/warranty-decisions", status_code=201, responses=CONFLICT)
def add_warranty_decision(
    external_id: ExternalId,
    body: WarrantyDecisionCreate,
    session: SessionDep,
    clock: ClockDep,
    actor: IntegrationActor,
) -> CreatedRef:
    """Append a warranty decision on a claim."""
    decision = service.add_warranty_decision(
        session, clock, external_id=external_id, data=body, actor=actor
    )
    session.commit()
    return CreatedRef(id=decision.id)


@customer.post(
    "/visits/{visit_id}/estimates/{estimate_id}/approve", responses={**CONFLICT, **REFUSED}
)
def approve_estimate(
    visit_id: RowId, estimate_id: RowId, session: SessionDep, clock: ClockDep, user: CurrentUser
) -> EstimateOut:
    """Approve an estimate revision (the customer who owns the visit)."""
    estimate = service.approve_estimate(
        session, clock, viewer=user, visit_id=visit_id, estimate_id=estimate_id
    )
    session.commit()
    return estimate_out(estimate)
