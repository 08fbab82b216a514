"""The coverage roll-up: counts and fractions per area, per kind and overall."""

import pytest

from standard import Kind, Status, load_standard, roll_up, shipped_standard


def test_nothing_evidenced_is_all_none():
    st = shipped_standard("ST0396")
    coverage = roll_up(st, {})
    assert coverage.overall.total == 49
    assert coverage.overall.at_least(Status.EVIDENCED) == 0
    assert coverage.overall.fraction(Status.EVIDENCED) == 0.0
    assert coverage.status_of("K1") is Status.NONE


def test_statuses_roll_up_cumulatively(fixtures):
    st = load_standard(fixtures / "minimal.yaml")  # K1 K2 | S1 | B1
    coverage = roll_up(st, {"K1": Status.MET, "K2": Status.EVIDENCED, "S1": Status.ACCEPTED})
    assert coverage.overall.exactly == {Status.NONE: 1, Status.EVIDENCED: 1, Status.ACCEPTED: 1, Status.MET: 1}
    assert coverage.overall.at_least(Status.EVIDENCED) == 3
    assert coverage.overall.at_least(Status.ACCEPTED) == 2
    assert coverage.overall.fraction(Status.MET) == 0.25
    knowledge = coverage.by_kind[Kind.KNOWLEDGE]
    assert (knowledge.total, knowledge.at_least(Status.EVIDENCED), knowledge.at_least(Status.MET)) == (2, 2, 1)
    assert knowledge.fraction(Status.ACCEPTED) == 0.5
    assert coverage.by_kind[Kind.BEHAVIOURS].fraction(Status.EVIDENCED) == 0.0
    assert coverage.by_area[(Kind.SKILLS, "Handling")].percent(Status.ACCEPTED) == 100


def test_st0396_areas_and_kinds_add_up():
    st = shipped_standard("ST0396")
    statuses = {c.code: Status.EVIDENCED for c in st if c.number % 2 == 0}
    statuses.update({"S1": Status.MET, "S3": Status.ACCEPTED})
    coverage = roll_up(st, statuses)
    assert coverage.overall.at_least(Status.EVIDENCED) == 10 + 9 + 5 + 2
    assert sum(t.total for t in coverage.by_area.values()) == 49
    for kind in Kind:
        in_kind = [t for (k, _), t in coverage.by_area.items() if k is kind]
        assert sum(t.at_least(Status.EVIDENCED) for t in in_kind) == coverage.by_kind[kind].at_least(Status.EVIDENCED)
    coordination = coverage.by_area[(Kind.SKILLS, "Project Coordination")]
    assert coordination.exactly[Status.MET] == 1 and coordination.at_least(Status.EVIDENCED) == 4
    assert coordination.percent(Status.ACCEPTED) == 50
    assert coverage.by_kind[Kind.SKILLS].percent(Status.EVIDENCED) == 61  # 11 of 18, rounded down


def test_percent_rounds_down_so_100_means_all():
    st = shipped_standard("ST0396")
    statuses = {c.code: Status.ACCEPTED for c in st}
    statuses["B11"] = Status.NONE
    assert roll_up(st, statuses).overall.percent(Status.ACCEPTED) == 97


def test_codes_of_another_standard_are_refused():
    with pytest.raises(ValueError, match="not criteria of ST0396: K99"):
        roll_up(shipped_standard("ST0396"), {"K99": Status.MET})
