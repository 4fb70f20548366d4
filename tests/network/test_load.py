"""`direkte network load FILE [--json]` and the load_network use case behind it."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from sqlalchemy.orm import Session

from direkte.audit.models import AuditEvent
from direkte.audit.service import Actor
from direkte.cli import main
from direkte.clock import FixedClock
from direkte.db import make_engine
from direkte.network.models import Center, CenterProgramChange, Program, Region, Role, User
from direkte.network.passwords import verify_password
from direkte.network.service import NetworkFileInvalid, load_network
from tests.factories import PASSWORD, network_doc

# The contract's example, as a person would type it: `NO` and `on` unquoted.
GOOD_YAML = """\
regions:
  - {code: NO-EAST, name: Norway East, countries: [NO], time_zone: Europe/Oslo}
centers:
  - code: OSL-01
    name: Oslo Alnabru
    region: NO-EAST
    country: NO
    time_zone: Europe/Oslo
    lat: 59.93
    lon: 10.84
    business_hours: {mon: ["08:00-16:00"], tue: ["08:00-16:00"], wed: ["08:00-16:00"],
                     thu: ["08:00-16:00"], fri: ["08:00-15:00"]}
    program: on               # off | pilot | on
    closed_dates: [2026-12-24, 2026-12-31]
staff:
  - {email: kari@example.no, password: "kari-secret-pw", role: local_manager, center: OSL-01,
     name: Kari Nordmann, title: Service Manager, phone: "+4791234567",
     languages: [nb, en], on_duty: true}
  - {email: lars@example.no, password: "lars-secret-pw", role: regional_manager, region: NO-EAST,
     name: Lars Berg, title: Regional Service Manager, phone: "+4798765432",
     languages: [nb, en]}
customers:
  - {email: ola@example.no, password: "ola-secret-pw", name: Ola Hansen, phone: "+4740000000",
     language: nb}
"""

GOOD_COUNTS = {"regions": 1, "centers": 1, "staff": 2, "customers": 1}
ZERO = {"regions": 0, "centers": 0, "staff": 0, "customers": 0}

# One file with a problem of every sort; each expected line names its path.
BAD_YAML = """\
regions:
  - {code: NO-EAST, name: Norway East, countries: [NO], time_zone: Europe/Oslo}
  - {code: NO-EAST, name: Norway East again, countries: [NO], time_zone: Europe/Oslo}
centers:
  - {code: OSL-01, name: Oslo Alnabru, region: NO-EAST, country: NO, time_zone: Europe/Oslo,
     lat: 59.93, lon: 10.84, business_hours: {mon: ["08:00-16:00"]}, program: maybe}
  - {code: OSL-02, name: Oslo Skoyen, region: NO-WEST, country: NO, time_zone: Europe/Oslo,
     lat: 59.92, lon: 10.68, business_hours: {mon: ["08:00-16:00"]}}
  - {code: OSL-03, name: Oslo Toyen, region: NO-EAST, country: NO, time_zone: Europe/Atlantis,
     lat: 59.91, lon: 10.77, business_hours: {mon: ["08:00-12:00", "11:00-16:00"]}}
staff:
  - {email: kari@example.no, password: "kari-secret-pw", role: local_manager, center: OSL-01,
     name: Kari Nordmann, phone: "91234567"}
  - {email: per@example.no, password: "per-secret-pw", role: local_manager, center: OSL-01,
     name: Per Deputy, deputy: nobody@example.no}
customers:
  - {email: ola@example.no, password: "ola-secret-pw"}
"""

BAD_PROBLEM_PATHS = {
    "regions[1].code",
    "centers[0].program",
    "centers[1].region",
    "centers[2].time_zone",
    "centers[2].business_hours",
    "staff[0].phone",
    "staff[1].deputy",
    "customers[0].name",
}


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def parse_table(stdout: str) -> dict[str, dict[str, int]]:
    """The plain report: a header, then `kind created updated unchanged` per kind."""
    report: dict[str, dict[str, int]] = {"created": {}, "updated": {}, "unchanged": {}}
    for line in stdout.strip().splitlines()[1:]:
        kind, created, updated, unchanged = line.split()
        report["created"][kind] = int(created)
        report["updated"][kind] = int(updated)
        report["unchanged"][kind] = int(unchanged)
    return report


def problem_paths(stderr: str) -> set[str]:
    return {line.split(":", 1)[0] for line in stderr.strip().splitlines()[:-1]}


@pytest.fixture
def cli_db(cli_env: str) -> Iterator[sa.Engine]:
    """An engine on the CLI's database, to look at what a command wrote."""
    engine = make_engine(cli_env)
    yield engine
    engine.dispose()


