"""Content screening: normalization, language, word boundaries, and the labelled evaluation set."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from direkte.guardrails import content
from direkte.guardrails.content import detect_language, normalize, parse_list, screen

EVAL_SET = Path(__file__).with_name("content_eval.yaml")
# Written independently of the phrase lists (see docs/guardrails.md, "Content screening").
HOLDOUT_SET = Path(__file__).with_name("content_holdout.yaml")
# A second one, written after the lists were extended against the first: the lists
# have never been changed to match it, so it measures how they generalize.
FRESH_HOLDOUT_SET = Path(__file__).with_name("content_holdout2.yaml")
HELD_LABELS = {"threat", "abuse"}


def _load(path: Path) -> list[tuple[str, str, str]]:
    data = YAML(typ="safe").load(path.read_text("utf-8"))
    return [
        (language, label, text)
        for language, labels in data.items()
        for label, texts in labels.items()
        for text in texts
    ]


def _load_eval() -> list[tuple[str, str, str]]:
    return _load(EVAL_SET)


def _evaluate(title: str, rows: list[tuple[str, str, str]]) -> Counter[str]:
    """Screen every text; print precision, recall and legit held per language; the totals."""
    report: dict[str, Counter[str]] = {}
    misses: list[str] = []
    for language, label, text in rows:
        held = screen(text).held
        should_hold = label in HELD_LABELS
        outcome = ("tp" if held else "fn") if should_hold else ("fp" if held else "tn")
        for key in (language, "all"):
            counts = report.setdefault(key, Counter())
            counts[outcome] += 1
            if label == "legit_angry":
                counts["legit"] += 1
                counts["legit_held"] += held
        if outcome in ("fn", "fp"):
            misses.append(f"  {outcome} [{language}/{label}] {text}")
    print(f"\n{title}, held = threat or abuse")
    print(f"{'':4} {'n':>4} {'precision':>9} {'recall':>7} {'legit held':>11}")
    for key, c in report.items():
        n = c["tp"] + c["fn"] + c["fp"] + c["tn"]
        precision = c["tp"] / max(1, c["tp"] + c["fp"])
        recall = c["tp"] / max(1, c["tp"] + c["fn"])
        legit_held = c["legit_held"] / max(1, c["legit"])
        print(f"{key:4} {n:>4} {precision:>9.3f} {recall:>7.3f} {legit_held:>10.1%}")
    print("\n".join(misses))
    return report["all"]


class TestNormalize:
    def test_case_and_accents_folded(self) -> None:
        assert normalize("Crème BRÛLÉE") == "creme brule"

    def test_nordic_and_german_letters_folded(self) -> None:
        assert normalize("Jævla ØL på Åsen, jävla öl, Straße, über") == (
            "jaevla ol pa asen . javla ol . strase . uber"
        )

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("k1ll y0u", "kil you"),
            ("@sshole", "ashole"),
            ("$tupid", "stupid"),
            ("dr3p3", "drepe"),
            ("4ss", "as"),
            ("7r4sh", "trash"),
            ("€vil", "evil"),
        ],
    )
    def test_leetspeak_inside_words(self, text: str, expected: str) -> None:
        assert normalize(text) == expected

    def test_digits_alone_untouched(self) -> None:
        assert normalize("Invoice 4500 kr, 13.05") == "invoice 4500 kr . 13 . 05"

    def test_cyrillic_and_greek_look_alikes(self) -> None:
        # Cyrillic a, o, r, s; Greek omicron and kappa
        assert normalize("\u0430ssh\u043ele \u0440\u0441") == "ashole pc"
        assert normalize("\u03bf\u03ba") == "ok"

    def test_repeated_letters_collapsed(self) -> None:
        assert normalize("diiiiie") == normalize("die") == "die"
        assert normalize("kiiiilllll") == normalize("kill")

    @pytest.mark.parametrize("text", ["k i l l", "k.i.l.l", "k-i-l-l", "k_i_l_l", "k . i . l . l"])
    def test_spaced_letters_joined(self, text: str) -> None:
        assert normalize(f"I will {text} you") == "i wil kil you"

    def test_censor_marks_and_invisible_characters_removed(self) -> None:
        assert normalize("f*ck") == "fck"
        assert normalize("ki\u200bll") == "kil"
        assert normalize("\U0001d424\U0001d422\U0001d425\U0001d425") == "kil"  # bold letters

    def test_clause_punctuation_kept_as_break(self) -> None:
        assert normalize("Fuck, you people!") == "fuck . you people"


class TestPhraseLists:
    def test_every_list_parses_with_every_section(self) -> None:
        for language in content.LANGUAGES:
            phrases = [p for p in content._lists().phrases if p.language == language]
            assert {p.category for p in phrases} == set(content.CATEGORIES), language

    def test_gap_and_number_tokens(self) -> None:
        def matches(phrase: str, text: str) -> bool:
            return bool(re.compile(content.compile_phrase(phrase)[0]).match(normalize(text) + " "))

        assert matches("i ~ kill you", "I will fucking kill you")
        assert matches("i ~ kill you", "I kill you")
        assert not matches("i ~ kill you", "I said, kill you")  # not across a clause
        assert not matches("i ~ kill you", "I a b c d kill you")  # three words at most
        assert matches("number is <num>", "number is 912 34 567")
        assert not matches("number is <num>", "number is twelve")

    def test_unknown_section_rejected(self) -> None:
        with pytest.raises(ValueError, match="unknown section"):
            parse_list("en", "[spam]\nbuy now\n")

    def test_what_may_follow_a_phrase_that_starts_with_any_word(self) -> None:
        follows = content._next_word_starts
        assert follows("(his|*s) (private|home) number") == {"pr", "ho"}
        assert follows("(his|*s) (is|) , <num>") == {"is", "."}
        assert follows("(your|*s) ~ (kids|wife) regret") is None  # a gap: any word
        assert follows("(your|) kids regret") is None  # the first word is optional
        assert follows("(little one|*s) crying") is None  # the first token takes two words

    def test_phrases_that_start_with_any_word_found_as_by_one_alternation(self) -> None:
        # They are tried by the word after their first one (content._by_next_word);
        # at every word of the labelled set, that finds what one alternation of all of
        # them finds.
        lists = content._lists()
        everything = lists.by_start[content._ANYWHERE]
        rows = Path(__file__).parents[1] / "data" / "moderation" / "moderation_set.jsonl"
        lines = rows.read_text("utf-8").splitlines()
        texts = [f" . {normalize(json.loads(line)['text'])} . " for line in lines]
        found = 0
        for text in texts:
            for start in content._WORD_STARTS.finditer(text):
                at = start.start()
                regex = content._anywhere_at(lists.anywhere_by_next, text, at)
                mine = regex.match(text, at) if regex else None
                theirs = everything.match(text, at)
                assert (mine and (mine.lastgroup, mine.group())) == (
                    theirs and (theirs.lastgroup, theirs.group())
                ), text
                found += theirs is not None
        assert found > 50  # the set has such phrases to find

    def test_a_spelled_out_word_is_not_read_letter_by_letter(self) -> None:
        # holdout8 (run 13): "R E F U N D" was held as "f u" (the chat reading) and
        # "fu" (inside the joined run "arefund")
        assert content.screen_rules("I want a R E F U N D now, not excuses").categories == ()
        assert content.screen_rules("A R E F U N D").categories == ()

    @pytest.mark.parametrize(
        "text",
        [
            "i c u r a dickhead",  # chat of more than four single letters
            "y e s u r a idiot",
            "u r a dickhead",
            "f u",  # the whole text: chat
            "f y a",  # a short phrase as the whole spaced-out run
            "f y a l l",  # the phrase's longer alternative, to the run's end
            "f u c k d e g",  # a longer phrase where a short one matched first
            "F U C K D E R E",
            "f u c k d e j",
        ],
    )
    def test_chat_and_spelled_out_insults_still_hold(self, text: str) -> None:
        assert content.screen_rules(text).categories == ("abuse",)

    def test_times_are_not_leetspeak(self) -> None:
        assert normalize("ring you at 3am or 4pm") == "ring you at 3am or 4pm"
        assert normalize("call you at 3am!") == "cal you at 3am"
        assert normalize("you 4ss") == "you as"  # a stand-in still is one (repeats folded)
        assert normalize("5h1t") == "shit"
        for text in ("I will call you at 3am every night", "I will call you at 3am!"):
            assert content.screen_rules(text).categories == ("harassment",)

    @pytest.mark.parametrize(
        "text",
        [
            "Jeg kommer til å sette fyr på hele bilen hvis den ikke blir fikset",
            "Jag kommer sätta eld på den här bilen snart, den är värdelös",
            "Jeg sætter ild til hele bilen, den er ubrugelig",
        ],
    )
    def test_setting_fire_to_ones_own_car_is_no_list_threat(self, text: str) -> None:
        # holdout8 (run 13): "sette fyr på *" took any word; now it names whom or what
        assert content.screen_rules(text).categories == ()

    @pytest.mark.parametrize(
        "text",
        [
            "jeg setter fyr på verkstedet",
            "vi sætter ild til hele værkstedet",
            "jag sätter eld på din bil",
            "jeg setter fyr på dere",
            "jeg setter fyr på sjefen",
            "jeg setter fyr på familien din",
            "vi sætter ild til chefen",
            "jeg sætter ild til jeres værksted",
            "jag sätter eld på chefen",
            "jag sätter eld på byggnaden",
        ],
    )
    def test_setting_fire_to_staff_or_premises_is(self, text: str) -> None:
        assert content.screen_rules(text).categories == ("threat",)

    def test_wildcards_groups_and_optional_words(self) -> None:
        (phrase,) = parse_list("en", "[abuse]\n(you|u) (stupid|) idiot*\n")
        assert phrase.pattern.search(" you idiots ")
        assert phrase.pattern.search(" u stupid idiot ")
        assert not phrase.pattern.search(" you are no idiot ")


class TestWordBoundaries:
    @pytest.mark.parametrize(
        "text",
        [
            "The skill of your mechanic is questionable.",
            "Scunthorpe branch, skilled staff, killer prices. NOT.",
            "They were skilling up on the new diagnostic tool, fine.",
            "The assessment was classic bad work.",
            "Jeg vil ha svar på hvorfor skiftenøkkelen lå i motorrommet.",
            "Das Auto wurde in Dichtung und Kupplung geprüft.",
            "Jag fick en faktura, vad gjorde du när du kontrollerade bromsarna?",
            "Kill the engine and then let it idle, your advisor said. Nonsense.",
            "Smoked a fag in my car? Someone did, it stinks.",
            "The tranny is slipping again and there is a chink in the windscreen.",
        ],
    )
    def test_legitimate_words_containing_a_phrase_pass(self, text: str) -> None:
        verdict = screen(text)
        assert not verdict.held, verdict.matches

    @pytest.mark.parametrize(
        "text",
        [
            "I will kill you",
            "I will K I L L you",
            "I will k.i.l.l you",
            "i will k1ll y0u",
            "I will kiiiiill you",
            "I will \u043aill you",  # Cyrillic k
            "you \u0456diot",  # Cyrillic i
            "din j*vla idiot",
            "D U M M E  S V I N",
        ],
    )
    def test_obfuscated_phrases_hit(self, text: str) -> None:
        assert screen(text).held


class TestLanguage:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("I am furious about the invoice and nobody has called me back.", "en"),
            ("Jeg er veldig misfornøyd med verkstedet, og ingen har ringt meg tilbake.", "nb"),
            ("Jeg er meget utilfreds med værkstedet, og ingen har ringet mig tilbage.", "da"),
            ("Jag är mycket missnöjd med verkstaden och ingen har ringt mig tillbaka.", "sv"),
            (
                "Ich bin sehr unzufrieden mit der Werkstatt und niemand hat mich zurückgerufen.",
                "de",
            ),
        ],
    )
    def test_clear_texts_detected(self, text: str, expected: str) -> None:
        assert detect_language(text) == expected

    @pytest.mark.parametrize("text", ["", "ok", "!!!", "4471"])
    def test_too_short_is_none(self, text: str) -> None:
        assert detect_language(text) is None


class TestVerdict:
    def test_rule_result_of_a_threat(self) -> None:
        verdict = screen("I know where you live.")
        result = verdict.rule_result()
        assert result["rule"] == "content"
        assert result["passed"] is False
        assert result["inputs"]["categories"] == ["threat"]
        assert result["inputs"]["language"] == "en"
        assert result["inputs"]["matches"]
        assert result["note"] == "held: threat"

    def test_rule_result_of_an_angry_complaint(self) -> None:
        result = screen("This is a SCAM and I'm taking you to court.").rule_result()
        assert result["passed"] is True
        assert result["inputs"]["matches"] == []

    def test_all_lists_screened_whatever_the_language(self) -> None:
        verdict = screen("Thanks for nothing, and by the way: din jævla idiot.")
        assert verdict.abuse
        assert any(m.startswith("nb/abuse:") for m in verdict.matches)


class TestEvaluationSet:
    def test_set_is_large_and_balanced_enough(self) -> None:
        rows = _load_eval()
        labels = Counter(label for _, label, _ in rows)
        languages = Counter(language for language, _, _ in rows)
        assert len(rows) >= 300
        assert languages["nb"] + languages["da"] >= 100
        assert labels["legit_angry"] * 2 >= len(rows)
        assert set(languages) == set(content.LANGUAGES)

    def test_recall_and_legit_held_meet_targets(self) -> None:
        total = _evaluate("content screening (evaluation set)", _load_eval())
        assert total["tp"] / (total["tp"] + total["fn"]) >= 0.95
        assert total["legit_held"] / total["legit"] <= 0.02

    def test_language_mostly_detected(self) -> None:
        rows = _load_eval()
        confusion = Counter((language, detect_language(text)) for language, _, text in rows)
        right = sum(n for (language, found), n in confusion.items() if language == found)
        print(f"\nlanguage detected right: {right}/{len(rows)}; wrong: ", end="")
        print({f"{k[0]}->{k[1]}": n for k, n in confusion.items() if k[0] != k[1]})
        assert right / len(rows) >= 0.9


class TestHoldoutSet:
    """Texts written without the phrase lists in view: how the lists generalize."""

    def test_set_covers_every_language_and_label(self) -> None:
        rows = _load(HOLDOUT_SET)
        assert {language for language, _, _ in rows} == set(content.LANGUAGES)
        assert {label for _, label, _ in rows} == {*HELD_LABELS, "legit_angry", "neutral"}

    def test_no_legitimate_complaint_held_and_recall_floor(self) -> None:
        total = _evaluate("content screening (holdout set)", _load(HOLDOUT_SET))
        assert total["fp"] == 0
        assert total["tp"] / (total["tp"] + total["fn"]) >= HOLDOUT_RECALL_FLOOR


class TestFreshHoldoutSet:
    """Texts the lists were never fitted to: the honest figure for unseen text."""

    def test_set_covers_every_language_and_label(self) -> None:
        rows = _load(FRESH_HOLDOUT_SET)
        assert len(rows) == 210
        assert {language for language, _, _ in rows} == set(content.LANGUAGES)
        assert {label for _, label, _ in rows} == {*HELD_LABELS, "legit_angry", "neutral"}

    def test_legitimate_complaints_held_within_target_and_recall_floor(self) -> None:
        total = _evaluate("content screening (fresh holdout set)", _load(FRESH_HOLDOUT_SET))
        legit = sum(1 for _, label, _ in _load(FRESH_HOLDOUT_SET) if label == "legit_angry")
        assert total["fp"] / legit <= 0.02
        assert total["tp"] / (total["tp"] + total["fn"]) >= FRESH_HOLDOUT_RECALL_FLOOR


# Recall on the fresh holdout when it was written (0.46, docs/guardrails.md), less a
# margin: lists that lose general coverage fail here. Never fit the lists to it.
FRESH_HOLDOUT_RECALL_FLOOR = 0.40


# The lists were extended against this set's misses (docs/guardrails.md), so it is
# in-sample now: a change to the lists that loses those families fails here.
HOLDOUT_RECALL_FLOOR = 0.95


class TestScreen6:
    """Screen 6's phrases (issue 16, from run 15's misses on holdout10, dev data since run
    16), each with legitimate twins it must let through (a review's among them)."""

    @pytest.mark.parametrize(
        ("text", "category"),
        [
            ("Tell the lad on the desk I'll lamp him on Saturday.", "threat"),
            ("Do the repair for free or I'll fix your face, simple as that.", "threat"),
            ("You'll need an ambulance when I'm done with the warranty desk.", "threat"),
            (
                "Your advisor Tom Hale lives at 41 Mill Crescent, Derby. Posting it tonight.",
                "doxxing",
            ),
            ("That service manager is a cockroach and should be treated like one.", "abuse"),
            ("Om jeg ikke får bilen i dag, får sjefen ein på trynet.", "threat"),
            ("Jeg skal ta med meg et balltre når jeg henter bilen.", "threat"),
            ("Jeg sørger for at han aldri står oppreist i den hallen igjen.", "threat"),
            ("Ellers får jeres mekaniker en på kassen, det lover jeg.", "threat"),
            ("Jeg ringer til ham fra skjult nummer hele natten.", "harassment"),
            ("Nästa gång tar jag med mig yxan till verkstaden.", "threat"),
            ("Jag vet att din dotter rider på stallet varje tisdag.", "family_threat"),
            ("Wenn nicht, werde ich Ihrem Mechaniker weh tun.", "threat"),
            ("Ich finde Sie, früher oder später.", "threat"),
            ("Ich warte seit Tagen vor dem Haus von Ihrem Meister.", "harassment"),
        ],
    )
    def test_held(self, text: str, category: str) -> None:
        assert category in content.screen_rules(text).categories, text

    @pytest.mark.parametrize(
        "text",
        [
            "I live at 22 Orchard Street, send the invoice there, not to my work.",
            "My mother lives at 12 Park Road, please deliver the car there.",
            "His number is 07700 900123 if you need to call him, he's the co-owner.",
            "Your service department is a cockroach motel: cars check in and never leave.",
            "I'll clock the mileage myself before I collect it.",
            "I am going to headbutt the wall if this goes on.",
            "We had to call an ambulance for him after the wheel came off.",
            "Go fix your head unit, it has not worked since the service.",
            "The doctors say my daughter may never walk again after the brakes failed.",
            "DEN HÄR BILEN BORDE SKJUTAS, men först vill jag ha pengarna tillbaka.",
            "Han sa att det måste skjutas fram en vecka.",
            "Jag förstår inte varför motorn inte går mer efter bytet.",
            "Jag tar med mig kniven hem, den låg i handskfacket.",
            "Jag vet att er son hämtade bilen på fredag.",
            "Bitte prüfen Sie die Bremsen sofort, bevor jemand zu Schaden kommt.",
            "Ich stand gestern vor meinem Haus und sah den Abschleppwagen.",
            "Ich warte vor der Haustür auf den Abschleppdienst.",
            "Diese Bewertung wird Ihnen weh tun.",
            "Irgendwann kriege ich Sie schon ans Telefon.",
            "Der Service war okay, aber ich finde Sie unverschämt teuer.",
            "Was passiert mit ihrem Auto? Meine Tochter wartet seit drei Wochen.",
            "Wir verbringen die Nacht zusammen mit den Kindern am Rastplatz.",
            "Jeg måtte ringe efter en ambulance, da bremserne svigtede på motorvejen.",
            "Så får jeres værksted bank på Trustpilot.",
            "Min mand står ikke op igen før kl. 10 efter nattevagt.",
            "Jeres sælger ringer fra skjult nummer, det er uprofessionelt.",
            "Jeg skal ta med meg hagla på jakt i helgen, så bilen må være ferdig fredag.",
            "Jeg håper Forbrukerrådet kan banke litt vett inn i dere.",
            "Adressen til verkstedet ligger på nett, men dere svarer ikke.",
            "Vi måtte ringe ambulanse til ham etter at hjulet løsnet.",
        ],
    )
    def test_passed(self, text: str) -> None:
        assert not content.screen_rules(text).categories, text
