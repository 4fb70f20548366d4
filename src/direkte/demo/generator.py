"""A deterministic, seeded generator of a demo network and its visit history.

Everything goes through the real use cases (network loader, visit upserts,
revisions) with a clock set to each event's time, so the demo carries the same
audit trail and checks as real data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte import money
from direkte.audit.service import Actor
from direkte.clock import Clock, FixedClock, SystemClock
from direkte.demo import network as net
from direkte.demo.escalations import load_demo_escalations
from direkte.demo.rollout import load_demo_rollout
from direkte.fields import vin_check_digit
from direkte.network import service as network_service
from direkte.network.models import Center, Program, Role, User
from direkte.visits import service as visits
from direkte.visits.models import Estimate, VisitStatus
from direkte.visits.schemas import (
    DiagnosisCreate,
    EstimateCreate,
    EstimateLineIn,
    VehicleIn,
    VisitUpsert,
    WarrantyDecisionCreate,
)

DEMO_PASSWORD = "direkte-demo"
DEMO_DOMAIN = "demo.direkte.no"
_PRICE_SCALE = {
    "NOK": Decimal(1),
    "SEK": Decimal(1),
    "DKK": Decimal("0.65"),
    "EUR": Decimal("0.09"),
}
_VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
# A row of net.CENTERS: code, name, region, country, time zone, lat, lon, program,
# Friday closing time, Saturday hours.
_CenterRow = tuple[str, str, str, str, str, float, float, str, str, str | None]


def _phone(rng: random.Random, country: str) -> str:
    prefix, digits, starts = net.PHONE_PLANS[country]
    while True:
        number = rng.choice(starts) + "".join(rng.choice("0123456789") for _ in range(digits - 1))
        candidate = prefix + number
        if phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
            return candidate


def _vin(rng: random.Random, wmi: str, year: int) -> str:
    year_code = "ABCDEFGHJKLMNPRSTVWXY123456789"[(year - 2010) % 30]
    body = wmi + "".join(rng.choice(_VIN_CHARS) for _ in range(4))
    serial = "".join(rng.choice("0123456789") for _ in range(6))
    draft = body + "0" + year_code + rng.choice("ABCFPR") + serial
    return draft[:8] + vin_check_digit(draft) + draft[9:]


def _email(name: str, n: int) -> str:
    ascii_name = name.lower().translate(str.maketrans("æøåäöüé ", "aoaaoue."))
    return f"{ascii_name}.{n}@{DEMO_DOMAIN}"


def build_network(rng: random.Random, customers: int) -> dict[str, Any]:
    """The network document for the demo, in the network-file shape."""
    centers, staff = [], []
    for row in net.CENTERS:
        centers.append(_center(rng, row))
        staff += _center_staff(rng, code=row[0], country=row[3])
    for area in net.REGIONS:
        staff.append(_regional_manager(rng, area))
    staff.append(
        {
            "email": f"ops@{DEMO_DOMAIN}",
            "password": DEMO_PASSWORD,
            "role": "ops_admin",
            "name": "Ops Admin",
            "title": "Service Operations",
            "languages": ["en", "nb"],
        }
    )
    people = [_customer(rng, n) for n in range(customers)]
    return {"regions": net.REGIONS, "centers": centers, "staff": staff, "customers": people}


def _center(rng: random.Random, row: _CenterRow) -> dict[str, Any]:
    code, name, region, country, tz, lat, lon, program, fri, sat = row
    hours: dict[str, list[str]] = {**net.WEEKDAY_HOURS, "fri": [f"08:00-{fri}"]}
    if sat:
        hours["sat"] = [sat]
    return {
        "code": code,
        "name": name,
        "region": region,
        "country": country,
        "time_zone": tz,
        "lat": lat,
        "lon": lon,
        "business_hours": hours,
        "program": program,
        "capacity_bays": rng.randint(4, 14),
        "address": f"{name}, {country}",
        "closed_dates": ["2026-12-24", "2026-12-31"],
    }


def _center_staff(rng: random.Random, *, code: str, country: str) -> list[dict[str, Any]]:
    """A center's two local managers (each the other's deputy) and two service advisors."""
    langs = net.COUNTRY_LANGUAGES[country]
    city = code.split("-")[0].lower()
    managers = [f"manager{i}.{city}{code[-1]}@{DEMO_DOMAIN}" for i in (1, 2)]
    staff = []
    for i, email in enumerate(managers):
        staff.append(
            {
                "email": email,
                "password": DEMO_PASSWORD,
                "role": "local_manager",
                "center": code,
                "name": _person(rng, country),
                "title": "Service Manager",
                "phone": _phone(rng, country),
                "languages": langs,
                "on_duty": i == 0,
                "deputy": managers[1 - i],
            }
        )
    for i in (1, 2):
        staff.append(
            {
                "email": f"advisor{i}.{city}{code[-1]}@{DEMO_DOMAIN}",
                "password": DEMO_PASSWORD,
                "role": "service_advisor",
                "center": code,
                "name": _person(rng, country),
                "title": "Service Advisor",
                "phone": _phone(rng, country),
                "languages": langs,
                "on_duty": True,
            }
        )
    return staff


def _regional_manager(rng: random.Random, area: dict[str, Any]) -> dict[str, Any]:
    country = area["countries"][0]
    return {
        "email": f"regional.{area['code'].lower()}@{DEMO_DOMAIN}",
        "password": DEMO_PASSWORD,
        "role": "regional_manager",
        "region": area["code"],
        "name": _person(rng, country),
        "title": "Regional Service Manager",
        "phone": _phone(rng, country),
        "languages": net.COUNTRY_LANGUAGES[country],
        "on_duty": True,
    }


def _customer(rng: random.Random, n: int) -> dict[str, Any]:
    language = ("nb", "da", "sv", "en", "de")[n % 5]
    country = net.COUNTRY_OF_LANGUAGE[language]
    name = _person(rng, country)
    return {
        "email": _email(name, n + 1),
        "password": DEMO_PASSWORD,
        "name": name,
        "phone": _phone(rng, country if country != "DE" else "NO"),
        "language": language,
    }


def _person(rng: random.Random, country: str) -> str:
    return f"{rng.choice(net.FIRST_NAMES[country])} {rng.choice(net.LAST_NAMES[country])}"


def load_demo(
    session: Session,
    *,
    seed: int = 1,
    visits: int = 400,
    customers: int = 50,
    clock: Clock | None = None,
    days: int = 60,
) -> dict[str, Any]:
    """Load the demo network and ``visits`` visits over the last ``days`` days.

    Deterministic for a seed and a clock. The caller commits.
    """
    rng = random.Random(seed)
    now = (clock or SystemClock()).now().replace(microsecond=0)
    loaded_at = now - timedelta(days=days + 30)
    report = network_service.load_network(
        session,
        FixedClock(loaded_at),
        raw=build_network(rng, customers),
        actor=Actor.system("demo"),
    )
    load_demo_rollout(session, now=now, loaded_at=loaded_at, days=days)
    centers = list(session.scalars(sa.select(Center).order_by(Center.code)))
    people = list(
        session.scalars(
            sa.select(User)
            .where(User.role == Role.customer, User.email.like(f"%@{DEMO_DOMAIN}"))
            .order_by(User.id)
        )
    )
    fleet = {p.id: _vehicle(rng, now) for p in people}
    actor = Actor("api_key", None, "demo-dms")
    made = 0
    for n in range(visits):
        customer = people[n % len(people)] if n < len(people) else rng.choice(people)
        center = centers[n % len(centers)] if n < len(centers) * 3 else rng.choice(centers)
        day_offset = rng.uniform(-3, days) if n >= 24 else rng.uniform(0, 2)
        _make_visit(
            session,
            rng,
            now,
            f"DEMO-{seed}-{n + 1:06d}",
            center,
            customer,
            fleet[customer.id],
            day_offset,
            actor,
        )
        made += 1
        if made % 500 == 0:
            session.flush()
            session.expunge_all()
    session.flush()
    escalations = load_demo_escalations(session, rng, now=now, prefix=f"DEMO-{seed}-")
    return {"network": report.model_dump(), "visits": made, "seed": seed, **escalations}


def _vehicle(rng: random.Random, now: datetime) -> VehicleIn:
    model, wmi = rng.choice(net.MODELS)
    year = rng.randint(now.year - 7, now.year)
    delivered = date(year, rng.randint(1, 12), rng.randint(1, 28))
    if delivered > now.date():
        delivered = now.date() - timedelta(days=30)
    age_years = max((now.date() - delivered).days / 365, 0.1)
    return VehicleIn(
        vin=_vin(rng, wmi, year),
        model=model,
        model_year=year,
        odometer_km=int(age_years * rng.randint(9_000, 25_000)),
        delivery_date=delivered,
    )


def _local(center: Center, day: date, hour: float) -> datetime:
    base = datetime.combine(day, time(0), tzinfo=ZoneInfo(center.time_zone))
    return (base + timedelta(hours=hour)).astimezone(UTC)


def _price(text: str, currency: str) -> str:
    return str(money.quantize(Decimal(text) * _PRICE_SCALE.get(currency, Decimal(1)), currency))


@dataclass(slots=True)
class _Play:
    """A visit being played through the integration's use cases, event by event."""

    session: Session
    clock: FixedClock
    now: datetime
    external_id: str
    actor: Actor
    base: dict[str, Any]
    checked_in: datetime

    def push(self, status: VisitStatus, at: datetime, **extra: Any) -> bool:
        """Upsert the visit in ``status`` at ``at``; False (and nothing sent) if that is future."""
        if at > self.now:
            return False
        self.clock.at = at
        visits.upsert_visit(
            self.session,
            self.clock,
            external_id=self.external_id,
            data=VisitUpsert(status=status, checked_in_at=self.checked_in, **self.base, **extra),
            actor=self.actor,
        )
        return True


