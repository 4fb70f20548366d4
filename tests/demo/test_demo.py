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


class TestDemoRollout:
    def test_program_history_waves_and_figures(self, cli_env: str) -> None:
        _load(seed=3, visits=200)
        engine = make_engine(cli_env)
        with engine.connect() as conn:
            history = conn.execute(
                sa.text(
                    "SELECT c.code, p.program FROM center_program_changes p"
                    " JOIN centers c ON c.id = p.center_id ORDER BY c.code, p.changed_at"
                )
            ).all()
        engine.dispose()
        by_center: dict[str, list[str]] = {}
        for code, program in history:
            by_center.setdefault(code, []).append(program)
        assert by_center["OSL-01"] == ["off", "pilot"]
        assert by_center["OSL-02"] == ["off", "on"]
        assert by_center["TRD-01"] == ["off"]
        worker = CliRunner().invoke(main, ["worker", "--once"])
        assert worker.exit_code == 0, worker.output
        status = CliRunner().invoke(main, ["rollout", "status", "--json"])
        assert status.exit_code == 0, status.output
        state = json.loads(status.stdout)
        assert [w["status"] for w in state["waves"]][:2] == ["done", "done"]
        # the planned waves' dates count from the demo's "now", the status from today's
        assert {w["status"] for w in state["waves"][2:]} <= {"planned", "ready", "blocked"}
        assert all(len(w["gate"]) == 4 for w in state["waves"][2:])
        assert {c["code"]: c["program"] for c in state["centers"]}["BGO-01"] == "pilot"
        report = CliRunner().invoke(main, ["report", "--from", "2026-09-01", "--to", "2026-11-20"])
        assert report.exit_code == 0, report.output
        network = report.stdout.splitlines()[1].split(",")
        assert network[:2] == ["network", "all"]
        assert int(network[2]) > 100  # visits checked in
