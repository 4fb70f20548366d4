"""Ops: the guardrail policy document, its versions and its schema."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Query

from direkte.audit.service import Actor
from direkte.auth.deps import OpsUser, authenticated_router, current_ops
from direkte.guardrails.policy import json_schema
from direkte.kit.deps import ClockDep, SessionDep
from direkte.kit.errors import ERROR_RESPONSES
from direkte.kit.pagination import ListKind, decode_cursor, encode_cursor
from direkte.policy import service
from direkte.policy.schemas import (
    PolicyOut,
    PolicyUpdate,
    PolicyVersionPage,
)

# Every policy endpoint is for ops_admin only.
router = authenticated_router(
    prefix="/policy",
    tags=["policy"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(current_ops)],
)


@router.get("")
def get_policy(session: SessionDep) -> PolicyOut:
    """The current guardrail policy document and its version."""
    return PolicyOut.of(service.current_policy(session))


@router.put("", responses={409: {"description": "Someone published a newer version"}})
def put_policy(
    body: PolicyUpdate, session: SessionDep, clock: ClockDep, user: OpsUser
) -> PolicyOut:
    """Publish a new immutable version of the policy."""
    published = service.publish_policy(
        session,
        clock,
        actor=Actor.user(user),
        document=body.document,
        expected_version=body.version,
        note=body.note,
    )
    session.commit()
    return PolicyOut.of(published)


@router.get("/schema")
def get_policy_schema() -> dict[str, Any]:
    """The JSON Schema a policy document must satisfy."""
    return json_schema()


@router.get("/versions")
def list_policy_versions(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> PolicyVersionPage:
    """Every published version, newest first (version 0 is the built-in default)."""
    rows = service.list_versions(
        session, limit=limit + 1, before=decode_cursor(cursor, ListKind.policy_versions)
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return PolicyVersionPage(
        items=[PolicyOut.of(r) for r in rows],
        next_cursor=encode_cursor(ListKind.policy_versions, rows[-1].version)
        if more and rows
        else None,
    )


@router.get("/versions/{version}")
def get_policy_version(
    version: Annotated[int, Path(ge=0, le=2**31 - 1)], session: SessionDep
) -> PolicyOut:
    """One published version."""
    return PolicyOut.of(service.get_version(session, version=version))
