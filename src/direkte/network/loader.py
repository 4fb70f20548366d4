"""Loading the network file: validated whole, then upserted (API.md, Network file)."""

from __future__ import annotations

import io
import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from babel.numbers import get_territory_currencies
from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from sqlalchemy.orm import Session

from direkte.audit.service import Actor, record_event
from direkte.clock import Clock
from direkte.errors import RuleViolation
from direkte.network.models import Center, Region, Role, User
from direkte.network.passwords import hash_password, verify_password
from direkte.network.programs import record_program_state
from direkte.network.schemas import CenterIn, CustomerIn, LoadReport, NetworkFile, RegionIn, StaffIn

KINDS = ("regions", "centers", "staff", "customers")


class NetworkFileInvalid(RuleViolation):
    code = "network_file_invalid"

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the network file", problems)
        self.problems = problems


def read_network_file(path: Path) -> object:
    """Read YAML (1.2 rules: ``NO`` and ``on`` stay text) or JSON. Raises NetworkFileInvalid."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NetworkFileInvalid([f"{path}: cannot read: {exc}"]) from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        yaml = YAML(typ="safe", pure=True)
        yaml.version = (1, 2)
        return yaml.load(io.StringIO(text))
    except (YAMLError, json.JSONDecodeError) as exc:
        raise NetworkFileInvalid([f"{path}: not valid YAML or JSON: {exc}"]) from None


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(file)"


def parse_network(raw: object) -> NetworkFile:
    """Validate the whole document. Raises NetworkFileInvalid with every problem by path."""
    if raw is None:
        raw = {}
    try:
        return NetworkFile.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{_path(error['loc'])}: {message}")
        raise NetworkFileInvalid(problems) from None


M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class _Entries:
    """The entries that passed validation, by their index in the file, and every code and
    staff e-mail the file names (valid entry or not), so that one bad entry does not
    also make the entries that refer to it look wrong."""

    regions: list[tuple[int, RegionIn]]
    centers: list[tuple[int, CenterIn]]
    staff: list[tuple[int, StaffIn]]
    customers: list[tuple[int, CustomerIn]]
    region_codes: set[str]
    center_codes: set[str]
    staff_emails: set[str]

    @classmethod
    def of(cls, net: NetworkFile) -> _Entries:
        return cls(
            regions=list(enumerate(net.regions)),
            centers=list(enumerate(net.centers)),
            staff=list(enumerate(net.staff)),
            customers=list(enumerate(net.customers)),
            region_codes={r.code for r in net.regions},
            center_codes={c.code for c in net.centers},
            staff_emails={s.email.lower() for s in net.staff},
        )

    @classmethod
    def salvage(cls, raw: object) -> _Entries:
        """The valid entries of a document that failed validation as a whole."""
        doc = raw if isinstance(raw, dict) else {}
        return cls(
            regions=_valid_items(doc.get("regions"), RegionIn),
            centers=_valid_items(doc.get("centers"), CenterIn),
            staff=_valid_items(doc.get("staff"), StaffIn),
            customers=_valid_items(doc.get("customers"), CustomerIn),
            region_codes=_named(doc.get("regions"), "code"),
            center_codes=_named(doc.get("centers"), "code"),
            staff_emails={email.lower() for email in _named(doc.get("staff"), "email")},
        )


def _valid_items(items: object, model: type[M]) -> list[tuple[int, M]]:
    valid: list[tuple[int, M]] = []
    for i, item in enumerate(items if isinstance(items, list) else []):
        try:
            valid.append((i, model.model_validate(item)))
        except ValidationError:
            continue
    return valid


def _named(items: object, key: str) -> set[str]:
    entries = items if isinstance(items, list) else []
    return {str(e[key]).strip() for e in entries if isinstance(e, dict) and e.get(key) is not None}


def _duplicates(values: list[tuple[int, str]], kind: str, field: str) -> list[str]:
    seen: set[str] = set()
    problems = []
    for i, value in values:
        if value in seen:
            problems.append(f"{kind}[{i}].{field}: {value!r} appears more than once")
        seen.add(value)
    return problems


def _check_references(session: Session, net: _Entries) -> list[str]:
    problems: list[str] = []
    problems += _duplicates([(i, r.code) for i, r in net.regions], "regions", "code")
    problems += _duplicates([(i, c.code) for i, c in net.centers], "centers", "code")
    problems += _duplicates([(i, s.email.lower()) for i, s in net.staff], "staff", "email")
    problems += _duplicates([(i, c.email.lower()) for i, c in net.customers], "customers", "email")
    problems += [
        f"customers[{i}].email: also listed as staff"
        for i, c in net.customers
        if c.email.lower() in net.staff_emails
    ]
    region_codes = net.region_codes | set(session.scalars(sa.select(Region.code)))
    center_codes = net.center_codes | set(session.scalars(sa.select(Center.code)))
    for i, center in net.centers:
        if center.region not in region_codes:
            problems.append(f"centers[{i}].region: unknown region {center.region!r}")
    # .all(): dict() of a Result would take it for a mapping (it has keys()).
    existing: dict[str, Role] = dict(session.execute(sa.select(User.email, User.role)).all())
    staff_emails = net.staff_emails | {
        email for email, role in existing.items() if role != Role.customer
    }
    for i, staff in net.staff:
        problems += _check_staff(i, staff, region_codes, center_codes, staff_emails, existing)
    for i, customer in net.customers:
        role = existing.get(customer.email.lower())
        if role is not None and role != Role.customer:
            problems.append(f"customers[{i}].email: belongs to a staff member")
    return problems


def _validate(session: Session, raw: object) -> NetworkFile:
    """Parse the document and check its references, reporting every problem at once."""
    try:
        net = parse_network(raw)
    except NetworkFileInvalid as exc:
        raise NetworkFileInvalid(
            exc.problems + _check_references(session, _Entries.salvage(raw))
        ) from None
    problems = _check_references(session, _Entries.of(net))
    if problems:
        raise NetworkFileInvalid(problems)
    return net


def _check_staff(
    i: int,
    staff: StaffIn,
    region_codes: set[str],
    center_codes: set[str],
    staff_emails: set[str],
    existing: dict[str, Role],
) -> list[str]:
    problems = []
    role = staff.role_enum
    if role in (Role.service_advisor, Role.local_manager):
        if staff.center is None:
            problems.append(f"staff[{i}].center: required for a {role.value}")
        elif staff.center not in center_codes:
            problems.append(f"staff[{i}].center: unknown center {staff.center!r}")
    if role == Role.regional_manager:
        if staff.region is None:
            problems.append(f"staff[{i}].region: required for a regional_manager")
        elif staff.region not in region_codes:
            problems.append(f"staff[{i}].region: unknown region {staff.region!r}")
    if staff.deputy is not None:
        deputy = staff.deputy.lower()
        if deputy == staff.email.lower():
            problems.append(f"staff[{i}].deputy: cannot be their own deputy")
        elif deputy not in staff_emails:
            problems.append(f"staff[{i}].deputy: unknown staff member {staff.deputy!r}")
    if existing.get(staff.email.lower()) == Role.customer:
        problems.append(f"staff[{i}].email: belongs to a customer")
    return problems


def _apply(obj: Any, values: dict[str, Any]) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


class _Tally:
    def __init__(self) -> None:
        self.counts: dict[str, Counter[str]] = {
            k: Counter() for k in ("created", "updated", "unchanged")
        }

    def add(self, outcome: str, kind: str) -> None:
        self.counts[outcome][kind] += 1

    def move(self, before: str, after: str, kind: str) -> None:
        self.counts[before][kind] -= 1
        self.counts[after][kind] += 1

    def report(self) -> LoadReport:
        return LoadReport(
            **{outcome: {k: counts[k] for k in KINDS} for outcome, counts in self.counts.items()}
        )


def default_currency(country: str, at: datetime) -> str:
    found = get_territory_currencies(country, start_date=at.date(), tender=True)
    return found[0] if found else "EUR"


def load_network(session: Session, clock: Clock, *, raw: object, actor: Actor) -> LoadReport:
    """Validate a whole network document, then upsert it; the caller commits.

    Raises NetworkFileInvalid (nothing written) listing every problem by path.
    """
    net = _validate(session, raw)
    now = clock.now()
    tally = _Tally()
    regions = {r.code: r for r in session.scalars(sa.select(Region))}
    for region_in in net.regions:
        _upsert_region(session, now, regions, region_in, tally)
    session.flush()
    centers = {c.code: c for c in session.scalars(sa.select(Center))}
    programs_before = {code: c.program for code, c in centers.items()}
    for center_in in net.centers:
        _upsert_center(session, now, regions, centers, center_in, tally)
    session.flush()
    for center_in in net.centers:
        center = centers[center_in.code]
        if programs_before.get(center_in.code) != center.program:
            record_program_state(
                session,
                center.id,
                center.program,
                at=now,
                actor="network-file",
                reason=f"network file loaded by {actor.label}",
            )
    users = {u.email: u for u in session.scalars(sa.select(User))}
    outcomes: dict[str, str] = {}
    for staff_in in net.staff:
        outcomes[staff_in.email.lower()] = _upsert_staff(
            session, now, regions, centers, users, staff_in, tally
        )
    for customer_in in net.customers:
        _upsert_customer(session, now, users, customer_in, tally)
    session.flush()
    for staff_in in net.staff:
        user = users[staff_in.email.lower()]
        deputy_id = users[staff_in.deputy.lower()].id if staff_in.deputy else None
        if user.deputy_id != deputy_id:
            user.deputy_id = deputy_id
            user.updated_at = now
            if outcomes[staff_in.email.lower()] == "unchanged":
                tally.move("unchanged", "updated", "staff")
    report = tally.report()
    record_event(
        session,
        at=now,
        actor=actor,
        action="network.loaded",
        subject_kind="network",
        subject_id=None,
        data=report.model_dump(),
    )
    return report


def _upsert_keyed(
    session: Session,
    now: datetime,
    existing: dict[str, Any],
    model: type[Region] | type[Center],
    code: str,
    values: dict[str, Any],
    kind: str,
    tally: _Tally,
) -> None:
    """Create the row with this code, or update it where ``values`` differ; count which."""
    row = existing.get(code)
    if row is None:
        existing[code] = row = model(code=code, created_at=now, updated_at=now, **values)
        session.add(row)
        tally.add("created", kind)
    elif _apply(row, values):
        row.updated_at = now
        tally.add("updated", kind)
    else:
        tally.add("unchanged", kind)


def _upsert_region(
    session: Session, now: datetime, regions: dict[str, Region], data: RegionIn, tally: _Tally
) -> None:
    values = {"name": data.name, "countries": list(data.countries), "time_zone": data.time_zone}
    _upsert_keyed(session, now, regions, Region, data.code, values, "regions", tally)


def _upsert_center(
    session: Session,
    now: datetime,
    regions: dict[str, Region],
    centers: dict[str, Center],
    data: CenterIn,
    tally: _Tally,
) -> None:
    values = {
        "name": data.name,
        "region_id": regions[data.region].id,
        "address": data.address,
        "country": data.country,
        "time_zone": data.time_zone,
        "lat": data.lat,
        "lon": data.lon,
        "business_hours": data.business_hours,
        "closed_dates": sorted(d.isoformat() for d in data.closed_dates),
        "capacity_bays": data.capacity_bays,
        "currency": data.currency or default_currency(data.country, now),
        "program": data.program,
    }
    _upsert_keyed(session, now, centers, Center, data.code, values, "centers", tally)


def _upsert_person(
    session: Session,
    now: datetime,
    users: dict[str, User],
    email: str,
    password: str,
    values: dict[str, Any],
    kind: str,
    tally: _Tally,
) -> str:
    """Create or update a user; return the outcome it was counted as."""
    user = users.get(email)
    if user is None:
        users[email] = user = User(
            email=email,
            password_hash=hash_password(password),
            created_at=now,
            updated_at=now,
            **values,
        )
        session.add(user)
        tally.add("created", kind)
        return "created"
    changed = _apply(user, values)
    if not verify_password(user.password_hash, password):
        user.password_hash = hash_password(password)
        user.token_epoch += 1  # a new password ends the old one's tokens
        changed = True
    outcome = "updated" if changed else "unchanged"
    if changed:
        user.updated_at = now
    tally.add(outcome, kind)
    return outcome


def _upsert_staff(
    session: Session,
    now: datetime,
    regions: dict[str, Region],
    centers: dict[str, Center],
    users: dict[str, User],
    data: StaffIn,
    tally: _Tally,
) -> str:
    center = centers[data.center] if data.center and data.role_enum != Role.ops_admin else None
    region = regions[data.region] if data.region else (center.region if center else None)
    values = {
        "role": data.role_enum,
        "name": data.name,
        "title": data.title,
        "phone": data.phone,
        "languages": list(data.languages),
        "language": data.languages[0] if data.languages else "en",
        "center_id": center.id if center else None,
        "region_id": region.id if region else None,
        "on_duty": data.on_duty,
        "active": True,
    }
    return _upsert_person(
        session, now, users, data.email.lower(), data.password, values, "staff", tally
    )


def _upsert_customer(
    session: Session, now: datetime, users: dict[str, User], data: CustomerIn, tally: _Tally
) -> None:
    values = {
        "role": Role.customer,
        "name": data.name,
        "phone": data.phone,
        "language": data.language,
        "active": True,
    }
    email = data.email.lower()
    _upsert_person(session, now, users, email, data.password, values, "customers", tally)
