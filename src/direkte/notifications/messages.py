"""What a notification says, in its recipient's language, and where it links to.

Each kind of notification (its outbox topic, a staff or a customer message told
apart) has a title and a body; the English texts below are the message ids, keyed by
``<kind>.title`` and ``<kind>.body`` as the gettext context. Translations live in
``locale/<language>/LC_MESSAGES/direkte.po`` and are read at first use, with no
build step. After changing a text, refresh the template and the catalogs::

    pybabel extract --no-default-keywords -k _T:1c,2 --no-location \\
        --project direkte --copyright-holder direkte \\
        -o src/direkte/notifications/locale/messages.pot src/direkte/notifications/messages.py
    pybabel update -D direkte -i src/direkte/notifications/locale/messages.pot \\
        -d src/direkte/notifications/locale -w 100
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from direkte import i18n


def _T(key: str, text: str) -> tuple[str, str]:  # noqa: N802 - the extraction keyword
    return key, text


_ENGLISH: dict[str, str] = dict(
    [
        _T("escalation.opened.title", "New case #{id} for you"),
        _T(
            "escalation.opened.body",
            "A customer has escalated a case to you. Please give a first answer in time.",
        ),
        _T("escalation.approved.title", "New case #{id} for you"),
        _T(
            "escalation.approved.body",
            "A request held for review has been released to you. Please give a first"
            " answer in time.",
        ),
        _T("escalation.appealed.title", "Case #{id} was appealed to you"),
        _T(
            "escalation.appealed.body",
            "The customer appealed the outcome of this case. The appeal is now with you.",
        ),
        _T("escalation.withdrawn.title", "Case #{id} was withdrawn"),
        _T("escalation.withdrawn.body", "The customer withdrew this case. No answer is needed."),
        _T("escalation.auto_escalated.title", "Case #{id} missed its deadline"),
        _T(
            "escalation.auto_escalated.body",
            "The case was not answered in time and has moved to the regional service manager.",
        ),
        _T("escalation.acknowledged.title", "Your case #{id} is being handled"),
        _T(
            "escalation.acknowledged.body",
            "A service manager has read your case and is working on it.",
        ),
        _T("escalation.message.staff.title", "New reply in your case #{id}"),
        _T("escalation.message.staff.body", "There is a new message for you in your case."),
        _T("escalation.message.customer.title", "New message in case #{id}"),
        _T("escalation.message.customer.body", "The customer has written in the case."),
        _T("escalation.resolved.title", "Your case #{id} has an outcome"),
        _T("escalation.resolved.body", "Your case has been decided. Open it to read the outcome."),
        _T("escalation.rejected.title", "Your request #{id} was not taken further"),
        _T(
            "escalation.rejected.body",
            "Our service team read your request and did not take it further. Open it to read why.",
        ),
        _T("escalation.held.title", "Request #{id} waits for review"),
        _T(
            "escalation.held.body",
            "A request is held for moderation before it reaches anyone.",
        ),
        _T("other.title", "Update in case #{id}"),
        _T("other.body", "There is an update in this case."),
    ]
)
KINDS = tuple(sorted({key.rsplit(".", 1)[0] for key in _ENGLISH}))


@dataclass(frozen=True)
class Message:
    """One notification as its recipient reads it."""

    title: str
    body: str
    link: str


def kind_of(topic: str, payload: dict[str, Any]) -> str:
    """The text a notification of ``topic`` takes (a message: by whom it was written)."""
    if topic == "escalation.message":
        return f"{topic}.{'staff' if payload.get('author') == 'staff' else 'customer'}"
    return topic if f"{topic}.title" in _ENGLISH else "other"


def link_of(topic: str, payload: dict[str, Any]) -> str:
    """The web-app path a notification leads to (API.md "Web app")."""
    if topic == "escalation.held":
        return "/app/ops/moderation"
    case_id = payload.get("escalation_id")
    return f"/app/cases/{case_id}" if case_id is not None else "/app/notifications"


def render(topic: str, payload: dict[str, Any], language: str) -> Message:
    """The title, body and link of a notification, in ``language`` (unknown: English)."""
    kind = kind_of(topic, payload)
    translations = i18n.translations("direkte.notifications", i18n.supported(language))
    values = {"id": payload.get("escalation_id", "")}
    title = translations.pgettext(f"{kind}.title", _ENGLISH[f"{kind}.title"])
    body = translations.pgettext(f"{kind}.body", _ENGLISH[f"{kind}.body"])
    return Message(title.format(**values), body.format(**values), link_of(topic, payload))
