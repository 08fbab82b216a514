"""The table of who may make which state change, checked cell by cell against a written-out matrix."""

from __future__ import annotations

import itertools

import pytest

from portfolio.core.permissions import may_change_evidence, may_judge
from portfolio.models import EvidenceStatus, Role

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

CELLS = list(itertools.product(Role, EvidenceStatus, EvidenceStatus))


@pytest.mark.parametrize(("role", "from_status", "to_status"), CELLS, ids=lambda v: getattr(v, "value", v))
def test_each_cell_of_the_evidence_table(role, from_status, to_status):
    expected = (from_status.value, to_status.value) in ALLOWED[role]
    assert may_change_evidence(role, from_status, to_status) is expected


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_only_tutors_judge_criteria(role):
    assert may_judge(role) is (role is Role.TUTOR)
