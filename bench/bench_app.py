"""The direkte app plus two bare endpoints, for benchmarks only (never deployed).

``/bench/insert`` does one INSERT of one row and ``/bench/select/{id}`` one
primary-key SELECT, on the same stack as the real routes: the same FastAPI app,
middleware, error handlers, session dependency and sessionmaker, same database.
They set the floor that the real endpoints are compared against.

Run as ``uvicorn bench.bench_app:app`` from the project root; the table
``bench_rows`` is created by ``bench/http_bench.py`` (not by the migrations).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from direkte.api.app import create_app
from direkte.api.routing import fence_routes
from direkte.api.serving import settle_heap
from direkte.errors import NotFound
from direkte.guardrails.content_facts import warm_up
from direkte.kit.deps import ClockDep, SessionDep
from direkte.kit.offload import OffLoopRoute


class BenchBase(DeclarativeBase):
    """Separate metadata: bench tables never reach direkte's migrations."""


class BenchRow(BenchBase):
    __tablename__ = "bench_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    note: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class RowIn(BaseModel):
    note: str = Field(min_length=1, max_length=100)


class RowOut(BaseModel):
    id: int
    note: str
    created_at: datetime


router = APIRouter(prefix="/bench", tags=["bench"], route_class=OffLoopRoute)


@router.post("/insert", status_code=201)
def bench_insert(body: RowIn, session: SessionDep, clock: ClockDep) -> RowOut:
    """One INSERT of one row, committed."""
    row = BenchRow(note=body.note, created_at=clock.now())
    session.add(row)
    session.commit()
    return RowOut(id=row.id, note=row.note, created_at=row.created_at)


@router.get("/select/{row_id}")
def bench_select(row_id: int, session: SessionDep) -> RowOut:
    """One primary-key SELECT."""
    row = session.get(BenchRow, row_id)
    if row is None:
        raise NotFound("no such row")
    session.commit()
    return RowOut(id=row.id, note=row.note, created_at=row.created_at)


app = create_app()
app.include_router(router)
fence_routes(app)  # as create_app does for its own routers
# As direkte.api.asgi does: load the language models and phrase lists at start-up,
# not in the first requests (which would otherwise each build them at once).
warm_up()
settle_heap()
