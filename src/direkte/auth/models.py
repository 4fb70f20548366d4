"""Integration API keys (only a hash of each is stored) and logged-out tokens."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from direkte.db import Base, UTCDateTime


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(16))
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RevokedToken(Base):
    """A bearer token logged out before it expired, by its ``jti``; kept until then."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class RateLimitWindow(Base):
    """One fixed window of a limit (``limits``' counter) when no Redis is configured.

    ``expires_at`` is seconds since the epoch, the unit ``limits`` works in.
    """

    __tablename__ = "rate_limit_windows"

    key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    hits: Mapped[int] = mapped_column(sa.Integer)
    expires_at: Mapped[float] = mapped_column(sa.Float, index=True)
