"""Who may make which state change: the domain functions refuse exactly what the written-out table refuses.

Each check drives the real functions (moving evidence between statuses, judging a criterion)
for every role and pair of statuses, and on failure names the cells that differ.
"""

from __future__ import annotations

import itertools

import pytest

from portfolio.core.domain import DomainError
from portfolio.evidence.items import change_evidence_status
from portfolio.extensions import db
from portfolio.models import EvidenceStatus, Role
from portfolio.review.domain import record_judgement

pytestmark = pytest.mark.one_transaction  # stays on db.session: rolled back, not emptied

# Every allowed cell, written out independently of the code: role -> {(from, to)}.
ALLOWED = {
    Role.APPRENTICE: {
        ("draft", "submitted"),
        ("referred", "submitted"),
        ("submitted", "withdrawn"),
        ("referred", "withdrawn"),
        ("accepted", "withdrawn"),
    },
    Role.EMPLOYER: {("draft", "submitted")},  # signing a witness testimony
    Role.TUTOR: {("submitted", "accepted"), ("submitted", "referred")},
    Role.ASSESSOR: set(),
    Role.ADMIN: set(),
}
JUDGES = {Role.TUTOR}


@pytest.fixture
def everyone(world, two_employers):
    """One user of each role, each at the organisation that role belongs to, around one evidence item."""
    enrolment = two_employers["museum_enrolment"]
    users = {
        Role.APPRENTICE: enrolment.apprentice,
        Role.EMPLOYER: two_employers["museum_mentor"],
        Role.TUTOR: two_employers["tutor"],
        Role.ASSESSOR: world.user(Role.ASSESSOR, two_employers["epao"]),
        Role.ADMIN: world.user(Role.ADMIN, two_employers["provider"]),
    }
    return enrolment, users, world.evidence(enrolment, submitted=False)


def _differences(expected: set, actual: set) -> str:
    lines = [f"allowed by the table, refused by the code: {cell}" for cell in sorted(expected - actual)]
    lines += [f"refused by the table, allowed by the code: {cell}" for cell in sorted(actual - expected)]
    return "\n".join(lines)


def _as_values(role: Role, from_status: EvidenceStatus, to_status: EvidenceStatus) -> tuple[str, str, str]:
    return role.value, from_status.value, to_status.value


def test_evidence_moves_between_statuses_exactly_as_the_table_allows(everyone):
    _, users, item = everyone
    expected = {(role.value, *cell) for role, cells in ALLOWED.items() for cell in cells}
    allowed = set()
    for role, from_status, to_status in itertools.product(Role, EvidenceStatus, EvidenceStatus):
        item.status = from_status
        try:
            change_evidence_status(item, to_status, by=users[role])
        except DomainError:
            assert item.status is from_status, "a refused change left the status alone"
            continue
        assert item.status is to_status and item.history[-1].to_status is to_status
        allowed.add(_as_values(role, from_status, to_status))
    assert allowed == expected, _differences(expected, allowed)
    db.session.rollback()


def test_only_tutors_judge_criteria(everyone):
    enrolment, users, _ = everyone
    judges = set()
    for role, user in users.items():
        try:
            record_judgement(db.session, enrolment, by=user, code="K1", level_code="met")
        except DomainError as refusal:
            assert str(refusal) == "You cannot judge this apprentice's criteria"
            continue
        judges.add(role.value)
    expected = {role.value for role in JUDGES}
    assert judges == expected, _differences(expected, judges)
    db.session.rollback()
