"""The demo generator through its command: a realistic, deterministic network and history."""

from __future__ import annotations

import json

import sqlalchemy as sa
from click.testing import CliRunner

from direkte.cli import main
from direkte.db import make_engine

# The history is laid out backwards from "now" in the centers' business hours, so
# which cases are still acknowledged, breached or settled depends on the time of
# day and week: the shape tests pin it (a Wednesday morning in Oslo).
NOW = "2026-11-18T10:00:00+00:00"


def _load(seed: int, visits: int, now: str = NOW) -> dict[str, object]:
    result = CliRunner().invoke(
        main, ["demo", "load", "--seed", str(seed), "--visits", str(visits), "--now", now]
    )
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.output.strip().splitlines()[-1]))


class TestDemoLoad:
    def test_network_and_history_have_the_promised_shape(self, cli_env: str) -> None:
        summary = _load(seed=3, visits=300)
        assert summary["visits"] == 300
        engine = make_engine(cli_env)
        with engine.connect() as conn:

            def one(sql: str) -> object:
                return conn.execute(sa.text(sql)).scalar()

            assert one("SELECT count(DISTINCT country) FROM centers") >= 3
            assert one("SELECT count(*) FROM regions") >= 4
            assert one("SELECT count(*) FROM centers") >= 12
            assert one("SELECT count(DISTINCT program) FROM centers") == 3
            roles = set(conn.execute(sa.text("SELECT DISTINCT role FROM users")).scalars())
            assert roles == {
                "customer",
                "service_advisor",
                "local_manager",
                "regional_manager",
                "ops_admin",
            }
            assert one("SELECT count(*) FROM users WHERE role = 'customer'") == 50
            languages = set(
                conn.execute(
                    sa.text("SELECT DISTINCT language FROM users WHERE role = 'customer'")
                ).scalars()
            )
            assert languages == {"en", "nb", "da", "sv", "de"}
            assert one("SELECT count(*) FROM diagnoses") >= 250
            assert one("SELECT count(*) FROM estimates WHERE seq > 1") > 0
            assert one("SELECT count(*) FROM warranty_decisions") > 0
            statuses = set(
                conn.execute(sa.text("SELECT DISTINCT status FROM escalations")).scalars()
            )
            assert {
                "open",
                "acknowledged",
                "awaiting_customer",
                "resolved",
                "closed",
                "withdrawn",
                "held",
                "rejected",
            } <= statuses
            assert set(
                conn.execute(sa.text("SELECT DISTINCT tier FROM escalations")).scalars()
            ) == {0, 1, 2}
            assert one("SELECT count(*) FROM escalation_requests WHERE decision = 'reject'") > 0
        engine.dispose()

    def test_same_seed_gives_the_same_network(self, cli_env: str) -> None:
        _load(seed=5, visits=30)
        engine = make_engine(cli_env)
        with engine.connect() as conn:
            first = conn.execute(
                sa.text("SELECT email, name, phone FROM users ORDER BY email")
            ).all()
        engine.dispose()
        again = CliRunner().invoke(main, ["demo", "load", "--seed", "5", "--visits", "0"])
        assert again.exit_code == 0, again.output
        assert json.loads(again.output.strip().splitlines()[-1])["network"]["unchanged"] == {
            "regions": 5,
            "centers": 12,
            "staff": 54,
            "customers": 50,
        }
        engine = make_engine(cli_env)
        with engine.connect() as conn:
            assert (
                conn.execute(sa.text("SELECT email, name, phone FROM users ORDER BY email")).all()
                == first
            )
        engine.dispose()
