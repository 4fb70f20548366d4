"""What the customer reads about a guardrail decision, in their own language.

The English texts below are the message ids; each is keyed by its decision
reason as the gettext context. A text that shows a count (days, limit or
cooldown) has a singular and a plural form (``_NP``), and the count picks the
form (``npgettext``), so no customer reads "1 days". Translations live in
``locale/<language>/LC_MESSAGES/direkte.po`` and are read at first use, with no
build step. After changing a text, refresh the template and the catalogs::

    pybabel extract --no-default-keywords -k _N:1c,2 -k _NP:1c,2,3 --no-location \\
        --project direkte --copyright-holder direkte \\
        -o src/direkte/guardrails/locale/messages.pot src/direkte/guardrails/explanations.py
    pybabel update -D direkte -i src/direkte/guardrails/locale/messages.pot \\
        -d src/direkte/guardrails/locale -w 100

Dates and times are shown in the customer's locale and the center's time zone.
"""

from __future__ import annotations

from datetime import datetime
from string import Formatter
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton, format_time

from direkte import i18n

_COUNTS = ("days", "limit", "cooldown")

# A text, or a text with a count: (singular, plural).
Text = str | tuple[str, str]


def _N(reason: str, text: str) -> tuple[str, Text]:  # noqa: N802 - the extraction keyword
    return reason, text


def _NP(reason: str, singular: str, plural: str) -> tuple[str, Text]:  # noqa: N802 - the extraction keyword
    return reason, (singular, plural)


_ENGLISH: dict[str, Text] = dict(
    [
        _N(
            "routed.tier0",
            "Your service advisor {name} will answer by {due}. If you are not satisfied"
            " with the answer, you can escalate again.",
        ),
        _N(
            "routed.tier1",
            "Your case is with {name}, the local service manager. You will get a first"
            " answer by {due}.",
        ),
        _N(
            "routed.tier2",
            "Your case is with {name}, the regional service manager. You will get a first"
            " answer by {due}.",
        ),
        _N(
            "appeal_routed",
            "Your appeal is with {name}, the regional service manager. You will get a first"
            " answer by {due}.",
        ),
        _N(
            "held",
            "Your request will be read by our service team before it goes further. You will"
            " hear from us within one business day.",
        ),
        _N(
            "folded",
            "You already have an open case about this, so your request was added to it."
            " Whoever handles that case will answer you there.",
        ),
        _NP(
            "frequency.under_limit",
            "You have escalated {limit} case in the last 12 months, the most we take"
            " directly to managers. Your service advisor will help you with this one.",
            "You have escalated {limit} cases in the last 12 months, the most we take"
            " directly to managers. Your service advisor will help you with this one.",
        ),
        _NP(
            "frequency.not_cooling_down",
            "Your last cases were decided recently, so for {cooldown} day new requests do"
            " not go directly to a manager. Your service advisor will help you with this"
            " one; safety matters always reach a manager.",
            "Your last cases were decided recently, so for {cooldown} days new requests do"
            " not go directly to a manager. Your service advisor will help you with this"
            " one; safety matters always reach a manager.",
        ),
        _N(
            "not_eligible.program_running",
            "Direct escalation is not offered at this service center yet. Your service"
            " advisor will help you.",
        ),
        _N(
            "not_eligible.visit_checked_in",
            "You can escalate once your car is checked in. Until then, your service advisor"
            " will help you.",
        ),
        _NP(
            "not_eligible.within_window",
            "Cases can be escalated up to {days} day after the visit closed; this visit is"
            " past that. Your service advisor can still help you.",
            "Cases can be escalated up to {days} days after the visit closed; this visit is"
            " past that. Your service advisor can still help you.",
        ),
        _N(
            "not_eligible.category_allowed",
            "This kind of request cannot be escalated. Your service advisor will help you.",
        ),
        _N(
            "not_eligible.subject_of_visit",
            "What you chose does not belong to this visit. Pick the diagnosis, estimate or"
            " warranty decision from this visit and try again; your service advisor can"
            " help if you are unsure.",
        ),
        _N(
            "appeal.has_outcome",
            "You can appeal once the case has an outcome. Until then, whoever handles your"
            " case will answer you in it.",
        ),
        _N(
            "appeal.tier1_outcome",
            "Only an outcome from a local service manager can be appealed. If your service"
            " advisor decided this case, you can escalate it again; an outcome from the"
            " regional service manager is final.",
        ),
        _N(
            "appeal.first_appeal",
            "This case has already been appealed once, and a case can be appealed only"
            " once. The regional service manager answers the appeal in the case, and that"
            " answer is final.",
        ),
        _NP(
            "appeal.within_window",
            "Appeals are possible for {days} day after the outcome; that time has passed,"
            " so the outcome stands. Your service advisor can still answer questions about"
            " it.",
            "Appeals are possible for {days} days after the outcome; that time has passed,"
            " so the outcome stands. Your service advisor can still answer questions about"
            " it.",
        ),
    ]
)
REASONS = tuple(_ENGLISH)


def _count_of(text: str) -> str:
    """The one count a text shows; its number picks the singular or plural form."""
    (count,) = {field for _, field, _, _ in Formatter().parse(text) if field in _COUNTS}
    return count


# Checked here, at import: each text with a count shows exactly one.
_COUNTED = {
    reason: _count_of(text[1]) for reason, text in _ENGLISH.items() if not isinstance(text, str)
}


def explain(
    reason: str,
    language: str,
    *,
    due: datetime | None = None,
    time_zone: str = "UTC",
    name: str = "",
    days: int = 0,
    limit: int = 0,
    cooldown: int = 0,
) -> str:
    """The customer's explanation for a decision ``reason``, in ``language``.

    An unknown language reads English; an unknown reason reads as the reason key.
    """
    english = _ENGLISH.get(reason)
    if english is None:
        return reason
    locale = i18n.supported(language)
    translations = i18n.translations("direkte.guardrails", locale)
    if isinstance(english, str):
        template = translations.pgettext(reason, english)
    else:
        counts = {"days": days, "limit": limit, "cooldown": cooldown}
        singular, plural = english
        template = translations.npgettext(reason, singular, plural, counts[_COUNTED[reason]])
    due_text = ""
    if due is not None:
        zone, babel_locale = ZoneInfo(time_zone), i18n.babel_locale(locale)
        day = format_skeleton("yMMMEd", due, tzinfo=zone, locale=babel_locale)
        due_text = f"{day} {format_time(due, 'short', tzinfo=zone, locale=babel_locale)}"
    return template.format(
        name=name or "—", due=due_text, days=days, limit=limit, cooldown=cooldown
    )
