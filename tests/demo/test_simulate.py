"""``direkte simulate`` writes the simulated history; the figures read from its rows give
back the simulated counts, on both databases (PostgreSQL through COPY)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.orm import Session

from direkte.cli import main
from direkte.db import make_engine
from direkte.evaluation.simulation import simulate

ARGS = ["--centers", "12", "--visits", "6000", "--effect", "0.08", "--seed", "4"]
OPTIONS = [*ARGS, "--weeks", "20", "--until", "2026-11-30"]


def _simulate(*extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["simulate", *OPTIONS, *extra])
    return result.exit_code, result.output


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _schema(url: str) -> set[tuple[str, ...]]:
    """Every index and constraint definition, to see that the load put back what it took."""
    engine = make_engine(url)
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = conn.execute(sa.text("SELECT type, name, sql FROM sqlite_master")).all()
        else:
            rows = conn.execute(
                sa.text(
                    "SELECT 'index', indexname, indexdef FROM pg_indexes "
                    "WHERE schemaname = current_schema() UNION ALL "
                    "SELECT 'constraint', conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE connamespace = current_schema()::regnamespace"
                )
            ).all()
    engine.dispose()
    return {tuple(str(v) for v in row) for row in rows}


def test_the_rows_give_back_the_simulated_history(cli_env: str) -> None:
    schema = _schema(cli_env)
    code, output = _simulate()
    assert _schema(cli_env) == schema
    assert code == 0, output
    summary = json.loads(output.strip().splitlines()[-1])
    assert summary["visits"] == 6000
    assert summary["centers"] == 12
    assert summary["weeks"] == 20
    truth = simulate(
        centers=12,
        weeks=20,
        visits=6000,
        effect=0.08,
        seed=4,
        start=date(2026, 7, 13),
        code_prefix="SIM",
    )
    assert summary["from"] == truth.start.isoformat()

    engine = make_engine(cli_env)
    with engine.connect() as conn:
        zones = dict(conn.execute(sa.text("SELECT id, time_zone FROM centers")).all())
        codes = dict(conn.execute(sa.text("SELECT id, code FROM centers")).all())
        visits = conn.execute(
            sa.text(
                "SELECT v.id, v.center_id, v.checked_in_at, COALESCE(v.ready_at, v.closed_at) "
                "FROM visits v"
            )
        ).all()
        first_case = dict(
            conn.execute(
                sa.text("SELECT visit_id, min(created_at) FROM escalations GROUP BY visit_id")
            ).all()
        )
        changes = conn.execute(
            sa.text(
                "SELECT c.code, p.program, p.actor FROM center_program_changes p "
                "JOIN centers c ON c.id = p.center_id ORDER BY p.changed_at, c.code"
            )
        ).all()
        escalations = conn.execute(sa.text("SELECT count(*) FROM escalation_requests")).scalar()
        # The status history says the same as the visits' times.
        mismatched = conn.execute(
            sa.text(
                "SELECT count(*) FROM visits v WHERE v.ready_at IS DISTINCT FROM "
                "(SELECT min(s.changed_at) FROM visit_status_changes s "
                "WHERE s.visit_id = v.id AND s.to_status = 'ready')"
            )
        ).scalar()
    engine.dispose()

    assert len(visits) == 6000
    index = {code: i for i, code in enumerate(c.code for c in truth.centers)}
    seen: Counter[tuple[int, int]] = Counter()
    resolved: Counter[tuple[int, int]] = Counter()
    for visit_id, center_id, checked_in, ready in visits:
        zone = ZoneInfo(zones[center_id])
        day = _aware(checked_in).astimezone(zone).date()
        cell = (index[codes[center_id]], (day - truth.start).days)
        seen[cell] += 1
        case = first_case.get(visit_id)
        open_that_day = case is not None and _aware(case).astimezone(zone).date() <= day
        if ready is not None and _aware(ready).astimezone(zone).date() == day:
            resolved[cell] += not open_that_day
    assert dict(seen) == _cells(truth.visits)
    assert {k: v for k, v in resolved.items() if v} == _cells(truth.same_day)
    assert escalations == int(truth.escalations.sum())
    assert mismatched == 0
    # Every center starts off; the waves' centers go pilot (and on), all by the simulator.
    assert {actor for _, _, actor in changes} == {"simulator"}
    assert sum(1 for _, program, _ in changes if program == "off") == 12
    entered = {code for code, program, _ in changes if program == "pilot"}
    assert entered == {c.code for c in truth.centers if c.wave is not None}


def _cells(counts: np.ndarray) -> dict[tuple[int, int], int]:  # type: ignore[type-arg]
    rows, days = np.nonzero(counts)
    return {(int(c), int(d)): int(counts[c, d]) for c, d in zip(rows, days, strict=True)}


def test_a_second_simulation_into_the_same_database_is_refused(cli_env: str) -> None:
    assert _simulate()[0] == 0
    code, output = _simulate()
    assert code != 0
    assert "simulated centers" in output


def test_bad_options_are_refused() -> None:
    result = CliRunner().invoke(main, ["simulate", "--effect", "2"])
    assert result.exit_code == 2
    assert "--effect" in result.output


def test_the_figures_of_the_simulated_rows_are_the_simulated_panel(cli_env: str) -> None:
    """Through the whole way: simulate, rebuild the roll-ups, build the evaluation's
    panel from them: it is the simulator's own panel, week by week; and the evaluation
    of it covers the true effect."""
    from direkte.analytics.service import build_panel
    from direkte.evaluation import did

    assert _simulate()[0] == 0
    truth = simulate(
        centers=12,
        weeks=20,
        visits=6000,
        effect=0.08,
        seed=4,
        start=date(2026, 7, 13),
        code_prefix="SIM",
    )
    first, last = truth.start, truth.day(truth.days - 1)
    rebuilt = CliRunner().invoke(
        main, ["figures", "rebuild", "--from", first.isoformat(), "--to", last.isoformat()]
    )
    assert rebuilt.exit_code == 0, rebuilt.output
    engine = make_engine(cli_env)
    with Session(engine) as session:
        panel = build_panel(session, "same_day_resolution", first, last)
    engine.dispose()
    expected = truth.panel()
    assert panel.centers == expected.centers
    assert panel.weeks == expected.weeks
    assert (panel.treated == expected.treated).all()
    np.testing.assert_allclose(panel.values, expected.values, rtol=0, atol=1e-12)
    result = did.evaluate(panel, seed=0, min_treated_centers=3, min_control_centers=3)
    assert result.ci is not None
    assert result.ci[0] <= truth.effect <= result.ci[1]
