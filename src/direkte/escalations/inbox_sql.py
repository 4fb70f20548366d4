"""The inbox page built by PostgreSQL: each item's JSON in one statement.

A manager's page holds ~50 cases with their visits (~160 KB of JSON). Built in
Python from rows, its objects, decimals and dictionaries cost several times the
database's work; built here, Python joins ready JSON texts. The items are exactly
``schemas.inbox_page_json``'s (a test compares the two on every kind of case):

* times as orjson writes them (UTC, ``Z``, microseconds only when not zero);
* money rounded half up to the currency's minor units (``money.quantize``);
* percents rounded half to even to one decimal, with ``-0.0`` kept (``Decimal``'s);
* the estimate baseline as ``visits.revisions.estimate_baseline``;
* the earlier visits and the cases as ``inbox.list_inbox`` and the access rules say;
* the visit's lists (diagnoses, codes, estimates, warranty decisions) and the
  guardrail decision's shown form are read ready, kept at write time by triggers
  (``inbox_lists``); a decision without its shown form (none should be) is cut to the
  contract's fields in Python (``shown_guardrail``).

SQLite keeps the Python path (``inbox.list_inbox``, serialized from plain values).
"""

from __future__ import annotations

import functools
from datetime import UTC
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, aliased

from direkte import access
from direkte.clock import Clock
from direkte.db import prepared_rows
from direkte.escalations.inbox import EARLIER_VISITS_SHOWN, list_inbox
from direkte.escalations.kernel import visible_cases
from direkte.escalations.models import ACTIVE, EscalationStatus
from direkte.escalations.schemas import (
    business_minutes_within,
    inbox_item_json,
    shown_guardrail,
)
from direkte.money import currencies, minor_units
from direkte.network.hours import OpeningHours, opening_hours
from direkte.network.models import Role, User
from direkte.visits.models import Visit

_PSYCOPG = postgresql.psycopg.dialect()  # type: ignore[no-untyped-call]


def _sql(expression: sa.ColumnElement[Any]) -> str:
    """An access filter as SQL text; its values are the viewer's ids (integers)."""
    return str(expression.compile(dialect=_PSYCOPG, compile_kwargs={"literal_binds": True}))


@functools.lru_cache(maxsize=1)
def _odd_scales() -> str:
    """``minor_units`` as a ``jsonb`` object of the currencies whose minor units are not
    2, built from a text array (a constant of the statement, folded when it is planned:
    one lookup per amount, where a ``CASE`` of ~50 currencies compared each amount's
    currency with every one of them)."""
    pairs = (f"{c},{minor_units(c)}" for c in sorted(currencies()) if minor_units(c) != 2)
    return f"jsonb_object('{{{','.join(pairs)}}}'::text[])"


def money(amount: str, currency: str) -> str:
    scale = f"coalesce(({_odd_scales()} ->> {currency})::int, 2)"
    return f"json_build_object('amount', round({amount}, {scale})::text, 'currency', {currency})"


def utc_time(column: str) -> str:
    """orjson's form of a time: microseconds only when not zero (``.000000`` cut)."""
    utc = f"to_char(timezone('UTC', {column}), 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
    return f"replace({utc}, '.000000', '') || 'Z'"


# An estimate's change from the baseline, with its percent in tenths rounded half to
# even (``Decimal.quantize``'s rounding) and kept as ``-0.0`` below zero, as lateral
# columns so that each is computed once.
ESTIMATE_CHANGE = """
CROSS JOIN LATERAL (
  SELECT e.total - bt.total AS change, (e.total - bt.total) * 1000 / NULLIF(bt.total, 0) AS tenths
) k
CROSS JOIN LATERAL (
  SELECT CASE WHEN abs(k.tenths - trunc(k.tenths)) = 0.5
              THEN trunc(k.tenths) + CASE WHEN mod(trunc(k.tenths), 2) = 0 THEN 0
                                          ELSE sign(k.tenths) END
              ELSE round(k.tenths) END AS tenths
) r"""
PERCENT = (
    "CASE WHEN k.tenths IS NULL THEN NULL WHEN r.tenths = 0 AND k.tenths < 0 THEN '-0.0' "
    "ELSE to_char(r.tenths / 10, 'FM999999999999990.0') END"
)


