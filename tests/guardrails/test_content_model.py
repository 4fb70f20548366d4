"""The content screen's classifier (guardrails/content_model.py): the shipped weights are
those trained from the training set as it is, and its holds name a category and words."""

from __future__ import annotations

import dataclasses
import io
import zlib
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from direkte.guardrails import content, content_model
from tests.guardrails import moderation_scripts


def _train_module() -> ModuleType:
    return moderation_scripts.load("train_model")


class TestShippedWeights:
    def test_trained_from_the_training_set_as_it_is(self) -> None:
        # Editing the moderation set's dev split or the in-sample sets without training
        # again (tests/data/moderation/train_model.py) fails here.
        train = _train_module()
        assert content_model.load().training == train.training_hash(train.examples())

    def test_never_trained_on_the_test_part(self) -> None:
        train = _train_module()
        texts = {e.text for e in train.examples()}
        test = [r["text"] for r in _test_part_rows()]
        assert len(test) >= 600
        assert not texts & set(test)

    def test_classes_and_threshold(self) -> None:
        model = content_model.load()
        assert model.classes == (content_model.LEGITIMATE, *content.CATEGORIES)
        assert 0.5 <= model.threshold < 1.0
        # a threshold per language; a text of no known language is held at the highest
        assert set(model.thresholds) == set(content.LANGUAGES)
        assert all(0.5 <= t <= model.threshold for t in model.thresholds.values())
        assert model.threshold == max(model.thresholds.values())
        assert model.threshold_for(None) == model.threshold
        assert model.threshold_for("fr") == model.threshold
        assert model.threshold_for("da") == model.thresholds["da"]
        assert len(model.rows) == len(model.weights) > 1000
        assert list(model.rows) == sorted(model.rows)


def _test_part_rows() -> list[dict[str, str]]:
    """The moderation set's test part (tests/data/moderation/parts.toml, README.md)."""
    rows: list[dict[str, str]] = _train_module().parts.rows_of_test_part()
    return rows


class TestTraining:
    """The training script's choices that the shipped weights rest on."""

    def test_writers_are_told_apart_inside_a_file(self) -> None:
        train = _train_module()
        path = Path("dev13.jsonl")
        assert train._writer(path, {"lang": "en", "template": "d13w2-en-017"}) == "dev13-en-w2"
        assert train._writer(path, {"lang": "da", "template": "d13w1-da-003"}) == "dev13-da-w1"
        # one writer per file and language: the file and language
        assert train._writer(Path("dev4.jsonl"), {"lang": "sv", "template": "d4-sv-1"}) == (
            "dev4-sv"
        )

    def test_a_threshold_is_budgeted_over_the_texts_of_its_guessed_language(self) -> None:
        train = _train_module()
        legit = [train.Example(f"text {i}", "legitimate", "nb", "g", hand=True) for i in range(100)]
        probability = np.linspace(0.0, 0.99, 100)
        listed = [False] * 100
        # labelled nb, but the screen takes them all for Danish: Danish's threshold
        # is chosen over them, Norwegian's has nothing to hold back
        cuts = train.thresholds(legit, probability, listed, ["da"] * 100)
        assert cuts["nb"] == train.LOWEST_THRESHOLD
        assert cuts["da"] > 0.95
        cuts = train.thresholds(legit, probability, listed, ["nb"] * 100)
        assert cuts["nb"] > 0.95
        assert cuts["da"] == train.LOWEST_THRESHOLD


class TestFeatures:
    def test_words_pairs_and_character_grams(self) -> None:
        found, first, second = content_model.owners("i know . where")
        owner = {int(b): (f, s) for b, f, s in zip(found.tolist(), first, second, strict=True)}
        bucket = content_model.bucket
        assert bucket("w know") in owner
        assert bucket("b i know") in owner
        assert bucket("b know .") in owner  # a clause break is a neighbour, not a word
        assert bucket("w .") not in owner
        assert bucket("c <kn") in owner
        assert bucket("c now>") in owner
        assert owner[bucket("w know")] == (1, -1)
        assert owner[bucket("b i know")] == (0, 1)
        assert found.tolist() == content_model.buckets("i know . where").tolist()

    def test_pairs_further_apart_stay_within_their_clause(self) -> None:
        # skips 2: the words two and three places on, not past a clause break
        found, first, second = content_model.owners("i will punch him . now", skips=2)
        owner = {int(b): (f, s) for b, f, s in zip(found.tolist(), first, second, strict=True)}
        bucket = content_model.bucket
        assert owner[bucket("s i punch")] == (0, 2)
        assert owner[bucket("s i him")] == (0, 3)
        assert owner[bucket("s will him")] == (1, 3)
        assert bucket("b him .") in owner  # neighbours as before
        assert bucket("s punch now") not in owner  # across the break
        assert bucket("s him now") not in owner
        assert bucket("s i punch") not in content_model.buckets("i will punch him . now")
        assert found.tolist() == content_model.buckets("i will punch him . now", 2).tolist()

    @pytest.mark.parametrize("skips", [0, 2])
    def test_the_model_reads_the_features_training_counts(self, skips: int) -> None:
        # Model.features_of (run time) and buckets (training) must agree on every text
        normalized = content.normalize(TestClauses.LONG)
        found = content_model.buckets(normalized, skips)
        shipped = content_model.load()
        model = dataclasses.replace(
            shipped, rows=found, weights=shipped.weights[: len(found)], skips=skips
        )
        distinct, rows = model.features_of(normalized)
        assert distinct == len(found)
        assert rows.tolist() == list(range(len(found)))

    def test_buckets_are_stable_across_processes(self) -> None:
        # crc32, not hash(): the same bucket in every process, as in training
        assert content_model.bucket("w kill") == zlib.crc32(b"w kill") % content_model.BUCKETS


