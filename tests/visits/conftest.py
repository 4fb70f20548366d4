"""Fixtures shared by the visit tests."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from direkte.clock import FixedClock
from tests.factories import make_api_key, make_network
from tests.visits.helpers import API_KEY_NAME


@pytest.fixture
def key(session: Session, clock: FixedClock) -> str:
    """The factories' network, committed, and a live integration key named ``dms``."""
    make_network(session, clock)
    return make_api_key(session, clock, name=API_KEY_NAME)
