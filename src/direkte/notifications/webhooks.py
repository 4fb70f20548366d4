"""Webhook calls, signed per the Standard Webhooks spec, to public https targets only.

``webhook-id`` is the delivery's id (the same on every retry of one event to one
webhook), ``webhook-timestamp`` the try's Unix time, and ``webhook-signature``
``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` keyed with the base64-decoded
part of the secret after ``whsec_``. Any 2xx is delivered; redirects are not
followed; a call times out after ``TIMEOUT_SECONDS``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import socket
from datetime import datetime
from urllib.parse import urlsplit

import httpx

from direkte.notifications.sending import Claim, Result

TIMEOUT_SECONDS = 5.0
SECRET_PREFIX = "whsec_"


class UnsafeTarget(ValueError):
    """A URL a webhook may not call (not https, or not a public address)."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def webhook_id(delivery_id: int) -> str:
    return f"msg_direkte_{delivery_id}"


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """The ``webhook-signature`` header's value."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def check_url(url: str, *, allow_private: bool) -> None:
    """Raises UnsafeTarget unless ``url`` is https on a public address (with
    ``allow_private``: http, and loopback or private addresses, too), or its host
    does not resolve."""
    parts = urlsplit(url)
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes:
        raise UnsafeTarget("a webhook URL must be https")
    if not parts.hostname:
        raise UnsafeTarget("a webhook URL needs a host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError) as exc:
        raise UnsafeTarget(f"the host {parts.hostname!r} cannot be resolved") from exc
    if allow_private:
        return
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            raise UnsafeTarget(f"{parts.hostname!r} resolves to a non-public address")


def client(parallel: int) -> httpx.Client:
    """A client for a batch of calls (shared by its threads): no redirects, 5 s timeouts."""
    return httpx.Client(
        timeout=TIMEOUT_SECONDS,
        follow_redirects=False,
        limits=httpx.Limits(max_connections=parallel, max_keepalive_connections=parallel),
    )


def call(claim: Claim, *, http: httpx.Client, allow_private: bool, now: datetime) -> Result:
    """POST one claimed webhook delivery with ``http``; its result (never raises)."""
    if claim.url is None or claim.secret is None or claim.body is None:
        return Result(ok=False, error="the webhook was deleted")
    try:
        check_url(claim.url, allow_private=allow_private)
    except UnsafeTarget as exc:
        return Result(ok=False, error=str(exc))
    msg_id, timestamp = webhook_id(claim.id), int(now.timestamp())
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(claim.secret, msg_id, timestamp, claim.body),
        "user-agent": "direkte-webhooks",
    }
    try:
        response = http.post(claim.url, content=claim.body.encode(), headers=headers)
    except httpx.HTTPError as exc:
        return Result(ok=False, error=f"{type(exc).__name__}: {exc}")
    ok = 200 <= response.status_code < 300
    return Result(ok=ok, response_code=response.status_code, error=None if ok else "not 2xx")
