"""The ``direkte`` command."""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click
import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from direkte.audit.service import Actor
from direkte.auth import service as auth_service
from direkte.clock import SystemClock, ensure_utc
from direkte.config import Settings, get_settings
from direkte.db import (
    database_is_current,
    make_engine,
    make_sessionmaker,
    session_scope,
    upgrade_database,
)
from direkte.errors import DomainError
from direkte.network import service as network_service
from direkte.network.models import Region
from direkte.network.service import KINDS, NetworkFileInvalid

T = TypeVar("T")


def _settings() -> Settings:
    """The settings, or a clear refusal to start naming each bad variable."""
    try:
        return get_settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"DIREKTE_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        raise click.ClickException(f"bad configuration: {problems}") from None


def _sessions(settings: Settings) -> tuple[Engine, sessionmaker[Session]]:
    engine = make_engine(settings.resolved_database_url())
    return engine, make_sessionmaker(engine)


def _prepare_embedded(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_database(settings.resolved_database_url())


@click.group()
def main() -> None:
    """direkte: direct escalation to service managers."""


@main.command()
@click.option("--host", default=None, help="Interface to bind (DIREKTE_HOST).")
@click.option("--port", type=int, default=None, help="Port (DIREKTE_PORT).")
@click.option("--workers", type=int, default=1, show_default=True, help="Server processes.")
@click.option(
    "--demo/--no-demo", default=None, help="Load the demo network into an empty database."
)
@click.option(
    "--worker/--no-worker",
    "with_worker",
    default=None,
    help="Also run the background work (SLA sweeps, notifications) in this process; "
    "default: with the embedded database only (production runs `direkte worker`).",
)
def serve(
    host: str | None, port: int | None, workers: int, demo: bool | None, with_worker: bool | None
) -> None:
    """Serve the web app and the API."""
    import uvicorn

    settings = _settings()
    host = host or settings.host
    port = port or settings.port
    engine, factory = _sessions(settings)
    if settings.embedded:
        _prepare_embedded(settings)
    elif not database_is_current(engine):
        raise click.ClickException("the database is not up to date: run `direkte db upgrade` first")
    if demo if demo is not None else settings.embedded:
        from direkte.demo.generator import DEMO_PASSWORD, demo_logins, load_demo

        with session_scope(factory) as session:
            empty = session.scalar(sa.select(sa.func.count(Region.id))) == 0
            if empty:
                click.echo("direkte: loading the demo network (first start)…")
                load_demo(session, seed=1, visits=400)
                session.commit()
            logins = demo_logins(session)
        click.echo(f"\ndirekte is running at http://{host}:{port}/  (API docs: /docs)")
        click.echo(f"Log in to the web app at http://{host}:{port}/app/login as one of")
        click.echo(f"these demo users (password for all: {DEMO_PASSWORD}):")
        for role, email in logins:
            click.echo(f"  {role:<17} {email}")
        click.echo("")
    engine.dispose()
    if with_worker if with_worker is not None else settings.embedded:
        start_background_worker(settings)
    from direkte.api.serving import EVENT_LOOP, HTTP_PROTOCOL, WORKER_HEALTHCHECK_SECONDS

    uvicorn.run(
        "direkte.api.asgi:app",
        host=host,
        port=port,
        workers=workers,
        loop=EVENT_LOOP,  # uvloop, and httptools with TCP_NODELAY: chosen by measurement
        http=HTTP_PROTOCOL,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
    )


# A round at most this often when the worker runs inside `direkte serve` (the demo):
# notifications and breaches show within seconds, not the production default's minute.
EMBEDDED_WORKER_INTERVAL = 5.0


def start_background_worker(
    settings: Settings, *, rounds: int | None = None
) -> tuple[threading.Thread, threading.Event]:
    """Run the worker's rounds in a daemon thread of this process (its own engine);
    returns the thread and the event that stops it."""
    from direkte.jobs.sending import Outbound
    from direkte.jobs.sweeps import run_forever

    _, factory = _sessions(settings)
    stop = threading.Event()
    interval = min(settings.sweep_interval_seconds, EMBEDDED_WORKER_INTERVAL)
    thread = threading.Thread(
        target=run_forever,
        args=(factory, SystemClock()),
        kwargs={
            "interval": interval,
            "outbound": Outbound.of(settings),
            "rounds": rounds,
            "stop": stop,
        },
        name="direkte-worker",
        daemon=True,
    )
    thread.start()
    return thread, stop


@main.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration to DIREKTE_DATABASE_URL (or the embedded database)."""
    settings = _settings()
    if settings.embedded:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_database(settings.resolved_database_url())
    click.echo("database is up to date")


@main.group()
def network() -> None:
    """The service network: regions, centers, staff, customers."""


@network.command("load")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def network_load(file: Path, as_json: bool) -> None:
    """Validate FILE (YAML or JSON) whole, then upsert it in one transaction."""
    settings = _settings()
    if settings.embedded:
        _prepare_embedded(settings)
    engine, factory = _sessions(settings)
    try:
        raw = network_service.read_network_file(file)
        with session_scope(factory) as session:
            report = network_service.load_network(
                session, SystemClock(), raw=raw, actor=Actor.system(f"cli:network load {file.name}")
            )
            session.commit()
    except NetworkFileInvalid as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        click.echo(f"{file}: {len(exc.problems)} problem(s); nothing was written", err=True)
        sys.exit(1)
    finally:
        engine.dispose()
    if as_json:
        click.echo(json.dumps(report.model_dump()))
        return
    click.echo(f"{'':<10} {'created':>8} {'updated':>8} {'unchanged':>10}")
    for kind in KINDS:
        click.echo(
            f"{kind:<10} {report.created[kind]:>8} {report.updated[kind]:>8} "
            f"{report.unchanged[kind]:>10}"
        )


@main.group()
def apikey() -> None:
    """Integration API keys."""


def _run(action: Callable[[Session], T]) -> T:
    settings = _settings()
    if settings.embedded:
        _prepare_embedded(settings)
    engine, factory = _sessions(settings)
    try:
        with session_scope(factory) as session:
            result = action(session)
            session.commit()
            return result
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        engine.dispose()


@apikey.command("create")
@click.option("--name", required=True, help="Who uses the key (shown as the author of pushes).")
def apikey_create(name: str) -> None:
    """Create a key and print it once, alone on the last line."""
    key = _run(lambda s: auth_service.create_api_key(s, SystemClock(), name=name.strip()))
    click.echo(f"API key {name!r} created; it is shown only now:", err=True)
    click.echo(key)


@apikey.command("list")
def apikey_list() -> None:
    """List keys (names and prefixes; keys themselves are never stored)."""
    rows = _run(
        lambda s: [
            (k.name, k.prefix, k.created_at.isoformat(), k.revoked_at)
            for k in auth_service.list_api_keys(s)
        ]
    )
    for name, prefix, created, revoked in rows:
        state = f"revoked {revoked.isoformat()}" if revoked else "active"
        click.echo(f"{name}\t{prefix}…\tcreated {created}\t{state}")


@apikey.command("revoke")
@click.argument("name")
def apikey_revoke(name: str) -> None:
    """Revoke the key called NAME."""
    _run(lambda s: auth_service.revoke_api_key(s, SystemClock(), name=name))
    click.echo(f"API key {name!r} revoked")


@main.group()
def user() -> None:
    """Users' log-ins."""


@user.command("disable")
@click.argument("email")
def user_disable(email: str) -> None:
    """Disable the log-in of the user with EMAIL; their tokens are refused at once."""
    _run(lambda s: auth_service.disable_user_by_email(s, SystemClock(), email=email))
    click.echo(f"user {email!r} disabled")


@main.group()
def sla() -> None:
    """SLA timers."""


@sla.command("sweep")
@click.option("--now", "at", default=None, help="Sweep as if at this ISO 8601 time (with offset).")
def sla_sweep(at: str | None) -> None:
    """Move breached tier-1 cases to tier 2 once, and print how many moved."""
    from direkte.jobs.sweeps import sla_sweep as sweep

    now = _parse_now(at)
    engine, factory = _sessions(_settings())
    try:
        moved = sweep(factory, now=now)
    finally:
        engine.dispose()
    click.echo(f"{moved} case(s) moved to tier 2 at {now.isoformat()}")


def _parse_now(text: str | None) -> datetime:
    if text is None:
        return SystemClock().now()
    try:
        return ensure_utc(datetime.fromisoformat(text))
    except ValueError as exc:
        raise click.BadParameter(f"{text!r}: {exc}", param_hint="--now") from None


@main.command()
@click.option("--interval", type=float, default=None, help="Seconds between rounds.")
@click.option("--once", is_flag=True, help="Run one round, print its report as JSON, and stop.")
def worker(interval: float | None, once: bool) -> None:
    """Run background work forever: SLA sweeps, settling, notifications, key expiry."""
    from dataclasses import asdict

    from direkte.jobs.sending import Outbound
    from direkte.jobs.sweeps import run_forever, run_once

    settings = _settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(message)s"
    )
    engine, factory = _sessions(settings)
    if once:
        try:
            report = run_once(factory, SystemClock(), Outbound.of(settings))
        finally:
            engine.dispose()
        click.echo(json.dumps(asdict(report)))
        if report.failed_steps:
            sys.exit(1)
        return
    click.echo(f"direkte worker: a round every {interval or settings.sweep_interval_seconds}s")
    run_forever(
        factory,
        SystemClock(),
        interval=interval or settings.sweep_interval_seconds,
        outbound=Outbound.of(settings),
    )


