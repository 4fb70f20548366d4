"""``direkte simulate``: a simulated network history written into the database.

The counts come from :func:`direkte.evaluation.simulation.simulate` (centers with
their own levels, seasonality, holidays, a staggered rollout, a known effect);
here every counted visit becomes a row with the times the integration would give:
``checked_in_at`` on its day, ``ready_at`` (and its status change) and ``closed_at`` on the
same local day for the visits the counts resolve the same day, on a later day for
the others, so that the figures computed from the rows give back the counts.
Escalated visits get a diagnosis (or an estimate), the request and its case,
always made after the visit's check-in day (a case open at the end of that day
would spoil its same-day resolution). Each center's program states are written to
``center_program_changes`` with actor ``simulator``.

PostgreSQL loads the large tables with COPY in one transaction, with their
secondary indexes and foreign keys dropped during the load and rebuilt after it
when the load is larger than what the tables hold; SQLite inserts in batches.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte.errors import RuleViolation
from direkte.evaluation.simulation import NetworkHistory, simulate
from direkte.network.models import Center, CenterProgramChange, Region, Role, User

ACTOR = "simulator"
DOMAIN = "simulated.direkte.no"
PREFIX = "SIM"
# A simulated user's password hash: argon2 refuses it, so nobody can log in as one.
NO_LOGIN = "!simulated"
_CHUNK_VISITS = 400_000
_SQLITE_BATCH = 5_000
_NAMES = {
    "NO": ("Norway", "nb"),
    "SE": ("Sweden", "sv"),
    "DK": ("Denmark", "da"),
    "FI": ("Finland", "en"),
    "DE": ("Germany", "de"),
}
_PLACES = {
    "NO": (59.91, 10.75),
    "SE": (59.33, 18.07),
    "DK": (55.68, 12.57),
    "FI": (60.17, 24.94),
    "DE": (52.52, 13.40),
}
_HOURS = {day: ["07:30-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")} | {
    "sat": ["09:00-14:00"]
}
_CONCERNS = (
    "Annual service",
    "Warning light on the dashboard",
    "Noise from the front axle",
    "Charging stops at 80%",
    "Tyre change",
    "Brake pedal feels soft",
    "Software update",
    "Air conditioning weak",
)
_CODES = ("P0A1F", "P0AA6", "C1234", "B1010", "U0100", "P0300", "P0420", "C0035")
_MODELS = ("Model E", "Model S", "Model X", "Model 3", "Model Y")
_GUARDRAIL = {
    "decision": "route",
    "policy_version": "0",
    "rules": [],
    "explanation": "Simulated request.",
    "reason": "simulated",
}


class AlreadySimulated(RuleViolation):
    code = "already_simulated"


@dataclass(frozen=True, slots=True)
class SimulationSummary:
    centers: int
    customers: int
    visits: int
    escalations: int
    program_changes: int
    weeks: int
    first_day: date
    last_day: date
    effect: float
    escalation_effect: float
    seconds: float

    def as_json(self) -> dict[str, Any]:
        return {
            "centers": self.centers,
            "customers": self.customers,
            "visits": self.visits,
            "escalations": self.escalations,
            "program_changes": self.program_changes,
            "weeks": self.weeks,
            "from": self.first_day.isoformat(),
            "to": self.last_day.isoformat(),
            "effect": self.effect,
            "escalation_effect": self.escalation_effect,
            "seconds": round(self.seconds, 1),
        }


def load_simulation(
    session: Session,
    *,
    centers: int,
    visits: int,
    effect: float,
    seed: int,
    end: date,
    weeks: int = 104,
    escalation_effect: float = -1.0,
    status_history: bool = True,
    progress: Callable[[str], None] | None = None,
) -> SimulationSummary:
    """Simulate ``weeks`` weeks ending before ``end`` and write them; the caller commits.

    ``status_history`` also writes each visit's status changes (check-in, ready,
    closed: what its ``checked_in_at``, ``ready_at`` and ``closed_at`` say again,
    three rows a visit); the figures read the visits' times.

    Raises AlreadySimulated when simulated centers are there already.
    """
    started = time.perf_counter()
    if session.scalar(sa.select(Center.id).where(Center.code.like(f"{PREFIX}-%")).limit(1)):
        raise AlreadySimulated(
            f"this database holds simulated centers ({PREFIX}-...) already: use a fresh one"
        )
    start = end - timedelta(days=7 * weeks)
    history = simulate(
        centers=centers,
        weeks=weeks,
        visits=visits,
        effect=effect,
        escalation_effect=escalation_effect,
        seed=seed,
        start=start,
        code_prefix=PREFIX,
    )
    connection = session.connection()
    writer = _writer(connection)
    created = datetime.combine(history.start, datetime.min.time(), UTC) - timedelta(days=30)
    center_ids, staff = _network(connection, history, created)
    changes = _program_changes(connection, history, center_ids)
    rng = np.random.default_rng([seed, 7])
    layout = _Layout.of(history, center_ids, connection)
    escalations = 0
    with writer.deferred_indexes(visits):
        customer_rows = _customers(writer, history, layout, created)
        for chunk in _chunks(history):
            escalations += _visits(writer, history, layout, staff, chunk, rng, status_history)
            if progress is not None:
                done = int(history.visits[: chunk.stop].sum())
                progress(f"{done} of {visits} visits")
    writer.finish()
    return SimulationSummary(
        centers=centers,
        customers=customer_rows,
        visits=int(history.visits.sum()),
        escalations=escalations,
        program_changes=changes,
        weeks=weeks,
        first_day=history.start,
        last_day=history.day(history.days - 1),
        effect=effect,
        escalation_effect=escalation_effect,
        seconds=time.perf_counter() - started,
    )


# --- the network: regions, centers, staff, program changes (few rows: Core inserts) ---


def _table(model: type[Any]) -> sa.Table:
    return cast(sa.Table, model.__table__)


def _network(
    connection: sa.Connection, history: NetworkHistory, created: datetime
) -> tuple[list[int], list[tuple[int, int, int]]]:
    """Insert regions, centers and their staff; the centers' ids, and per center the ids of
    its advisor, its local manager and its regional manager."""
    countries = sorted({c.country for c in history.centers})
    regions = {}
    for country in countries:
        zone = next(c.time_zone for c in history.centers if c.country == country)
        regions[country] = connection.execute(
            _table(Region)
            .insert()
            .values(
                code=f"{PREFIX.lower()}-{country.lower()}",
                name=f"Simulated {_NAMES[country][0]}",
                countries=[country],
                time_zone=zone,
                created_at=created,
                updated_at=created,
            )
            .returning(_table(Region).c.id)
        ).scalar_one()
    final = history.program[:, -1]
    center_ids = []
    for i, center in enumerate(history.centers):
        lat, lon = _PLACES[center.country]
        center_ids.append(
            connection.execute(
                _table(Center)
                .insert()
                .values(
                    code=center.code,
                    name=f"Simulated center {i + 1}",
                    region_id=regions[center.country],
                    address=f"Simulated street {i + 1}, {center.country}",
                    country=center.country,
                    time_zone=center.time_zone,
                    lat=lat + (i % 10) / 100,
                    lon=lon + (i // 10 % 10) / 100,
                    business_hours=_HOURS,
                    closed_dates=[],
                    capacity_bays=6,
                    currency=center.currency,
                    program=("off", "pilot", "on")[int(final[i])],
                    created_at=created,
                    updated_at=created,
                )
                .returning(_table(Center).c.id)
            ).scalar_one()
        )

    def person(role: Role, email: str, name: str, **where: int) -> int:
        return cast(
            int,
            connection.execute(
                _table(User)
                .insert()
                .values(
                    email=email,
                    password_hash=NO_LOGIN,
                    role=role,
                    name=name,
                    language="en",
                    languages=["en"],
                    on_duty=True,
                    active=True,
                    created_at=created,
                    updated_at=created,
                    **where,
                )
                .returning(_table(User).c.id)
            ).scalar_one(),
        )

    regional = {
        country: person(
            Role.regional_manager,
            f"regional.{country.lower()}@{DOMAIN}",
            f"Regional manager {country}",
            region_id=region_id,
        )
        for country, region_id in regions.items()
    }
    staff = []
    for center, center_id in zip(history.centers, center_ids, strict=True):
        code = center.code.lower()
        advisor = person(
            Role.service_advisor,
            f"advisor.{code}@{DOMAIN}",
            f"Advisor {center.code}",
            center_id=center_id,
        )
        manager = person(
            Role.local_manager,
            f"manager.{code}@{DOMAIN}",
            f"Manager {center.code}",
            center_id=center_id,
        )
        staff.append((advisor, manager, regional[center.country]))
    return center_ids, staff


def _program_changes(
    connection: sa.Connection, history: NetworkHistory, center_ids: list[int]
) -> int:
    rows = []
    for change in history.changes:
        center = history.centers[change.center]
        day = history.day(change.day)
        at = datetime.combine(day, datetime.min.time(), ZoneInfo(center.time_zone))
        rows.append(
            {
                "center_id": center_ids[change.center],
                "program": change.program,
                "changed_at": at.astimezone(UTC),
                "actor": ACTOR,
                "reason": "simulated history"
                if change.program == "off"
                else f"simulated wave {(center.wave or 0) + 1}",
            }
        )
    connection.execute(_table(CenterProgramChange).insert(), rows)
    return len(rows)


# --- where each center's rows go: ids, customers, local midnights ---


@dataclass(frozen=True, slots=True, eq=False)
class _Layout:
    center_ids: npt.NDArray[np.int64]
    first_customer: npt.NDArray[np.int64]  # per center: its customers' first user id
    customers: npt.NDArray[np.int64]  # per center: how many customers it has
    midnight: npt.NDArray[np.int64]  # centers x (days + 8): local midnight in UTC seconds
    now: int  # the end of the history, UTC seconds
    vehicle_offset: int  # a customer's vehicle id less its user id
    next_ids: dict[str, int]

    @classmethod
    def of(
        cls, history: NetworkHistory, center_ids: list[int], connection: sa.Connection
    ) -> _Layout:
        per_center = history.visits.sum(axis=1)
        customers = np.maximum(1, per_center // 4)
        next_ids = {
            table: int(
                connection.execute(
                    sa.text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
                ).scalar_one()
            )
            + 1
            for table in _BULK
        }
        first = next_ids["users"] + np.concatenate([[0], np.cumsum(customers)[:-1]])
        zones = {c.time_zone for c in history.centers}
        days = history.days + 8
        by_zone = {}
        for zone in zones:
            tz = ZoneInfo(zone)
            by_zone[zone] = np.array(
                [
                    int(datetime.combine(history.day(d), datetime.min.time(), tz).timestamp())
                    for d in range(days)
                ],
                dtype=np.int64,
            )
        midnight = np.array([by_zone[c.time_zone] for c in history.centers])
        end = datetime.combine(history.day(history.days), datetime.min.time(), UTC)
        return cls(
            center_ids=np.array(center_ids, dtype=np.int64),
            first_customer=first.astype(np.int64),
            customers=customers.astype(np.int64),
            midnight=midnight,
            now=int(end.timestamp()),
            vehicle_offset=next_ids["vehicles"] - next_ids["users"],
            next_ids=next_ids,
        )

    def take(self, table: str, count: int) -> npt.NDArray[np.int64]:
        first = self.next_ids[table]
        self.next_ids[table] = first + count
        return np.arange(first, first + count, dtype=np.int64)


_BULK = (
    "users",
    "vehicles",
    "visits",
    "visit_status_changes",
    "diagnoses",
    "estimates",
    "escalations",
    "escalation_requests",
)


def _chunks(history: NetworkHistory) -> Iterator[slice]:
    per_center = history.visits.sum(axis=1)
    start, running = 0, 0
    for i, count in enumerate(per_center):
        running += int(count)
        if running >= _CHUNK_VISITS:
            yield slice(start, i + 1)
            start, running = i + 1, 0
    if start < len(per_center):
        yield slice(start, len(per_center))


# --- the bulk tables, as text columns ---

Column = Sequence[str | None]


def _customers(writer: _Writer, history: NetworkHistory, layout: _Layout, created: datetime) -> int:
    total = int(layout.customers.sum())
    ids = layout.take("users", total)
    vehicle_ids = layout.take("vehicles", total)
    center_of = np.repeat(np.arange(len(history.centers)), layout.customers)
    languages = [_NAMES[c.country][1] for c in history.centers]
    language = [languages[i] for i in center_of.tolist()]
    id_text = _ints(ids)
    stamp = writer.stamp(np.full(total, int(created.timestamp()), dtype=np.int64))
    writer.write(
        "users",
        (
            "id",
            "email",
            "password_hash",
            "role",
            "name",
            "language",
            "languages",
            "on_duty",
            "active",
            "token_epoch",
            "created_at",
            "updated_at",
        ),
        [
            id_text,
            [f"customer.{n}@{DOMAIN}" for n in id_text],
            [NO_LOGIN] * total,
            ["customer"] * total,
            [f"Customer {n}" for n in id_text],
            language,
            [f'["{lang}"]' for lang in language],
            [writer.false] * total,
            [writer.true] * total,
            ["0"] * total,
            stamp,
            stamp,
        ],
    )
    rng = np.random.default_rng(total)
    years = rng.integers(2015, 2026, size=total)
    writer.write(
        "vehicles",
        ("id", "vin", "model", "model_year", "odometer_km", "owner_id", "created_at", "updated_at"),
        [
            _ints(vehicle_ids),
            [f"SIMV{n:013d}" for n in vehicle_ids.tolist()],
            [_MODELS[i] for i in rng.integers(len(_MODELS), size=total).tolist()],
            _ints(years),
            _ints(rng.integers(0, 200_000, size=total)),
            id_text,
            stamp,
            stamp,
        ],
    )
    return total


def _visits(
    writer: _Writer,
    history: NetworkHistory,
    layout: _Layout,
    staff: list[tuple[int, int, int]],
    chunk: slice,
    rng: np.random.Generator,
    status_history: bool,
) -> int:
    """Write the visits of the chunk's centers, their status changes and escalations."""
    counts = history.visits[chunk]
    n = int(counts.sum())
    if n == 0:
        return 0
    centers, days = np.nonzero(counts)
    per_cell = counts[centers, days]
    centers += chunk.start
    center = np.repeat(centers, per_cell)
    day = np.repeat(days, per_cell)
    cell_start = np.repeat(np.cumsum(per_cell) - per_cell, per_cell)
    position = np.arange(n) - cell_start
    same_day = position < np.repeat(history.same_day[centers, days], per_cell)
    escalated = position >= np.repeat(per_cell - history.escalations[centers, days], per_cell)

    midnight = layout.midnight[center, day]
    checked_in = midnight + 27_000 + rng.integers(0, 14_400, size=n)  # 07:30-11:30 local
    later_day = layout.midnight[center, day + rng.integers(1, 4, size=n)]
    same_ready = checked_in + 1_800 + (rng.random(n) * (72_000 - (checked_in - midnight) - 1_800))
    ready = np.where(
        same_day,
        same_ready.astype(np.int64),
        later_day + 28_800 + rng.integers(0, 28_800, size=n),
    )
    closed = np.where(
        same_day,
        np.minimum(ready + rng.integers(900, 7_200, size=n), midnight + 84_600),
        ready + rng.integers(1_800, 86_400, size=n),
    )
    is_ready = ready <= layout.now
    is_closed = closed <= layout.now
    booked = checked_in - rng.integers(86_400, 20 * 86_400, size=n)
    visit_ids = layout.take("visits", n)
    customer = (
        layout.first_customer[center]
        + rng.integers(0, 1 << 62, size=n) % (layout.customers[center])
    )
    vehicle = customer + layout.vehicle_offset
    status = np.where(is_closed, "closed", np.where(is_ready, "ready", "in_repair"))
    checked_text = writer.stamp(checked_in)
    ready_text = writer.stamp(ready)
    closed_text = writer.stamp(closed)
    updated = writer.stamp(np.where(is_closed, closed, np.where(is_ready, ready, checked_in)))
    visit_text = _ints(visit_ids)
    currencies = [c.currency for c in history.centers]
    writer.write(
        "visits",
        (
            "id",
            "external_id",
            "center_id",
            "customer_id",
            "vehicle_id",
            "concern",
            "status",
            "currency",
            "booked_at",
            "appointment_date",
            "checked_in_at",
            "promised_at",
            "ready_at",
            "closed_at",
            "drivable",
            "created_at",
            "updated_at",
        ),
        [
            visit_text,
            [f"sim-{v}" for v in visit_text],
            _ints(layout.center_ids[center]),
            _ints(customer),
            _ints(vehicle),
            [_CONCERNS[i] for i in rng.integers(len(_CONCERNS), size=n).tolist()],
            status.tolist(),
            [currencies[i] for i in center.tolist()],
            writer.stamp(booked),
            _dates(history.start, day),
            checked_text,
            writer.stamp(checked_in + 8 * 3_600),
            _where(is_ready, ready_text),
            _where(is_closed, closed_text),
            [writer.true] * n,
            writer.stamp(booked),
            updated,
        ],
    )
    if status_history:
        _status_changes(
            writer, layout, visit_text, checked_text, ready_text, closed_text, is_ready, is_closed
        )
    return _escalations(
        writer,
        history,
        layout,
        staff,
        rng,
        np.flatnonzero(escalated),
        visit_ids,
        center,
        day,
        customer,
        checked_in,
    )