def _make_visit(
    session: Session,
    rng: random.Random,
    now: datetime,
    external_id: str,
    center: Center,
    customer: User,
    vehicle: VehicleIn,
    day_offset: float,
    actor: Actor,
) -> None:
    """Play one visit from its booking through every step whose time has come by ``now``."""
    concern, checked_in, booked, base = _booking(rng, now, center, customer, vehicle, day_offset)
    if checked_in > now:
        visits.upsert_visit(
            session,
            FixedClock(booked),
            external_id=external_id,
            data=VisitUpsert(status=VisitStatus.scheduled, **base),
            actor=actor,
        )
        return
    play = _Play(session, FixedClock(checked_in), now, external_id, actor, base, checked_in)
    for status in (VisitStatus.checked_in, VisitStatus.diagnosing):
        play.push(status, play.clock.at)
    at = checked_in + timedelta(hours=rng.uniform(0.5, 3))
    if at > now:
        return
    lines, first = _first_estimate(play, rng, at, concern, center.currency)
    if not play.push(VisitStatus.awaiting_approval, at + timedelta(minutes=5)):
        return
    at += timedelta(hours=rng.uniform(0.5, 4))
    if at > now:
        return
    if rng.random() < 0.35:
        _revise(play, rng, at, concern, lines, center.currency)
    elif first.approved_at is None:
        play.clock.at = at
        visits.approve_estimate(
            session, play.clock, viewer=customer, visit_id=first.visit_id, estimate_id=first.id
        )
    if rng.random() < 0.3:
        _decide_warranty(play, rng, at, concern, first, center.currency)
    _repair_and_close(play, rng, at)


