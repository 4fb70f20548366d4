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
from dataclasses import dataclass
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


def _rounded(amount: str, currency: str) -> str:
    """An amount rounded half up to its currency's minor units (``money.quantize``)."""
    return f"round({amount}, coalesce(({_odd_scales()} ->> {currency})::int, 2))"


def money(amount: str, currency: str) -> str:
    return (
        f"json_build_object('amount', {_rounded(amount, currency)}::text, 'currency', {currency})"
    )


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


@dataclass(frozen=True)
class _Json:
    """SQL expressions writing JSON as ``json_build_object`` and ``json_agg`` write it
    (``{"key" : value, ...}``, ``[a, b]``): with ``fast``, as text concatenated with
    the keys as literals (one ``concat`` per object; the values' text is JSON as it
    is, or escaped by ``to_json``); otherwise with those functions themselves, which
    look up each key's and each value's type in the catalog for every row (measured:
    0.1-0.35 ms of a page's 2.5). The second is the first's reference in the tests."""

    fast: bool

    def object(self, *pairs: tuple[str, str]) -> str:
        """An object of each key and its value's expression (this writer's)."""
        if not self.fast:
            return "json_build_object(" + ", ".join(f"'{k}', {v}" for k, v in pairs) + ")"
        parts = []
        for i, (key, value) in enumerate(pairs):
            opening = "{" if i == 0 else ", "
            parts += [f"""'{opening}"{key}" : '""", value]
        return "concat(" + ", ".join(parts) + ", '}')"

    def string(self, expression: str) -> str:
        """A text, a date or NULL."""
        return f"coalesce(to_json({expression})::text, 'null')" if self.fast else expression

    def plain(self, expression: str) -> str:
        """An integer, a boolean or NULL (their text is JSON)."""
        return f"coalesce(({expression})::text, 'null')" if self.fast else expression

    def time(self, column: str) -> str:
        """A time or NULL, as ``utc_time`` (its text needs no escaping)."""
        if not self.fast:
            return utc_time(column)
        return f"""coalesce('"' || {utc_time(column)} || '"', 'null')"""

    def money(self, amount: str, currency: str) -> str:
        """An amount rounded to its currency's minor units, as ``money``."""
        if not self.fast:
            return money(amount, currency)
        text = f"""coalesce('"' || {_rounded(amount, currency)}::text || '"', 'null')"""
        return self.object(("amount", text), ("currency", self.string(currency)))

    def unless(self, condition: str, value: str) -> str:
        """``null`` when the condition holds, else the value."""
        return f"CASE WHEN {condition} THEN {self.null} ELSE {value} END"

    def or_else(self, value: str, default: str) -> str:
        """A value of this writer's (or of a ``json`` column), or a JSON literal."""
        if not self.fast:
            return f"coalesce({value}, '{default}'::json)"
        return f"coalesce(({value})::text, '{default}')"

    def array(self, element: str, order: str) -> str:
        """The aggregate of the elements in that order (NULL without any)."""
        if not self.fast:
            return f"json_agg({element} ORDER BY {order})"
        return f"'[' || string_agg({element}, ', ' ORDER BY {order}) || ']'"

    @property
    def null(self) -> str:
        return "'null'" if self.fast else "NULL"


@functools.lru_cache(maxsize=1024)
def page_sql(
    role: Role,
    user_id: int,
    center_id: int | None,
    region_id: int | None,
    *,
    reference: bool = False,
) -> str:
    """The page for one viewer as psycopg's SQL text (built once per viewer): per item
    its stored decision, what its business minutes need, and its JSON, in order.
    With ``reference``, its JSON written by ``json_build_object`` (the tests').

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
    j = _Json(fast=not reference)
    earlier_visit = j.object(
        ("id", j.plain("ev.id")),
        ("center", j.string("(SELECT ec.code FROM centers ec WHERE ec.id = ev.center_id)")),
        ("appointment_date", j.string("ev.appointment_date")),
        ("concern", j.string("ev.concern")),
        ("status", j.string("ev.status")),
    )
    # The cases are materialized: the statement runs prepared, and PostgreSQL's generic
    # plan (which cannot know the page's size: it estimates one case) reads them once.
    # Per case the rest are index look-ups: the earlier visits are the newest of the
    # customer's visits of the car (at most ``EARLIER_VISITS_SHOWN``, read backwards
    # from ``ix_visits_vehicle_customer_id``: a window over all of them for the whole
    # page cost twice as much, and a car's long history all of it); the baseline is
    # read only for an estimate's case.
    statement = sa.text(
        f"""
WITH c AS MATERIALIZED (
  SELECT id, visit_id, customer_id, center_id, category, subject_id, reason, status, tier,
         assignee_id, version, created_at, first_response_due, resolution_due,
         sla_next_due, sla_paused_at, first_response_at, resolved_at, outcome,
         amount_delta, currency, outcome_note, outcome_tier, appealed_at,
         rejection_reason, rating_score, rating_comment, rated_at, guardrail_shown,
         CASE WHEN guardrail_shown IS NULL THEN guardrail END AS guardrail
  FROM escalations
  WHERE {sees_case} AND escalations.tier = :tier
    AND escalations.status IN ({active})
    AND (CAST(:status AS varchar) IS NULL OR escalations.status = :status)
    AND (CAST(:center AS varchar) IS NULL
         OR escalations.center_id = (SELECT id FROM centers WHERE code = :center))
  ORDER BY {order.format(t="escalations")}
  LIMIT :limit OFFSET :offset
)
SELECT convert_to(c.guardrail_shown::text, 'UTF8') AS shown, c.guardrail::text AS guardrail,
       c.sla_next_due, c.center_id, ce.time_zone, ce.country,
       ce.business_hours::text, ce.closed_dates::text,
       convert_to(({_item(j)})::text, 'UTF8') AS item
