"""Off-the-job training: the pace arithmetic (pure) and the domain functions, with a session."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portfolio.core.domain import DomainError
from portfolio.core.wording import hours_text
from portfolio.enrolments.domain import change_status
from portfolio.extensions import db
from portfolio.models import EnrolmentStatus, OtjActivity, OtjEntry, OtjStatus, Role
from portfolio.otj.chart import otj_chart, y_scale_top
from portfolio.otj.domain import (
    OtjDetails,
    OtjHours,
    approve_entries,
    approve_entry,
    delete_entry,
    enrolment_otj_summary,
    entries_to_approve_count,
    expected_hours,
    log_entry,
    otj_hours_by_enrolment,
    otj_summary,
    pace_text,
    queried_entries_count,
    query_entry,
    summary_text,
    update_entry,
)

pytestmark = pytest.mark.one_transaction  # stays on db.session: rolled back, not emptied

START, END = date(2025, 9, 1), date(2026, 9, 1)  # 365 days
TODAY = date(2025, 11, 15)  # 75 days in
D = Decimal


# ---------------------------------------------------------------------------------------------
# Pure arithmetic


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (date(2025, 8, 1), D("0.00")),  # before the start
        (START, D("0.00")),
        (date(2025, 9, 2), D("1.03")),  # 375 / 365 = 1.0274
        (TODAY, D("77.05")),  # 375 x 75 / 365 = 77.0548
        (date(2026, 3, 2), D("186.99")),  # 375 x 182 / 365 = 186.9863
        (END, D("375.00")),
        (date(2027, 1, 1), D("375.00")),  # capped at the plan
    ],
)
def test_expected_hours_spreads_the_plan_over_the_practical_period(on, expected):
    assert expected_hours(375, START, END, on) == expected


def test_expected_hours_of_an_empty_period():
    assert expected_hours(100, START, START, START) == D("0.00")
    assert expected_hours(100, START, START, date(2025, 9, 2)) == D("100.00")


def _entries():
    return [
        OtjHours(date(2025, 9, 10), D("6"), approved=True),
        OtjHours(date(2025, 9, 20), D("7.5"), approved=False),
        OtjHours(date(2025, 10, 5), D("3.25"), approved=True),
        OtjHours(date(2025, 11, 1), D("2"), approved=False),
    ]


def test_summary_totals_pace_and_ahead_or_behind():
    summary = otj_summary(375, START, END, _entries(), TODAY)
    assert (summary.planned, summary.logged, summary.approved) == (D("375.00"), D("18.75"), D("9.25"))
    assert summary.awaiting == D("9.50")
    assert summary.expected == D("77.05")
    assert summary.ahead_by == D("-58.30")
    assert summary.approved_ahead_by == D("-67.80")
    assert pace_text(summary) == "58.3 hours behind the expected pace"


def test_summary_ahead_of_pace():
    summary = otj_summary(375, START, END, [OtjHours(date(2025, 9, 2), D("20"), True)], date(2025, 9, 11))
    assert summary.expected == D("10.27")  # 375 x 10 / 365 = 10.274
    assert summary.ahead_by == D("9.73")
    assert pace_text(summary) == "9.73 hours ahead of the expected pace"


def test_summary_by_month_is_cumulative_and_stops_at_today():
    summary = otj_summary(375, START, END, _entries(), TODAY)
    months = summary.months
    assert [m.month for m in months][:3] == [date(2025, 9, 1), date(2025, 10, 1), date(2025, 11, 1)]
    assert len(months) == 13  # September 2025 to September 2026
    september, october, november, december = months[:4]
    assert (september.until, september.logged, september.approved, september.expected) == (
        date(2025, 9, 30), D("13.50"), D("6.00"), D("29.79")  # 375 x 29 / 365 = 29.795
    )  # fmt: skip
    assert (october.until, october.logged, october.approved, october.expected) == (
        date(2025, 10, 31), D("16.75"), D("9.25"), D("61.64")  # 375 x 60 / 365 = 61.644
    )  # fmt: skip
    # The current month runs to today.
    assert (november.until, november.logged, november.approved, november.expected) == (
        TODAY, D("18.75"), D("9.25"), D("77.05")
    )  # fmt: skip
    # Months to come carry only the plan.
    assert december.is_future and december.logged is None and december.approved is None
    assert december.expected == D("124.32")  # 375 x 121 / 365 = 124.315
    assert months[-1].until == date(2026, 9, 30) and months[-1].expected == D("375.00")


def test_summary_runs_on_past_the_planned_end_when_training_does():
    late = OtjHours(date(2026, 11, 3), D("4"), False)
    summary = otj_summary(375, START, END, [late], date(2026, 11, 20))
    assert summary.months[-1].month == date(2026, 11, 1)
    assert summary.months[-1].logged == D("4.00")
    assert summary.expected == D("375.00")
    assert summary.ahead_by == D("-371.00")


def test_summary_with_no_entries_and_exactly_on_pace():
    summary = otj_summary(375, START, END, [], START)
    assert summary.logged == summary.approved == summary.expected == D("0.00")
    assert pace_text(summary) == "exactly on the expected pace"


@pytest.mark.parametrize(
    ("hours", "text"),
    [(D("1"), "1 hour"), (D("7.5"), "7.5 hours"), (D("12"), "12 hours"), (D("0.25"), "0.25 hours"),
     (D("1000"), "1,000 hours"), (D("-3.5"), "-3.5 hours")],
)  # fmt: skip
def test_hours_in_words(hours, text):
    assert hours_text(hours) == text


def test_summary_text_for_a_review_record():
    summary = otj_summary(375, START, END, _entries(), TODAY)
    assert summary_text(summary) == (
        "18.75 hours logged, 9.25 hours approved, of 375 hours planned. "
        "Expected by 15 November 2025: 77.05 hours; logged hours are 58.3 hours behind the expected pace."
    )


@pytest.mark.parametrize(
    ("largest", "top"), [(0, (10, 2)), (7, (8, 2)), (375, (400, 100)), (375.5, (400, 100)), (1234, (1250, 250))]
)
def test_y_scale_has_round_steps(largest, top):
    assert y_scale_top(largest) == top


def test_chart_points():
    summary = otj_summary(375, START, END, _entries(), TODAY)
    chart = otj_chart(summary)
    # The hours axis reaches 400 in steps of 100; the plot is 260 units high (32 to 292).
    assert [t.label for t in chart.y_ticks] == ["0", "100", "200", "300", "400"]
    assert chart.expected.points[0] == chart.logged.points[0] == (64, 292)
    # 13 months of plan; the logged and approved lines stop at today (3 months).
    assert len(chart.expected.points) == 14 and len(chart.logged.points) == len(chart.approved.points) == 4
    span = (date(2026, 9, 30) - START).days
    x, y = chart.logged.points[-1]
    assert x == pytest.approx(64 + 640 * 75 / span) and y == pytest.approx(292 - 260 * 18.75 / 400)
    assert chart.expected.points[-1] == (pytest.approx(704), pytest.approx(292 - 260 * 375 / 400))
    assert chart.today_x == pytest.approx(x)
    assert chart.x_ticks[0].label == "Sep" and chart.x_ticks[0].second_line == "2025"
    assert chart.x_ticks[4].label == "Jan" and chart.x_ticks[4].second_line == "2026"


# ---------------------------------------------------------------------------------------------
# Domain functions


@pytest.fixture
def enrolment(world):
    return world.enrolment(start=START, planned_end_date=END, planned_otj_hours=375)


@pytest.fixture
def tutor(world, enrolment):
    return world.user(Role.TUTOR, enrolment.provider)


def details(**overrides) -> OtjDetails:
    values = dict(
        activity_date=date(2025, 10, 6),
        hours=D("3.5"),
        activity=OtjActivity.TAUGHT_SESSION,
        learning="Safeguarding children and adults at risk.",
        criteria=("K10", "B4"),
    )
    values.update(overrides)
    return OtjDetails(**values)


def _count() -> int:
    return db.session.scalar(select(func.count(OtjEntry.id)))


def test_log_an_entry(enrolment):
    entry = log_entry(db.session, enrolment=enrolment, by=enrolment.apprentice, details=details(), today=TODAY)
    assert entry.status is OtjStatus.LOGGED and entry.hours == D("3.50")
    assert entry.criteria == "K10 B4" and entry.codes == ["K10", "B4"]
    # Codes are kept once each, in the standard's order.
    entry = log_entry(
        db.session, enrolment=enrolment, by=enrolment.apprentice,
        details=details(criteria=["B4", "K1", "B4"], hours=D("24"), learning="  Padded.  "), today=TODAY,
    )  # fmt: skip
    assert entry.criteria == "K1 B4" and entry.hours == D("24.00") and entry.learning == "Padded."
    assert log_entry(
        db.session, enrolment=enrolment, by=enrolment.apprentice, details=details(hours=D("1.500")), today=TODAY
    ).hours == D("1.50")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"hours": D("0")}, "hours", "The hours must be more than 0"),
        ({"hours": D("-2")}, "hours", "The hours must be more than 0"),
        ({"hours": D("25")}, "hours", "An entry can be at most 24 hours"),
        ({"hours": D("24.01")}, "hours", "An entry can be at most 24 hours"),
        ({"hours": D("1.555")}, "hours", "at most 2 decimal places"),
        ({"hours": D("NaN")}, "hours", "Enter the hours as a number"),
        ({"hours": D("Infinity")}, "hours", "Enter the hours as a number"),
        ({"activity_date": date(2025, 11, 16)}, "activity_date", "today or in the past"),
        (
            {"activity_date": date(2025, 8, 31)},
            "activity_date",
            "on or after the start of the apprenticeship, 1 September 2025",
        ),
        ({"criteria": ("K1", "K99")}, "criteria", "K99 is not a criterion of ST0396"),
        ({"learning": "x" * 2001}, "learning", "2,000 characters or fewer"),
        ({"learning": "   "}, "learning", "Say what you learnt"),
    ],
)
def test_bad_entries_are_refused_and_nothing_is_saved(enrolment, overrides, field, message):
    with pytest.raises(DomainError) as caught:
        log_entry(db.session, enrolment=enrolment, by=enrolment.apprentice, details=details(**overrides), today=TODAY)
    assert caught.value.field == field and message in caught.value.message
    db.session.rollback()
    assert _count() == 0


def test_boundaries_are_accepted(enrolment):
    for overrides in (
        {"activity_date": START},
        {"activity_date": TODAY},
        {"learning": "x" * 2000},
        {"hours": D("0.01")},
    ):
        log_entry(db.session, enrolment=enrolment, by=enrolment.apprentice, details=details(**overrides), today=TODAY)
    assert _count() == 4


def test_only_the_apprentice_logs_and_only_while_on_programme(world, enrolment, tutor):
    employer_user = world.user(Role.EMPLOYER, enrolment.employer)
    other_apprentice = world.enrolment().apprentice
    for user in (tutor, employer_user, other_apprentice):
        with pytest.raises(DomainError, match="cannot log training"):
            log_entry(db.session, enrolment=enrolment, by=user, details=details(), today=TODAY)
    change_status(db.session, enrolment, EnrolmentStatus.AT_GATEWAY, None)
    with pytest.raises(DomainError, match="cannot log training"):
        log_entry(db.session, enrolment=enrolment, by=enrolment.apprentice, details=details(), today=TODAY)


def test_edit_and_delete_until_approved(enrolment, tutor):
    apprentice = enrolment.apprentice
    entry = log_entry(db.session, enrolment=enrolment, by=apprentice, details=details(), today=TODAY)
    update_entry(db.session, entry, by=apprentice, details=details(hours=D("2.25"), criteria=()), today=TODAY)
    assert entry.hours == D("2.25") and entry.criteria == "" and entry.status is OtjStatus.LOGGED

    query_entry(db.session, entry, by=tutor, note="Was this in work time?")
    assert entry.status is OtjStatus.QUERIED and entry.query_note == "Was this in work time?"
    assert entry.reviewed_by == tutor
    # Editing a queried entry sends it back for approval.
    update_entry(db.session, entry, by=apprentice, details=details(hours=D("2")), today=TODAY)
    assert entry.status is OtjStatus.LOGGED and entry.hours == D("2.00")

    approve_entry(db.session, entry, by=tutor)
    assert entry.status is OtjStatus.APPROVED and entry.reviewed_by == tutor and entry.reviewed_at is not None
    with pytest.raises(DomainError, match="Approved training cannot be changed"):
        update_entry(db.session, entry, by=apprentice, details=details(hours=D("9")), today=TODAY)
    assert entry.hours == D("2.00")
    with pytest.raises(DomainError, match="Approved training cannot be changed"):
        delete_entry(db.session, entry, by=apprentice)
    with pytest.raises(DomainError):
        query_entry(db.session, entry, by=tutor, note="Second thoughts")

    other = log_entry(db.session, enrolment=enrolment, by=apprentice, details=details(), today=TODAY)
    delete_entry(db.session, other, by=apprentice)
    assert _count() == 1


def test_only_a_tutor_of_the_provider_approves_or_queries(world, enrolment, tutor):
    entry = log_entry(db.session, enrolment=enrolment, by=enrolment.apprentice, details=details(), today=TODAY)
    outsiders = [
        enrolment.apprentice,
        world.user(Role.EMPLOYER, enrolment.employer),
        world.user(Role.TUTOR, world.provider()),  # another provider
        world.user(Role.ADMIN, enrolment.provider),
    ]
    for user in outsiders:
        with pytest.raises(DomainError, match="Only a tutor of the training provider"):
            approve_entry(db.session, entry, by=user)
        with pytest.raises(DomainError, match="Only a tutor of the training provider"):
            query_entry(db.session, entry, by=user, note="Why?")
        with pytest.raises(DomainError, match="Only a tutor of the training provider"):
            approve_entries(db.session, enrolment, [entry.id], by=user)
    assert entry.status is OtjStatus.LOGGED
    # The tutor cannot change the apprentice's entry either.
    with pytest.raises(DomainError, match="cannot change this entry"):
        update_entry(db.session, entry, by=tutor, details=details(), today=TODAY)


def test_a_query_needs_a_note(enrolment, tutor):
    entry = log_entry(db.session, enrolment=enrolment, by=enrolment.apprentice, details=details(), today=TODAY)
    for note, message in (("  ", "Say what needs checking"), ("x" * 2001, "2,000 characters or fewer")):
        with pytest.raises(DomainError, match=message) as caught:
            query_entry(db.session, entry, by=tutor, note=note)
        assert caught.value.field == "note"
    assert entry.status is OtjStatus.LOGGED


def test_approve_several_entries_at_once(world, enrolment, tutor):
    apprentice = enrolment.apprentice
    entries = [
        log_entry(db.session, enrolment=enrolment, by=apprentice, details=details(), today=TODAY) for _ in range(4)
    ]
    approve_entry(db.session, entries[0], by=tutor)
    query_entry(db.session, entries[1], by=tutor, note="Which session?")
    stranger = log_entry(
        db.session, enrolment=(other := world.enrolment(provider=enrolment.provider, start=START)),
        by=other.apprentice, details=details(), today=TODAY,
    )  # fmt: skip
    # Entries already approved, and entries of another enrolment, are left alone.
    assert approve_entries(db.session, enrolment, [e.id for e in entries] + [stranger.id], by=tutor) == 3
    assert {e.status for e in entries} == {OtjStatus.APPROVED}
    assert stranger.status is OtjStatus.LOGGED
    with pytest.raises(DomainError, match="Choose the entries to approve"):
        approve_entries(db.session, enrolment, [], by=tutor)


def test_summary_from_the_database(enrolment, tutor):
    apprentice = enrolment.apprentice
    for day, hours in ((date(2025, 9, 10), "6"), (date(2025, 9, 20), "7.5"), (date(2025, 10, 5), "3.25"),
                       (date(2025, 11, 1), "2"), (date(2025, 11, 1), "0.1"), (date(2025, 11, 1), "0.2")):  # fmt: skip
        log_entry(
            db.session,
            enrolment=enrolment,
            by=apprentice,
            details=details(activity_date=day, hours=D(hours)),
            today=TODAY,
        )
    entries = db.session.scalars(select(OtjEntry).order_by(OtjEntry.id)).all()
    approve_entry(db.session, entries[0], by=tutor)
    approve_entry(db.session, entries[2], by=tutor)
    query_entry(db.session, entries[3], by=tutor, note="Which day?")
    db.session.commit()
    summary = enrolment_otj_summary(db.session, enrolment, TODAY)
    assert (summary.logged, summary.approved, summary.expected) == (D("19.05"), D("9.25"), D("77.05"))
    assert summary.ahead_by == D("-58.00")
    assert summary == otj_summary(
        375, START, END,
        [OtjHours(e.activity_date, e.hours, e.status is OtjStatus.APPROVED) for e in entries], TODAY,
    )  # fmt: skip
    assert otj_hours_by_enrolment(db.session, [enrolment.id, 999_999]) == {enrolment.id: (D("19.05"), D("9.25"))}


def test_entries_to_approve_count(world, enrolment, tutor):
    apprentice = enrolment.apprentice
    colleague = world.user(Role.TUTOR, enrolment.provider)
    enrolment.tutor = tutor
    entries = [
        log_entry(db.session, enrolment=enrolment, by=apprentice, details=details(), today=TODAY) for _ in range(5)
    ]
    approve_entry(db.session, entries[0], by=tutor)
    query_entry(db.session, entries[1], by=tutor, note="Which session?")
    withdrawn = world.enrolment(provider=enrolment.provider, start=START)
    log_entry(db.session, enrolment=withdrawn, by=withdrawn.apprentice, details=details(), today=TODAY)
    change_status(db.session, withdrawn, EnrolmentStatus.WITHDRAWN, None)
    db.session.commit()
    assert entries_to_approve_count(db.session, tutor) == 3
    assert entries_to_approve_count(db.session, tutor, assigned_only=True) == 3
    assert entries_to_approve_count(db.session, colleague) == 3
    assert entries_to_approve_count(db.session, colleague, assigned_only=True) == 0
    assert entries_to_approve_count(db.session, world.user(Role.TUTOR, world.provider())) == 0
    assert entries_to_approve_count(db.session, apprentice) == 0
    assert entries_to_approve_count(db.session, world.user(Role.ADMIN, enrolment.provider)) == 0


def test_deciding_twice_is_refused_with_a_message(enrolment, tutor):
    entry = log_entry(db.session, enrolment=enrolment, by=enrolment.apprentice, details=details(), today=TODAY)
    approve_entry(db.session, entry, by=tutor)
    with pytest.raises(DomainError, match="This entry is already approved"):
        approve_entry(db.session, entry, by=tutor)
    with pytest.raises(DomainError, match="An entry that is approved cannot be queried"):
        query_entry(db.session, entry, by=tutor, note="Hm")


def test_queried_entries_count(world, enrolment, tutor):
    apprentice = enrolment.apprentice
    entries = [
        log_entry(db.session, enrolment=enrolment, by=apprentice, details=details(), today=TODAY) for _ in range(3)
    ]
    query_entry(db.session, entries[0], by=tutor, note="Which day?")
    query_entry(db.session, entries[1], by=tutor, note="Which session?")
    db.session.commit()
    assert queried_entries_count(db.session, apprentice) == 2
    assert queried_entries_count(db.session, world.enrolment().apprentice) == 0
    assert queried_entries_count(db.session, tutor) == 0


def test_a_long_period_labels_every_other_month_and_each_year_once():
    summary = otj_summary(600, date(2025, 1, 15), date(2027, 1, 15), [], date(2025, 6, 1))
    chart = otj_chart(summary)
    assert len(summary.months) == 25
    labels = [(t.label, t.second_line) for t in chart.x_ticks]
    assert labels[:7] == [
        ("Jan", "2025"),
        ("Mar", ""),
        ("May", ""),
        ("Jul", ""),
        ("Sep", ""),
        ("Nov", ""),
        ("Jan", "2026"),
    ]
    assert labels[-1] == ("Jan", "2027")
    assert [t.label for t in chart.y_ticks] == ["0", "100", "200", "300", "400", "500", "600"]
