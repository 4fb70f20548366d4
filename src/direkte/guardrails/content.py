"""Content screening: the language of a text, and whether it threatens or abuses.

Threats (harm to staff, their families or the premises) and abuse (insults aimed
at a person) are held for moderation; anger, swearing at the situation, and
threats of lawyers, the press or bad reviews are legitimate and pass.

The text is normalized (case, diacritics, look-alike characters, leetspeak,
repeated letters, spaced-out letters) and matched on word boundaries against
the phrase lists in ``phrases/<lang>.txt``. Every list is screened whatever the
detected language, since customers mix languages.

Pure: the phrase files are packaged data read once, at first use, and their
compiled regexes are kept in an on-disk cache (``regex_cache``) that only saves
time; the language detector is built once, lazily.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from direkte.guardrails import content_model, prefilter, regex_cache
from direkte.guardrails import language as by_words
from direkte.guardrails.categories import CATEGORIES, THREAT_CATEGORIES, Category

if TYPE_CHECKING:
    from lingua import LanguageDetector

LANGUAGES = ("en", "nb", "da", "sv", "de")
# Bump when the lists or the matching change what is held: recorded with every
# request, so that a backtest knows which screen decided it.
SCREEN_VERSION = "6"
MODEL_LIST = "model"  # the "list" of a hold the classifier made
# The classifier speaks on texts of this many words or more: a shorter one carries no
# paraphrase the lists would miss, and one word's weights would decide alone (a
# customer's "Again?" was held as a threat, by the weight of "again").
MODEL_MIN_WORDS = 4

# Cyrillic and Greek letters that look like Latin ones (after casefolding).
_HOMOGLYPHS = {
    **dict(
        zip(
            "\u0430\u0432\u0435\u0451\u0437\u0456\u0457\u0458\u043a\u043c\u043d\u043e\u0440\u0441\u0442\u0443\u0445\u0455\u0501\u051b\u051d\u044c\u043f\u0433",
            "abee3iijkmhopctyxsdqwbnr",
            strict=True,
        )
    ),  # Cyrillic
    **dict(
        zip(
            "\u03b1\u03b2\u03b5\u03b7\u03b9\u03ba\u03bd\u03bf\u03c1\u03c4\u03c5\u03c7\u03c9\u03b3\u03bc\u03c2\u03c3",
            "abenikvoptuxwyuso",
            strict=True,
        )
    ),  # Greek
    **dict(zip("\u0131\u0142\u0111\u00f0\u0140", "ilddl", strict=True)),
    "\u00fe": "th",
}
# Nordic and German letters, folded the same way in the phrase lists and the text.
_FOLDS = {"å": "a", "ø": "o", "æ": "ae", "ä": "a", "ö": "o", "ü": "u", "ß": "ss", "œ": "oe"}
_CHAR_MAP = str.maketrans(_HOMOGLYPHS | _FOLDS)
# Digits and symbols standing in for letters, mapped only inside words.
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t",
                       "@": "a", "$": "s", "€": "e", "!": "i", "|": "i"})  # fmt: skip
_LEET_ALT = str.maketrans({"1": "l", "|": "l", "!": "l"})  # "k1ll" reads as kill, too

# A word with a stand-in for a letter, from its first character (linear: it starts
# only where a word starts).
_LEETISH = re.compile(r"(?<![a-z0-9@$€!|])[a-z0-9@$€!|]*[0-9@$€!|][a-z0-9@$€!|]*")
# A number with a unit or an ordinal ending: "3am", "4pm", "2nd", "10km", "500kr".
_NUMBER_WITH_UNIT = re.compile(r"[0-9]+(?:am|pm|st|nd|rd|th|km|kr|nok|dkk|sek|eur|kg|mm|cm|h|k|x)")
_CENSOR = re.compile(r"(?<=[a-z])[*#%_]+(?=[a-z])")  # f*ck, sh#t, i_diot
_CENSORED = re.compile(r"(?<=[a-z])[*#%_](?=[a-z])")  # one letter hidden: k*ll, st*b
_VOWELS = "aeiouy"
_APOSTROPHE = re.compile("['`\u2019\u00b4]")  # you're, I'll: one word
# Three or more single letters split by up to three non-letters: "k i l l", "k.i.l.l".
_SPACED = re.compile(r"(?<![a-z0-9])(?:ae|[a-z])(?:[^a-z0-9\n]{1,3}(?:ae|[a-z])(?![a-z0-9])){2,}")
# In a spaced-out run, a phrase of fewer letters than this counts only as the whole
# run: "fu" inside "arefund" is no insult (``_compact_matches``).
_COMPACT_MIN = 4
_REPEATS = re.compile(r"([a-z])\1+")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_CLAUSE = re.compile(r"[.,;:!?]+")  # kept as "." so that phrases do not span clauses
_SPACES = re.compile(r"[^a-z0-9.]+")


@dataclass(frozen=True, slots=True)
class _Normalized:
    text: str  # words of a-z0-9 split by single spaces
    alternates: tuple[str, ...]  # other readings of ambiguous look-alikes ("1" as l)
    spaced: tuple[str, ...]  # the spaced-out runs, joined, for matching without boundaries


def _fold(text: str) -> str:
    """Casefold, map look-alikes and Nordic letters, strip accents and invisible characters."""
    if text.isascii():  # nothing to map, decompose or strip: only the case
        return text.lower()
    text = unicodedata.normalize("NFKC", text).casefold().translate(_CHAR_MAP)
    decomposed = unicodedata.normalize("NFKD", text)
    if decomposed.isascii():
        return decomposed
    return "".join(c for c in decomposed if unicodedata.category(c) not in ("Mn", "Cf"))


def _deleet(text: str, table: dict[int, str]) -> str:
    def word(m: re.Match[str]) -> str:
        token = m.group()
        core = token.rstrip("!|")  # "idiot!!!", "3am!" end a sentence
        if not any("a" <= c <= "z" for c in token) or _NUMBER_WITH_UNIT.fullmatch(core):
            return token  # prices, dates, plates, "3am", "2nd", "10km": left alone
        return core.translate(table) + token[len(core) :]

    # Words of letters alone read as they are: only those with a stand-in are looked at.
    return _LEETISH.sub(word, text)


def _finish(text: str, *, join_spaced: bool = True) -> str:
    text = _APOSTROPHE.sub("", _CENSOR.sub("", text))
    if join_spaced:
        text = _SPACED.sub(lambda m: _NON_WORD.sub("", m.group()), text)
    text = _CLAUSE.sub(" . ", _REPEATS.sub(r"\1", text))
    return _SPACES.sub(" ", text).strip(" .")


def _normalize(text: str) -> _Normalized:
    folded = _fold(text)
    main = _deleet(folded, _LEET)
    spaced = tuple(
        _REPEATS.sub(r"\1", _NON_WORD.sub("", m.group()))
        for m in _SPACED.finditer(_APOSTROPHE.sub("", main))
    )
    alternates: list[str] = []
    if spaced:  # "u r a dickhead" is chat, not a spaced-out word
        alternates.append(_finish(main, join_spaced=False))
    second = _deleet(folded, _LEET_ALT)
    if second != folded:  # else the second reading is the text itself
        alternates.append(_finish(_deleet(second, _LEET)))
    if _CENSORED.search(main):  # "k*ll", "dr*pe": each vowel in turn for the hidden letter
        alternates += [_finish(_CENSORED.sub(vowel, main)) for vowel in _VOWELS]
    text = _finish(main)
    # Usually the "1" was a number or the "!" ended a sentence: the same text again.
    others = tuple(a for a in dict.fromkeys(alternates) if a != text)
    return _Normalized(text, others, spaced)


def normalize(text: str) -> str:
    """Return the matching form of a text: lowercase a-z0-9 words split by single spaces.

    Clause punctuation (. , ; : ! ?) is kept as a "." word.
    Case, accents, Nordic letters (å→a, ø→o, æ→ae, ä→a, ö→o, ü→u, ß→ss),
    Cyrillic and Greek look-alikes, leetspeak inside words (k1ll, @sshole),
    censoring marks (f*ck), repeated letters (diiiie→die, kill→kil) and
    spaced-out letters (k i l l, k.i.l.l) are all undone.
    """
    return _normalize(text).text


# --- phrase lists -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Phrase:
    language: str
    category: Category
    source: str  # the line as written in the list
    pattern: re.Pattern[str]  # on word boundaries in the normalized text
    compact: re.Pattern[str]  # without spaces, for spaced-out runs
    starts: frozenset[str] | None  # what a match starts with (1-2 characters); None: any


@dataclass(frozen=True, slots=True)
class _Lists:
    phrases: tuple[Phrase, ...]
    # Per first two characters of a word, one regex of the phrases that can start
    # there, of both categories (threats first), and one of the abuse phrases alone;
    # each phrase is a named group "p<index into phrases>". An alternation costs in
    # proportion to its branches, so the fewer per word start, the faster.
    by_start: dict[str, re.Pattern[str]]
    # The abuse phrases per start, compiled at first need (only where a threat
    # matched: rare, and compiling them all took half of the lists' build time).
    abuse_by_start: dict[str, tuple[int, ...]]
    # The phrases that can start with any word (key _ANYWHERE), one regex per start
    # of the word after it (what their second word can start with), and one of those
    # whose second word can start with anything (key _ANYWHERE): tried at every word
    # where nothing else matched, one alternation of all of them cost more than the
    # rest of the lists together.
    anywhere_by_next: dict[str, re.Pattern[str]]
    # Per category, per first character, one regex of the phrases that can start with
    # it, without spaces: for spaced-out runs ("k i l l"). One alternation of the
    # category tried at every letter of a run cost up to 10 ms on 40 letters.
    compact_by_start: dict[str, dict[str, re.Pattern[str]]]
    spelling: _Spelling


_GROUP = re.compile(r"\(([^()]*)\)")
_TOKENS = re.compile(r"\([^()]*\)|[^\s()]+")
_WORD_START = "(?<![a-z0-9])"
_WORD_STARTS = re.compile(r"(?<![a-z0-9])[a-z0-9.]")
_FIRST_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789."
_START_KEYS = tuple(a + b for a in _FIRST_CHARS for b in _FIRST_CHARS + " ")
_START = 2  # characters of a phrase's first word that choose its regexes
_ANYWHERE = ""  # the key of the phrases that can start with any word


def _word_pattern(word: str) -> str:
    """One word of a phrase: letters normalized like the text, ``*`` any letters, ``,`` a break."""
    if word == ",":
        return r"\."
    pieces = [_finish(_fold(piece)).replace(" ", "") for piece in word.split("*")]
    return "[a-z0-9]*".join(re.escape(p) for p in pieces)


def _start(word: str) -> str | None:
    """The first characters (up to _START) every match of ``word`` begins with; None: any."""
    if word == ",":
        return "."
    head = _finish(_fold(word.split("*")[0])).replace(" ", "")
    return head[:_START] if head else None


_GAP = "(?:[a-z0-9]+ ){0,3}"  # ``~``: up to three words, within the clause
_NUMBER = "[0-9]+(?: [0-9]+){0,4}"  # ``<num>``: a number, maybe in groups (a phone number)


def _token_pattern(token: str) -> tuple[str, bool, set[str] | None]:
    """A word, ``(alt|alt)`` group, ``~`` gap or ``<num>``: its regex, whether optional,
    what a match starts with.

    An empty alternative makes the group optional; a gap is optional.
    """
    if token == "~":
        return _GAP, True, None
    if token == "<num>":
        return _NUMBER, False, set("0123456789")
    group = _GROUP.fullmatch(token)
    if not group:
        start = _start(token)
        return _word_pattern(token), False, None if start is None else {start}
    alternatives = [alt.split() for alt in group.group(1).split("|")]
    words = [" ".join(_word_pattern(w) for w in alt) for alt in alternatives if alt]
    starts = [_start(alt[0]) for alt in alternatives if alt]
    found = None if None in starts else {c for c in starts if c}
    return "(?:" + "|".join(words) + ")", len(words) < len(alternatives), found


def compile_phrase(source: str) -> tuple[str, str, frozenset[str] | None]:
    """Compile a phrase line: a regex on the normalized text, one for spaced-out runs,
    and the first characters (1 or 2) a match can start with (None: any)."""
    spaced, compact = [], []
    first: set[str] | None = set()
    required = False
    for token in _TOKENS.findall(source.replace(",", " , ")):
        pattern, optional, token_first = _token_pattern(token)
        if not required:
            first = None if first is None or token_first is None else first | token_first
        required = required or not optional
        if pattern == _GAP:  # a gap carries its own spaces, and none in a spaced-out run
            spaced.append(_GAP)
            continue
        spaced.append(f"(?:{pattern} )" + ("?" if optional else ""))
        compact.append(f"(?:{pattern.replace(' ', '')})" + ("?" if optional else ""))
    if not required:
        raise ValueError(f"phrase matches nothing required: {source!r}")
    starts = None if first is None else frozenset(first)
    return _WORD_START + "".join(spaced), "".join(compact), starts


def _lines(language: str, text: str) -> list[tuple[Category, str]]:
    """The phrase lines of one list with their section; ``#`` starts a comment."""
    lines: list[tuple[Category, str]] = []
    category: Category | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            name = line[1:-1].strip()
            if name not in CATEGORIES:
                raise ValueError(f"{language}.txt:{number}: unknown section {name!r}")
            category = next(c for c in CATEGORIES if c == name)
            continue
        if category is None:
            raise ValueError(f"{language}.txt:{number}: phrase before any section")
        lines.append((category, line))
    return lines


