"""The privacy tests use the escalation tests' HTTP world and committed database."""

from tests.escalations.conftest import Case, Committed, World, case, committed, world

__all__ = ["Case", "Committed", "World", "case", "committed", "world"]
