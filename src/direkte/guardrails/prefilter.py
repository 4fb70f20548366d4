"""Which readings of a text can hold a phrase at all: one pass of Hyperscan.

``content._hits`` tries the lists' alternations at every word of every reading of a
text (the text, its look-alike readings, the mended one): about 0.1 ms warm and 0.4
ms in a server, where the request's other work has evicted the large compiled
alternations from the processor's caches, for the 98 % of legitimate texts that hold
no phrase. Hyperscan (Intel's regex engine, ``hyperscan`` on PyPI, which bundles it)
matches all 888 phrases' regexes together in one pass over the bytes: about 5 us a
text. Its database is compiled in prefilter mode (``HS_FLAG_PREFILTER``): what it
cannot run exactly, such as the lists' look-behind at a word's start, it widens, and
it never reports fewer matches than the regexes have. So a reading it passes over
holds no phrase, and a reading it flags is read by the lists' own regexes as before:
the hits are the same, only found sooner. ``tests/guardrails/test_prefilter.py``
checks that over every labelled text.

Compiling the database takes about 4.5 s (Hyperscan releases the GIL meanwhile), so it
is compiled once and kept on disk beside the phrase regexes' cache
(``regex_cache.cache_dir``), under a fingerprint of the regexes, Hyperscan's version
and this code; a process reads it in about 7 ms (the fingerprint included). Where
there is no such file, a serving process builds it in a background thread at start
(``content.warm_up``) and the lists are read without it until it is there; other
processes (commands, tests) read without it. Without Hyperscan (a platform with no
wheel) nothing changes but the speed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from direkte.guardrails import regex_cache

logger = logging.getLogger(__name__)

try:
    import hyperscan
except ImportError:  # pragma: no cover - installed wherever the package has a wheel
    hyperscan = None  # type: ignore[assignment]

AVAILABLE = hyperscan is not None
_NAME = "prefilter"


def _halt(*_: Any) -> bool:
    return True  # stop: one match is all a prefilter needs to know


class Prefilter:
    """A compiled database of the phrase regexes; ``may_match`` is safe in any thread
    (each thread scans with its own scratch space, as Hyperscan requires)."""

    def __init__(self, database: Any) -> None:
        self._database = database
        self._scratch = hyperscan.Scratch(database)
        self._local = threading.local()

    def may_match(self, text: str) -> bool:
        """False only where no phrase regex can match anywhere in ``text`` (a
        normalized reading: ASCII)."""
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = self._scratch.clone()
        try:
            self._database.scan(text.encode("ascii"), match_event_handler=_halt, scratch=scratch)
        except hyperscan.ScanTerminated:
            return True
        return False


def _path(sources: Sequence[str]) -> Path:
    key = regex_cache.fingerprint(
        _NAME.encode(),
        str(getattr(hyperscan, "__version__", "")).encode(),
        Path(__file__).read_bytes(),
        *(source.encode() for source in sources),
    )
    return regex_cache.cache_dir() / f"{_NAME}-{key[:32]}.hsdb"


def cached(sources: Sequence[str]) -> Prefilter | None:
    """The prefilter of these regexes from its cache file; None if there is none (or
    no Hyperscan, or a file this build of Hyperscan cannot read)."""
    if hyperscan is None:
        return None
    path = _path(sources)
    try:
        return Prefilter(hyperscan.loadb(path.read_bytes(), hyperscan.HS_MODE_BLOCK))
    except OSError:
        return None
    except hyperscan.error:  # another build's or a damaged file: built again later
        logger.warning("prefilter: cache file %s refused", path)
        return None


def build(sources: Sequence[str]) -> Prefilter | None:
    """Compile the prefilter of these regexes (seconds) and write its cache file;
    None without Hyperscan or if it refuses a regex (then the lists are read without it)."""
    if hyperscan is None:
        return None
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    flags = hyperscan.HS_FLAG_PREFILTER | hyperscan.HS_FLAG_SINGLEMATCH
    try:
        database.compile(
            expressions=[source.encode("ascii") for source in sources],
            ids=list(range(len(sources))),
            flags=[flags | hyperscan.HS_FLAG_ALLOWEMPTY] * len(sources),
        )
    except (hyperscan.error, UnicodeEncodeError):
        logger.warning("prefilter: Hyperscan refused the phrase regexes", exc_info=True)
        return None
    path = _path(sources)
    regex_cache.write_cache_file(path, f"{_NAME}-*.hsdb", hyperscan.dumpb(database))
    return Prefilter(database)