@functools.lru_cache(maxsize=1024)
def page_sql(role: Role, user_id: int, center_id: int | None, region_id: int | None) -> str:
    """The page for one viewer as psycopg's SQL text (built once per viewer): per item
    its stored decision, what its business minutes need, and its JSON, in order.

    Parameters: ``tier``, ``now``, ``limit``, ``offset``, ``status``, ``center``.
    """
    viewer = User(role=role, id=user_id, center_id=center_id, region_id=region_id)
    earlier = aliased(Visit, name="ev")
    sees_case = _sql(visible_cases(viewer))
    sees_earlier = _sql(
        access.owned_filter(viewer, customer_id=earlier.customer_id, center_id=earlier.center_id)
    )
    active = ", ".join(f"'{status.value}'" for status in ACTIVE)
    order = (
        "CASE WHEN {t}.sla_next_due <= :now THEN 0 ELSE 1 END, "
        "coalesce({t}.sla_next_due, {t}.resolution_due) IS NULL, "
        "coalesce({t}.sla_next_due, {t}.resolution_due), {t}.id"
    )
    # The earlier visits and the baselines are aggregated once for the whole page
    # (grouped and hash joined), not per item in correlated subqueries. Every CTE is
    # MATERIALIZED: the statement runs prepared, and PostgreSQL's generic plan (which
    # cannot know the page's size: it estimates one case) would otherwise nest their
    # aggregation in a loop over the cases, each aggregated again for every case (50 ms
    # a page instead of 5, when the visits' lists were built here too).
    statement = sa.text(
        f"""
WITH c AS MATERIALIZED (
  SELECT * FROM escalations
  WHERE {sees_case} AND escalations.tier = :tier
    AND escalations.status IN ({active})
    AND (CAST(:status AS varchar) IS NULL OR escalations.status = :status)
    AND (CAST(:center AS varchar) IS NULL
         OR escalations.center_id = (SELECT id FROM centers WHERE code = :center))
  ORDER BY {order.format(t="escalations")}
  LIMIT :limit OFFSET :offset
),
pv AS MATERIALIZED (SELECT DISTINCT visit_id AS id FROM c),
bt AS MATERIALIZED (
  SELECT DISTINCT ON (b.visit_id) b.visit_id, b.total FROM estimates b
  WHERE b.visit_id IN (SELECT id FROM pv)
  ORDER BY b.visit_id, b.approved_at IS NULL, b.seq
),
ea AS MATERIALIZED (
  SELECT x.current_id AS visit_id, json_agg(json_build_object(
      'id', x.id, 'center', x.center, 'appointment_date', x.appointment_date,
      'concern', x.concern, 'status', x.status) ORDER BY x.id DESC) AS earlier_visits
  FROM (
    SELECT cv.id AS current_id, ev.id, ec.code AS center, ev.appointment_date, ev.concern,
           ev.status, row_number() OVER (PARTITION BY cv.id ORDER BY ev.id DESC) AS rank
    FROM visits cv
    JOIN visits ev ON ev.vehicle_id = cv.vehicle_id AND ev.customer_id = cv.customer_id
                  AND ev.id != cv.id AND ev.created_at <= cv.created_at
    JOIN centers ec ON ec.id = ev.center_id
    WHERE cv.id IN (SELECT id FROM pv) AND {sees_earlier}
  ) x
  WHERE x.rank <= {EARLIER_VISITS_SHOWN}
  GROUP BY x.current_id
)
SELECT convert_to(c.guardrail_shown::text, 'UTF8') AS shown,
       CASE WHEN c.guardrail_shown IS NULL THEN c.guardrail::text END AS guardrail,
       c.sla_next_due, c.center_id, ce.time_zone, ce.country,
       ce.business_hours::text, ce.closed_dates::text, convert_to(json_build_object(
  'id', c.id, 'visit_id', c.visit_id, 'category', c.category, 'subject_id', c.subject_id,
  'status', c.status, 'tier', c.tier,
  'assignee', CASE WHEN a.id IS NULL THEN NULL
              ELSE json_build_object('name', a.name, 'role', a.role) END,
  'sla', json_build_object(
    'first_response_due', {utc_time("c.first_response_due")},
    'resolution_due', {utc_time("c.resolution_due")},
    'first_response_at', {utc_time("c.first_response_at")},
    'paused', c.sla_paused_at IS NOT NULL,
    'breached', coalesce(c.sla_next_due <= :now, false)),
  'version', c.version, 'created_at', {utc_time("c.created_at")}, 'folded', false,
  'reason', c.reason,
  'outcome', CASE WHEN c.outcome IS NULL THEN NULL ELSE json_build_object(
    'outcome', c.outcome,
    'amount_delta', {money("coalesce(c.amount_delta, 0)", "c.currency")},
    'note', c.outcome_note, 'tier', c.outcome_tier,
    'resolved_at', {utc_time("c.resolved_at")}) END,
  'appealed', c.appealed_at IS NOT NULL,
  'rating', CASE WHEN c.rating_score IS NULL THEN NULL ELSE json_build_object(
    'score', c.rating_score, 'comment', c.rating_comment,
    'rated_at', {utc_time("c.rated_at")}) END,
  'rejection_reason', c.rejection_reason,
  'customer', cu.name,
  'center', json_build_object('code', ce.code, 'name', ce.name, 'time_zone', ce.time_zone),
  'amount_at_stake', CASE
    WHEN c.category = 'estimate' THEN (
      SELECT CASE WHEN bt.total IS NULL THEN NULL
                  ELSE {money("s.total - bt.total", "s.currency")} END
      FROM estimates s WHERE s.id = c.subject_id AND s.visit_id = c.visit_id)
    WHEN c.category = 'warranty' THEN (
      SELECT {money("s.claimed - s.covered", "s.currency")}
      FROM warranty_decisions s WHERE s.id = c.subject_id AND s.visit_id = c.visit_id)
    ELSE (
      SELECT {money("s.total", "s.currency")} FROM estimates s
      WHERE s.visit_id = c.visit_id ORDER BY s.seq DESC LIMIT 1)
    END,
  'context', json_build_object(
    'vehicle', json_build_object(
      'vin', vh.vin, 'model', vh.model, 'model_year', vh.model_year,
      'odometer_km', vh.odometer_km, 'delivery_date', vh.delivery_date),
    'concern', v.concern, 'drivable', v.drivable,
    'diagnosis_codes', coalesce(vl.diagnosis_codes, '[]'::json),
    'diagnoses', coalesce(vl.diagnoses, '[]'::json),
    'estimates', coalesce(vl.estimates, '[]'::json),
    'warranty_decisions', coalesce(vl.warranty_decisions, '[]'::json),
    'earlier_visits', coalesce(ea.earlier_visits, '[]'::json)
  )
)::text, 'UTF8') AS item
FROM c
JOIN visits v ON v.id = c.visit_id
JOIN vehicles vh ON vh.id = v.vehicle_id
JOIN users cu ON cu.id = c.customer_id
JOIN centers ce ON ce.id = c.center_id
LEFT JOIN users a ON a.id = c.assignee_id
LEFT JOIN bt ON bt.visit_id = c.visit_id
LEFT JOIN visit_lists vl ON vl.visit_id = c.visit_id
LEFT JOIN ea ON ea.visit_id = c.visit_id
ORDER BY {order.format(t="c")}
"""
    )
    return str(statement.compile(dialect=_PSYCOPG))