def _booking(
    rng: random.Random,
    now: datetime,
    center: Center,
    customer: User,
    vehicle: VehicleIn,
    day_offset: float,
) -> tuple[dict[str, Any], datetime, datetime, dict[str, Any]]:
    """The concern, check-in and booking times, and the fields every upsert of the visit sends."""
    local_today = now.astimezone(ZoneInfo(center.time_zone)).date()
    day = local_today - timedelta(days=int(day_offset))
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    concern = rng.choice(net.CONCERNS)
    checked_in = _local(center, day, rng.uniform(7.5, 10))
    booked = checked_in - timedelta(days=rng.randint(1, 21), hours=rng.randint(0, 8))
    base = {
        "center": center.code,
        "customer_email": customer.email,
        "vehicle": vehicle,
        "concern": concern["concern"],
        "booked_at": booked,
        "appointment_date": day,
        "drivable": not (concern["safety"] and rng.random() < 0.3),
    }
    return concern, checked_in, booked, base


def _first_estimate(
    play: _Play, rng: random.Random, at: datetime, concern: dict[str, Any], currency: str
) -> tuple[list[EstimateLineIn], Estimate]:
    """The diagnosis of the concern at ``at``, and the first estimate (its lines and itself)."""
    play.clock.at = at
    visits.add_diagnosis(
        play.session,
        play.clock,
        external_id=play.external_id,
        actor=play.actor,
        data=DiagnosisCreate(
            findings=concern["findings"], codes=concern["codes"], safety_related=concern["safety"]
        ),
    )
    lines = [
        EstimateLineIn(kind=k, description=d, quantity=str(q), unit_price=_price(p, currency))
        for k, d, q, p in concern["lines"]
    ]
    approved_first = rng.random() < 0.6
    first = visits.add_estimate(
        play.session,
        play.clock,
        external_id=play.external_id,
        actor=play.actor,
        data=EstimateCreate(lines=lines, reason="Initial estimate", approved=approved_first),
    )
    return lines, first


