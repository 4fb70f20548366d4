"""The API against whatever a client may send: schemathesis over the whole /openapi.json.

For every operation of the document, schemathesis draws requests from its schema,
valid ones and invalid ones (bodies, query, path and headers), and sends them
in process through the ASGI app, on SQLite and on PostgreSQL, as each of four
callers: a customer (the owner of a visit with an open case), the local manager
of the visit's center, ops and the integration API key. Each operation is sent
by those of the four that may call it (tests/api/test_access_matrix.py's
rules: refusals come before the body is read, the matrix proves them), with
the real objects' ids in half the examples so that the bodies reach the use
cases. Every answer must be:

* no 5xx;
* a status code the operation documents, with a body and headers that match the
  documented schema of that status;
* a 4xx for a request the schema says is invalid.

The number of examples is bounded (``EXAMPLES`` per operation and caller) so
that this stays a couple of minutes for both databases; the same examples are
drawn on every run (derandomized), so CI never hinges on a lucky draw. Set
``DIREKTE_FUZZ_EXAMPLES`` for a longer run by hand.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session

from direkte.config import Settings
from tests.api.test_access_matrix import CALLERS, RULES, Objects, _objects
from tests.escalations.conftest import Case, World
from tests.factories import login

EXAMPLES = int(os.environ.get("DIREKTE_FUZZ_EXAMPLES", "12"))
FUZZED = ("owner", "local_manager", "ops", "api_key")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# Operations that end the caller's session or others': run last, each example with
# a fresh log-in, so that the other operations run as a caller who is still there.
ENDING = ("auth_logout", "auth_change_password", "auth_disable_user", "privacy_erase_customer")
# Path parameters of the real objects (the matrix's), by name.
REAL_IDS: dict[str, Callable[[Objects], Any]] = {
    "visit_id": lambda o: o.visit_id,
    "escalation_id": lambda o: o.case_id,
    "estimate_id": lambda o: o.estimate_id,
    "customer_id": lambda o: o.customer_id,
    "external_id": lambda o: "RO-1",
    "version": lambda o: 1,
    "notification_id": lambda o: o.notification_id,
    "webhook_id": lambda o: o.webhook_id,
    "delivery_id": lambda o: o.delivery_id,
    "user_id": lambda o: o.customer_id,
    "wave_id": lambda o: o.wave_id,
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Rates high enough never to refuse the fuzzer (the limits have their own tests).
    return Settings(
        secret_key="test-secret-key-0123456789-abcdefghijklmnop",
        data_dir=tmp_path,
        rate_limit="1000000/minute",
        rate_limit_anonymous="1000000/minute",
    )


def _operations_for(caller: str) -> list[str]:
    mine = [op for op, rule in RULES.items() if caller in rule.allowed]
    return sorted(mine, key=lambda op: (op in ENDING, op))


def _headers(world: World, caller: str) -> dict[str, str]:
    if caller == "api_key":
        return {"X-API-Key": world.key}
    return login(world.client, CALLERS[caller])


@pytest.fixture
def asgi_client(world: World) -> Iterator[Any]:
    with asgi.get_client(world.client.app) as client:
        yield client


@pytest.mark.parametrize("caller", FUZZED)
def test_every_operation_survives_what_its_schema_allows_and_refuses(
    world: World, case: Case, session: Session, asgi_client: Any, caller: str
) -> None:
    objects = _objects(world, case, session)
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.client.app)
    operations = {op.definition.raw["operationId"]: op for op in _all_operations(schema)}
    failures: list[str] = []
    examples = 0
    for operation_id in _operations_for(caller):
        operation = operations[operation_id]
        real = {p.name: REAL_IDS[p.name](objects) for p in operation.path_parameters}
        headers = functools.partial(_headers, world, caller)
        if operation_id not in ENDING:
            headers = functools.partial(dict, headers())  # one log-in for all examples
        try:
            examples += _fuzz(operation, asgi_client, headers, real)
        except (Exception, BaseExceptionGroup) as exc:  # all operations', not the first only
            failures.append(f"{operation_id} as {caller}:\n{str(exc)[:3000]}")
    print(f"{caller}: {examples} examples over {len(_operations_for(caller))} operations")
    assert not failures, "\n\n".join(failures)


def _fuzz(
    operation: Any, client: Any, headers: Callable[[], dict[str, str]], real: dict[str, Any]
) -> int:
    """Send EXAMPLES drawn requests (valid and invalid) to ``operation``; return how many."""
    sent = 0
    strategy = st.one_of(
        operation.as_strategy(generation_mode=mode)
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
    )

    @hypothesis.settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(drawn=strategy, use_real=st.booleans())
    def run(drawn: schemathesis.Case, use_real: bool) -> None:
        nonlocal sent
        sent += 1
        if use_real and real:
            drawn.path_parameters = {**(drawn.path_parameters or {}), **real}
        drawn.call_and_validate(session=client, headers=headers(), checks=CHECKS)

    run()
    return sent


def _all_operations(schema: Any) -> Iterator[Any]:
    for result in schema.get_all_operations():
        yield result.ok()