def inbox_items_json(
    session: Session,
    clock: Clock,
    *,
    viewer: User,
    limit: int,
    offset: int,
    status: EscalationStatus | None = None,
    center: str | None = None,
) -> list[bytes]:
    """The page's items as JSON, in ``list_inbox``'s order: built by PostgreSQL, or from
    ``list_inbox``'s entries on SQLite. Raises StaffOnly."""
    now = clock.now()
    if session.get_bind().dialect.name != "postgresql":
        entries = list_inbox(
            session, clock, viewer=viewer, limit=limit, offset=offset, status=status, center=center
        )
        return [inbox_item_json(entry, now=now, viewer=viewer) for entry in entries]
    sql = page_sql(viewer.role, viewer.id, viewer.center_id, viewer.region_id)
    params = {
        "tier": access.inbox_tier(viewer),
        "now": now,
        "limit": limit,
        "offset": offset,
        "status": status.value if status else None,
        "center": center,
    }
    # On the session's connection (its transaction), prepared from the first run: the
    # statement's parsing and planning (~4 ms) cost as much as running it, and with its
    # CTEs materialized the generic plan PostgreSQL keeps after five runs is as fast
    # as each run's own (measured: 4.6 ms against 4.6 ms, planning 0.06 against 3.7).
    # In binary: the JSON texts come as the bytes the page is made of (no decoding to
    # str and encoding back, 0.15 ms a page).
    # The inbox is staff's alone (``inbox_tier`` above refused anyone else), and staff
    # see a decision whole: its kept shown form is theirs as it is.
    rows = prepared_rows(session, sql, params, binary=True)
    # A center's hours once a page (the rows' texts of one center are equal).
    hours: dict[int, OpeningHours] = {}
    items = []
    for shown, guardrail, due, center_id, zone, country, business, closed, item in rows:
        if due is None:
            minutes = b"null"
        else:
            if center_id not in hours:
                hours[center_id] = _hours(zone, country, business, closed)
            minutes = b"%d" % business_minutes_within(hours[center_id], due.astimezone(UTC), now)
        if shown is None:  # a decision without its shown form (none should be)
            shown = orjson.dumps(shown_guardrail(viewer, orjson.loads(guardrail)))
        fields = (shown, minutes, item[1:])
        items.append(b'{"guardrail":%b,"due_in_business_minutes":%b,%b' % fields)
    return items


@functools.lru_cache(maxsize=256)
def _hours(time_zone: str, country: str, business_hours: str, closed_dates: str) -> OpeningHours:
    """A center's opening hours from its stored JSON texts, built once per distinct texts
    (``opening_hours`` keys its memo on the parsed values: a dump per call, per item)."""
    return opening_hours(
        time_zone, country, orjson.loads(business_hours), orjson.loads(closed_dates)
    )