def parse_list(language: str, text: str) -> list[Phrase]:
    """Read one phrase list: a section per category (``[threat]``, ``[abuse]``, ...),
    ``#`` comments."""
    phrases: list[Phrase] = []
    for category, line in _lines(language, text):
        spaced, compact, starts = compile_phrase(line)
        phrases.append(
            Phrase(language, category, line, re.compile(spaced), re.compile(compact), starts)
        )
    return phrases


# The lists as plain data, which the regex cache stores beside the compiled code:
# each phrase (language, category, line, regex, compact regex, starts), and per start
# key the phrases that can start there (both categories, threats first; abuse alone).
_PhraseSource = tuple[str, Category, str, str, str, frozenset[str] | None]
# The words of the lists for spelling repairs: each word, each word with one letter
# left out (to the word), and the stems of ``word*`` prefixes.
_Spelling = tuple[frozenset[str], dict[str, str], frozenset[str]]
_Plan = tuple[
    tuple[_PhraseSource, ...],
    dict[str, tuple[int, ...]],
    dict[str, tuple[int, ...]],
    dict[str, tuple[int, ...]],
    dict[str, dict[str, tuple[int, ...]]],
    _Spelling,
]
_MIN_REPAIR = 4  # shorter words are too alike to repair ("hat", "has", "had")
_MIN_STEM = 5  # a ``word*`` stem mends longer words ("lekelpassen": "lekeplass*")
_REPAIRED_WORDS = 3  # a mended word counts with the context of a longer phrase only


