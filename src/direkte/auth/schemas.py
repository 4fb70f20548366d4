"""Tokens, password changes and disabled users."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from direkte.network.passwords import MIN_PASSWORD_LENGTH


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current: Annotated[str, StringConstraints(max_length=200)]
    new: Annotated[str, StringConstraints(min_length=MIN_PASSWORD_LENGTH, max_length=200)]


class UserDisabledOut(BaseModel):
    id: int
    active: bool
