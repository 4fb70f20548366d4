"""Idempotency keys are kept 24 hours; the purge removes expired keys only."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte import idempotency
from direkte.idempotency import KEEP_FOR, IdempotencyRecord
from tests.conftest import T0


def claim(session: Session, key: str, minutes: int) -> None:
    at = T0 + timedelta(minutes=minutes)
    record = idempotency.claim(session, now=at, scope="test", key=key, print_=f"print-{key}")
    assert isinstance(record, IdempotencyRecord)
    idempotency.store(record, 201, {"key": key})
    session.flush()


def keys(session: Session) -> list[str]:
    return sorted(session.scalars(sa.select(IdempotencyRecord.key)))


class TestPurgeExpired:
    def test_removes_expired_keys_only(self, session: Session) -> None:
        claim(session, "old", 0)
        claim(session, "edge", 60)
        claim(session, "new", 120)
        now = T0 + KEEP_FOR + timedelta(minutes=60)  # "edge" expires at this very instant

        assert idempotency.purge_expired(session, now=now) == 1

        assert keys(session) == ["edge", "new"]
        assert idempotency.purge_expired(session, now=now) == 0
        assert idempotency.purge_expired(session, now=now + timedelta(days=1)) == 2
        assert keys(session) == []

    def test_a_purged_key_can_be_claimed_afresh(self, session: Session) -> None:
        claim(session, "k", 0)
        later = T0 + KEEP_FOR + timedelta(seconds=1)
        idempotency.purge_expired(session, now=later)

        record = idempotency.claim(session, now=later, scope="test", key="k", print_="other")

        assert isinstance(record, IdempotencyRecord)
        assert record.expires_at == later + KEEP_FOR