class TestOpinion:
    def test_a_threat_the_lists_do_not_know_is_held_with_its_words(self) -> None:
        text = "Your mechanic has a lovely daughter. It would be terrible if she got hurt."
        assert not content.screen_rules(text).categories
        found = content.screen_phrases(text)
        assert found.categories
        assert found.categories[0] in content.THREAT_CATEGORIES
        (evidence,) = found.evidence
        assert evidence.language == content.MODEL_LIST
        words = evidence.words.split()
        assert words
        assert set(words) <= set(content.normalize(text).split())
        assert content.parse_match(evidence.as_match()) == evidence

    @pytest.mark.parametrize(
        "text",
        [
            "I'll take my car elsewhere and tell everyone I know about this garage.",
            "This is f***ing ridiculous, the car broke down again on the motorway.",
            "My lawyer will be in touch, and so will the local paper.",
            "One star on every review site. You people are a disgrace to the trade.",
            "I am FURIOUS. Third time the same warning light, and nobody calls back.",
            "Jeg tar bilen et annet sted, og jeg klager til Forbrukerrådet.",
            "Ich gehe zum Anwalt und schreibe eine Bewertung, das ist eine Frechheit.",
        ],
    )
    def test_hard_legitimate_complaints_pass(self, text: str) -> None:
        assert not content.screen_phrases(text).categories

    def test_the_lists_decide_first(self) -> None:
        found = content.screen_phrases("I know where your kids go to school.")
        assert found.categories == ("family_threat",)
        assert all(e.language != content.MODEL_LIST for e in found.evidence)

    @pytest.mark.parametrize(
        "text", ["Again?", "again", "Why?", "Igjen?", "Nochmal?", "Not again!", "Hvorfor nu?"]
    )
    def test_a_short_text_is_left_to_the_lists(self, text: str) -> None:
        # "Again?" alone was held as a threat by the weight of one word.
        assert not content.screen_phrases(text).categories

    def test_held_at_the_threshold_of_the_texts_language(self) -> None:
        model = content_model.load()
        low = min(model.thresholds, key=model.thresholds.__getitem__)
        high = max(model.thresholds, key=model.thresholds.__getitem__)
        asked: list[str] = []

        def language(answer: str | None) -> Callable[[], str | None]:
            def guess() -> str | None:
                asked.append(str(answer))
                return answer

            return guess

        # over every threshold, or under every one: decided without guessing the language
        assert model.holds(model.threshold, language(None))
        assert not model.holds(model.lowest - 1e-6, language(None))
        assert asked == []
        if model.thresholds[low] < model.thresholds[high]:
            between = (model.thresholds[low] + model.thresholds[high]) / 2
            assert model.holds(between, language(low))
            assert not model.holds(between, language(high))
            assert not model.holds(between, language(None))  # not known: the highest
            assert asked == [low, high, "None"]

    def test_no_words_no_opinion(self) -> None:
        assert content_model.opinion("") is None
        assert not content.screen_phrases("!!!").categories


def _shipped_file(**flags: Any) -> io.BytesIO:
    """The shipped model written as train_model.py writes it, with ``flags`` besides."""
    shipped = content_model.load()
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        classes=np.array(shipped.classes),
        rows=shipped.rows.astype(np.int32),
        weights=shipped.weights.astype(np.float16),
        bias=shipped.bias,
        threshold=np.array(shipped.threshold),
        languages=np.array(list(shipped.thresholds)),
        thresholds=np.array(list(shipped.thresholds.values())),
        training=np.array(shipped.training),
        **{"scale": np.array(shipped.scale), **flags},
    )
    buffer.seek(0)
    return buffer


