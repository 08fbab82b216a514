"""The cohort table's figures, filters, sorts and boundaries, for a small hand-built cohort
(tests/portfolio/cohort/cohort_world.py; the dates below are counted from TODAY)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portfolio.cohort.queries import CohortFilters, CohortSort, cohort_options, cohort_page, cohort_rows
from portfolio.core.domain import DomainError
from portfolio.evidence.items import criterion_statuses
from portfolio.extensions import db
from portfolio.models import (
    EnrolmentStatus,
    Role,
)
from standard import Status, roll_up

from .cohort_world import build_cohort

pytestmark = pytest.mark.one_transaction  # stays on db.session: rolled back, not emptied

TODAY = date(2026, 2, 20)


@pytest.fixture
def cohort(world):
    return build_cohort(world)


def _rows(user, filters=None, sort=CohortSort.APPRENTICE, **kwargs):
    page = cohort_page(db.session, user, filters or CohortFilters(), sort, today=TODAY, per_page=50, **kwargs)
    return page.items


def _names(user, **kwargs) -> list[str]:
    return [row.apprentice_name for row in _rows(user, **kwargs)]


def test_figures_of_each_row(cohort):
    rows = {row.apprentice_name: row for row in _rows(cohort["priya"])}
    assert list(rows) == ["Alice Archer", "Ben Baker", "Cara Clay", "Dev Dunn"]

    alice = rows["Alice Archer"]
    # Evidence: K1 S4 K2 B1, accepted K1 K2; judged met K2 S4 B5.
    assert (alice.criteria_total, alice.evidenced, alice.accepted, alice.met) == (49, 5, 4, 3)
    assert alice.awaiting_review == 1
    assert (alice.otj_logged, alice.otj_approved, alice.otj_planned) == (Decimal("6.75"), Decimal("3.50"), 375)
    # 172 of 361 days gone: 375 x 172 / 361 = 178.67 hours expected by now.
    assert alice.otj_expected == Decimal("178.67") and alice.otj_behind
    assert alice.last_review == date(2025, 11, 30)
    assert alice.next_review_due == date(2026, 2, 28)  # 30 November + 3 months, clamped
    assert not alice.review_overdue
    assert (alice.employer_name, alice.tutor_name, alice.status) == (
        "Harbourside Museum",
        "Priya Natarajan",
        EnrolmentStatus.ON_PROGRAMME,
    )

    ben = rows["Ben Baker"]
    assert (ben.evidenced, ben.accepted, ben.met, ben.awaiting_review) == (0, 0, 0, 0)
    assert (ben.otj_logged, ben.otj_approved) == (Decimal("0.00"), Decimal("0.00"))
    assert ben.otj_expected == Decimal("100.18") and ben.otj_behind  # 400 x 137 / 547
    assert ben.last_review is None
    assert ben.next_review_due == date(2025, 12, 29)  # no review yet: 12 weeks after the start
    assert ben.review_overdue

    cara = rows["Cara Clay"]
    assert (cara.evidenced, cara.accepted, cara.awaiting_review) == (7, 6, 2)
    assert cara.otj_expected == Decimal("300.00")  # the planned end has passed: all of it
    # At gateway: no reviews due and no pace to keep.
    assert cara.next_review_due is None and not cara.review_overdue and not cara.otj_behind

    dev = rows["Dev Dunn"]
    assert dev.tutor_name is None
    assert dev.otj_expected == Decimal("66.58") and not dev.otj_behind  # 300 x 81 / 365
    assert dev.next_review_due == date(2026, 3, 1) and not dev.review_overdue


def test_coverage_counts_agree_with_the_enrolment_dashboard(cohort):
    rows = {row.enrolment_id: row for row in _rows(cohort["priya"])}
    for name in ("alice", "ben", "cara", "dev"):
        enrolment = cohort[name]
        tally = roll_up(enrolment.standard_version.standard, criterion_statuses(db.session, enrolment)).overall
        row = rows[enrolment.id]
        assert (row.criteria_total, row.evidenced, row.accepted, row.met) == (
            tally.total,
            tally.at_least(Status.EVIDENCED),
            tally.at_least(Status.ACCEPTED),
            tally.at_least(Status.MET),
        ), name


def test_review_is_overdue_only_after_the_day_it_is_due(cohort):
    on_the_day = cohort_page(
        db.session, cohort["priya"], CohortFilters(), CohortSort.APPRENTICE, today=date(2026, 2, 28)
    )
    alice = next(r for r in on_the_day.items if r.apprentice_name == "Alice Archer")
    assert not alice.review_overdue
    next_day = cohort_page(db.session, cohort["priya"], CohortFilters(), CohortSort.APPRENTICE, today=date(2026, 3, 1))
    alice = next(r for r in next_day.items if r.apprentice_name == "Alice Archer")
    assert alice.review_overdue


@pytest.mark.parametrize(
    ("sort", "descending", "expected"),
    [
        (CohortSort.APPRENTICE, False, ["Alice Archer", "Ben Baker", "Cara Clay", "Dev Dunn"]),
        (CohortSort.APPRENTICE, True, ["Dev Dunn", "Cara Clay", "Ben Baker", "Alice Archer"]),
        (CohortSort.START_DATE, False, ["Cara Clay", "Alice Archer", "Ben Baker", "Dev Dunn"]),
        (CohortSort.START_DATE, True, ["Dev Dunn", "Ben Baker", "Alice Archer", "Cara Clay"]),
        # Least covered first; Ben and Dev tie at nothing and go by name.
        (CohortSort.COVERAGE, False, ["Ben Baker", "Dev Dunn", "Alice Archer", "Cara Clay"]),
        (CohortSort.COVERAGE, True, ["Cara Clay", "Alice Archer", "Ben Baker", "Dev Dunn"]),
        (CohortSort.AWAITING_REVIEW, None, ["Cara Clay", "Alice Archer", "Ben Baker", "Dev Dunn"]),
        (CohortSort.AWAITING_REVIEW, False, ["Ben Baker", "Dev Dunn", "Alice Archer", "Cara Clay"]),
        # Furthest behind first: Alice 171.92 hours, Ben 100.18; Dev is ahead; Cara is not training.
        (CohortSort.OTJ_BEHIND, None, ["Alice Archer", "Ben Baker", "Dev Dunn", "Cara Clay"]),
        (CohortSort.OTJ_BEHIND, False, ["Dev Dunn", "Ben Baker", "Alice Archer", "Cara Clay"]),
        # Soonest due first; Alice's 28 February comes before Dev's 1 March only if SQL clamps too.
        (CohortSort.NEXT_REVIEW, None, ["Ben Baker", "Alice Archer", "Dev Dunn", "Cara Clay"]),
        (CohortSort.NEXT_REVIEW, True, ["Dev Dunn", "Alice Archer", "Ben Baker", "Cara Clay"]),
    ],
)
def test_each_sort(cohort, sort, descending, expected):
    assert _names(cohort["priya"], sort=sort, descending=descending) == expected


def test_sorting_happens_before_paging(cohort):
    pages = [
        cohort_page(
            db.session, cohort["priya"], CohortFilters(), CohortSort.NEXT_REVIEW, today=TODAY, page=n, per_page=3
        )
        for n in (1, 2, 3)
    ]
    assert [p.total for p in pages] == [4, 4, 4] and pages[0].pages == 2
    assert [r.apprentice_name for r in pages[0].items] == ["Ben Baker", "Alice Archer", "Dev Dunn"]
    assert [r.apprentice_name for r in pages[1].items] == ["Cara Clay"]
    assert pages[2].items == []


@pytest.mark.parametrize("sort", list(CohortSort))
@pytest.mark.parametrize("descending", [False, True])
def test_pages_of_one_row_add_up_to_the_whole_table(cohort, sort, descending):
    whole = _names(cohort["priya"], sort=sort, descending=descending)
    pages = [
        cohort_page(
            db.session, cohort["priya"], CohortFilters(), sort, descending=descending, today=TODAY, page=n, per_page=1
        ).items
        for n in range(1, 5)
    ]
    assert [page[0].apprentice_name for page in pages] == whole
    for page in pages:  # the figures of a row do not depend on the page it is on
        assert page == [row for row in _rows(cohort["priya"], sort=sort) if row.enrolment_id == page[0].enrolment_id]


def test_filters(cohort):
    priya = cohort["priya"]
    assert _names(priya, filters=CohortFilters(employer_id=cohort["museum"].id)) == [
        "Alice Archer",
        "Cara Clay",
        "Dev Dunn",
    ]
    assert _names(priya, filters=CohortFilters(tutor_id=cohort["tom"].id)) == ["Ben Baker"]
    assert _names(priya, filters=CohortFilters(status=EnrolmentStatus.AT_GATEWAY)) == ["Cara Clay"]
    assert _names(priya, filters=CohortFilters(search="ben")) == ["Ben Baker"]
    assert _names(priya, filters=CohortFilters(search="%")) == []  # a wildcard is just a character
    combined = CohortFilters(employer_id=cohort["museum"].id, tutor_id=priya.id, search="a")
    assert _names(priya, filters=combined) == ["Alice Archer", "Cara Clay"]


def test_csv_rows_are_the_table_in_order(cohort):
    rows = list(
        cohort_rows(db.session, cohort["priya"], CohortFilters(), CohortSort.OTJ_BEHIND, descending=None, today=TODAY)
    )
    assert rows == _rows(cohort["priya"], sort=CohortSort.OTJ_BEHIND)


def test_an_employer_sees_only_their_organisations_apprentices(cohort):
    helen = cohort["helen"]
    assert _names(helen) == ["Alice Archer", "Cara Clay", "Dev Dunn"]
    assert _names(helen, filters=CohortFilters(employer_id=cohort["theatre"].id)) == []
    assert _names(cohort["gareth"]) == ["Ben Baker"]
    options = cohort_options(db.session, helen)
    assert options.employers == [] and [name for _, name in options.tutors] == ["Priya Natarajan"]


def test_filter_options_of_a_tutor(cohort):
    options = cohort_options(db.session, cohort["priya"])
    assert [name for _, name in options.employers] == ["Harbourside Museum", "Larkfield Playhouse"]
    assert [name for _, name in options.tutors] == ["Priya Natarajan", "Tom Whitlock"]


@pytest.mark.parametrize("role", [Role.ASSESSOR, Role.APPRENTICE, Role.ADMIN])
def test_other_roles_are_refused(cohort, world, role):
    organisation = {Role.ASSESSOR: world.epao(), Role.APPRENTICE: cohort["museum"]}.get(role, world.provider())
    user = world.user(role, organisation)
    with pytest.raises(DomainError):
        cohort_page(db.session, user, CohortFilters(), CohortSort.APPRENTICE, today=TODAY)
    with pytest.raises(DomainError):
        cohort_rows(db.session, user, CohortFilters(), CohortSort.APPRENTICE, today=TODAY)
    with pytest.raises(DomainError):
        cohort_options(db.session, user)


def test_a_deactivated_tutor_is_refused(cohort):
    cohort["priya"].active = False
    with pytest.raises(DomainError):
        cohort_page(db.session, cohort["priya"], CohortFilters(), CohortSort.APPRENTICE, today=TODAY)
