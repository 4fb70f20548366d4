"""The content screen's second opinion: a small classifier for paraphrased threats.

The phrase lists decide first (``content``); this model catches threats and abuse
phrased in ways the lists do not know. It is a multinomial logistic regression on hashed
features of the normalized text (the same normalization the lists match on, so
leetspeak, censoring marks and spaced-out letters are already undone): each word, each
pair of neighbouring words, and the character 3- to 5-grams of each word with its
boundaries (they carry typos, inflections and the compounds of the Nordic languages and
German). Presence only, each feature of a text of n distinct features weighing
``n ** -Model.scale`` (1/sqrt(n), unit length, until run 17; n ** -0.25 since run 19,
so that one threatening sentence in a long complaint is diluted less by the rest). A
model file may also ask for pairs of words further apart within a clause
(``Model.skips``) or for a reading clause by clause (``Model.clauses``): candidates of
runs 16-18 that lost out of fold, kept so that such a file reads as it was trained.

A model file may also hold a small network over the same features (``Net``, run 21's
candidate, README.md beside the data): each feature a vector, a text the weighted sum
of its features' vectors, a hidden layer with ReLU and the softmax, so that features
weigh together and not each on its own; its class probabilities are mixed with the
linear model's by ``Net.share``. It is trained with PyTorch at development time
(``tests/data/moderation/train_net.py``) and scored here with numpy.

The weights are packaged data (``content_model.npz``), trained by
``tests/data/moderation/train_model.py`` from the moderation set, the hand-written
training files beside it and the two in-sample sets of ``tests/guardrails``
(docs/guardrails.md), with a hold threshold per language; nothing is downloaded or
built at start. A hold names its category and, as evidence, the words that weighed
most towards it (list ``model``).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib.resources import files
from typing import IO

import numpy as np
import numpy.typing as npt

BUCKETS = 1 << 20  # hashed feature space; only the features seen in training are stored
MODEL_FILE = "content_model.npz"
LEGITIMATE = "legitimate"
EVIDENCE_WORDS = 4  # words named in a hold's evidence
_EVIDENCE_LETTERS = 3  # "i", "in", "to" weigh, but say nothing to a moderator
_CHAR_GRAMS = (3, 4, 5)
_WORDS_CACHED = 1 << 16


def _word_features(word: str) -> list[str]:
    """The features of one word: itself and its character grams (with boundaries)."""
    padded = f"<{word}>"
    grams = [f"c {padded[i : i + n]}" for n in _CHAR_GRAMS for i in range(len(padded) - n + 1)]
    return [f"w {word}", *grams]


def bucket(name: str) -> int:
    """The hashed index of a feature name (stable across processes and platforms)."""
    return zlib.crc32(name.encode()) & (BUCKETS - 1)


@lru_cache(maxsize=1 << 16)
def _word_buckets(word: str) -> tuple[int, ...]:
    return tuple(bucket(name) for name in _word_features(word))


Owners = tuple[npt.NDArray[np.int64], npt.NDArray[np.intp], npt.NDArray[np.intp]]


def _further(words: list[str], at: int, skips: int) -> list[int]:
    """The positions 2 to ``skips + 1`` places after ``at`` within its clause: the
    words the word at ``at`` is paired with besides its neighbour (feature ``s``, one
    whatever the distance: "punch ... him" at two and three places share it). Called
    only when ``skips``: neighbouring pairs alone cost no more than before run 17."""
    found = []
    for other in range(at + 2, min(at + 2 + skips, len(words))):
        if words[other - 1] == "." or words[other] == ".":
            break
        found.append(other)
    return found


def owners(normalized: str, skips: int = 0) -> Owners:
    """The distinct buckets of a normalized text's features (``content.normalize``),
    sorted, each with the position (in ``normalized.split()``) of the word it first came
    from, or of the pair of words it first came from: (buckets, first word, second word
    of a pair or -1). A word's own features come before the pairs it starts; ``skips``
    as ``Model.skips``."""
    words = normalized.split()
    found: list[int] = []
    first: list[int] = []
    second: list[int] = []
    for at, word in enumerate(words):
        if word == ".":
            continue
        mine = _word_buckets(word)  # words repeat from text to text: cached
        found += mine
        first += [at] * len(mine)
        second += [-1] * len(mine)
        if at + 1 < len(words):  # a clause break is a neighbour, as before run 17
            found.append(bucket(f"b {word} {words[at + 1]}"))
            first.append(at)
            second.append(at + 1)
        for other in _further(words, at, skips) if skips else ():
            found.append(bucket(f"s {word} {words[other]}"))
            first.append(at)
            second.append(other)
    distinct, taken = np.unique(np.array(found, np.int64), return_index=True)
    return distinct, np.array(first, np.intp)[taken], np.array(second, np.intp)[taken]


def _words_and_pairs(
    normalized: str, skips: int = 0
) -> Iterator[tuple[str, int | None, Sequence[int]]]:
    """Each word of a normalized text with the bucket of the pair it starts with its
    neighbour (None at the end) and those of the pairs further apart (``owners``);
    clause breaks (".") are no words, but end a pair."""
    words = normalized.split()
    for at, word in enumerate(words):
        if word == ".":
            continue
        pair = bucket(f"b {word} {words[at + 1]}") if at + 1 < len(words) else None
        further = (
            [bucket(f"s {word} {words[o]}") for o in _further(words, at, skips)] if skips else ()
        )
        yield word, pair, further


def buckets(normalized: str, skips: int = 0) -> npt.NDArray[np.int64]:
    """The distinct buckets of a text's features, sorted: what the model reads (a
    feature counts once, whatever its repeats or hash collisions)."""
    return owners(normalized, skips)[0]


@dataclass(frozen=True, slots=True)
class Net:
    """A network over the model's features (run 21): ``index`` gives each of the
    model's rows its vector (the row of zeros: none), a text is the sum of its
    features' vectors, each weighing n ** -scale, then ``hidden`` (ReLU) and ``out``;
    its class probabilities weigh ``share`` against the linear model's ``1 - share``."""

    # per row of Model.rows: its row of ``vectors``; the last row of ``vectors`` is zeros,
    # the row of every feature without a vector (-1 in the file), so that a text's sum
    # needs no filter (adding zeros leaves a float sum as it is)
    index: npt.NDArray[np.intp]
    vectors: npt.NDArray[np.float32]  # features (and the row of zeros) x dim
    hidden_weights: npt.NDArray[np.float32]  # dim x hidden
    hidden_bias: npt.NDArray[np.float32]
    out_weights: npt.NDArray[np.float32]  # hidden x classes
    out_bias: npt.NDArray[np.float32]
    scale: float
    share: float

    def scores(self, summed: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """The class scores of texts (rows of ``summed``: their weighted vectors)."""
        hidden = np.maximum(summed @ self.hidden_weights + self.hidden_bias, 0)
        return hidden @ self.out_weights + self.out_bias  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class Model:
    classes: tuple[str, ...]  # LEGITIMATE first, then the categories of content
    rows: npt.NDArray[np.int64]  # sorted buckets that have weights
    weights: npt.NDArray[np.float32]  # len(rows) x len(classes)
    bias: npt.NDArray[np.float32]
    threshold: float  # hold when the probability of not legitimate reaches it
    training: str  # sha256 of the training texts and labels (train_model.py)
    # per language, a threshold of its own (train_model.py); ``threshold`` (the highest
    # of them) holds a text whose language is not one of these or is not known
    thresholds: dict[str, float] = field(default_factory=dict)
    # run 16's and run 18's candidate (lost out of fold both times; train_model.py now
    # writes False, and the reading is kept for a file that asks for it): a text of
    # several clauses is also read clause by clause, and its probability is the highest
    # of the whole text's and its clauses'
    clauses: bool = False
    # run 17's candidate (lost out of fold; train_model.py now writes 0, kept likewise):
    # besides neighbouring words, the pairs of words two to ``skips + 1`` places apart
    # within a clause are features ("taste my fist"); 0: neighbours only
    skips: int = 0
    # since run 19 (train_model.py chooses it by out-of-fold figures): each feature of a
    # text of n distinct features weighs n ** -scale (``feature_weight``; 0.5, unit
    # length, until run 17 and for a file without the field)
    scale: float = 0.5
    # run 21's candidate (README.md beside the data): a network mixed with the linear
    # model; None: the linear model alone
    net: Net | None = None
    # word -> its distinct buckets and their rows (words repeat from text to text; a
    # dict of every bucket's row would cost ~50 ms at start for ~200,000 of them)
    words: dict[str, tuple[frozenset[int], frozenset[int]]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "words", {})

    def locate(
        self, buckets: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
        """Each bucket's row (in ``rows`` and ``weights``; 0 where it has none) and
        whether the model has it."""
        at = np.searchsorted(self.rows, buckets)
        at[at == len(self.rows)] = 0
        return at, self.rows[at] == buckets

    def rows_of(self, buckets: Iterable[int]) -> list[int]:
        """The rows of those of ``buckets`` the model has."""
        at, known = self.locate(np.fromiter(buckets, np.int64))
        return at[known].tolist()  # type: ignore[no-any-return]

    def holds(self, probability: float, language: Callable[[], str | None]) -> bool:
        """Whether a text of this probability is held: at its language's threshold,
        where the thresholds disagree (``language`` is asked only then: the guess costs
        time)."""
        if probability >= self.threshold:
            return True
        if probability < self.lowest:
            return False
        return probability >= self.threshold_for(language())

    @property
    def lowest(self) -> float:
        """The lowest threshold of any language: below it nothing is held."""
        return min(self.thresholds.values(), default=self.threshold)

    def threshold_for(self, language: str | None) -> float:
        """The threshold a text of ``language`` is held at (None: not known)."""
        return self.thresholds.get(language or "", self.threshold)

    def features_of(self, normalized: str) -> tuple[int, npt.NDArray[np.intp]]:
        """The number of distinct buckets of a text's features (``buckets``) and the
        rows of those the model has weights for, in order."""
        found: set[int] = set()
        rows: set[int] = set()
        pairs: list[int] = []
        cached = self.words
        for word, pair, further in _words_and_pairs(normalized, self.skips):
            known = cached.get(word)
            if known is None:
                if len(cached) >= _WORDS_CACHED:
                    cached.clear()
                mine = frozenset(_word_buckets(word))
                known = cached[word] = (mine, frozenset(self.rows_of(mine)))
            found |= known[0]
            rows |= known[1]
            if pair is not None:
                found.add(pair)
                pairs.append(pair)
            if further:
                found.update(further)
                pairs += further
        if pairs:
            rows.update(self.rows_of(pairs))
        ordered = np.fromiter(rows, np.intp, len(rows))
        ordered.sort()  # numpy's sort of a few hundred ints is cheaper than sorted()
        return len(found), ordered


@dataclass(frozen=True, slots=True)
class Opinion:
    category: str  # the most probable category other than legitimate
    probability: float  # that the text is not legitimate
    words: tuple[str, ...]  # the words that weighed most towards the category


@cache
def load() -> Model:
    """The packaged model (read once per process)."""
    with (files("direkte.guardrails") / MODEL_FILE).open("rb") as file:
        return read(file)


def read(file: IO[bytes]) -> Model:
    """A model from a file as ``train_model.py`` writes it (numpy's ``.npz``)."""
    data = np.load(file)
    return Model(
        classes=tuple(str(c) for c in data["classes"]),
        rows=data["rows"].astype(np.int64),
        weights=data["weights"].astype(np.float32),
        bias=data["bias"].astype(np.float32),
        threshold=float(data["threshold"]),
        training=str(data["training"]),
        thresholds=dict(
            zip(
                (str(language) for language in data["languages"]),
                data["thresholds"].tolist(),
                strict=True,
            )
        )
        if "languages" in data.files  # a model trained before run 9: one threshold
        else {},
        clauses=bool(data["clauses"]) if "clauses" in data.files else False,
        skips=int(data["skips"]) if "skips" in data.files else 0,
        scale=float(data["scale"]) if "scale" in data.files else 0.5,
        net=_net(data) if "net_vectors" in data.files else None,
    )


def _net(data: np.lib.npyio.NpzFile) -> Net:
    """The network of a model file (vectors stored as int8 with a scale per row)."""
    stored = data["net_vectors"]
    vectors = np.zeros((len(stored) + 1, stored.shape[1]), np.float32)
    np.multiply(stored, data["net_vector_scale"].astype(np.float32)[:, None], out=vectors[:-1])
    index = data["net_index"].astype(np.intp)
    index[index < 0] = len(stored)
    return Net(
        index=index,
        vectors=vectors,
        hidden_weights=data["net_hidden_weights"].astype(np.float32),
        hidden_bias=data["net_hidden_bias"].astype(np.float32),
        out_weights=data["net_out_weights"].astype(np.float32),
        out_bias=data["net_out_bias"].astype(np.float32),
        scale=float(data["net_scale"]),
        share=float(data["net_share"]),
    )


def feature_weight(distinct: int, scale: float) -> float:
    """What each feature of a text of ``distinct`` features weighs: ``distinct ** -scale``.
    Unit length (0.5) by a square root, as ``train_model.matrix`` computes it, so a model
    of that scale scores a text to the last bit as in training; another scale by
    ``pow``, which may differ from numpy's (training's) in the last bit of the factor,
    far below the weights' float16 precision."""
    return 1.0 / math.sqrt(distinct) if scale == 0.5 else float(distinct**-scale)


def _probabilities(model: Model, distinct: int, rows: npt.NDArray[np.intp]) -> list[float]:
    """The class probabilities of a text with ``distinct`` buckets, of which the model
    knows ``rows`` (each counts once; in order, so that the sum is as in training)."""
    scores = model.bias.astype(np.float64)
    if len(rows):
        picked = model.weights.take(rows, axis=0)
        scores = scores + picked.sum(axis=0, dtype=np.float64) * feature_weight(
            distinct, model.scale
        )
    linear = _softmax(scores.tolist())
    net = model.net
    if net is None:
        return linear
    summed = net.vectors.take(net.index.take(rows), axis=0).sum(axis=0)
    summed *= np.float32(feature_weight(distinct, net.scale))
    mine = _softmax(net.scores(summed).tolist())
    return [net.share * n + (1 - net.share) * w for n, w in zip(mine, linear, strict=True)]


def _softmax(values: list[float]) -> list[float]:
    top = max(values)
    exps = [math.exp(v - top) for v in values]
    total = sum(exps)
    return [e / total for e in exps]


CLAUSE_MIN_WORDS = 4  # a shorter clause is read only as part of the whole text


def clauses_of(normalized: str) -> list[str]:
    """A normalized text's clauses (between its clause breaks, "."), each of at least
    ``CLAUSE_MIN_WORDS`` words; none when the text is one clause."""
    found: list[list[str]] = [[]]
    for word in normalized.split():
        if word == ".":
            found.append([])
        else:
            found[-1].append(word)
    if sum(1 for words in found if words) < 2:
        return []
    return [" ".join(words) for words in found if len(words) >= CLAUSE_MIN_WORDS]


def opinion(
    normalized: str, model: Model | None = None, *, clauses: bool | None = None
) -> Opinion | None:
    """The model's opinion of a normalized text; None when it has no words. With
    ``clauses`` (default: the model's own setting) the text's probability is the highest
    of the whole text's and each of its clauses' (``clauses_of``), and the category and
    the evidence are those of the part that scored it. The words that weighed most are
    worked out only for a text it holds."""
    model = model or load()
    distinct, rows = model.features_of(normalized)
    if not distinct:
        return None
    probabilities = _probabilities(model, distinct, rows)
    span = normalized
    if model.clauses if clauses is None else clauses:
        for clause in clauses_of(normalized):
            mine = _probabilities(model, *model.features_of(clause))
            if mine[0] < probabilities[0]:
                probabilities, span = mine, clause
    best = 1 + max(range(len(probabilities) - 1), key=lambda i: probabilities[1 + i])
    probability = 1.0 - probabilities[0]
    if probability < model.lowest:
        return Opinion(model.classes[best], probability, ())
    return Opinion(model.classes[best], probability, _evidence(model, span, best))


def _evidence(model: Model, normalized: str, best: int) -> tuple[str, ...]:
    """Each feature's pull towards class ``best`` against legitimate, summed per word (a
    pair of words shares its pull); the strongest words, in the text's order."""
    words = normalized.split()
    found, first, second = owners(normalized, model.skips)
    at, known = model.locate(found)
    pull = np.where(known, model.weights[at, best] - model.weights[at, 0], 0).astype(np.float64)
    pair = second >= 0
    pull[pair] /= 2
    per_word = np.bincount(first, pull, len(words)).astype(np.float64) + np.bincount(
        second[pair], pull[pair], len(words)
    )
    if model.net is not None:
        share = model.net.share
        per_word = (1 - share) * per_word + share * _occlusion(
            model.net, len(words), len(found), np.where(known, at, -1), first, second, best
        )
    strong = [p for p in np.argsort(-per_word, kind="stable").tolist() if per_word[p] > 0]
    top = [p for p in strong if len(words[p]) >= _EVIDENCE_LETTERS][:EVIDENCE_WORDS]
    return tuple(words[p] for p in sorted(top))


def _occlusion(
    net: Net,
    n_words: int,
    distinct: int,
    rows: npt.NDArray[np.intp],
    first: npt.NDArray[np.intp],
    second: npt.NDArray[np.intp],
    best: int,
) -> npt.NDArray[np.float64]:
    """Each word's pull towards class ``best`` against legitimate in the network: how
    much the score's margin falls when the word's own features and the pairs it is part
    of are taken out of the text (all words at once, one product per layer). ``rows``:
    each feature's row in the model (-1: none), ``first`` and ``second`` as ``owners``."""
    has = rows >= 0
    weighed = net.vectors.take(net.index.take(rows[has]), axis=0)
    weighed *= np.float32(feature_weight(distinct, net.scale))
    # which word owns which feature (a pair: both of its words), as a matrix: the words'
    # parts are one product (np.add.at took 0.25 ms a long text)
    owned = np.zeros((n_words, len(weighed)), np.float32)
    columns = np.arange(len(weighed))
    owned[first[has], columns] = 1
    pair = second[has] >= 0
    owned[second[has][pair], columns[pair]] = 1
    whole = weighed.sum(axis=0)
    # the margin is linear in the hidden units: one column for the scores' difference
    towards = net.out_weights[:, best] - net.out_weights[:, 0]
    hidden = whole @ net.hidden_weights + net.hidden_bias
    without = hidden - (owned @ weighed) @ net.hidden_weights  # each word taken out
    margin = np.maximum(without, 0) @ towards
    pull = np.float64(np.maximum(hidden, 0) @ towards) - margin.astype(np.float64)
    return pull  # type: ignore[no-any-return]
