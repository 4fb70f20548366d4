"""E-mail over SMTP: a notification as plain text and HTML, in the recipient's language.

The ``Message-ID`` is made from the event and the recipient, so a retry of one
notification carries the same id and a mail system can drop the repeat.
"""

from __future__ import annotations

import html
import smtplib
from collections.abc import Iterable
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr

from direkte.config import smtp_address
from direkte.notifications.messages import render
from direkte.notifications.sending import Claim, Result

TIMEOUT_SECONDS = 10


def message_id(claim: Claim, sender: str) -> str:
    """The same on every try of one event to one recipient."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "direkte.invalid"
    return f"<direkte.{claim.event_id}.{claim.user_id}@{domain}>"


def build_message(claim: Claim, *, sender: str, public_url: str) -> EmailMessage:
    """The e-mail of one claimed delivery (its recipient's language, a link to the app)."""
    text = render(claim.topic, claim.payload, claim.language)
    url = public_url.rstrip("/") + text.link
    mail = EmailMessage()
    mail["Subject"] = text.title
    mail["From"] = sender
    mail["To"] = formataddr((claim.name or "", claim.email or ""))
    mail["Date"] = format_datetime(claim.event_at)
    mail["Message-ID"] = message_id(claim, sender)
    mail.set_content(f"{text.body}\n\n{url}\n")
    mail.add_alternative(
        "<!doctype html><html><body>"
        f"<h1>{html.escape(text.title)}</h1><p>{html.escape(text.body)}</p>"
        f'<p><a href="{html.escape(url, quote=True)}">{html.escape(url)}</a></p>'
        "</body></html>",
        subtype="html",
    )
    return mail


def send_all(
    claims: Iterable[Claim], *, smtp_url: str, sender: str, public_url: str
) -> dict[int, Result]:
    """Send each claimed e-mail over one SMTP connection; each one's result by id.

    A recipient with no (active) address is settled as sent: there is nothing to send.
    """
    results: dict[int, Result] = {}
    pending = []
    for claim in claims:
        if not claim.email:
            results[claim.id] = Result(ok=True, error="no address")
        else:
            pending.append(claim)
    if not pending:
        return results
    host, port = smtp_address(smtp_url)
    try:
        with smtplib.SMTP(host, port, timeout=TIMEOUT_SECONDS) as smtp:
            for claim in pending:
                try:
                    smtp.send_message(build_message(claim, sender=sender, public_url=public_url))
                    results[claim.id] = Result(ok=True)
                except smtplib.SMTPResponseException as exc:
                    results[claim.id] = Result(
                        ok=False, response_code=exc.smtp_code, error=str(exc)
                    )
                except smtplib.SMTPRecipientsRefused as exc:
                    results[claim.id] = Result(ok=False, error=f"refused: {exc.recipients}")
    except (OSError, smtplib.SMTPException) as exc:
        for claim in pending:
            results.setdefault(claim.id, Result(ok=False, error=f"{type(exc).__name__}: {exc}"))
    return results