@main.group()
def demo() -> None:
    """Demo data."""


@demo.command("load")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--visits", type=int, default=400, show_default=True)
@click.option("--customers", type=int, default=50, show_default=True)
@click.option(
    "--now",
    "at",
    default=None,
    help="Make the history end at this ISO 8601 time (with offset) instead of now; "
    "the same seed and time give the same data.",
)
def demo_load(seed: int, visits: int, customers: int, at: str | None) -> None:
    """Generate a deterministic demo network and visit history."""
    from direkte.clock import FixedClock
    from direkte.demo.generator import load_demo

    clock = FixedClock(_parse_now(at))
    summary = _run(
        lambda s: load_demo(s, seed=seed, visits=visits, customers=customers, clock=clock)
    )
    click.echo(json.dumps(summary))


@demo.command("history")
@click.option("--requests", type=click.IntRange(min=1), default=100_000, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--days", type=click.IntRange(1, 3650), default=365, show_default=True)
def demo_history(requests: int, seed: int, days: int) -> None:
    """Bulk-add recorded requests and their cases over the last DAYS days (for backtests)."""
    from direkte.demo.history import load_history

    now = SystemClock().now()
    made = _run(lambda s: load_history(s, requests=requests, now=now, seed=seed, days=days))
    click.echo(json.dumps(made))


@main.command()
@click.option("--centers", type=click.IntRange(1, 5000), default=40, show_default=True)
@click.option("--visits", type=click.IntRange(0, 100_000_000), default=100_000, show_default=True)
@click.option(
    "--effect",
    type=click.FloatRange(-0.3, 0.3),
    default=0.05,
    show_default=True,
    help="The program's effect on same-day resolution, as a share (0.05: five points).",
)
@click.option(
    "--escalation-effect",
    type=click.FloatRange(-10, 10),
    default=-1.0,
    show_default=True,
    help="The program's effect on escalation requests per 100 visits.",
)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--weeks", type=click.IntRange(8, 520), default=104, show_default=True)
@click.option(
    "--status-history/--no-status-history",
    default=True,
    show_default=True,
    help="Also write each visit's status changes (three rows a visit; the figures read "
    "the visits' checked_in_at, ready_at and closed_at).",
)
@click.option(
    "--until",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day the history ends before (default: today); the same seed and day give "
    "the same data.",
)
def simulate(
    centers: int,
    visits: int,
    effect: float,
    escalation_effect: float,
    seed: int,
    weeks: int,
    status_history: bool,
    until: datetime | None,
) -> None:
    """Write a simulated network history with a known program effect (for evaluations
    and benchmarks); PostgreSQL loads it with COPY. Prints a JSON summary."""
    from direkte.demo.simulate import load_simulation

    end = until.date() if until is not None else SystemClock().now().date()
    summary = _run(
        lambda s: load_simulation(
            s,
            centers=centers,
            visits=visits,
            effect=effect,
            escalation_effect=escalation_effect,
            seed=seed,
            weeks=weeks,
            end=end,
            status_history=status_history,
            progress=lambda line: click.echo(line, err=True),
        )
    )
    click.echo(json.dumps(summary.as_json()))


@main.group()
def policy() -> None:
    """The guardrail policy."""


def _parse_instant(text: str, hint: str) -> datetime:
    """An ISO date (midnight UTC) or an ISO time with its offset."""
    from datetime import UTC, date, time

    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
        return ensure_utc(datetime.fromisoformat(text))
    except ValueError as exc:
        raise click.BadParameter(f"{text!r}: {exc}", param_hint=hint) from None


@policy.command("backtest")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--from", "date_from", required=True, help="Start (ISO date or time, inclusive).")
@click.option("--to", "date_to", required=True, help="End (ISO date or time, exclusive).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--rescreen",
    is_flag=True,
    help="Screen texts an earlier content screen recorded again for the candidate.",
)
def policy_backtest(
    file: Path, date_from: str, date_to: str, as_json: bool, rescreen: bool
) -> None:
    """Run the policy document in FILE (YAML or JSON) over the recorded requests."""
    from direkte.analytics.backtest import backtest_policy, report_lines
    from direkte.guardrails.policy import validate_document
    from direkte.policy.schemas import BacktestOut

    start, end = _parse_instant(date_from, "--from"), _parse_instant(date_to, "--to")
    if start >= end:
        raise click.BadParameter("must be later than --from", param_hint="--to")
    try:
        document = network_service.read_network_file(file)
    except NetworkFileInvalid as exc:
        raise click.ClickException("; ".join(exc.problems)) from None
    _, problems = validate_document(document)
    if problems:
        for problem in problems:
            click.echo(f"{problem['field']}: {problem['message']}", err=True)
        click.echo(f"{file}: {len(problems)} problem(s) in the policy document", err=True)
        sys.exit(1)
    report = _run(
        lambda s: backtest_policy(
            s, document=document, date_from=start, date_to=end, rescreen=rescreen
        )
    )
    if as_json:
        click.echo(BacktestOut.model_validate(report).model_dump_json(by_alias=True))
        return
    for line in report_lines(report):
        click.echo(line)


if __name__ == "__main__":
    main()


@main.group()
def customer() -> None:
    """A customer's personal data: export and erase (DESIGN §7b)."""


@customer.command("export")
@click.argument("email")
def customer_export(email: str) -> None:
    """Print everything stored about the customer EMAIL as JSON (audited)."""
    from direkte.privacy import service as privacy

    def export(session: Session) -> dict[str, Any]:
        customer_id = privacy.customer_id_by_email(session, email)
        actor = Actor.system("console")
        return privacy.export_customer_as(
            session, SystemClock(), actor=actor, customer_id=customer_id
        )

    click.echo(json.dumps(_run(export), indent=2, ensure_ascii=False))


@customer.command("erase")
@click.argument("email")
@click.confirmation_option(prompt="Erase this customer's name, contact details and texts?")
def customer_erase(email: str) -> None:
    """Replace the customer EMAIL's identity and texts with placeholders; disable log-in."""
    from direkte.privacy import service as privacy

    def erase(session: Session) -> Any:
        customer_id = privacy.customer_id_by_email(session, email)
        return privacy.erase_customer(
            session, SystemClock(), actor=Actor.system("console"), customer_id=customer_id
        )

    erased = _run(erase)
    click.echo(f"erased customer {erased.customer_id}: {json.dumps(erased.rows)}")


def _iso_day(text: str | None, hint: str) -> Any:
    from datetime import date

    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(f"{text!r}: {exc}", param_hint=hint) from None


@main.command()
@click.option("--from", "date_from", default=None, help="First local day (default: 28 days ago).")
@click.option("--to", "date_to", default=None, help="Last local day (default: yesterday).")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "html"]), default="csv", show_default=True
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write to this file (default: standard output).",
)
def report(date_from: str | None, date_to: str | None, fmt: str, output: Path | None) -> None:
    """The figures per center and region (DESIGN §7) as CSV, or as one HTML file with
    charts that opens without a network."""
    from direkte.analytics.figures import check_window
    from direkte.analytics.report import render_csv, render_html, report_data

    first, last = _iso_day(date_from, "--from"), _iso_day(date_to, "--to")

    def build(session: Session) -> str:
        window = check_window(first, last, today=SystemClock().now().date())
        data = report_data(session, *window)
        return render_html(data) if fmt == "html" else render_csv(data)

    text = _run(build)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"report written to {output}", err=True)