def _status_changes(
    writer: _Writer,
    layout: _Layout,
    visit_text: list[str],
    checked_text: list[str],
    ready_text: list[str],
    closed_text: list[str],
    is_ready: npt.NDArray[np.bool_],
    is_closed: npt.NDArray[np.bool_],
) -> None:
    n = len(visit_text)
    ready_at = np.flatnonzero(is_ready)
    closed_at = np.flatnonzero(is_closed)
    visit = np.array(visit_text, dtype=object)
    count = n + len(ready_at) + len(closed_at)
    writer.write(
        "visit_status_changes",
        ("id", "visit_id", "from_status", "to_status", "changed_at", "actor"),
        [
            _ints(layout.take("visit_status_changes", count)),
            visit_text + visit[ready_at].tolist() + visit[closed_at].tolist(),
            [None] * n + ["checked_in"] * len(ready_at) + ["ready"] * len(closed_at),
            ["checked_in"] * n + ["ready"] * len(ready_at) + ["closed"] * len(closed_at),
            checked_text
            + np.array(ready_text, dtype=object)[ready_at].tolist()
            + np.array(closed_text, dtype=object)[closed_at].tolist(),
            [ACTOR] * count,
        ],
    )


def _escalations(
    writer: _Writer,
    history: NetworkHistory,
    layout: _Layout,
    staff: list[tuple[int, int, int]],
    rng: np.random.Generator,
    picked: npt.NDArray[np.int64],
    visit_ids: npt.NDArray[np.int64],
    center: npt.NDArray[np.int64],
    day: npt.NDArray[np.int64],
    customer: npt.NDArray[np.int64],
    checked_in: npt.NDArray[np.int64],
) -> int:
    """Each picked visit's diagnosis (and estimate), request and case, from the next day on."""
    n = len(picked)
    if n == 0:
        return 0
    visit, where, cust = visit_ids[picked], center[picked], customer[picked]
    made = layout.midnight[where, day[picked] + rng.integers(1, 4, size=n)] + 32_400
    made += rng.integers(0, 25_200, size=n)  # 09:00-16:00 local, one to three days later
    diagnosis_ids = layout.take("diagnoses", n)
    noted = writer.stamp(checked_in[picked] + 3_600)
    visit_text, center_text = _ints(visit), _ints(layout.center_ids[where])
    writer.write(
        "diagnoses",
        ("id", "visit_id", "seq", "findings", "codes", "safety_related", "author", "created_at"),
        [
            _ints(diagnosis_ids),
            visit_text,
            ["1"] * n,
            ["Simulated findings"] * n,
            [f'["{_CODES[i]}"]' for i in rng.integers(len(_CODES), size=n).tolist()],
            [writer.false] * n,
            [ACTOR] * n,
            noted,
        ],
    )
    on_estimate = rng.random(n) < 0.4
    estimate_rows = np.flatnonzero(on_estimate)
    estimate_ids = layout.take("estimates", len(estimate_rows))
    currencies = np.array([c.currency for c in history.centers], dtype=object)[where]
    writer.write(
        "estimates",
        ("id", "visit_id", "seq", "currency", "total", "author", "created_at"),
        [
            _ints(estimate_ids),
            np.array(visit_text, dtype=object)[estimate_rows].tolist(),
            ["1"] * len(estimate_rows),
            currencies[estimate_rows].tolist(),
            [f"{v}.00" for v in rng.integers(1_000, 30_000, size=len(estimate_rows)).tolist()],
            [ACTOR] * len(estimate_rows),
            np.array(noted, dtype=object)[estimate_rows].tolist(),
        ],
    )
    subject = diagnosis_ids.copy()
    subject[estimate_rows] = estimate_ids
    category = np.where(on_estimate, "estimate", "diagnosis")
    tier = rng.choice(3, size=n, p=[0.3, 0.55, 0.15])
    people = np.array(staff, dtype=np.int64)[where]  # advisor, local, regional
    assignee = people[np.arange(n), tier]
    responded = made + rng.integers(1_800, 8 * 3_600, size=n)
    resolved = made + rng.integers(4 * 3_600, 72 * 3_600, size=n)
    closed = resolved + 7 * 86_400
    is_resolved = resolved <= layout.now
    is_closed = closed <= layout.now
    is_responded = responded <= layout.now
    outcome = rng.choice(np.array(["upheld", "revised", "goodwill"]), size=n, p=[0.6, 0.25, 0.15])
    status = np.where(is_closed, "closed", np.where(is_resolved, "resolved", "acknowledged"))
    status = np.where(is_responded | is_resolved, status, "open")
    delta = np.where(outcome == "upheld", 0, -rng.integers(200, 6_000, size=n))
    ids = layout.take("escalations", n)
    made_text = writer.stamp(made)
    updated = np.where(
        is_closed, closed, np.where(is_resolved, resolved, np.where(is_responded, responded, made))
    )
    guardrail = [json.dumps(_GUARDRAIL | {"tier": t}) for t in range(3)]
    tier_list = tier.tolist()
    writer.write(
        "escalations",
        (
            "id",
            "visit_id",
            "customer_id",
            "center_id",
            "category",
            "subject_id",
            "reason",
            "status",
            "tier",
            "assignee_id",
            "guardrail",
            "version",
            "held_back",
            "created_at",
            "updated_at",
            "first_response_due",
            "resolution_due",
            "first_response_at",
            "resolved_at",
            "closed_at",
            "outcome",
            "amount_delta",
            "currency",
            "outcome_tier",
            "rating_score",
        ),
        [
            _ints(ids),
            visit_text,
            _ints(cust),
            center_text,
            category.tolist(),
            _ints(subject),
            ["Simulated dispute"] * n,
            status.tolist(),
            _ints(tier),
            _ints(assignee),
            [guardrail[t] for t in tier_list],
            ["4"] * n,
            [writer.false] * n,
            made_text,
            writer.stamp(updated),
            writer.stamp(made + 8 * 3_600),
            writer.stamp(made + 5 * 86_400),
            _where(is_responded, writer.stamp(responded)),
            _where(is_resolved, writer.stamp(resolved)),
            _where(is_closed, writer.stamp(closed)),
            _where(is_resolved, outcome.tolist()),
            _where(is_resolved, [f"{v}.00" for v in delta.tolist()]),
            currencies.tolist(),
            _where(is_resolved, _ints(tier)),
            _where(is_resolved, _ints(rng.integers(1, 6, size=n))),
        ],
    )
    writer.write(
        "escalation_requests",
        (
            "id",
            "created_at",
            "kind",
            "visit_id",
            "customer_id",
            "center_id",
            "category",
            "subject_id",
            "reason",
            "facts",
            "decision",
            "tier",
            "policy_version",
            "result",
            "escalation_id",
            "folded",
        ),
        [
            _ints(layout.take("escalation_requests", n)),
            made_text,
            ["create"] * n,
            visit_text,
            _ints(cust),
            center_text,
            category.tolist(),
            _ints(subject),
            ["Simulated dispute"] * n,
            ['{"simulated": true}'] * n,
            ["route"] * n,
            _ints(tier),
            ["0"] * n,
            [guardrail[t] for t in tier_list],
            _ints(ids),
            [writer.false] * n,
        ],
    )
    return n


