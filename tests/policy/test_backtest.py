"""Backtests over a crafted history: through HTTP, the command line, and the pure compare."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from direkte.analytics.backtest import ERASED_TEXT
from direkte.cli import main
from direkte.clock import FixedClock
from direkte.db import make_engine, make_sessionmaker
from direkte.escalations.models import EscalationRequest
from direkte.guardrails.content import SCREEN_VERSION
from direkte.guardrails.policy import default_document
from direkte.privacy import service as privacy
from tests.conftest import T0
from tests.factories import login
from tests.policy.conftest import FROM, TO, candidate_document, make_history

CURRENT = {
    "policy_version": "0",
    "requests": 9,
    "decisions": {"route": 7, "reject": 1, "moderate": 1},
    "tiers": {"0": 1, "1": 6, "2": 0},
    "folded": 1,
    "reached": 6,
    "reach_share": 0.6667,
    "load": {"managers": 2, "manager_days": 3, "mean": 1.67, "p95": 3.0, "unassigned": 0},
    "deflected": 3,
    "deflected_right": 2,
    "deflected_right_share": 0.6667,
    "deflected_right_by_outcome": {"revised": 1, "goodwill": 1},
}
CANDIDATE = {
    "policy_version": "candidate",
    "requests": 9,
    "decisions": {"route": 7, "reject": 1, "moderate": 1},
    "tiers": {"0": 4, "1": 3, "2": 0},
    "folded": 1,
    "reached": 3,
    "reach_share": 0.3333,
    "load": {"managers": 2, "manager_days": 2, "mean": 1.0, "p95": 1.0, "unassigned": 0},
    "deflected": 6,
    "deflected_right": 4,
    "deflected_right_share": 0.6667,
    "deflected_right_by_outcome": {"revised": 2, "goodwill": 2},
}
DIFFERENCE = {
    "reached": -3,
    "reach_share": -0.3334,
    "load_mean": -0.67,
    "load_p95": -2.0,
    "managers": 0,
    "deflected": 3,
    "deflected_right": 2,
    "newly_deflected": 3,
    "newly_reached": 0,
    "newly_deflected_right": 2,
}


def _post(client: TestClient, email: str, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/policy/backtest", json=body, headers=login(client, email))


class TestBacktestRoute:
    @pytest.fixture(autouse=True)
    def _history(self, session: Session, clock: FixedClock) -> None:
        make_history(session, clock)

    def test_stricter_candidate_reaches_fewer_and_counts_right_deflections(
        self, client: TestClient
    ) -> None:
        body = {"policy": candidate_document(), "from": FROM, "to": TO}
        response = _post(client, "ops@example.no", body)
        assert response.status_code == 200, response.text
        report = response.json()
        assert report["from"] == "2026-11-01T00:00:00Z"
        assert report["requests"] == 9
        assert report["with_outcome"] == 8
        assert report["current"] == CURRENT
        assert report["candidate"] == CANDIDATE
        assert report["difference"] == DIFFERENCE
        assert report["notes"]

    def test_current_policy_against_itself_changes_nothing(self, client: TestClient) -> None:
        body = {"policy": default_document(), "from": FROM, "to": "2026-11-18T00:00:00+01:00"}
        report = _post(client, "ops@example.no", body).json()
        assert report["candidate"] == {**CURRENT, "policy_version": "candidate"}
        assert set(report["difference"].values()) == {0}

    def test_customer_is_forbidden(self, client: TestClient) -> None:
        body = {"policy": candidate_document(), "from": FROM, "to": TO}
        response = _post(client, "ola@example.no", body)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "ops_only"

    def test_manager_is_forbidden(self, client: TestClient) -> None:
        response = _post(client, "kari@example.no", {"policy": {}, "from": FROM, "to": TO})
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "ops_only"

    def test_invalid_document_lists_problems_by_path(self, client: TestClient) -> None:
        document = default_document()
        document["global"]["frequency"]["max_per_365_days"] = 0
        document["global"]["materiality"]["estimate"]["min_increase"] = {"XXX": "1"}
        response = _post(client, "ops@example.no", {"policy": document, "from": FROM, "to": TO})
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "invalid_policy"
        fields = {problem["field"] for problem in error["details"]}
        assert "global.frequency.max_per_365_days" in fields
        assert "global.materiality.estimate.min_increase" in fields

    def test_unknown_region_field_names_its_path(self, client: TestClient) -> None:
        document = {"global": {}, "regions": {"DK": {"capacity": {"local_manager_open_cap": 0}}}}
        response = _post(client, "ops@example.no", {"policy": document, "from": FROM, "to": TO})
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_policy"
        details = response.json()["error"]["details"]
        assert [p["field"] for p in details] == ["regions.DK.capacity.local_manager_open_cap"]

    @pytest.mark.parametrize(
        ("date_from", "date_to"),
        [(TO, FROM), (FROM, FROM), ("2026-11-01T10:00:00", TO), ("soon", TO)],
    )
    def test_bad_range_is_422(self, client: TestClient, date_from: str, date_to: str) -> None:
        body = {"policy": {}, "from": date_from, "to": date_to}
        response = _post(client, "ops@example.no", body)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"

    def test_extra_field_is_422(self, client: TestClient) -> None:
        body = {"policy": {}, "from": FROM, "to": TO, "region": "DK"}
        response = _post(client, "ops@example.no", body)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"

    def test_content_part_counts_nothing_when_the_content_rule_is_the_same(
        self, client: TestClient
    ) -> None:
        body = {"policy": candidate_document(), "from": FROM, "to": TO}
        report = _post(client, "ops@example.no", body).json()
        assert report["content"] == {
            "screen": SCREEN_VERSION,
            "rescreen": False,
            "rescreened": 0,
            "held": 0,
            "released": 0,
        }

    def test_candidate_holding_no_threats_releases_the_held_request(
        self, client: TestClient
    ) -> None:
        document = default_document()
        document["global"]["content"]["hold"] = ["doxxing", "harassment", "abuse"]
        report = _post(client, "ops@example.no", {"policy": document, "from": FROM, "to": TO})
        assert report.status_code == 200, report.text
        assert report.json()["content"]["released"] == 1
        assert report.json()["content"]["held"] == 0
        assert report.json()["candidate"]["decisions"]["moderate"] == 0

    def test_unknown_hold_category_is_422_with_its_path(self, client: TestClient) -> None:
        document = default_document()
        document["global"]["content"]["hold"] = ["rudeness"]
        response = _post(client, "ops@example.no", {"policy": document, "from": FROM, "to": TO})
        assert response.status_code == 422
        assert "global.content.hold" in response.text

    def test_rescreen_holds_and_releases_by_the_running_screen(
        self, client: TestClient, session: Session
    ) -> None:
        # Recorded by an earlier screen: one threat it missed, one hold on a harmless text.
        requests = session.scalars(sa.select(EscalationRequest).order_by(EscalationRequest.id))
        missed = next(r for r in requests if r.decision == "route" and not r.folded)
        missed.reason = "I know which school your mechanic's kids go to."
        session.commit()
        body = {"policy": default_document(), "from": FROM, "to": TO, "rescreen": True}
        report = _post(client, "ops@example.no", body).json()
        assert report["content"] == {
            "screen": SCREEN_VERSION,
            "rescreen": True,
            "rescreened": 9,
            "held": 1,
            "released": 1,  # the crafted hold's text is "Too expensive"
        }
        assert report["current"] == CURRENT  # as recorded
        assert report["candidate"]["decisions"]["moderate"] == 1

    def test_rescreen_keeps_the_facts_of_erased_texts(
        self, client: TestClient, session: Session
    ) -> None:
        held = session.scalars(
            sa.select(EscalationRequest).where(EscalationRequest.decision == "moderate")
        ).one()
        held.reason = ERASED_TEXT
        session.commit()
        body = {"policy": default_document(), "from": FROM, "to": TO, "rescreen": True}
        report = _post(client, "ops@example.no", body).json()
        assert report["content"]["released"] == 0
        assert report["content"]["rescreened"] == 8

    def test_empty_range_reports_zeros(self, client: TestClient) -> None:
        body = {"policy": {}, "from": "2020-01-01", "to": "2020-02-01"}
        report = _post(client, "ops@example.no", body).json()
        assert report["requests"] == 0
        assert report["current"]["reach_share"] == 0.0
        assert report["current"]["load"]["p95"] == 0.0


def test_erased_text_is_the_privacy_placeholder() -> None:
    assert ERASED_TEXT == privacy.ERASED_TEXT


class TestBacktestCommand:
    @pytest.fixture
    def history(self, cli_env: str) -> None:
        engine = make_engine(cli_env)
        with make_sessionmaker(engine)() as session:
            make_history(session, FixedClock(T0))
        engine.dispose()

    @pytest.mark.usefixtures("history")
    def test_json_report_matches_the_api(self, tmp_path: Path) -> None:
        path = tmp_path / "candidate.json"
        path.write_text(json.dumps(candidate_document()), encoding="utf-8")
        result = CliRunner().invoke(
            main, ["policy", "backtest", str(path), "--from", FROM, "--to", TO, "--json"]
        )
        assert result.exit_code == 0, result.output
        report = json.loads(result.output)
        assert report["current"] == CURRENT
        assert report["candidate"] == CANDIDATE
        assert report["difference"] == DIFFERENCE
        assert report["content"]["held"] == report["content"]["released"] == 0

    @pytest.mark.usefixtures("history")
    def test_rescreen_flag_prints_the_content_line(self, tmp_path: Path) -> None:
        path = tmp_path / "candidate.json"
        path.write_text(json.dumps(default_document()), encoding="utf-8")
        result = CliRunner().invoke(
            main, ["policy", "backtest", str(path), "--from", FROM, "--to", TO, "--rescreen"]
        )
        assert result.exit_code == 0, result.output
        line = next(x for x in result.output.splitlines() if x.startswith("content:"))
        assert "holds 0 more, releases 1" in line
        assert "9 request(s) recorded by an earlier screen" in line

    @pytest.mark.usefixtures("history")
    def test_yaml_file_prints_a_table(self, tmp_path: Path) -> None:
        path = tmp_path / "candidate.yaml"
        path.write_text(
            "global:\n  materiality:\n    estimate:\n      min_increase: {NOK: 5000}\n",
            encoding="utf-8",
        )
        result = CliRunner().invoke(
            main, ["policy", "backtest", str(path), "--from", FROM, "--to", TO]
        )
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert any(line.split()[:4] == ["reached", "managers", "6", "3"] for line in lines)
        assert any(line.split()[:4] == ["deflected,", "right", "2", "4"] for line in lines)

    @pytest.mark.usefixtures("cli_env")
    def test_invalid_document_exits_1_with_paths(self, tmp_path: Path) -> None:
        path = tmp_path / "bad.yaml"
        path.write_text("global:\n  frequency: {max_per_365_days: 0}\n", encoding="utf-8")
        result = CliRunner().invoke(
            main, ["policy", "backtest", str(path), "--from", FROM, "--to", TO]
        )
        assert result.exit_code == 1
        assert "global.frequency.max_per_365_days" in result.output

    @pytest.mark.usefixtures("cli_env")
    def test_reversed_range_is_a_usage_error(self, tmp_path: Path) -> None:
        path = tmp_path / "p.json"
        path.write_text("{}", encoding="utf-8")
        result = CliRunner().invoke(
            main, ["policy", "backtest", str(path), "--from", TO, "--to", FROM]
        )
        assert result.exit_code == 2
