"""Nothing personal in the logs (DESIGN §7b): a whole escalation, and a database error."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte.kit.errors import log_unexpected
from direkte.network.models import User
from tests.escalations.conftest import Case, World

SECRETS = ("ola@example.no", "Ola Hansen", "+4740000000", "pads were changed", "call me on")


def test_a_whole_escalation_logs_nothing_personal(
    world: World, case: Case, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    world.act(case.id, "messages", "ola@example.no", {"body": "Please call me on +4740000000"})
    world.act(case.id, "acknowledge", "kari@example.no")
    version = world.get(case.id, "ola@example.no").json()["version"]
    body = {"outcome": "upheld", "amount_delta": "0", "note": "Stands", "version": version}
    assert world.act(case.id, "resolve", "kari@example.no", body).status_code == 200
    world.client.get(f"/api/v1/visits/{case.visit_id}", headers=world.as_("ola@example.no"))
    text = caplog.text.lower()
    assert caplog.records  # the client's and the app's records were captured
    for secret in SECRETS:
        assert secret.lower() not in text


def test_a_database_error_logs_no_values(
    session: Session, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    # PostgreSQL's own message quotes the refused row ("Failing row contains ..."), so
    # the log names the error, its SQLSTATE and the statement only.
    with pytest.raises(sa.exc.IntegrityError) as failure, session.begin_nested():
        session.execute(
            sa.insert(User).values(
                email="ola@example.no", password_hash="x", role="customer", name="Ola Hansen"
            )
        )
    caplog.set_level(logging.ERROR)
    log_unexpected("POST", "/api/v1/anything", "r-1", failure.value)
    assert "IntegrityError" in caplog.text
    assert "INSERT INTO users" in caplog.text
    for secret in ("ola@example.no", "Ola Hansen"):
        assert secret not in caplog.text
