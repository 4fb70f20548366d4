"""Which language a page is shown in, and its gettext catalog.

``?lang=`` switches and is remembered in a cookie; otherwise the logged-in user's
language, then the browser's ``Accept-Language``, then English (API.md "Web app").
The catalogs are ``web/locale/<lang>/LC_MESSAGES/direkte.po``, compiled in memory
when first used (``direkte.i18n.translations``), so there is no build step.
"""

from __future__ import annotations

import gettext

from fastapi import Request

from direkte import i18n
from direkte.network.models import User

LANG_COOKIE = "direkte_lang"
# Babel's locale for each language: the formats of dates, times and money.
BABEL_LOCALES = {"en": "en_GB", "nb": "nb_NO", "da": "da_DK", "sv": "sv_SE", "de": "de_DE"}
# Times tied to no center (a notification's) are shown in the time zone of the page's
# language's country; a center's times always in the center's zone.
ZONES = {
    "en": "Europe/London",
    "nb": "Europe/Oslo",
    "da": "Europe/Copenhagen",
    "sv": "Europe/Stockholm",
    "de": "Europe/Berlin",
}
# Each language's name in itself, for the switch.
NAMES = {"en": "English", "nb": "Norsk", "da": "Dansk", "sv": "Svenska", "de": "Deutsch"}


def known(tag: str | None) -> str | None:
    """The supported language a tag names (``no``/``nn`` read ``nb``), or None."""
    if not tag or len(tag) > 35:
        return None
    primary = tag.strip().replace("_", "-").split("-")[0].lower()
    primary = {"no": "nb", "nn": "nb"}.get(primary, primary)
    return primary if primary in i18n.LANGUAGES else None


def from_accept_language(header: str) -> str | None:
    """The first supported language of an ``Accept-Language`` header, by its q-values."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        found = known(tag)
        if found and quality > 0:
            ranked.append((-quality, index, found))
    return min(ranked)[2] if ranked else None


def query_language(request: Request) -> str | None:
    """The language the query asks to switch to, if it names a supported one."""
    return known(request.query_params.get("lang"))


def choose(request: Request, user: User | None) -> str:
    """The page's language: the query, the remembered choice, the user's, the browser's."""
    return (
        query_language(request)
        or known(request.cookies.get(LANG_COOKIE))
        or (i18n.supported(user.language) if user is not None else None)
        or from_accept_language(request.headers.get("accept-language", ""))
        or i18n.FALLBACK
    )


def catalog(language: str) -> gettext.NullTranslations:
    """The web app's compiled catalog for a language (English: the source text)."""
    return i18n.translations("direkte.web", language)
