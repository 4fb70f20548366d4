"""Running a use case under an Idempotency-Key: first response stored, retries replayed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from direkte import idempotency
from direkte.errors import BadRequest

Outcome = tuple[int, Any]
IDEMPOTENCY_KEY = "Idempotency-Key"
# The header a route takes to run its use case once per key (``run_idempotent``);
# api/openapi.py documents its rules on every operation that takes it.
IdempotencyKey = Annotated[str | None, Header(alias=IDEMPOTENCY_KEY)]


class FastJSONResponse(JSONResponse):
    """JSON written by orjson: an escalation's body with its guardrail rules is a few
    kilobytes, which the standard library's encoder takes several times as long over.
    The content is already JSON-ready (``model_dump(mode="json")``)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


class InvalidIdempotencyKey(BadRequest):
    code = "invalid_idempotency_key"


def run_idempotent(
    session: Session,
    *,
    request: Request,
    body: BaseModel,
    scope: str,
    key: str | None,
    now: datetime,
    action: Callable[[], Outcome],
) -> JSONResponse:
    """Run ``action`` once per (caller, key); commit; answer, or replay the first answer.

    ``action`` returns the status and the JSON body; it may leave records in the
    session even when its answer is an error (they are committed with it). ``body`` is
    the request's validated body: its JSON form is the key's fingerprint, made only
    when a key is given.
    Raises InvalidIdempotencyKey for a malformed key, IdempotencyKeyReused.
    """
    if key is None:
        status, content = action()
        session.commit()
        return FastJSONResponse(content, status_code=status)
    if not 1 <= len(key) <= 200 or not key.isprintable():
        raise InvalidIdempotencyKey(
            "Idempotency-Key must be 1 to 200 printable characters",
            [{"field": "Idempotency-Key", "message": "1 to 200 printable characters"}],
        )
    print_ = idempotency.fingerprint(request.method, request.url.path, body.model_dump(mode="json"))
    claimed = idempotency.claim(session, now=now, scope=scope, key=key, print_=print_)
    if isinstance(claimed, idempotency.Replay):
        session.commit()
        return FastJSONResponse(
            claimed.body, status_code=claimed.status_code, headers={"Idempotent-Replayed": "true"}
        )
    status, content = action()
    idempotency.store(claimed, status, content)
    session.commit()
    return FastJSONResponse(content, status_code=status)