_CLOCK = np.array(
    [f"{h:02d}:{m:02d}:{sec:02d}" for h in range(24) for m in range(60) for sec in range(60)],
    dtype=object,
)


def _stamps(seconds: npt.NDArray[np.int64], sep: str, suffix: str) -> list[str]:
    """UTC instants (seconds since 1970) as ``YYYY-MM-DD{sep}HH:MM:SS{suffix}``, from a
    table of the days they span and one of the seconds of a day (numpy's own
    formatting of datetimes costs three times more)."""
    if seconds.size == 0:
        return []
    days, within = np.divmod(seconds, 86_400)
    first = int(days.min())
    epoch = date(1970, 1, 1)
    calendar = np.array(
        [
            (epoch + timedelta(days=first + k)).isoformat() + sep
            for k in range(int(days.max()) - first + 1)
        ],
        dtype=object,
    )
    clock = _CLOCK if not suffix else _CLOCK + suffix
    return list((calendar[days - first] + clock[within]).tolist())


def _ints(values: npt.NDArray[np.int64]) -> list[str]:
    return list(map(str, values.tolist()))


def _dates(start: date, days: npt.NDArray[np.int64]) -> list[str]:
    base = np.datetime64(start.isoformat(), "D")
    return list(np.datetime_as_string(base + days, unit="D").tolist())