FROM c
JOIN visits v ON v.id = c.visit_id
JOIN vehicles vh ON vh.id = v.vehicle_id
JOIN users cu ON cu.id = c.customer_id
JOIN centers ce ON ce.id = c.center_id
LEFT JOIN users a ON a.id = c.assignee_id
LEFT JOIN visit_lists vl ON vl.visit_id = c.visit_id
CROSS JOIN LATERAL (
  SELECT CASE
    WHEN c.category = 'estimate' THEN (
      SELECT CASE WHEN b.total IS NULL THEN NULL
                  ELSE {j.money("s.total - b.total", "s.currency")} END
      FROM estimates s
      LEFT JOIN LATERAL (
        SELECT b.total FROM estimates b WHERE b.visit_id = c.visit_id
        ORDER BY b.approved_at IS NULL, b.seq LIMIT 1
      ) b ON true
      WHERE s.id = c.subject_id AND s.visit_id = c.visit_id)
    WHEN c.category = 'warranty' THEN (
      SELECT {j.money("s.claimed - s.covered", "s.currency")}
      FROM warranty_decisions s WHERE s.id = c.subject_id AND s.visit_id = c.visit_id)
    ELSE (
      SELECT {j.money("s.total", "s.currency")} FROM estimates s
      WHERE s.visit_id = c.visit_id ORDER BY s.seq DESC LIMIT 1)
    END AS amount_at_stake
) st
LEFT JOIN LATERAL (
  SELECT {j.array(earlier_visit, "ev.id DESC")} AS earlier_visits
  FROM (
    SELECT ev.id, ev.center_id, ev.appointment_date, ev.concern, ev.status FROM visits ev
    WHERE ev.customer_id = v.customer_id AND ev.vehicle_id = v.vehicle_id
      AND ev.id != v.id AND ev.created_at <= v.created_at AND {sees_earlier}
    ORDER BY ev.id DESC LIMIT {EARLIER_VISITS_SHOWN}
  ) ev
) ea ON true
ORDER BY {order.format(t="c")}
"""
    )
    return str(statement.compile(dialect=_PSYCOPG))


def _item(j: _Json) -> str:
    """An item's JSON but its guardrail and business minutes (``InboxItem``'s order)."""
    return j.object(
        ("id", j.plain("c.id")),
        ("visit_id", j.plain("c.visit_id")),
        ("category", j.string("c.category")),
        ("subject_id", j.plain("c.subject_id")),
        ("status", j.string("c.status")),
        ("tier", j.plain("c.tier")),
        (
            "assignee",
            j.unless(
                "a.id IS NULL",
                j.object(("name", j.string("a.name")), ("role", j.string("a.role"))),
            ),
        ),
        (
            "sla",
            j.object(
                ("first_response_due", j.time("c.first_response_due")),
                ("resolution_due", j.time("c.resolution_due")),
                ("first_response_at", j.time("c.first_response_at")),
                ("paused", j.plain("c.sla_paused_at IS NOT NULL")),
                ("breached", j.plain("coalesce(c.sla_next_due <= :now, false)")),
            ),
        ),
        ("version", j.plain("c.version")),
        ("created_at", j.time("c.created_at")),
        ("folded", j.plain("false")),
        ("reason", j.string("c.reason")),
        (
            "outcome",
            j.unless(
                "c.outcome IS NULL",
                j.object(
                    ("outcome", j.string("c.outcome")),
                    ("amount_delta", j.money("coalesce(c.amount_delta, 0)", "c.currency")),
                    ("note", j.string("c.outcome_note")),
                    ("tier", j.plain("c.outcome_tier")),
                    ("resolved_at", j.time("c.resolved_at")),
                ),
            ),
        ),
        ("appealed", j.plain("c.appealed_at IS NOT NULL")),
        (
            "rating",
            j.unless(
                "c.rating_score IS NULL",
                j.object(
                    ("score", j.plain("c.rating_score")),
                    ("comment", j.string("c.rating_comment")),
                    ("rated_at", j.time("c.rated_at")),
                ),
            ),
        ),
        ("rejection_reason", j.string("c.rejection_reason")),
        ("customer", j.string("cu.name")),
        (
            "center",
            j.object(
                ("code", j.string("ce.code")),
                ("name", j.string("ce.name")),
                ("time_zone", j.string("ce.time_zone")),
            ),
        ),
        ("amount_at_stake", j.or_else("st.amount_at_stake", "null")),
        (
            "context",
            j.object(
                (
                    "vehicle",
                    j.object(
                        ("vin", j.string("vh.vin")),
                        ("model", j.string("vh.model")),
                        ("model_year", j.plain("vh.model_year")),
                        ("odometer_km", j.plain("vh.odometer_km")),
                        ("delivery_date", j.string("vh.delivery_date")),
                    ),
                ),
                ("concern", j.string("v.concern")),
                ("drivable", j.plain("v.drivable")),
                ("diagnosis_codes", j.or_else("vl.diagnosis_codes", "[]")),
                ("diagnoses", j.or_else("vl.diagnoses", "[]")),
                ("estimates", j.or_else("vl.estimates", "[]")),
                ("warranty_decisions", j.or_else("vl.warranty_decisions", "[]")),
                ("earlier_visits", j.or_else("ea.earlier_visits", "[]")),
            ),
        ),
    )


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
