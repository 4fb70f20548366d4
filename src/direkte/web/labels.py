"""The words for the stored values the pages show (a status, a category, a role …) and
the SLA countdown, translated once per language instead of once per use.

A page gets ``labels`` (``for_language``) in its context; ``_labels.html`` and
``_staff.html`` read their words from it, and a page that shows many cards (the inbox)
reads the tables directly instead of calling a macro per card. The words are marked
with ``_`` here, so ``./dev messages`` extracts them into the catalogs as before.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from markupsafe import Markup

from direkte.web import language


def _(message: str) -> str:
    """Marks a word for the catalogs; ``for_language`` translates it."""
    return message


CASE_STATUS = {
    "held": _("Waiting for a check"),
    "open": _("Open"),
    "acknowledged": _("Being handled"),
    "awaiting_customer": _("Waiting for your answer"),
    "resolved": _("Resolved"),
    "closed": _("Closed"),
    "withdrawn": _("Withdrawn"),
    "rejected": _("Rejected"),
}
TABLES: dict[str, dict[str, str]] = {
    "visit_status": {
        "scheduled": _("Booked"),
        "checked_in": _("Checked in"),
        "diagnosing": _("Being diagnosed"),
        "awaiting_approval": _("Awaiting your approval"),
        "in_repair": _("In repair"),
        "ready": _("Ready for pick-up"),
        "closed": _("Closed"),
        "cancelled": _("Cancelled"),
    },
    "case_status": CASE_STATUS,
    # Staff read a case waiting on the customer from their side.
    "staff_case_status": {**CASE_STATUS, "awaiting_customer": _("Waiting for the customer")},
    "category": {
        "diagnosis": _("Diagnosis"),
        "estimate": _("Estimate"),
        "warranty": _("Warranty decision"),
    },
    "outcome": {
        "upheld": _("The decision stands"),
        "revised": _("Revised in your favour"),
        "goodwill": _("Goodwill"),
    },
    "warranty": {
        "covered": _("Covered"),
        "not_covered": _("Not covered"),
        "goodwill_partial": _("Partly covered as goodwill"),
    },
    "role": {
        "customer": _("Customer"),
        "service_advisor": _("Service advisor"),
        "local_manager": _("Service manager"),
        "regional_manager": _("Regional manager"),
        "ops_admin": _("Operations"),
        "system": _("direkte"),
    },
}
# The badge's kind (its colour) for a case's status.
BADGE = {
    "held": "warn",
    "open": "warn",
    "acknowledged": "",
    "awaiting_customer": "warn",
    "resolved": "ok",
    "closed": "ok",
    "withdrawn": "",
    "rejected": "bad",
}
WORDS = (
    _("Clock stopped"),
    _("Clock stopped: waiting for the customer"),
    _("Overdue by %(time)s"),
    _("%(time)s left"),
    _("in business hours"),
    _("%(hours)d h %(minutes)d min"),
    _("%(minutes)d min"),
)


class Labels:
    """One language's words: ``labels.category["estimate"]``, ``labels.countdown(…)``.

    Translations are trusted text (``Markup``), as ``_()`` gives them in a template.
    """

    def __init__(self, lang: str) -> None:
        catalog = language.catalog(lang)
        self.lang = lang
        self.words = {word: Markup(catalog.gettext(word)) for word in WORDS}
        self.tables = {
            name: {key: Markup(catalog.gettext(word)) for key, word in table.items()}
            for name, table in TABLES.items()
        }
        self.badges = self._badges("case_status")
        self.staff_badges = self._badges("staff_case_status")

    def _badges(self, table: str) -> dict[str, Markup]:
        """Each case status as its coloured badge, in the words of ``table``."""
        return {
            key: Markup('<span class="badge {}">{}</span>').format(kind, self.tables[table][key])
            for key, kind in BADGE.items()
        }

    def __getitem__(self, table: str) -> Mapping[str, Markup]:
        """A table by name (a template's ``labels.category``)."""
        return self.tables[table]

    def word(self, table: str, value: object) -> Markup | str:
        """The word for a stored value, or the value itself when it has none."""
        key = str(value)
        return self.tables[table].get(key, key)

    def badge(self, value: object, *, staff: bool = False) -> Markup:
        """A case's status as a coloured badge (``staff``: staff's wording)."""
        key = str(value)
        found = (self.staff_badges if staff else self.badges).get(key)
        return found if found is not None else Markup('<span class="badge ">{}</span>').format(key)

    def duration(self, minutes: int) -> Markup:
        """So many minutes as hours and minutes (the sign dropped)."""
        m = abs(minutes)
        # Plain ``%`` on the trusted translation: the values are whole numbers.
        if m >= 60:
            return Markup(
                str.__mod__(
                    self.words["%(hours)d h %(minutes)d min"], {"hours": m // 60, "minutes": m % 60}
                )
            )
        return Markup(str.__mod__(self.words["%(minutes)d min"], {"minutes": m}))

    def countdown(self, minutes: int | None, status: object) -> Markup:
        """A case's SLA clock in business time: stopped, time left, or overdue (in red).

        Built by joining trusted pieces (the translations and whole numbers): it runs
        once per card of the inbox."""
        w = self.words
        if minutes is None:
            if str(status) == "awaiting_customer":
                return Markup(
                    f'<span class="muted">{w["Clock stopped: waiting for the customer"]}</span>'
                )
            return Markup(f'<span class="muted">{w["Clock stopped"]}</span>')
        time = self.duration(minutes)
        if minutes < 0:
            left = f'<strong class="overdue">{_fill(w["Overdue by %(time)s"], time)}</strong>'
        else:
            left = f"<span>{_fill(w['%(time)s left'], time)}</span>"
        return Markup(f'{left} <span class="small muted">{w["in business hours"]}</span>')


def _fill(text: str, time: str) -> str:
    return str.__mod__(text, {"time": time})


@functools.cache
def for_language(lang: str) -> Labels:
    """A language's words, translated once (the catalogs do not change while running)."""
    return Labels(lang)
