"""Operation ids are ``<tag>_<route function>``, one per operation, for generated clients."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from direkte.api.app import create_app
from direkte.config import Settings

METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture(scope="module")
def operations(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Every operation of /openapi.json (the document needs no database)."""
    settings = Settings(data_dir=Path(tmp_path_factory.mktemp("openapi")))
    with TestClient(create_app(settings)) as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    return [
        {"path": path, "method": method, **operation}
        for path, item in response.json()["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


class TestOperationIds:
    def test_no_two_operations_share_an_id(self, operations: list[dict[str, Any]]) -> None:
        counts = Counter(op["operationId"] for op in operations)
        assert [i for i, n in counts.items() if n > 1] == []

    def test_every_operation_has_one_tag_and_a_tag_prefixed_id(
        self, operations: list[dict[str, Any]]
    ) -> None:
        for op in operations:
            assert len(op.get("tags", [])) == 1, (op["method"], op["path"])
            assert op["operationId"].startswith(op["tags"][0] + "_"), op["operationId"]

    @pytest.mark.parametrize(
        ("method", "path", "operation_id"),
        [
            ("post", "/api/v1/visits/{visit_id}/escalations", "escalations_open_escalation"),
            (
                "post",
                "/api/v1/escalations/{escalation_id}/resolve",
                "escalations_resolve_escalation",
            ),
            ("post", "/api/v1/moderation/{escalation_id}/approve", "moderation_approve_held"),
            ("put", "/api/v1/integration/visits/{external_id}", "integration_upsert_visit"),
            ("post", "/api/v1/auth/token", "auth_issue_token"),
        ],
    )
    def test_known_operations_keep_their_ids(
        self, operations: list[dict[str, Any]], method: str, path: str, operation_id: str
    ) -> None:
        (found,) = [op for op in operations if op["path"] == path and op["method"] == method]
        assert found["operationId"] == operation_id
