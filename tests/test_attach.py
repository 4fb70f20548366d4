"""direct.attach: an object made from a row read elsewhere (straight through psycopg)
behaves as one the ORM loaded: one per identity, unread columns load on first use,
relationships load lazily, and changes flush as an UPDATE of what changed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from direkte import direct


class _Base(DeclarativeBase):
    pass


class _Center(_Base):
    __tablename__ = "centers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class _Car(_Base):
    __tablename__ = "cars"
    id: Mapped[int] = mapped_column(primary_key=True)
    plate: Mapped[str]
    note: Mapped[str]
    center_id: Mapped[int] = mapped_column(sa.ForeignKey("centers.id"))
    center: Mapped[_Center] = relationship()


@pytest.fixture
def session() -> Iterator[Session]:
    engine = sa.create_engine("sqlite://")
    _Base.metadata.create_all(engine)
    with Session(engine) as setup:
        setup.add(_Center(id=1, name="Oslo"))
        setup.add(_Car(id=7, plate="EV 12345", note="first", center_id=1))
        setup.commit()
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with Session(engine) as session:
        session.info["statements"] = statements
        yield session


def test_an_attached_row_is_the_sessions_object_for_its_identity(session: Session) -> None:
    car = direct.attach(session, _Car, ("id", "plate"), (7, "EV 12345"))
    assert car in session
    assert sa.inspect(car).persistent
    assert session.get(_Car, 7) is car  # from the identity map: no SELECT
    assert direct.attach(session, _Car, ("id", "plate"), (7, "other")) is car
    assert car.plate == "EV 12345"
    assert session.info["statements"] == []


def test_unread_columns_and_relationships_load_on_first_use(session: Session) -> None:
    car = direct.attach(session, _Car, ("id", "plate"), (7, "EV 12345"))
    assert sa.inspect(car).unloaded >= {"note", "center_id", "center"}
    assert car.note == "first"  # the unread columns, in one SELECT
    assert car.center_id == 1
    assert len(session.info["statements"]) == 1
    assert car.center.name == "Oslo"  # the relationship by its lazy loader
    assert len(session.info["statements"]) == 2


def test_a_change_flushes_as_an_update_of_what_changed(session: Session) -> None:
    car = direct.attach(session, _Car, ("id", "plate", "note"), (7, "EV 12345", "first"))
    car.note = "second"
    session.commit()
    updates = [s for s in session.info["statements"] if s.startswith("UPDATE")]
    assert len(updates) == 1
    assert "plate" not in updates[0]
    with Session(session.get_bind()) as other:
        assert other.get(_Car, 7).note == "second"  # type: ignore[union-attr]
