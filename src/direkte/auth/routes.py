"""Log-in (the OAuth2 password flow), log-out, password change and disabling users."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Response
from fastapi.security import OAuth2PasswordRequestForm

from direkte.auth import service
from direkte.auth.deps import (
    BearerToken,
    CurrentUser,
    LoginLimits,
    OpsUser,
    authenticated_router,
    public_router,
)
from direkte.auth.login import log_in
from direkte.auth.schemas import PasswordChange, TokenOut, UserDisabledOut
from direkte.kit.deps import ClockDep, SessionDep, SettingsDep
from direkte.kit.errors import ERROR_RESPONSES
from direkte.kit.params import RowId

router = public_router(tags=["auth"])
accounts = authenticated_router(tags=["auth"])


@router.post(
    "/auth/token",
    responses={
        401: {"description": "Wrong e-mail or password"},
        429: {"description": "Log-in locked after failures, or too many requests"},
    },
)
def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    limits: LoginLimits,
) -> TokenOut:
    """Exchange an e-mail and password for a bearer token."""
    issued = log_in(
        session,
        clock,
        limits=limits,
        settings=settings,
        username=form.username,
        password=form.password,
    )
    return TokenOut(access_token=issued.access_token, expires_in=issued.expires_in)


@accounts.post(
    "/auth/logout", status_code=204, response_class=Response, responses={401: ERROR_RESPONSES[401]}
)
def logout(
    _user: CurrentUser,
    token: BearerToken,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> None:
    """Log this bearer token out: it is refused from now on, in every process."""
    service.revoke_token(session, clock, token=token, secret=settings.signing_key)
    session.commit()


@accounts.post(
    "/auth/password",
    status_code=204,
    response_class=Response,
    responses={401: ERROR_RESPONSES[401], 422: ERROR_RESPONSES[422]},
)
def change_password(
    body: PasswordChange, user: CurrentUser, session: SessionDep, clock: ClockDep
) -> None:
    """Change one's password; every token issued before is refused from now on."""
    service.change_password(session, clock, user=user, current=body.current, new=body.new)
    session.commit()


@accounts.post(
    "/users/{user_id}/disable",
    responses={
        401: ERROR_RESPONSES[401],
        403: {"description": "Ops only"},
        404: ERROR_RESPONSES[404],
    },
)
def disable_user(
    user_id: RowId, ops: OpsUser, session: SessionDep, clock: ClockDep
) -> UserDisabledOut:
    """Disable a user's log-in (ops); their tokens are refused at once, in every process."""
    user = service.disable_user(session, clock, viewer=ops, user_id=user_id)
    session.commit()
    return UserDisabledOut(id=user.id, active=user.active)