class TestClauses:
    """Run 16: a text of several clauses may be read clause by clause as well."""

    LONG = (
        "The brakes squeal since you fixed them and the bill doubled without a call. "
        "I know where your kids go to school, think about that before you answer. "
        "Please refund the labour on the invoice."
    )

    def test_clauses_are_the_parts_between_breaks_of_four_words_or_more(self) -> None:
        normalized = content.normalize("Fix the car now. Or else. I know where you live.")
        assert content_model.clauses_of(normalized) == ["fix the car now", "i know where you live"]
        assert content_model.clauses_of(content.normalize("One clause only here")) == []

    def test_reading_clauses_scores_the_strongest_part(self) -> None:
        model = content_model.load()
        normalized = content.normalize(self.LONG)
        whole = content_model.opinion(normalized, model, clauses=False)
        by_clause = content_model.opinion(normalized, model, clauses=True)
        assert whole is not None
        assert by_clause is not None
        clause = content.normalize("I know where your kids go to school")
        alone = content_model.opinion(clause, model, clauses=False)
        assert alone is not None
        # the highest of the whole text's and each clause's probability
        assert by_clause.probability == pytest.approx(max(whole.probability, alone.probability))
        assert by_clause.probability >= whole.probability
        if by_clause.probability > whole.probability and by_clause.words:
            # the evidence comes from the clause that scored, not the rest of the text
            assert set(by_clause.words) <= set(clause.split())

    def test_one_clause_reads_the_same_either_way(self) -> None:
        model = content_model.load()
        normalized = content.normalize("I know where your kids go to school")
        assert content_model.opinion(normalized, model, clauses=True) == content_model.opinion(
            normalized, model, clauses=False
        )

    def test_the_model_file_says_how_it_reads(self) -> None:
        model = content_model.load()
        normalized = content.normalize(self.LONG)
        assert content_model.opinion(normalized) == content_model.opinion(
            normalized, model, clauses=model.clauses
        )

    @pytest.mark.parametrize("clauses", [True, False])
    def test_the_flag_is_read_back_from_the_file(self, clauses: bool) -> None:
        model = content_model.read(_shipped_file(clauses=np.array(clauses)))
        assert model.clauses is clauses
        normalized = content.normalize(self.LONG)
        assert content_model.opinion(normalized, model) == content_model.opinion(
            normalized, model, clauses=clauses
        )

    @pytest.mark.parametrize("skips", [0, 2])
    def test_the_pairs_read_back_from_the_file(self, skips: int) -> None:
        assert content_model.read(_shipped_file(skips=np.array(skips))).skips == skips

    @pytest.mark.parametrize("scale", [0.5, 0.25])
    def test_the_scale_read_back_from_the_file_weighs_the_features(self, scale: float) -> None:
        model = content_model.read(_shipped_file(scale=np.array(scale)))
        assert model.scale == scale
        normalized = content.normalize(TestClauses.LONG)
        distinct, rows = model.features_of(normalized)
        scores = model.bias + model.weights[rows].astype(np.float64).sum(axis=0) * (
            distinct**-scale
        )
        expected = 1 - np.exp(scores[0] - scores.max()) / np.exp(scores - scores.max()).sum()
        said = content_model.opinion(normalized, model, clauses=False)
        assert said is not None
        assert said.probability == pytest.approx(expected, rel=1e-6)

    @pytest.mark.parametrize("scale", [0.5, 0.25])
    def test_training_weighs_the_features_as_run_time_does(self, scale: float) -> None:
        train = _train_module()
        texts = [TestClauses.LONG, "Fix the brakes or else. I know your car."]
        found = [train.Example(t, "legitimate", "en", "g") for t in texts]
        (row, _, value), _ = train.matrix(found, scale)
        model = content_model.load()
        for number, text in enumerate(texts):
            distinct, _ = model.features_of(content.normalize(text))
            weight = content_model.feature_weight(distinct, scale)
            mine = value[row == number]
            assert len(mine) == distinct
            if scale == 0.5:
                assert set(mine.tolist()) == {weight}  # to the last bit
            else:
                assert mine == pytest.approx(weight, rel=1e-15)

    def test_the_shipped_file_records_its_scale(self) -> None:
        with (files("direkte.guardrails") / content_model.MODEL_FILE).open("rb") as file:
            written = float(np.load(file)["scale"])
        assert content_model.load().scale == written

    def test_the_candidate_is_chosen_only_when_it_holds_more_and_no_more_legitimate(
        self,
    ) -> None:
        chosen = _train_module().candidate_chosen
        assert chosen((100, 5), (101, 5))
        assert not chosen((100, 5), (100, 5))  # no gain: run 17's reading stays
        assert not chosen((100, 5), (110, 6))  # holds one more legitimate text
        assert not chosen((100, 5), (99, 4))