def _spelling(lines: Sequence[str]) -> _Spelling:
    """The literal words of the phrase lines (a ``word*`` prefix counts as its stem),
    normalized, and the index of each word of at least _MIN_REPAIR letters with one
    letter deleted."""
    words: set[str] = set()
    stems: set[str] = set()
    for line in lines:
        for raw in re.split(r"[\s()|,]+", line):
            stem = raw[:-1] if raw.endswith("*") and raw.count("*") == 1 else raw
            if not stem or "*" in stem or stem in ("~", "<num>"):
                continue
            found = _finish(_fold(stem)).split()
            words.update(found)
            if stem is not raw and len(found) == 1 and len(found[0]) >= _MIN_STEM:
                stems.add(found[0])
    deletes: dict[str, str] = {}
    for word in sorted(words):
        if len(word) >= _MIN_REPAIR and word.isalpha():
            for i in range(1, len(word) - 1):  # inside the word: see _repair
                deletes.setdefault(word[:i] + word[i + 1 :], word)
    return frozenset(words), deletes, frozenset(stems)


def _plan(texts: dict[str, str]) -> _Plan:
    """Expand every list into regex sources and choose the phrases per start key."""
    phrases = tuple(
        (language, category, line, *compile_phrase(line))
        for language in LANGUAGES
        for category, line in _lines(language, texts[language])
    )
    by_start: dict[str, tuple[int, ...]] = {}
    abuse_by_start: dict[str, tuple[int, ...]] = {}
    # Phrases that can start with any word ("(*en|du) er ...") are one regex of their
    # own (key _ANYWHERE), tried where no other phrase matched: in every key's
    # alternation they made the cached code many times larger and slower to load.
    anywhere = [i for i, (*_, starts) in enumerate(phrases) if starts is None]
    if anywhere:
        by_start[_ANYWHERE] = tuple(i for c in CATEGORIES for i in anywhere if phrases[i][1] == c)
    anywhere_by_next = _by_next_word(phrases, by_start.get(_ANYWHERE, ()))
    for key in _START_KEYS:
        can = [
            i
            for i, (*_, starts) in enumerate(phrases)
            if starts is not None and any(key.startswith(start) for start in starts)
        ]
        both = tuple(i for c in CATEGORIES for i in can if phrases[i][1] == c)
        abuse = tuple(i for i in can if phrases[i][1] == "abuse")
        if both:
            by_start[key] = both
        if abuse:
            abuse_by_start[key] = abuse
    spelling = _spelling([p[2] for p in phrases])
    compact_by_start: dict[str, dict[str, tuple[int, ...]]] = {
        category: _compact_by_start(phrases, category) for category in CATEGORIES
    }
    return phrases, by_start, abuse_by_start, anywhere_by_next, compact_by_start, spelling


