"""The languages direkte speaks and its gettext catalogs, shared by every domain that
writes to people (the guardrails' explanations, the notifications)."""

from __future__ import annotations

import gettext
from functools import cache
from importlib.resources import files
from io import BytesIO

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("en", "nb", "da", "sv", "de")
DOMAIN = "direkte"
FALLBACK = "en"


def supported(language: str) -> str:
    """The catalog language for a user's language tag (``no``/``nn`` read ``nb``;
    anything else unknown reads English)."""
    primary = language.replace("_", "-").split("-")[0].lower()
    primary = {"no": "nb", "nn": "nb"}.get(primary, primary)
    return primary if primary in LANGUAGES else FALLBACK


@cache
def babel_locale(name: str) -> Locale:
    """Babel's locale of ``name`` (``"nb_NO"``), parsed once: Babel's formatters parse a
    name again on every call, which costs as much as the formatting."""
    return Locale.parse(name)


@cache
def translations(package: str, locale: str) -> gettext.NullTranslations:
    """The package's catalog for ``locale`` (``<package>/locale/<locale>/LC_MESSAGES``),
    compiled in memory from its .po file (fuzzy entries skipped); English is the
    source text itself."""
    if locale == FALLBACK:
        return gettext.NullTranslations()
    source = files(package) / "locale" / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    with source.open("rb") as po:
        catalog = read_po(po, locale=locale, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)