def _with_net(share: float, seed: int = 0) -> content_model.Model:
    """The shipped linear model with a small random network over its rows (run 21's
    kind of file), written and read back as train_net.py writes it."""
    shipped = content_model.load()
    rng = np.random.default_rng(seed)
    index = np.where(rng.random(len(shipped.rows)) < 0.5, -1, 0).astype(np.int32)
    index[index == 0] = np.arange(int((index == 0).sum()))
    vectors = rng.integers(-127, 128, ((index >= 0).sum(), 8)).astype(np.int8)
    buffer = _shipped_file(
        net_index=index,
        net_vectors=vectors,
        net_vector_scale=np.full(len(vectors), 0.01, np.float32),
        net_hidden_weights=rng.normal(size=(8, 6)).astype(np.float32),
        net_hidden_bias=rng.normal(size=6).astype(np.float32),
        net_out_weights=rng.normal(size=(6, len(shipped.classes))).astype(np.float32),
        net_out_bias=rng.normal(size=len(shipped.classes)).astype(np.float32),
        net_scale=np.array(0.5),
        net_share=np.array(share),
    )
    return content_model.read(buffer)


class TestNet:
    """Run 21's candidate: a network over the same features, scored with numpy."""

    def test_a_file_without_a_network_reads_as_linear(self) -> None:
        assert content_model.read(_shipped_file()).net is None

    @pytest.mark.parametrize("share", [1.0, 0.5])
    def test_the_network_scores_as_written(self, share: float) -> None:
        model = _with_net(share)
        net = model.net
        assert net is not None
        assert net.share == share
        normalized = content.normalize(TestClauses.LONG)
        distinct, rows = model.features_of(normalized)
        # by hand: the vectors of the rows that have one, summed, weighed n ** -0.5
        vectors = net.index[rows]
        summed = net.vectors[vectors[vectors >= 0]].astype(np.float64).sum(axis=0)
        summed /= np.sqrt(distinct)
        hidden = np.maximum(summed @ net.hidden_weights + net.hidden_bias, 0)
        scores = hidden @ net.out_weights + net.out_bias
        mine = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
        linear = content_model.read(_shipped_file())
        alone = content_model.opinion(normalized, linear, clauses=False)
        assert alone is not None
        said = content_model.opinion(normalized, model, clauses=False)
        assert said is not None
        expected = share * (1 - mine[0]) + (1 - share) * alone.probability
        assert said.probability == pytest.approx(expected, rel=1e-5)

    def test_evidence_is_the_words_whose_removal_lowers_the_margin_most(self) -> None:
        model = _with_net(1.0, seed=3)
        net = model.net
        assert net is not None
        normalized = content.normalize("Your mechanic will regret it if the brakes fail again")
        words = normalized.split()
        best = 2
        evidence = content_model._evidence(model, normalized, best)

        def margin(text_words: list[str]) -> float:
            # the whole text's features less those of one word (its own and its pairs)
            found, first, second = content_model.owners(normalized)
            keep = np.array([w not in text_words for w in range(len(words))])
            mine = keep[first] & ((second < 0) | keep[np.maximum(second, 0)])
            at, known = model.locate(found)
            vectors = np.where(known, net.index[at], -1)
            use = mine & (vectors >= 0)
            summed = net.vectors[vectors[use]].sum(axis=0) / np.sqrt(len(found))
            scores = net.scores(summed)
            return float(scores[best] - scores[0])

        whole = margin([])
        pulls = [whole - margin([w]) for w in range(len(words))]
        strong = [w for w in np.argsort(pulls, kind="stable")[::-1] if pulls[w] > 0]
        strong = [w for w in strong if len(words[w]) >= 3][: content_model.EVIDENCE_WORDS]
        assert evidence == tuple(words[w] for w in sorted(strong))

    def test_a_feature_without_a_vector_reads_the_row_of_zeros(self) -> None:
        model = _with_net(0.5)
        net = model.net
        assert net is not None
        assert len(net.index) == len(model.rows)
        assert not net.vectors[-1].any()
        assert (net.index == len(net.vectors) - 1).sum() > 0  # -1 in the file

    def test_the_shipped_file_holds_run_21s_network(self) -> None:
        # run 21 (tests/data/moderation/README.md): the mean of the linear model and the
        # network, chosen out of fold and kept on holdout17
        net = content_model.load().net
        assert net is not None
        assert net.share == 0.5
        assert net.scale == 0.5
        assert net.vectors.shape[1] == 32
        assert net.hidden_weights.shape == (32, 64)