def _compact_by_start(
    phrases: Sequence[_PhraseSource], category: Category
) -> dict[str, tuple[int, ...]]:
    """The ``category`` phrases that can match a spaced-out run at a position, per the
    run's character there, in the lists' order; under _ANYWHERE those that can start
    with any word (in every key's set they would make the cached code larger)."""
    chosen: dict[str, list[int]] = {key: [] for key in (_ANYWHERE, *_FIRST_CHARS)}
    for index, (_, of, *_, starts) in enumerate(phrases):
        if of == category:
            for key in [_ANYWHERE] if starts is None else {start[0] for start in starts}:
                chosen[key].append(index)
    return {key: tuple(indexes) for key, indexes in chosen.items() if indexes}


def _next_word_starts(line: str) -> frozenset[str] | None:
    """What the word after a phrase's first word can start with, for a phrase whose
    first token is one word (or a group of one-word alternatives) that is not
    optional: then a match takes exactly that word and its space, and what follows
    begins at the next word. None: the next word can be anything (or the first token
    is not of that kind)."""
    tokens = _TOKENS.findall(line.replace(",", " , "))
    first = tokens[0]
    group = _GROUP.fullmatch(first)
    alternatives = group.group(1).split("|") if group else [first]
    if first in ("~", "<num>") or any(len(alt.split()) != 1 for alt in alternatives):
        return None  # a gap, a number, an optional group or several words
    try:
        return compile_phrase(" ".join(tokens[1:]))[2]
    except ValueError:  # nothing required after the first word
        return None


