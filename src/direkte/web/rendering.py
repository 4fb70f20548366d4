"""Rendering a page: the Jinja2 environment, the page's language and its formats.

Every page goes through ``render``: it picks the language (``language.choose``),
gives the template ``_``/``gettext``/``ngettext`` from that language's catalog, the
CSRF token, the user and the Babel filters, and remembers a ``?lang=`` switch.
"""

from __future__ import annotations

import functools
import gettext as gettext_module
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import (
    format_date,
    format_datetime,
    format_skeleton,
    format_time,
    get_day_names,
)
from babel.numbers import format_currency, format_decimal, format_percent
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup

from direkte import __version__, i18n
from direkte.kit.errors import request_id_of
from direkte.network.models import Role, User
from direkte.web import labels, language
from direkte.web.security import csrf_token, set_anonymous_cookie

TEMPLATES = Path(__file__).parent / "templates"
UTC_ZONE = "UTC"

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
    # The templates are part of the package: a restart loads new ones (no stat of each
    # template and import on every page).
    auto_reload=False,
)
# New-style gettext: ``{% trans %}`` and ``_()`` look ``gettext`` up in the page's
# context, where ``render`` puts the page's catalog (the environment is shared by
# every request and language).
env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]


def _babel(lang: str) -> Locale:
    """The page language's Babel locale, parsed once (``i18n.babel_locale``)."""
    return i18n.babel_locale(language.BABEL_LOCALES[lang])


def _locale(ctx: Context) -> Locale:
    return _babel(str(ctx.get("lang", "en")))


def _aware(value: datetime | str) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


# Formatting with Babel costs more than rendering the rest of a card (the inbox has
# 50): a value's text is kept for its next showing (the same cases are on each load of
# a manager's inbox). Keyed by the value, the zone, the language and the format, so a
# kept text is exactly what Babel would give again.
FORMATTED_KEPT = 8192


@pass_context
def datetime_filter(
    ctx: Context, value: datetime | str | None, zone: str = UTC_ZONE, fmt: str = "yMMMd"
) -> str:
    """A time in a time zone (the center's) and the page's locale, to the minute:
    ``{{ t|datetime(tz) }}``; ``fmt`` is ``short`` or a Babel date skeleton
    (``MMMMEEEEd``: "Wednesday 18 November"), joined with the time as the locale joins
    them."""
    if value is None:
        return ""
    return _datetime_text(value, zone, str(ctx.get("lang", "en")), fmt)


@functools.lru_cache(maxsize=FORMATTED_KEPT)
def _datetime_text(value: datetime | str, zone: str, lang: str, fmt: str) -> str:
    instant, tzinfo, locale = _aware(value), ZoneInfo(zone), _babel(lang)
    if fmt == "short":
        return format_datetime(instant, "short", tzinfo=tzinfo, locale=locale)
    day = format_skeleton(fmt, instant, tzinfo=tzinfo, locale=locale)
    clock = format_time(instant, "short", tzinfo=tzinfo, locale=locale)
    return str(locale.datetime_formats["medium"]).format(clock, day)


@pass_context
def time_filter(ctx: Context, value: datetime | str | None, zone: str = UTC_ZONE) -> str:
    if value is None:
        return ""
    return format_time(_aware(value), "short", tzinfo=ZoneInfo(zone), locale=_locale(ctx))


