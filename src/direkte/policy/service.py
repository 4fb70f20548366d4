"""Reading and publishing guardrail policy versions."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte.audit.service import Actor, record_event
from direkte.clock import Clock
from direkte.errors import Conflict, NotFound, RuleViolation
from direkte.guardrails.policy import Policy, default_document, policy_for, validate_document
from direkte.network.models import Center, Region
from direkte.policy.models import PolicyVersion


class StalePolicyVersion(Conflict):
    code = "stale_version"


class InvalidPolicy(RuleViolation):
    code = "invalid_policy"


class PolicyVersionNotFound(NotFound):
    code = "policy_version_not_found"


@dataclass(frozen=True, slots=True)
class Published:
    version: int
    document: dict[str, Any]
    author: str
    created_at: datetime | None
    note: str | None


_BUILTIN = Published(0, default_document(), "direkte (built in)", None, None)


def _published(row: PolicyVersion) -> Published:
    return Published(row.version, row.document, row.author_label, row.created_at, row.note)


def current_policy(session: Session) -> Published:
    """The newest published version (version 0, the built-in default, when none is)."""
    row = session.scalars(
        sa.select(PolicyVersion).order_by(PolicyVersion.version.desc()).limit(1)
    ).first()
    return _published(row) if row is not None else _BUILTIN


_BUILTIN_TEXT = json.dumps(_BUILTIN.document)


@functools.lru_cache(maxsize=256)
def _merged(document_text: str, version: str, region: str | None) -> Policy:
    """A stored version merged for a region, parsed once per process.

    Keyed by the document's text itself (not only its number), so that a
    different database with the same version numbers never reads a stale one.
    Policies are frozen, so sharing one between requests is safe.
    """
    return policy_for(json.loads(document_text), version, region)


def policy_for_center(session: Session, center: Center) -> Policy:
    """The current policy merged for the center's region (one round trip)."""
    region, version, document_text = session.execute(
        _CURRENT_FOR_CENTER, {"center_id": center.id}
    ).one()
    return merged_policy(region, version, document_text)


def merged_policy(region: str | None, version: int | None, document_text: str | None) -> Policy:
    """The policy of ``policy_columns``' values: the stored version merged for the region
    (the built-in default when none is stored)."""
    if version is None or document_text is None:
        return _merged(_BUILTIN_TEXT, "0", region)
    return _merged(document_text, str(version), region)


def policy_columns(center_id: Any) -> tuple[Any, Any, Any]:
    """The center's region code and the newest policy version and document, as scalar
    subqueries to add to a statement that reads the center (``center_id`` is its column):
    the policy then costs no statement of its own. Read with ``merged_policy``."""
    newest = (
        sa.select(PolicyVersion.version, PolicyVersion.document)
        .order_by(PolicyVersion.version.desc())
        .limit(1)
        .subquery()
    )
    return (
        sa.select(Region.code)
        .join(Center, Center.region_id == Region.id)
        .where(Center.id == center_id)
        .scalar_subquery()
        .label("policy_region"),
        sa.select(newest.c.version).scalar_subquery().label("policy_version"),
        sa.select(sa.cast(newest.c.document, sa.Text)).scalar_subquery().label("policy_text"),
    )


_NEWEST_TEXT = (
    sa.select(PolicyVersion.version, sa.cast(PolicyVersion.document, sa.Text))
    .order_by(PolicyVersion.version.desc())
    .limit(1)
)


def policy_by_region(session: Session) -> Callable[[str | None], Policy]:
    """The current policy merged for any region, read once (one statement) for a page of
    visits from several regions."""
    row = session.execute(_NEWEST_TEXT).first()
    version, text = (row[0], row[1]) if row is not None else (None, None)
    return lambda region: merged_policy(region, version, text)


# The same columns on their own, for a center already read.
_CURRENT_FOR_CENTER = sa.select(*policy_columns(sa.bindparam("center_id")))


def publish_policy(
    session: Session,
    clock: Clock,
    *,
    actor: Actor,
    document: Any,
    expected_version: int,
    note: str | None,
) -> Published:
    """Publish a new immutable version, unless someone published since ``expected_version``.

    Raises StalePolicyVersion, InvalidPolicy (every problem by path).
    """
    # Serialize publishers: the lock on the newest row (or the unique version) settles races.
    current = session.scalars(
        sa.select(PolicyVersion).order_by(PolicyVersion.version.desc()).limit(1).with_for_update()
    ).first()
    current_version = current.version if current else 0
    if expected_version != current_version:
        raise StalePolicyVersion(
            "the policy changed since you read it; reload it",
            {"current_version": current_version, "your_version": expected_version},
        )
    normalized, problems = validate_document(document)
    if problems:
        raise InvalidPolicy(f"{len(problems)} problem(s) in the policy document", problems)
    now = clock.now()
    row = PolicyVersion(
        version=current_version + 1,
        document=normalized,
        author_id=actor.id,
        author_label=actor.label,
        note=note,
        created_at=now,
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        at=now,
        actor=actor,
        action="policy.published",
        subject_kind="policy",
        subject_id=row.version,
        data={"version": row.version, "note": note},
    )
    return _published(row)


def list_versions(session: Session, *, limit: int, before: int | None) -> list[Published]:
    query = sa.select(PolicyVersion).order_by(PolicyVersion.version.desc()).limit(limit)
    if before is not None:
        query = query.where(PolicyVersion.version < before)
    rows = [_published(r) for r in session.scalars(query)]
    if len(rows) < limit and (before is None or before > 0):
        rows.append(_BUILTIN)
    return rows


def get_version(session: Session, *, version: int) -> Published:
    """One version (0 is the built-in default). Raises PolicyVersionNotFound."""
    if version == 0:
        return _BUILTIN
    row = session.scalar(sa.select(PolicyVersion).where(PolicyVersion.version == version))
    if row is None:
        raise PolicyVersionNotFound(f"no policy version {version}")
    return _published(row)