def _where(mask: npt.NDArray[np.bool_], values: Sequence[str]) -> list[str | None]:
    out = np.array(values, dtype=object)
    out[~mask] = None
    return list(out.tolist())


# --- the writers ---


class _Writer:
    true = "1"
    false = "0"

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def stamp(self, seconds: npt.NDArray[np.int64]) -> list[str]:
        """UTC instants as SQLAlchemy stores them on SQLite."""
        return _stamps(seconds, " ", ".000000")

    def write(self, table: str, columns: Sequence[str], data: Sequence[Column]) -> None:
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        rows = list(zip(*data, strict=True))
        raw = self.connection.connection.driver_connection
        assert raw is not None
        cursor = raw.cursor()
        for start in range(0, len(rows), _SQLITE_BATCH):
            cursor.executemany(sql, rows[start : start + _SQLITE_BATCH])

    @contextmanager
    def deferred_indexes(self, visits: int) -> Iterator[None]:  # noqa: ARG002
        yield

    def finish(self) -> None:
        """Nothing to do on SQLite: it keeps no sequences."""


class _CopyWriter(_Writer):
    """COPY in text format, times in UTC (the transaction's time zone is set to UTC)."""

    true = "t"
    false = "f"

    def __init__(self, connection: sa.Connection) -> None:
        super().__init__(connection)
        connection.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
        # The COPYs run in a thread, so that the server takes in one chunk while this
        # process makes the next (the thread waits on the socket, not on the GIL).
        self._queue: queue.Queue[tuple[str, str] | None] = queue.Queue(maxsize=2)
        self._failure: BaseException | None = None
        self._thread: threading.Thread | None = None

    def stamp(self, seconds: npt.NDArray[np.int64]) -> list[str]:
        return _stamps(seconds, " ", "")

    def write(self, table: str, columns: Sequence[str], data: Sequence[Column]) -> None:
        lines = "\n".join(map("\t".join, zip(*(_copy_column(c) for c in data), strict=True)))
        if not lines:
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._copy, name="simulate-copy", daemon=True)
            self._thread.start()
        self._check()
        self._queue.put((f"COPY {table} ({', '.join(columns)}) FROM STDIN", lines + "\n"))

    def _copy(self) -> None:
        raw = self.connection.connection.driver_connection
        assert raw is not None
        while (item := self._queue.get()) is not None:
            if self._failure is not None:
                continue  # drain: the load has failed, the caller is told at its next step
            statement, body = item
            try:
                with raw.cursor() as cursor, cursor.copy(statement) as copy:
                    step = 1 << 24
                    for start in range(0, len(body), step):
                        copy.write(body[start : start + step])
            except BaseException as exc:
                self._failure = exc

    def _check(self) -> None:
        if self._failure is not None:
            raise self._failure

    def flush(self) -> None:
        """Wait for the COPYs queued so far; raise what failed in them."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        self._check()

    @contextmanager
    def deferred_indexes(self, visits: int) -> Iterator[None]:
        """Drop the bulk tables' secondary indexes, unique constraints and foreign keys
        for the load when it is larger than what the visits table holds, and rebuild
        them after it (one pass each instead of one update per row)."""
        held = self.connection.exec_driver_sql("SELECT count(*) FROM visits").scalar_one()
        if visits <= held:
            yield
            return
        tables = list(_BULK)
        constraints = self.connection.exec_driver_sql(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype "
            "FROM pg_constraint WHERE conrelid = ANY(%(t)s::regclass[]) AND contype IN ('f', 'u')",
            {"t": tables},
        ).all()
        indexes = self.connection.exec_driver_sql(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = ANY(%(t)s::regclass[]) AND NOT i.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            {"t": tables},
        ).all()
        for table, name, _, _ in constraints:
            self.connection.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            self.connection.exec_driver_sql(f"DROP INDEX {name}")
        try:
            yield
        finally:
            self.flush()
        for _, definition in indexes:
            self.connection.exec_driver_sql(definition)
        for kind in ("u", "f"):
            for table, name, definition, contype in constraints:
                if contype == kind:
                    self.connection.exec_driver_sql(
                        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
                    )

    def finish(self) -> None:
        self.flush()
        for table in _BULK:
            self.connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        for table in _BULK:
            self.connection.exec_driver_sql(f"ANALYZE {table}")


def _copy_column(column: Column) -> list[str]:
    """COPY text: NULL as \\N. The simulated texts hold no tab, newline or backslash."""
    return [r"\N" if v is None else v for v in column]


def _writer(connection: sa.Connection) -> _Writer:
    if connection.dialect.name == "postgresql":
        return _CopyWriter(connection)
    return _Writer(connection)
