"""Who is told what (DESIGN §7a), and what they read, in five languages."""

from __future__ import annotations

from typing import Any

import pytest

from direkte.escalations.kernel import recipients_for
from direkte.escalations.models import Escalation, EscalationStatus
from direkte.i18n import LANGUAGES
from direkte.notifications import messages
from direkte.notifications.messages import render

CUSTOMER, ASSIGNEE, LOCAL, OPS = 1, 2, 3, 4


def case(assignee: int | None = ASSIGNEE) -> Escalation:
    return Escalation(
        id=7,
        customer_id=CUSTOMER,
        assignee_id=assignee,
        status=EscalationStatus.open,
        tier=1,
        guardrail={},
    )


class TestRecipientsFor:
    @pytest.mark.parametrize(
        ("topic", "payload", "extra", "expected"),
        [
            ("escalation.opened", {}, [], [ASSIGNEE]),
            ("escalation.approved", {}, [], [ASSIGNEE]),
            ("escalation.auto_escalated", {}, [LOCAL], [ASSIGNEE, LOCAL]),
            ("escalation.acknowledged", {}, [], [CUSTOMER]),
            ("escalation.message", {"author": "staff"}, [], [CUSTOMER]),
            ("escalation.message", {"author": "customer"}, [], [ASSIGNEE]),
            ("escalation.resolved", {}, [], [CUSTOMER]),
            ("escalation.rejected", {}, [], [CUSTOMER]),
            ("escalation.rated", {}, [], []),
        ],
    )
    def test_each_topic_tells_whom_design_7a_names(
        self, topic: str, payload: dict[str, Any], extra: list[int | None], expected: list[int]
    ) -> None:
        assert recipients_for(case(), topic, extra, payload) == expected

    def test_a_held_request_tells_ops_only(self) -> None:
        assert recipients_for(case(None), "escalation.held", [OPS, OPS + 1], {}) == [OPS, OPS + 1]


class TestRender:
    @pytest.mark.parametrize("language", LANGUAGES)
    def test_every_kind_is_translated_in_every_language(self, language: str) -> None:
        for kind in messages.KINDS:
            topic, _, author = kind.partition(".message.")
            payload = {"escalation_id": 7, "author": author}
            message = render(topic + (".message" if author else ""), payload, language)
            assert "7" in message.title
            assert message.body
            if language != "en":
                english = render(topic + (".message" if author else ""), payload, "en")
                assert (message.title, message.body) != (english.title, english.body), kind

    def test_links_lead_into_the_web_app(self) -> None:
        assert render("escalation.resolved", {"escalation_id": 7}, "nb").link == "/app/cases/7"
        assert render("escalation.held", {"escalation_id": 7}, "en").link == "/app/ops/moderation"

    def test_an_unknown_language_reads_english_and_norwegian_tags_read_nb(self) -> None:
        english = render("escalation.resolved", {"escalation_id": 7}, "en")
        assert render("escalation.resolved", {"escalation_id": 7}, "fr") == english
        assert render("escalation.resolved", {"escalation_id": 7}, "no-NO").title.startswith(
            "Saken din"
        )

    def test_an_unknown_topic_reads_a_general_update(self) -> None:
        assert render("escalation.withdrawn_x", {"escalation_id": 3}, "en").title == (
            "Update in case #3"
        )
