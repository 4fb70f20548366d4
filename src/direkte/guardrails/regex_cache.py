"""Compiled regular expressions kept on disk between processes.

The phrase lists compile into a few hundred large alternations; ``re.compile``
parses and assembles them in pure Python, about a second per process. A compiled
``re.Pattern`` cannot be pickled (pickling stores the source and compiles again),
so this keeps what the compiler produces instead: the ``_sre`` code of each
pattern, with the data it was built from, in one ``marshal`` file per fingerprint.
A warm process hands the stored code to ``_sre.compile`` (C, which checks the code
before accepting it), the call ``re.compile`` itself ends with.

That call is CPython's internal API, so the fingerprint includes the interpreter's
exact version, and anything unexpected (another interpreter, a changed internal
signature, a damaged or foreign file, an unwritable folder) falls back to plain
``re.compile``: slower, never different. The file is a cache, not data: deleting
it costs one slow start.

The folder is ``$DIREKTE_CACHE_DIR``, else ``$XDG_CACHE_HOME/direkte``, else
``~/.cache/direkte``.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import marshal
import os
import re
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

Data = TypeVar("Data")
_FORMAT = 1  # of the file's layout; bump when it changes
# The code of one pattern: source, flags, code, groups, group index, index group.
_Entry = tuple[str, int, list[int], int, dict[str, int], tuple[str | None, ...]]


def cache_dir() -> Path:
    """The folder the cache files live in (not created here)."""
    configured = os.environ.get("DIREKTE_CACHE_DIR")
    if configured:
        return Path(configured)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "direkte"


def fingerprint(*parts: bytes) -> str:
    """A digest of ``parts`` (the inputs and the code building from them) and of
    this interpreter, whose compiled code is what is stored."""
    digest = hashlib.sha256()
    interpreter = f"{_FORMAT}|{sys.implementation.cache_tag}|{sys.version}|{_sre_magic()}"
    for part in (interpreter.encode(), *parts):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def compile_cached(
    name: str,
    key: str,
    build: Callable[[], Data],
    sources: Callable[[Data], Sequence[str]],
) -> tuple[Data, list[re.Pattern[str]]]:
    """Return ``build()`` and its regexes (``sources(data)``, compiled), from the cache
    file ``<name>-<key>`` when there is one; else build, compile and write it.

    ``build`` must return what ``marshal`` stores (tuples, lists, dicts, strings,
    numbers, frozensets, None). ``key`` (see ``fingerprint``) must change with
    everything that changes the result.
    """
    path = cache_dir() / f"{name}-{key[:32]}.marshal"
    loaded = _load(path, key)
    if loaded is not None:
        data, entries = loaded
        patterns = _from_entries(entries)
        if patterns is not None:
            return data, patterns
    data = build()
    built = _entries(sources(data))
    patterns = None if built is None else _from_entries(built)
    if built is None or patterns is None:  # not CPython as we know it: store nothing
        return data, [re.compile(s) for s in sources(data)]
    _store(path, name, key, data, built)
    return data, patterns


def _sre() -> Any:
    """CPython's regex engine (no type stubs), or None."""
    try:
        return importlib.import_module("_sre")
    except ImportError:
        return None


def _sre_magic() -> int:
    return int(getattr(_sre(), "MAGIC", 0))


def _entries(sources: Sequence[str]) -> list[_Entry] | None:
    """What ``re._compiler.compile`` hands to ``_sre.compile`` for each source."""
    try:
        from re import _compiler, _parser  # type: ignore[attr-defined]

        entries: list[_Entry] = []
        for source in sources:
            parsed = _parser.parse(source, 0)
            state = parsed.state
            index_group: list[str | None] = [None] * state.groups
            for group_name, index in state.groupdict.items():
                index_group[index] = group_name
            code = [int(op) for op in _compiler._code(parsed, 0)]
            groups = dict(state.groupdict)
            entries.append(
                (source, int(state.flags), code, state.groups - 1, groups, tuple(index_group))
            )
        return entries
    except Exception:  # internals of another version: fall back to re.compile
        logger.debug("regex cache: cannot read the compiler's code", exc_info=True)
        return None


def _from_entries(entries: list[_Entry]) -> list[re.Pattern[str]] | None:
    try:
        sre = _sre()
        return [sre.compile(*entry) for entry in entries]
    except Exception:  # a foreign or damaged entry: _sre refuses code it cannot run
        logger.debug("regex cache: stored code refused", exc_info=True)
        return None


def _load(path: Path, key: str) -> tuple[Any, list[_Entry]] | None:
    try:
        stored = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if not (isinstance(stored, tuple) and len(stored) == 3 and stored[0] == key):
        return None
    return stored[1], stored[2]


def _store(path: Path, name: str, key: str, data: Any, entries: list[_Entry]) -> None:
    """Write the file (processes starting together may race: last one wins, with the
    same content) and remove the files of earlier fingerprints."""
    try:
        blob = marshal.dumps((key, data, entries))
    except ValueError:  # not marshallable: stay uncached, as when the folder is not writable
        _not_written(path)
        return
    write_cache_file(path, f"{name}-*.marshal", blob)


def write_cache_file(path: Path, earlier: str, blob: bytes) -> None:
    """Write ``blob`` to ``path`` atomically and remove the other files matching the
    glob ``earlier`` (earlier fingerprints') beside it; an unwritable folder is logged
    and otherwise ignored: the file is a cache."""
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as file:
            tmp = Path(file.name)
            file.write(blob)
        os.replace(tmp, path)
        for old in path.parent.glob(earlier):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:  # read-only home, full disk: stay uncached
        _not_written(path)
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def _not_written(path: Path) -> None:
    logger.warning(
        "regex cache: cannot write %s (each new process builds it again;"
        " set DIREKTE_CACHE_DIR to a writable folder)",
        path,
    )
