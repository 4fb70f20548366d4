"""The API tests use the escalation tests' HTTP world (a network, a key, a case)."""

from tests.escalations.conftest import Case, World, case, world

__all__ = ["Case", "World", "case", "world"]