def _by_next_word(
    phrases: Sequence[_PhraseSource], anywhere: tuple[int, ...]
) -> dict[str, tuple[int, ...]]:
    """The phrases of ``anywhere`` per start key of the word after the first (in
    ``anywhere``'s order), and under _ANYWHERE those that can be followed by any word."""
    following = {i: _next_word_starts(phrases[i][2]) for i in anywhere}

    def can_follow(i: int, key: str) -> bool:
        starts = following[i]
        return starts is None or any(key and key.startswith(s) for s in starts)

    by_next: dict[str, tuple[int, ...]] = {}
    for key in (_ANYWHERE, *_START_KEYS):
        chosen = tuple(i for i in anywhere if can_follow(i, key))
        if chosen:
            by_next[key] = chosen
    return by_next


def _regex_sources(plan: _Plan) -> list[str]:
    """Every regex the lists compile up front, in the order ``_assemble`` takes them:
    each phrase's two, then one per start-key set."""
    phrases, by_start, _, anywhere_by_next, compact_by_start, _ = plan
    spaced = [p[3] for p in phrases]
    sources = [regex for p in phrases for regex in (p[3], p[4])]
    chosen_sets = dict.fromkeys([*by_start.values(), *anywhere_by_next.values()])
    sources += [_alternation_source(spaced, chosen) for chosen in chosen_sets]
    compact = [p[4] for p in phrases]
    sources += [_alternation_source(compact, chosen) for chosen in _compact_sets(compact_by_start)]
    return sources


def _compact_sets(
    compact_by_start: dict[str, dict[str, tuple[int, ...]]],
) -> dict[tuple[int, ...], None]:
    """The distinct sets of phrases of ``compact_by_start``, in a fixed order."""
    return dict.fromkeys(
        chosen for per_key in compact_by_start.values() for chosen in per_key.values()
    )


def _assemble(plan: _Plan, patterns: list[re.Pattern[str]]) -> _Lists:
    """The lists from their plan and its compiled regexes (``_regex_sources`` order)."""
    sources, by_start_sets, abuse_by_start, by_next_sets, compact_sets, spelling = plan
    compiled = iter(patterns)
    phrases: list[Phrase] = []
    for language, category, line, _, _, starts in sources:
        pattern = next(compiled)
        phrases.append(Phrase(language, category, line, pattern, next(compiled), starts))
    for chosen in dict.fromkeys([*by_start_sets.values(), *by_next_sets.values()]):
        _ALTERNATIONS[chosen] = next(compiled)
    by_start = {key: _ALTERNATIONS[chosen] for key, chosen in by_start_sets.items()}
    by_next = {key: _ALTERNATIONS[chosen] for key, chosen in by_next_sets.items()}
    compact_alternations = {chosen: next(compiled) for chosen in _compact_sets(compact_sets)}
    compact = {
        category: {key: compact_alternations[chosen] for key, chosen in per_key.items()}
        for category, per_key in compact_sets.items()
    }
    return _Lists(tuple(phrases), by_start, abuse_by_start, by_next, compact, spelling)


@cache
def _lists() -> _Lists:
    """The compiled lists, from the on-disk cache when it matches the phrase files and
    this code (``regex_cache``: about 0.05 s instead of about 1.3 s per process)."""
    folder = files("direkte.guardrails") / "phrases"
    texts = {language: (folder / f"{language}.txt").read_text("utf-8") for language in LANGUAGES}
    try:
        builder = Path(__file__).read_bytes() + Path(regex_cache.__file__).read_bytes()
    except OSError:  # not a plain file (a zip import): build every time
        plan = _plan(texts)
        return _assemble(plan, [re.compile(regex) for regex in _regex_sources(plan)])
    key = regex_cache.fingerprint(builder, *(texts[language].encode() for language in LANGUAGES))
    plan, patterns = regex_cache.compile_cached(
        "phrases", key, lambda: _plan(texts), _regex_sources
    )
    return _assemble(plan, patterns)


_ALTERNATIONS: dict[tuple[int, ...], re.Pattern[str]] = {}


class _Prefilters:
    """The lists' prefilter (``prefilter``) once there is one in this process: read
    from its cache file at the first screen, or built in the background by
    ``build_prefilter``; until then the lists are read without it."""

    current: prefilter.Prefilter | None = None
    read = False
    lock = threading.Lock()
    building: threading.Thread | None = None


def _prefilter() -> prefilter.Prefilter | None:
    if not _Prefilters.read:
        with _Prefilters.lock:
            if not _Prefilters.read:
                _Prefilters.current = prefilter.cached(_phrase_regexes())
                _Prefilters.read = True
    return _Prefilters.current


def _phrase_regexes() -> list[str]:
    return [phrase.pattern.pattern for phrase in _lists().phrases]


def build_prefilter() -> threading.Thread | None:
    """Where no prefilter could be read from its cache, compile it in a background
    thread (seconds, without the GIL) and use it from then on; the thread (the one
    already building, if any), or None when there is nothing to build. For serving
    processes (``warm_up``), and for an image's build, which joins the thread."""
    if _prefilter() is not None or not prefilter.AVAILABLE:
        return None
    with _Prefilters.lock:
        if _Prefilters.building is None:

            def run() -> None:
                built = prefilter.build(_phrase_regexes())
                if built is not None:
                    _Prefilters.current = built

            _Prefilters.building = threading.Thread(
                target=run, name="direkte-prefilter", daemon=True
            )
            _Prefilters.building.start()
        return _Prefilters.building