@main.group()
def rollout() -> None:
    """The program's rollout: centers' states and waves (DESIGN §6)."""


@rollout.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print GET /api/v1/rollout's JSON.")
def rollout_status(as_json: bool) -> None:
    """Centers' program states, and each wave with its status and gate measured on the
    program centers' last 28 days."""
    from direkte.analytics.schemas import RolloutOut
    from direkte.analytics.service import rollout_state

    state = _run(lambda s: RolloutOut.model_validate(rollout_state(s, SystemClock(), None)))
    if as_json:
        click.echo(state.model_dump_json(by_alias=True))
        return
    window = state.gate_window
    click.echo("centers:")
    for c in state.centers:
        click.echo(f"  {c.code:<12} {c.program:<6} since {c.since or '-'}")
    click.echo(f"waves (gates on the program centers, {window.date_from} to {window.date_to}):")
    for w in state.waves:
        click.echo(
            f"  #{w.id} {w.name} ({w.date}, to {w.program}): {w.status.upper()}"
            f" [{', '.join(w.centers)}]"
            + (f" done {w.done_at:%Y-%m-%d %H:%M} by {w.done_by}" if w.done_at else "")
        )
        for g in w.gate:
            measured = "no data" if g.measured is None else f"{g.measured:.4g}"
            mark = "ok  " if g.holds else "FAIL"
            click.echo(f"      {mark} {g.figure} {g.op} {g.value:g} (measured {measured})")


@main.group()
def figures() -> None:
    """The daily figures the worker keeps (analytics.rollups)."""


@figures.command("rebuild")
@click.option(
    "--from", "date_from", help="First local day (default: the day before the first recorded one)."
)
@click.option("--to", "date_to", help="Last local day (default: yesterday).")
def figures_rebuild(date_from: str | None, date_to: str | None) -> None:
    """Recompute every center's daily figures in a window (after a bulk load that wrote
    no dirty marks, or to repair); without --from and --to, every day with data."""
    from direkte.analytics.service import first_recorded_day, rebuild

    now = SystemClock().now()
    last = _iso_day(date_to, "--to") if date_to else now.date() - timedelta(days=1)
    if date_from:
        first = _iso_day(date_from, "--from")
    else:
        recorded = _run(first_recorded_day)
        if recorded is None:
            click.echo("0 center-days recomputed (nothing recorded)")
            return
        first = min(recorded - timedelta(days=1), last)
        click.echo(f"from {first.isoformat()} to {last.isoformat()}", err=True)
    if last < first:
        raise click.BadParameter("must not be before --from", param_hint="--to")
    written = _run(lambda s: rebuild(s, first=first, last=last, now=now))
    click.echo(f"{written} center-days recomputed")