def row_counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            "regions": conn.scalar(sa.select(sa.func.count()).select_from(Region)) or 0,
            "centers": conn.scalar(sa.select(sa.func.count()).select_from(Center)) or 0,
            "users": conn.scalar(sa.select(sa.func.count()).select_from(User)) or 0,
        }


def snapshot(engine: sa.Engine) -> list[tuple[Any, ...]]:
    """Every network row, to compare before and after a command."""
    with engine.connect() as conn:
        rows: list[tuple[Any, ...]] = []
        for table in (Region.__table__, Center.__table__, User.__table__):
            rows += [tuple(r) for r in conn.execute(sa.select(table).order_by(table.c.id))]
        return rows


class TestNetworkLoadCommand:
    def test_good_file_creates_rows_and_reports_per_kind(
        self, cli_db: sa.Engine, tmp_path: Path
    ) -> None:
        result = invoke("network", "load", str(write(tmp_path, "net.yaml", GOOD_YAML)))
        assert result.exit_code == 0, result.output
        assert parse_table(result.stdout) == {
            "created": GOOD_COUNTS,
            "updated": ZERO,
            "unchanged": ZERO,
        }
        assert row_counts(cli_db) == {"regions": 1, "centers": 1, "users": 3}

    def test_second_load_reports_unchanged_and_writes_nothing(
        self, cli_db: sa.Engine, tmp_path: Path
    ) -> None:
        path = write(tmp_path, "net.yaml", GOOD_YAML)
        assert invoke("network", "load", str(path)).exit_code == 0
        before = snapshot(cli_db)
        result = invoke("network", "load", str(path))
        assert result.exit_code == 0, result.output
        assert parse_table(result.stdout) == {
            "created": ZERO,
            "updated": ZERO,
            "unchanged": GOOD_COUNTS,
        }
        assert snapshot(cli_db) == before

    def test_changed_field_counts_as_updated(self, cli_db: sa.Engine, tmp_path: Path) -> None:
        assert invoke("network", "load", str(write(tmp_path, "a.yaml", GOOD_YAML))).exit_code == 0
        changed = GOOD_YAML.replace("name: Oslo Alnabru", "name: Oslo Alnabru Nord")
        result = invoke("network", "load", str(write(tmp_path, "b.yaml", changed)), "--json")
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert report["updated"] == {**ZERO, "centers": 1}
        assert report["unchanged"] == {**GOOD_COUNTS, "centers": 0}
        with cli_db.connect() as conn:
            assert conn.scalar(sa.select(Center.name)) == "Oslo Alnabru Nord"

    def test_json_flag_prints_the_report_as_json(self, cli_db: sa.Engine, tmp_path: Path) -> None:
        result = invoke("network", "load", str(write(tmp_path, "net.yaml", GOOD_YAML)), "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout) == {
            "created": GOOD_COUNTS,
            "updated": ZERO,
            "unchanged": ZERO,
        }

    def test_json_input_file_loads(self, cli_db: sa.Engine, tmp_path: Path) -> None:
        path = write(tmp_path, "net.json", json.dumps(network_doc()))
        result = invoke("network", "load", str(path), "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["created"] == {
            "regions": 2,
            "centers": 3,
            "staff": 8,
            "customers": 3,
        }
        assert row_counts(cli_db) == {"regions": 2, "centers": 3, "users": 11}

    def test_yaml12_reads_no_as_norway_and_on_as_program_state(
        self, cli_db: sa.Engine, tmp_path: Path
    ) -> None:
        assert invoke("network", "load", str(write(tmp_path, "n.yaml", GOOD_YAML))).exit_code == 0
        with cli_db.connect() as conn:
            center = conn.execute(sa.select(Center.country, Center.program, Center.currency)).one()
            countries = conn.scalar(sa.select(Region.countries))
            closed = conn.scalar(sa.select(Center.closed_dates))
        assert center.country == "NO"
        assert center.program == Program.on
        assert center.currency == "NOK"
        assert countries == ["NO"]
        assert closed == ["2026-12-24", "2026-12-31"]

    def test_passwords_stored_as_argon2_hashes(self, cli_db: sa.Engine, tmp_path: Path) -> None:
        assert invoke("network", "load", str(write(tmp_path, "n.yaml", GOOD_YAML))).exit_code == 0
        with cli_db.connect() as conn:
            hashes = dict(conn.execute(sa.select(User.email, User.password_hash)).all())
        assert set(hashes) == {"kari@example.no", "lars@example.no", "ola@example.no"}
        for email, stored in hashes.items():
            plain = f"{email.split('@')[0]}-secret-pw"
            assert stored.startswith("$argon2id$")
            assert plain not in stored
            assert verify_password(stored, plain)

    def test_bad_file_lists_every_problem_and_writes_nothing(
        self, cli_db: sa.Engine, tmp_path: Path
    ) -> None:
        result = invoke("network", "load", str(write(tmp_path, "bad.yaml", BAD_YAML)))
        assert result.exit_code == 1
        assert problem_paths(result.stderr) == BAD_PROBLEM_PATHS
        assert "centers[2].time_zone: unknown time zone" in result.stderr.splitlines()
        assert result.stdout == ""
        assert row_counts(cli_db) == {"regions": 0, "centers": 0, "users": 0}

    def test_bad_file_over_loaded_network_changes_nothing(
        self, cli_db: sa.Engine, tmp_path: Path
    ) -> None:
        assert invoke("network", "load", str(write(tmp_path, "a.yaml", GOOD_YAML))).exit_code == 0
        before = snapshot(cli_db)
        # A valid rename alongside one bad entry: the rename must not be written either.
        bad = GOOD_YAML.replace("name: Oslo Alnabru", "name: Renamed").replace(
            '"+4740000000"', '"40000000"'
        )
        result = invoke("network", "load", str(write(tmp_path, "b.yaml", bad)))
        assert result.exit_code == 1
        assert problem_paths(result.stderr) == {"customers[0].phone"}
        assert snapshot(cli_db) == before

    def test_unparseable_file_exits_1(self, cli_db: sa.Engine, tmp_path: Path) -> None:
        result = invoke("network", "load", str(write(tmp_path, "x.yaml", "regions: [\n")))
        assert result.exit_code == 1
        assert row_counts(cli_db) == {"regions": 0, "centers": 0, "users": 0}

    def test_missing_file_exits_1(self, cli_db: sa.Engine, tmp_path: Path) -> None:
        result = invoke("network", "load", str(tmp_path / "nope.yaml"))
        assert result.exit_code == 1
        assert row_counts(cli_db) == {"regions": 0, "centers": 0, "users": 0}