def _alternation_source(regexes: Sequence[str], chosen: tuple[int, ...]) -> str:
    """One regex of the ``chosen`` phrases' regexes (each phrase's own, or its compact
    one for spaced-out runs), each a named group ``p<index>``."""
    return "|".join(f"(?P<p{i}>{regexes[i].removeprefix(_WORD_START)})" for i in chosen)


def _alternation(phrases: tuple[Phrase, ...], chosen: tuple[int, ...]) -> re.Pattern[str]:
    """One regex of the ``chosen`` phrases (indexes into the one list of the process),
    each a named group ``p<index>``; compiled once per set."""
    found = _ALTERNATIONS.get(chosen)
    if found is None:
        spaced = [p.pattern.pattern for p in phrases]
        found = _ALTERNATIONS[chosen] = re.compile(_alternation_source(spaced, chosen))
    return found


def _compact_matches(
    by_start: dict[str, re.Pattern[str]], run: str, phrases: Sequence[Phrase], category: str
) -> list[tuple[int, str]]:
    """The phrases of ``category`` found in a spaced-out run (each as its index into
    ``phrases`` and the letters it matched): leftmost first, the first phrase in the
    lists' order at a position, then on after the match, each position trying only
    the phrases that can start with its character (``_Lists.compact_by_start``). A
    match of fewer than _COMPACT_MIN letters counts only as the whole run ("fu" in
    "arefund" is no insult); where the first phrase matched that short, the others
    are tried one by one for one that matches long enough ("fuckdeg")."""
    anywhere = by_start.get(_ANYWHERE)
    found: list[tuple[int, str]] = []
    at = 0
    while at < len(run):
        regex = by_start.get(run[at])
        match = regex.match(run, at) if regex else None
        other = anywhere.match(run, at) if anywhere else None
        if other is not None and (match is None or _index(other) < _index(match)):
            match = other  # of the two, the phrase first in the lists' order
        if match is None:
            at += 1
            continue
        index, end = _index(match), match.end()
        if end - at < _COMPACT_MIN and match.group() != run:
            index, end = _long_enough(phrases, category, run, at)
            if index < 0:
                at += 1
                continue
        found.append((index, run[at:end]))
        at = max(end, at + 1)
    return found


def _long_enough(phrases: Sequence[Phrase], category: str, run: str, at: int) -> tuple[int, int]:
    """The first phrase of ``category`` (its index, and where its match ends) that
    matches ``run`` at ``at`` with at least _COMPACT_MIN letters or as the whole run;
    (-1, at) if none. Tried only where a short phrase matched first: rare."""
    for index, phrase in enumerate(phrases):
        if phrase.category != category:
            continue
        match = phrase.compact.match(run, at)
        if match and match.end() - at < _COMPACT_MIN:  # "fya" of "fyall": to the run's end
            match = phrase.compact.fullmatch(run, at)
        if match and (match.end() - at >= _COMPACT_MIN or match.group() == run):
            return index, match.end()
    return -1, at


def _spelled_out(match: re.Match[str]) -> bool:
    """Whether a match is made of single letters only and lies inside a longer run of
    them: one spelled-out word read letter by letter by the chat reading ("f u" in
    "a r e f u n d"), not chat ("u r a dickhead", "f u")."""
    words = match.group().split()
    if any(len(word) > 1 for word in words):
        return False
    before = match.string[: match.start()].split()[-1:]
    after = match.string[match.end() :].split()[:1]
    return any(len(word) == 1 and word != "." for word in before + after)


def _index(match: re.Match[str]) -> int:
    """The phrase (index into ``_Lists.phrases``) of a match of an alternation."""
    return int(str(match.lastgroup)[1:])


@lru_cache(maxsize=1 << 16)
def _mend(word: str) -> str | None:
    """The list word a word is a typo of (see ``_repair``), or None. Words repeat from
    text to text, so each is worked out once per process (the lists do not change in
    one)."""
    vocabulary, deletes, stems = _lists().spelling

    def known(candidate: str) -> bool:
        if candidate in vocabulary:
            return True
        if len(candidate) <= _MIN_STEM:
            return False
        return any(candidate[:n] in stems for n in range(_MIN_STEM, len(candidate)))

    if known(word):
        return None
    found = deletes.get(word)
    if found is None:
        for i in range(1, len(word) - 1):
            shorter = _REPEATS.sub(r"\1", word[:i] + word[i + 1 :])
            if len(shorter) >= _MIN_REPAIR and known(shorter):
                found = shorter
                break
    if found is None:
        for i in range(1, len(word) - 1):
            swapped = _REPEATS.sub(r"\1", word[:i] + word[i + 1] + word[i] + word[i + 2 :])
            if known(swapped):
                found = swapped
                break
    return found


