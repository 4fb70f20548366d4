"""Log-in: the OAuth2 password flow for customers and staff."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordRequestForm

from direkte.auth import service
from direkte.auth.deps import public_router
from direkte.auth.schemas import TokenOut
from direkte.kit.deps import ClockDep, SessionDep, SettingsDep

router = public_router(tags=["auth"])


@router.post("/auth/token", responses={401: {"description": "Wrong e-mail or password"}})
def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> TokenOut:
    """Exchange an e-mail and password for a bearer token."""
    issued = service.issue_token(
        session,
        clock,
        email=form.username,
        password=form.password,
        secret=settings.signing_key,
        ttl_seconds=settings.token_ttl_seconds,
    )
    return TokenOut(access_token=issued.access_token, expires_in=issued.expires_in)
