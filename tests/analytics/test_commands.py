"""`direkte report`, `direkte rollout status`, `direkte figures rebuild` and the worker's
figures step, on a committed database."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker

from direkte.analytics.models import (
    CenterDayBucket,
    CenterDayFigures,
    CenterWeekBucket,
    RolloutWave,
)
from direkte.audit.service import Actor
from direkte.cli import main
from direkte.clock import FixedClock, SystemClock
from direkte.db import make_engine, make_sessionmaker
from direkte.jobs.sweeps import run_once
from direkte.marks import FigureDirtyMark
from direkte.network.models import Center, Program
from direkte.visits import service as visits
from direkte.visits.models import Visit
from direkte.visits.schemas import VisitUpsert
from tests.factories import make_network, make_vin, visit_body


@pytest.fixture
def factory(cli_env: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(cli_env)
    yield make_sessionmaker(engine)
    engine.dispose()


def _history(factory: sessionmaker[Session]) -> date:
    """Ten visits at OSL-01 and four at CPH-01 over the last week, six and one of them
    ready the same day; returns the first day."""
    now = SystemClock().now()
    first = now.date() - timedelta(days=7)
    with factory() as session:
        make_network(session, FixedClock(now - timedelta(days=30)))
        session.commit()
    actor = Actor("api_key", None, "test")
    for i in range(14):
        center, same_day = ("OSL-01", i < 6) if i < 10 else ("CPH-01", i == 10)
        day = first + timedelta(days=i % 6)
        checked_in = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)
        ready = checked_in + (timedelta(hours=3) if same_day else timedelta(days=1, hours=1))
        body = visit_body(
            center=center,
            customer_email="mads@example.dk" if center == "CPH-01" else "ola@example.no",
            vehicle={
                "vin": make_vin(500 + i),
                "model": "Model S",
                "model_year": 2020,
                "odometer_km": 5,
                "delivery_date": "2020-05-05",
            },
            status="ready",
            checked_in_at=checked_in.isoformat(),
            ready_at=ready.isoformat(),
        )
        with factory() as session:
            visits.upsert_visit(
                session,
                FixedClock(ready),
                external_id=f"C-{i}",
                data=VisitUpsert.model_validate(body),
                actor=actor,
            )
            session.commit()
    return first


def test_worker_round_rolls_up_and_report_writes_csv(factory: sessionmaker[Session]) -> None:
    first = _history(factory)
    with factory() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(FigureDirtyMark)) == 14
    report = run_once(factory, SystemClock())
    assert report.figure_marks == 14
    assert report.failed_steps == []
    with factory() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(FigureDirtyMark)) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(CenterDayFigures)) > 0
    result = CliRunner().invoke(
        main,
        ["report", "--from", first.isoformat(), "--to", (first + timedelta(days=6)).isoformat()],
    )
    assert result.exit_code == 0, result.output
    rows = {(r["scope"], r["key"]): r for r in csv.DictReader(io.StringIO(result.stdout))}
    assert rows["network", "all"]["visits_checked_in"] == "14"
    assert rows["network", "all"]["same_day_count"] == "7"
    assert rows["network", "all"]["same_day_rate"] == "0.5"
    assert rows["center", "OSL-01"]["same_day_rate"] == "0.6"
    assert rows["center", "CPH-01"]["same_day_rate"] == "0.25"
    assert rows["region", "NO-EAST"]["visits_checked_in"] == "10"
    assert rows["region", "DK"]["visits_checked_in"] == "4"
    assert rows["center", "OSL-02"]["visits_checked_in"] == "0"
    assert rows["center", "OSL-02"]["same_day_rate"] == ""  # no visits: no rate


def test_html_report_is_one_file_with_charts(
    factory: sessionmaker[Session], tmp_path: pytest.TempPathFactory
) -> None:
    first = _history(factory)
    run_once(factory, SystemClock())
    out = tmp_path / "report.html"  # type: ignore[operator]
    result = CliRunner().invoke(
        main,
        [
            "report",
            "--from",
            first.isoformat(),
            "--to",
            (first + timedelta(days=6)).isoformat(),
            "--format",
            "html",
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert html.count("<svg") == 3
    for caption in ("two-thirds target", "per 100 visits", "Overturn rate by diagnosis code"):
        assert caption in html
    # nothing fetched: no scripts, stylesheets, images or fonts from anywhere
    assert not re.search(r"<script|<link|<img|@import|url\((?!#)", html)
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "<td>OSL-01</td>" in html


def test_report_refuses_a_bad_window(factory: sessionmaker[Session]) -> None:
    result = CliRunner().invoke(main, ["report", "--from", "2026-02-01", "--to", "2026-01-01"])
    assert result.exit_code != 0
    assert "to: must not be before from" in result.output


def test_rollout_status_prints_waves_and_gates(factory: sessionmaker[Session]) -> None:
    _history(factory)
    run_once(factory, SystemClock())
    with factory() as session:
        osl2 = session.scalars(sa.select(Center.id).where(Center.code == "OSL-02")).one()
        now = SystemClock().now()
        session.add(
            RolloutWave(
                position=0,
                name="Oslo West",
                date=now.date(),
                program=Program.pilot,
                center_ids=[osl2],
                created_at=now,
                updated_at=now,
                forced=False,
                gate=[
                    {"figure": "same_day_resolution", "op": ">=", "value": 0.6},
                    {"figure": "satisfaction", "op": ">=", "value": 4},
                ],
            )
        )
        session.commit()
    result = CliRunner().invoke(main, ["rollout", "status"])
    assert result.exit_code == 0, result.output
    assert re.search(r"OSL-01\s+pilot", result.stdout)
    assert "Oslo West" in result.stdout
    assert "BLOCKED" in result.stdout
    # OSL-01 (pilot) and CPH-01 (on): 7 of 14 the same day
    assert "FAIL same_day_resolution >= 0.6 (measured 0.5)" in result.stdout
    assert "FAIL satisfaction >= 4 (measured no data)" in result.stdout
    as_json = CliRunner().invoke(main, ["rollout", "status", "--json"])
    assert '"status":"blocked"' in as_json.stdout


def test_figures_rebuild(factory: sessionmaker[Session]) -> None:
    first = _history(factory)
    with factory() as session:
        session.execute(sa.delete(FigureDirtyMark))
        session.commit()
    result = CliRunner().invoke(
        main,
        [
            "figures",
            "rebuild",
            "--from",
            first.isoformat(),
            "--to",
            (first + timedelta(days=6)).isoformat(),
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "21 center-days recomputed"


def test_figures_rebuild_without_a_window_covers_every_recorded_day(
    factory: sessionmaker[Session],
) -> None:
    first = _history(factory)
    with factory() as session:
        session.execute(sa.delete(FigureDirtyMark))
        session.execute(sa.delete(CenterDayBucket))
        session.execute(sa.delete(CenterWeekBucket))
        session.execute(sa.delete(CenterDayFigures))
        session.commit()
    result = CliRunner().invoke(main, ["figures", "rebuild"])
    assert result.exit_code == 0, result.output
    with factory() as session:
        days = session.execute(
            sa.select(sa.func.min(CenterDayFigures.day), sa.func.max(CenterDayFigures.day))
        ).one()
        visits = session.scalar(sa.select(sa.func.sum(CenterDayFigures.visits_checked_in)))
        checked_in = session.scalar(sa.select(sa.func.count()).select_from(Visit))
    # from the day before the first check-in to yesterday, every visit counted
    assert days[0] == first - timedelta(days=1)
    assert days[1] == SystemClock().now().date() - timedelta(days=1)
    assert visits == checked_in
