from __future__ import annotations

import pytest

from portfolio.extensions import db


@pytest.fixture
def enrolment(world):
    """An apprentice's enrolment, committed, for the evidence tests to add to."""
    enrolment = world.enrolment()
    db.session.commit()
    return enrolment