def _decide_warranty(
    play: _Play,
    rng: random.Random,
    at: datetime,
    concern: dict[str, Any],
    first: Estimate,
    currency: str,
) -> None:
    """A warranty decision on the claim for the first estimate, half an hour after ``at``."""
    play.clock.at = at + timedelta(minutes=30)
    claimed = first.total
    outcome = rng.choice(["covered", "not_covered", "not_covered", "goodwill_partial"])
    covered = {
        "covered": claimed,
        "not_covered": Decimal(0),
        "goodwill_partial": money.quantize(claimed / 2, currency),
    }[outcome]
    visits.add_warranty_decision(
        play.session,
        play.clock,
        external_id=play.external_id,
        actor=play.actor,
        data=WarrantyDecisionCreate(
            decision=outcome,
            claimed=str(claimed),
            covered=str(covered),
            reason_code=net.WARRANTY_REASONS[outcome],
            safety_related=concern["safety"],
            estimate_id=first.id,
        ),
    )


def _repair_and_close(play: _Play, rng: random.Random, at: datetime) -> None:
    """In repair, ready the same day or some days later, then closed: as far as ``now`` allows."""
    same_day = rng.random() < 0.62
    repair_at = at + timedelta(hours=rng.uniform(0.2, 1))
    ready_at = repair_at + (
        timedelta(hours=rng.uniform(1, 4))
        if same_day
        else timedelta(days=rng.randint(1, 6), hours=rng.uniform(0, 3))
    )
    if play.push(VisitStatus.in_repair, repair_at) and play.push(VisitStatus.ready, ready_at):
        closed_at = ready_at + timedelta(hours=rng.uniform(0.5, 30))
        play.push(VisitStatus.closed, closed_at, closed_at=closed_at)


def _revise(
    play: _Play,
    rng: random.Random,
    at: datetime,
    concern: dict[str, Any],
    lines: list[EstimateLineIn],
    currency: str,
) -> None:
    play.clock.at = at
    large = rng.random() < 0.4
    extra = _price(str(rng.randint(4000, 18000) if large else rng.randint(300, 1500)), currency)
    revised = [
        *lines,
        EstimateLineIn(
            kind="labour" if not large else "part",
            description="Additional work found during repair",
            quantity="1",
            unit_price=extra,
        ),
    ]
    if concern["safety"] and rng.random() < 0.5:
        visits.add_diagnosis(
            play.session,
            play.clock,
            external_id=play.external_id,
            actor=play.actor,
            data=DiagnosisCreate(
                findings=concern["findings"] + "; further damage found on inspection",
                codes=[*concern["codes"], "U0100"],
                safety_related=True,
            ),
        )
    visits.add_estimate(
        play.session,
        play.clock,
        external_id=play.external_id,
        actor=play.actor,
        data=EstimateCreate(
            lines=revised, reason="Additional work found", approved=rng.random() < 0.5
        ),
    )


def demo_logins(session: Session) -> list[tuple[str, str]]:
    """One demo log-in per role: the people with the most live cases, so every inbox shows some."""
    from direkte.escalations.models import ACTIVE, Escalation
    from direkte.visits.models import Visit, VisitStatus

    # The customer shown first has a car in the workshop now at a center where the
    # program runs, so the app shows the managers and the escalate button.
    in_workshop = (
        sa.select(Visit.id)
        .join(Center, Center.id == Visit.center_id)
        .where(
            Visit.customer_id == User.id,
            Visit.status.not_in([VisitStatus.closed, VisitStatus.cancelled, VisitStatus.scheduled]),
            Center.program != Program.off,
        )
        .exists()
    )
    found = []
    for role in (Role.customer, Role.service_advisor, Role.local_manager, Role.regional_manager):
        person = Escalation.customer_id if role == Role.customer else Escalation.assignee_id
        first = [sa.case((in_workshop, 0), else_=1)] if role == Role.customer else []
        busiest = session.scalar(
            sa.select(User.email)
            .join(Escalation, person == User.id)
            .where(
                User.role == role,
                User.email.like(f"%@{DEMO_DOMAIN}"),
                Escalation.status.in_(ACTIVE),
            )
            .group_by(User.id, User.email)
            .order_by(*first, sa.func.count(Escalation.id).desc(), User.id)
            .limit(1)
        ) or session.scalar(
            sa.select(User.email)
            .where(User.role == role, User.email.like(f"%@{DEMO_DOMAIN}"))
            .order_by(User.id)
            .limit(1)
        )
        if busiest:
            found.append((role.value, busiest))
    found.append((Role.ops_admin.value, f"ops@{DEMO_DOMAIN}"))
    return found
