"""Idempotency keys: a retried request returns the first response, never a duplicate."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from direkte.db import Base, UTCDateTime
from direkte.errors import RuleViolation

KEEP_FOR = timedelta(hours=24)


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(sa.String(64))
    key: Mapped[str] = mapped_column(sa.String(200))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    status_code: Mapped[int | None] = mapped_column(sa.Integer)
    response: Mapped[Any | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    __table_args__ = (sa.UniqueConstraint("scope", "key"),)


class IdempotencyKeyReused(RuleViolation):
    code = "idempotency_key_reused"


@dataclass(frozen=True, slots=True)
class Replay:
    status_code: int
    body: Any


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method.upper(), path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim(
    session: Session, *, now: datetime, scope: str, key: str, print_: str
) -> IdempotencyRecord | Replay:
    """Claim ``key`` for this caller, or return the stored first response.

    Runs in the request's transaction: a failed request leaves no claim behind. A
    concurrent twin waits on the unique index until the first commits, then replays.
    Raises IdempotencyKeyReused when the key came with a different request.
    """
    session.execute(
        sa.delete(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope,
            IdempotencyRecord.key == key,
            IdempotencyRecord.expires_at < now,
        )
    )
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    inserted = session.execute(
        insert(IdempotencyRecord)
        .values(scope=scope, key=key, fingerprint=print_, created_at=now, expires_at=now + KEEP_FOR)
        .on_conflict_do_nothing(index_elements=["scope", "key"])
        .returning(IdempotencyRecord.id)
    ).scalar()
    record = session.scalars(
        sa.select(IdempotencyRecord)
        .where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
        .execution_options(populate_existing=True)
    ).one()
    if inserted is not None:
        return record
    if record.fingerprint != print_:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used with a different request",
            [{"field": "Idempotency-Key", "message": "reused with a different request"}],
        )
    assert record.status_code is not None
    return Replay(record.status_code, record.response)


def store(record: IdempotencyRecord, status_code: int, body: Any) -> None:
    """Keep the response to replay; flushed with the use case's change."""
    record.status_code = status_code
    record.response = body


def purge_expired(session: Session, *, now: datetime) -> int:
    """Delete keys past their keeping time; returns how many."""
    result = session.execute(sa.delete(IdempotencyRecord).where(IdempotencyRecord.expires_at < now))
    return int(getattr(result, "rowcount", 0) or 0)
