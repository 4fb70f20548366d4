"""Logging in with an e-mail and password, under the log-in lock: the one use case
behind the API's token endpoint and the web app's log-in form."""

from __future__ import annotations

from sqlalchemy.orm import Session

from direkte.auth import service
from direkte.auth.limits import Limits
from direkte.clock import Clock
from direkte.config import Settings


def log_in(
    session: Session,
    clock: Clock,
    *,
    limits: Limits,
    settings: Settings,
    username: str,
    password: str,
) -> service.IssuedToken:
    """Check the log-in lock, then the e-mail and password; sign a bearer token; commit.

    A failure is counted outside the request's transaction (which is rolled back),
    so that it stays. Raises RateLimited (locked), InvalidCredentials.
    """
    email = username.strip().lower()
    limits.check_login(email)
    try:
        issued = service.issue_token(
            session,
            clock,
            email=email,
            password=password,
            secret=settings.signing_key,
            ttl_seconds=settings.token_ttl_seconds,
        )
    except service.InvalidCredentials:
        session.rollback()
        limits.record_login_failure(email)
        raise
    session.commit()  # a rehashed password
    return issued