@pass_context
def date_filter(ctx: Context, value: date | str | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    shown = date.fromisoformat(value) if isinstance(value, str) else value
    return format_date(shown, fmt, locale=_locale(ctx))


def _amount(value: Any) -> tuple[Decimal, str] | None:
    """An amount and currency from ``MoneyOut``, its dict, or (Decimal, currency)."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return Decimal(str(value["amount"])), str(value["currency"])
    if isinstance(value, tuple):
        return Decimal(str(value[0])), str(value[1])
    return Decimal(str(value.amount)), str(value.currency)


@pass_context
def money_filter(ctx: Context, value: Any, signed: bool = False) -> str:
    """Money in the page's locale: ``{{ estimate.total|money }}``; ``signed`` shows a +."""
    found = _amount(value)
    if found is None:
        return ""
    amount, currency = found
    text = _money_text(amount, currency, str(ctx.get("lang", "en")))
    return f"+{text}" if signed and amount > 0 else text


@functools.lru_cache(maxsize=FORMATTED_KEPT)
def _money_text(amount: Decimal, currency: str, lang: str) -> str:
    return format_currency(amount, currency, locale=_babel(lang))


@pass_context
def percent_filter(ctx: Context, value: Any, signed: bool = False) -> str:
    """A percentage given in percent (``"12.5"`` is 12.5 %) in the page's locale."""
    if value is None:
        return ""
    try:
        number = Decimal(str(value)) / 100
    except InvalidOperation:
        return ""
    # The locale's own pattern, with the decimals the value has (12.5 %, 25 %).
    text = format_percent(number, locale=_locale(ctx), decimal_quantization=False)
    return f"+{text}" if signed and number > 0 else text


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@pass_context
def weekday_filter(ctx: Context, key: str) -> str:
    """A weekday's name in the page's locale from its key in business hours (``mon``)."""
    if key not in _WEEKDAYS:
        return key
    return str(get_day_names("wide", locale=_locale(ctx))[_WEEKDAYS.index(key)])


@pass_context
def number_filter(ctx: Context, value: Any) -> str:
    return "" if value is None else format_decimal(value, locale=_locale(ctx))


env.filters.update(
    datetime=datetime_filter,
    time=time_filter,
    date=date_filter,
    money=money_filter,
    percent=percent_filter,
    number=number_filter,
    weekday=weekday_filter,
)


def _gettext(catalog: gettext_module.NullTranslations) -> Callable[..., str]:
    @pass_context
    def gettext(ctx: Context, message: str, **variables: Any) -> str:
        text = catalog.gettext(message)
        if ctx.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables if variables else text

    return gettext


def _ngettext(catalog: gettext_module.NullTranslations) -> Callable[..., str]:
    @pass_context
    def ngettext(ctx: Context, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        text = catalog.ngettext(singular, plural, num)
        if ctx.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    return ngettext


def home_of(user: User) -> str:
    """Where a user starts: their visits, their inbox, or moderation (ops)."""
    if user.role == Role.ops_admin:
        return "/app/ops/moderation"
    if user.role == Role.customer:
        return "/app/visits"
    return "/app/inbox"


def page_context(request: Request, user: User | None) -> dict[str, Any]:
    """What every page's template gets besides its own data."""
    lang = language.choose(request, user)
    catalog = language.catalog(lang)
    gettext = _gettext(catalog)
    return {
        "request": request,
        "user": user,
        "lang": lang,
        "languages": language.NAMES,
        "user_zone": language.ZONES[lang],
        "gettext": gettext,
        "_": gettext,
        "ngettext": _ngettext(catalog),
        "labels": labels.for_language(lang),
        "csrf_token": csrf_token(request),
        "request_id": request_id_of(request),
        "version": __version__,
        "path": request.url.path,
        "home": home_of(user) if user is not None else "/app/login",
    }


def render(
    request: Request,
    template: str,
    data: Mapping[str, Any] | None = None,
    *,
    user: User | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render a page (or an htmx partial, whose name starts with ``_``) for the user."""
    context = {**page_context(request, user), **(data or {})}
    html = env.get_template(template).render(context)
    response = HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))
    switched = language.query_language(request)
    if switched is not None:
        response.set_cookie(
            language.LANG_COOKIE,
            switched,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    set_anonymous_cookie(request, response)
    # A page holds personal data and a CSRF token: never cached by the browser or a proxy.
    response.headers.setdefault("cache-control", "no-store")
    return response