def _repair(text: str) -> tuple[str, int] | None:
    """The text with its typos of list words mended, and where its last mended word
    starts; None if it has none.

    A word of at least _MIN_REPAIR letters that no list has is read as the list word
    it becomes by one letter more ("adres"), one letter less ("menensker") or two
    neighbours swapped ("clal", "viklen"), all inside the word: the first letter is
    rarely mistyped ("talk" is not "stalk") and the last one is often an ending
    ("leck" is not "leckt"). A wrong letter is not mended: "bill" is one letter from
    "kill". Only phrases of at least _REPAIRED_WORDS words count on the mended text.
    """
    words = text.split(" ")
    last = -1
    for at, word in enumerate(words):
        if len(word) < _MIN_REPAIR or not word.isalpha():
            continue
        found = _mend(word)
        if found is not None:
            words[at] = found
            last = at
    if last < 0:
        return None
    return " ".join(words), sum(len(word) + 1 for word in words[:last])


def _anywhere_at(by_next: dict[str, re.Pattern[str]], text: str, at: int) -> re.Pattern[str] | None:
    """The regex of the phrases that start with any word (``_Lists.anywhere_by_next``)
    to try at the word starting at ``at``: chosen by the word after it."""
    after = text.find(" ", at) + 1
    found = by_next.get(text[after : after + _START] if after else _ANYWHERE)
    return found or by_next.get(_ANYWHERE)


def _hits(normalized: _Normalized) -> list[tuple[Phrase, str]]:
    """The phrases found, each with the normalized text it matched."""
    lists = _lists()
    phrases = lists.phrases
    readings = [normalized.text, *normalized.alternates]
    # The mended reading is read up to its last mended word only: from there on it is
    # the text itself, whose matches the first reading has found already.
    repair = _repair(normalized.text)
    mended_until = -1
    if repair is not None and repair[0] not in readings:
        readings.append(repair[0])
        mended_until = len(" . ") + repair[1]
    # Padded with clause breaks, so that "," in a phrase also anchors at either end.
    texts = [f" . {t} . " for t in readings]
    found: dict[Category, list[re.Match[str]]] = {c: [] for c in CATEGORIES}
    by_start, abuse_by_start = lists.by_start, lists.abuse_by_start
    by_next = lists.anywhere_by_next
    fast = _prefilter()
    for number, text in enumerate(texts):
        if fast is not None and not fast.may_match(text):
            continue  # no phrase can match this reading anywhere
        mended = mended_until >= 0 and number == len(texts) - 1
        for start in _WORD_STARTS.finditer(text):
            at = start.start()
            if mended and at > mended_until:
                break
            key = text[at : at + _START]
            regex = by_start.get(key)
            match = regex.match(text, at) if regex else None
            if match is None and by_next:  # phrases that start with any word
                regex = _anywhere_at(by_next, text, at)
                match = regex.match(text, at) if regex else None
            if match is None:  # nothing starts here
                continue
            if mended and match.group().count(" ") < _REPAIRED_WORDS:
                continue  # on the mended reading, a phrase of one or two words
            category = phrases[_index(match)].category
            found[category].append(match)
            if category != "abuse":  # the others are tried first: an abuse may start here too
                abuse = abuse_by_start.get(key)
                also = _alternation(phrases, abuse).match(text, at) if abuse else None
                if also:
                    found["abuse"].append(also)
    hits: list[tuple[Phrase, str]] = []
    for category in CATEGORIES:
        hits += [(phrases[_index(m)], m.group().strip()) for m in found[category]
                 if not _spelled_out(m)]  # fmt: skip
        compact = lists.compact_by_start[category]
        hits += [
            (phrases[index], letters)
            for run in normalized.spaced
            for index, letters in _compact_matches(compact, run, phrases, category)
        ]
    return hits


# --- language ---------------------------------------------------------------

_MIN_LETTERS = 12  # below this, the guess is noise
# From this length on, lingua's low-accuracy mode (trigrams only) is about as right as
# the high-accuracy one at a third of the cost or less (which in high accuracy grows
# with the text). On the plain texts of the moderation set (2026-12-05): 90-119
# characters, 0.996 against 1.000 right (1 of 268), 0.10 against 0.29 ms; 120 and
# more, 0.988 either way; 60-89, 0.968 against 0.990, hence not lower. The language
# is recorded with the decision for ops, and since run 9 (docs/guardrails.md) it
# picks the classifier's threshold for a text whose probability lies between the
# languages' thresholds: a wrong guess there applies another language's threshold.
_LOW_ACCURACY_FROM = 90
_DETECT_CHARS = 2000  # a long text's language shows in its first page


@cache
def _detector(low_accuracy: bool) -> LanguageDetector:
    from lingua import Language, LanguageDetectorBuilder

    builder = LanguageDetectorBuilder.from_languages(
        Language.ENGLISH,
        Language.BOKMAL,
        Language.NYNORSK,
        Language.DANISH,
        Language.SWEDISH,
        Language.GERMAN,
    )
    return (builder.with_low_accuracy_mode() if low_accuracy else builder).build()


