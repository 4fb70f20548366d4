"""Every word of the web app in every language: a string marked for translation in a
template or in the web code without a translation in a catalog fails here."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from direkte import i18n

WEB = Path(str(files("direkte.web")))
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}


def source_msgids() -> set[str]:
    """The msgids pybabel extracts from the web app now (as ``babel.cfg`` says)."""
    with (WEB / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(WEB), method_map, options_map, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_the_web_app_has_strings_to_translate() -> None:
    assert len(source_msgids()) > 50


@pytest.mark.parametrize("language", [lang for lang in i18n.LANGUAGES if lang != i18n.FALLBACK])
def test_every_msgid_is_translated(language: str) -> None:
    """English is the source text; every other catalog translates every msgid."""
    path = WEB / "locale" / language / "LC_MESSAGES" / "direkte.po"
    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    translated = {}
    for message in catalog:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        translated[key] = "fuzzy" not in message.flags and all(strings)
    missing = sorted(m for m in source_msgids() if not translated.get(m))
    assert not missing, f"{language}: no translation for {missing}"


def test_the_template_file_is_current() -> None:
    """messages.pot holds what the sources mark (re-extract with the babel.cfg command)."""
    with (WEB / "locale" / "messages.pot").open("rb") as pot:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(pot) if m.id}
    assert template == source_msgids()