def count(session: Session, model: type[Any]) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def load(session: Session, clock: FixedClock, doc: dict[str, Any]) -> dict[str, Any]:
    report = load_network(session, clock, raw=doc, actor=Actor.system("test"))
    session.flush()
    return report.model_dump()


def problems_of(session: Session, clock: FixedClock, doc: object) -> list[str]:
    with pytest.raises(NetworkFileInvalid) as info:
        load_network(session, clock, raw=doc, actor=Actor.system("test"))
    assert info.value.code == "network_file_invalid"
    return info.value.problems


class TestLoadNetwork:
    def test_first_load_creates_everything(self, session: Session, clock: FixedClock) -> None:
        report = load(session, clock, network_doc())
        assert report["created"] == {"regions": 2, "centers": 3, "staff": 8, "customers": 3}
        assert count(session, Region) == 2
        assert count(session, Center) == 3
        assert count(session, User) == 11

    def test_reload_is_unchanged_and_keeps_timestamps(
        self, session: Session, clock: FixedClock
    ) -> None:
        load(session, clock, network_doc())
        clock.advance(timedelta(days=1))
        report = load(session, clock, network_doc())
        assert report["unchanged"] == {"regions": 2, "centers": 3, "staff": 8, "customers": 3}
        assert report["created"] == report["updated"] == ZERO
        stamps = session.scalars(sa.select(User.updated_at)).all()
        assert all(stamp < clock.now() for stamp in stamps)

    def test_changed_customer_counts_as_updated(self, session: Session, clock: FixedClock) -> None:
        load(session, clock, network_doc())
        clock.advance(timedelta(hours=1))
        doc = network_doc()
        doc["customers"][0]["name"] = "Ola Nordmann"
        report = load(session, clock, doc)
        assert report["updated"] == {**ZERO, "customers": 1}
        ola = session.scalar(sa.select(User).where(User.email == "ola@example.no"))
        assert ola is not None
        assert ola.name == "Ola Nordmann"
        assert ola.updated_at == clock.now()

    def test_changed_password_counts_as_updated_and_is_rehashed(
        self, session: Session, clock: FixedClock
    ) -> None:
        load(session, clock, network_doc())
        doc = network_doc()
        doc["customers"][0]["password"] = "a-brand-new-password"
        report = load(session, clock, doc)
        assert report["updated"]["customers"] == 1
        ola = session.scalar(sa.select(User).where(User.email == "ola@example.no"))
        assert ola is not None
        assert verify_password(ola.password_hash, "a-brand-new-password")
        assert not verify_password(ola.password_hash, PASSWORD)

    def test_changed_program_counts_as_updated(self, session: Session, clock: FixedClock) -> None:
        load(session, clock, network_doc())
        doc = network_doc()
        doc["centers"][1]["program"] = "pilot"
        report = load(session, clock, doc)
        assert report["updated"] == {**ZERO, "centers": 1}
        assert session.scalar(sa.select(Center.program).where(Center.code == "OSL-02")) == (
            Program.pilot
        )

    def test_program_history_recorded_on_create_and_change_only(
        self, session: Session, clock: FixedClock
    ) -> None:
        load(session, clock, network_doc())
        created_at = clock.now()
        clock.advance(timedelta(days=3))
        load(session, clock, network_doc())  # unchanged: no new rows
        doc = network_doc()
        doc["centers"][1]["program"] = "pilot"
        load(session, clock, doc)
        rows = session.execute(
            sa.select(Center.code, CenterProgramChange.program, CenterProgramChange.changed_at)
            .join(Center, Center.id == CenterProgramChange.center_id)
            .order_by(CenterProgramChange.id)
        ).all()
        initial = {(c.code, c.program) for c in session.scalars(sa.select(Center))} - {
            ("OSL-02", Program.pilot)
        }
        assert {(code, program) for code, program, at in rows[:3]} == initial | {
            ("OSL-02", Program.off)
        }
        assert all(at == created_at for _, _, at in rows[:3])
        assert [tuple(r) for r in rows[3:]] == [("OSL-02", Program.pilot, clock.now())]
        actors = set(session.scalars(sa.select(CenterProgramChange.actor)))
        assert actors == {"network-file"}

    def test_changed_deputy_counts_as_updated(self, session: Session, clock: FixedClock) -> None:
        load(session, clock, network_doc())
        doc = network_doc()
        doc["staff"][0]["deputy"] = "siv@example.no"
        report = load(session, clock, doc)
        assert report["updated"] == {**ZERO, "staff": 1}
        assert report["unchanged"]["staff"] == 7
        kari = session.scalar(sa.select(User).where(User.email == "kari@example.no"))
        assert kari is not None
        assert kari.deputy is not None
        assert kari.deputy.email == "siv@example.no"

    def test_deputy_set_on_create(self, session: Session, clock: FixedClock) -> None:
        load(session, clock, network_doc())
        kari = session.scalar(sa.select(User).where(User.email == "kari@example.no"))
        assert kari is not None
        assert kari.deputy is not None
        assert kari.deputy.email == "per@example.no"

    def test_staff_roles_and_places_stored(self, session: Session, clock: FixedClock) -> None:
        load(session, clock, network_doc())
        lars = session.scalar(sa.select(User).where(User.email == "lars@example.no"))
        kari = session.scalar(sa.select(User).where(User.email == "kari@example.no"))
        assert lars is not None
        assert kari is not None
        assert lars.role == Role.regional_manager
        assert lars.region is not None
        assert lars.region.code == "NO-EAST"
        assert kari.center is not None
        assert kari.center.code == "OSL-01"
        # A center's staff belong to the center's region too.
        assert kari.region is not None
        assert kari.region.code == "NO-EAST"

    def test_email_case_folded_so_reload_matches(self, session: Session, clock: FixedClock) -> None:
        load(session, clock, network_doc())
        doc = network_doc()
        doc["customers"][0]["email"] = "OLA@Example.NO"
        report = load(session, clock, doc)
        assert report["created"]["customers"] == 0
        assert report["unchanged"]["customers"] == 3

    def test_load_is_audited(self, session: Session, clock: FixedClock) -> None:
        report = load(session, clock, network_doc())
        event = session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "network.loaded"))
        assert event is not None
        assert event.data == report

    def test_every_problem_reported_and_nothing_written(
        self, session: Session, clock: FixedClock
    ) -> None:
        doc = network_doc()
        doc["regions"].append(copy.deepcopy(doc["regions"][0]))  # regions[2]: duplicate code
        doc["centers"][0]["time_zone"] = "Europe/Atlantis"
        doc["centers"][1]["business_hours"] = {"mon": ["08:00-12:00", "10:00-14:00"]}
        doc["centers"][2]["region"] = "NOWHERE"
        doc["centers"][1]["program"] = "sometimes"
        doc["staff"][0]["phone"] = "91234567"
        doc["staff"][2]["deputy"] = "ghost@example.no"
        del doc["customers"][1]["name"]
        problems = problems_of(session, clock, doc)
        assert {p.split(":", 1)[0] for p in problems} == {
            "regions[2].code",
            "centers[0].time_zone",
            "centers[1].business_hours",
            "centers[1].program",
            "centers[2].region",
            "staff[0].phone",
            "staff[2].deputy",
            "customers[1].name",
        }
        assert "centers[0].time_zone: unknown time zone" in problems
        assert count(session, Region) == count(session, Center) == count(session, User) == 0

    def test_reference_to_invalid_entry_not_reported_as_unknown(
        self, session: Session, clock: FixedClock
    ) -> None:
        doc = network_doc()
        doc["regions"][0]["time_zone"] = "Nowhere/Land"
        # Centers and staff that name NO-EAST are fine: the region's problem is its zone.
        assert problems_of(session, clock, doc) == ["regions[0].time_zone: unknown time zone"]

    def test_region_known_from_database_accepted(self, session: Session, clock: FixedClock) -> None:
        load(session, clock, network_doc())
        doc = {"centers": [{**network_doc()["centers"][0], "code": "OSL-09"}]}
        assert load(session, clock, doc)["created"]["centers"] == 1

    def test_staff_without_required_center_refused(
        self, session: Session, clock: FixedClock
    ) -> None:
        doc = network_doc()
        del doc["staff"][2]["center"]
        assert problems_of(session, clock, doc) == [
            "staff[2].center: required for a service_advisor"
        ]

    def test_own_deputy_refused(self, session: Session, clock: FixedClock) -> None:
        doc = network_doc()
        doc["staff"][0]["deputy"] = "kari@example.no"
        assert [p.split(":")[0] for p in problems_of(session, clock, doc)] == ["staff[0].deputy"]

    def test_customer_also_listed_as_staff_refused(
        self, session: Session, clock: FixedClock
    ) -> None:
        doc = network_doc()
        doc["customers"][0]["email"] = "kari@example.no"
        paths = [p.split(":")[0] for p in problems_of(session, clock, doc)]
        assert paths == ["customers[0].email"]

    def test_staff_email_of_existing_customer_refused(
        self, session: Session, clock: FixedClock
    ) -> None:
        load(session, clock, network_doc())
        doc = {"staff": [{**network_doc()["staff"][2], "email": "ola@example.no"}]}
        assert [p.split(":")[0] for p in problems_of(session, clock, doc)] == ["staff[0].email"]

    def test_unknown_top_level_key_refused(self, session: Session, clock: FixedClock) -> None:
        problems = problems_of(session, clock, {**network_doc(), "vehicles": []})
        assert [p.split(":")[0] for p in problems] == ["vehicles"]

    @pytest.mark.parametrize("program", [True, False, "yes", 1])
    def test_non_state_program_refused(
        self, session: Session, clock: FixedClock, program: object
    ) -> None:
        doc = network_doc()
        doc["centers"][0]["program"] = program
        paths = [p.split(":")[0] for p in problems_of(session, clock, doc)]
        assert paths == ["centers[0].program"]

    def test_short_password_refused(self, session: Session, clock: FixedClock) -> None:
        doc = network_doc()
        doc["customers"][0]["password"] = "short"
        paths = [p.split(":")[0] for p in problems_of(session, clock, doc)]
        assert paths == ["customers[0].password"]

    def test_empty_document_loads_nothing(self, session: Session, clock: FixedClock) -> None:
        assert load(session, clock, None)["created"] == ZERO