def _has_letters(text: str, wanted: int) -> bool:
    """Whether ``text`` has at least ``wanted`` letters (read only as far as needed)."""
    for char in text:
        if char.isalpha():
            wanted -= 1
            if not wanted:
                return True
    return wanted <= 0


def detect_language(text: str) -> str | None:
    """Return the text's language as "en", "nb", "da", "sv" or "de"; None if too short to
    tell. Its words decide (``language.py``); where they do not, lingua."""
    if not _has_letters(text, _MIN_LETTERS):
        return None
    text = text[:_DETECT_CHARS]
    return by_words.load().guess(text) or guess_by_lingua(text)


def guess_by_lingua(text: str) -> str | None:
    """lingua's guess of the text's language (its high-accuracy mode below
    ``_LOW_ACCURACY_FROM`` characters)."""
    found = _detector(len(text) >= _LOW_ACCURACY_FROM).detect_language_of(text[:_DETECT_CHARS])
    if found is None:
        return None
    code = found.iso_code_639_1.name.lower()
    return "nb" if code == "nn" else code


# --- verdict ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Evidence:
    """What decided a hold: the category, the list it came from, the words matched."""

    category: Category
    language: str  # the phrase list's language (every list is screened)
    words: str  # the normalized text the phrase matched

    def as_match(self) -> str:
        """The form recorded in the facts: ``<list>/<category>: <words>``."""
        return f"{self.language}/{self.category}: {self.words}"


def parse_match(match: str) -> Evidence | None:
    """A recorded ``<list>/<category>: <words>`` back into its parts; None if foreign."""
    head, sep, words = match.partition(": ")
    language, slash, category = head.partition("/")
    if not (sep and slash) or category not in CATEGORIES:
        return None
    return Evidence(next(c for c in CATEGORIES if c == category), language, words)


@dataclass(frozen=True, slots=True)
class Screened:
    """The phrases a text hit: the categories held, most severe first, and the evidence."""

    categories: tuple[Category, ...]
    evidence: tuple[Evidence, ...]

    @property
    def threat(self) -> bool:
        return any(c in THREAT_CATEGORIES for c in self.categories)

    @property
    def abuse(self) -> bool:
        return any(c not in THREAT_CATEGORIES for c in self.categories)

    @property
    def matches(self) -> tuple[str, ...]:
        return tuple(e.as_match() for e in self.evidence)


@dataclass(frozen=True, slots=True)
class ContentVerdict:
    language: str | None
    threat: bool
    abuse: bool
    matches: tuple[str, ...]  # "<list>/<category>: <normalized text hit>" per phrase
    holds: tuple[Category, ...] = ()  # the categories held, most severe first

    @property
    def held(self) -> bool:
        return self.threat or self.abuse

    @property
    def categories(self) -> tuple[Category, ...]:
        return self.holds

    def rule_result(self) -> dict[str, Any]:
        """The content rule's result, as keyword arguments for ``RuleResult``."""
        inputs = {
            "language": self.language,
            "matches": list(self.matches),
            "categories": list(self.categories),
        }
        note = "held: " + ", ".join(self.categories) if self.held else "no threat or abuse"
        return {"rule": "content", "passed": not self.held, "inputs": inputs, "note": note}


def _rules(normalized: _Normalized) -> Screened:
    hits = _hits(normalized)
    evidence = tuple(dict.fromkeys(Evidence(p.category, p.language, hit) for p, hit in hits))
    held = {e.category for e in evidence}
    return Screened(tuple(c for c in CATEGORIES if c in held), evidence)


def screen_rules(text: str) -> Screened:
    """Match a text against every phrase list alone: the categories held and the evidence."""
    return _rules(_normalize(text))


def screen_phrases(text: str, language: Callable[[], str | None] | None = None) -> Screened:
    """Screen a text: the phrase lists decide; where they hold nothing, the classifier
    (``content_model``) holds what it finds threatening or abusive enough, naming its
    category and the words that weighed most (list ``model``), on a text of at least
    ``MODEL_MIN_WORDS`` words; its threshold is the text's language's, asked of
    ``language`` (default: ``detect_language``) only where the languages' thresholds
    disagree."""
    normalized = _normalize(text)
    found = _rules(normalized)
    if found.categories or len(normalized.text.split()) < MODEL_MIN_WORDS:
        return found
    said = content_model.opinion(normalized.text)
    guess = language or (lambda: detect_language(text))
    if said is None or not content_model.load().holds(said.probability, guess):
        return found
    category = next(c for c in CATEGORIES if c == said.category)
    return Screened((category,), (Evidence(category, MODEL_LIST, " ".join(said.words)),))


def screen(text: str) -> ContentVerdict:
    """Detect the language and screen the text in all five lists."""
    language = detect_language(text)
    found = screen_phrases(text, lambda: language)
    return ContentVerdict(language, found.threat, found.abuse, found.matches, found.categories)
