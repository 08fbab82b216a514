"""The reminders: who is told of what, once per occasion, by email where they asked for it; the
job's queries do not grow with the number of apprenticeships, and two runs at once tell nobody twice."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from funding_rules import add_calendar_months
from portfolio.core.clock import ENGLAND
from portfolio.core.wording import long_date
from portfolio.extensions import db
from portfolio.gateway.domain import sign_declaration
from portfolio.models import Notification, OtjStatus, OutboxMessage, ReviewInterval, ReviewSignature, Role
from portfolio.models.notifications import Delivery
from portfolio.models.types import utcnow
from portfolio.notifications.kinds import Kind
from portfolio.reminders.domain import ReminderSettings, send_reminders
from standard import Signer
from tests.helpers import run_jobs

from ..conftest import counting_queries
from ..gateway_world import START, TODAY, accept, approved_hours, ready_enrolment, review, sign_all

SETTINGS = ReminderSettings()
DAY = timedelta(days=1)


@pytest.fixture
def app_config(mail_config):
    return mail_config


@pytest.fixture(autouse=True)
def mail_sent_before_the_database_is_emptied(app):
    yield
    run_jobs(app)


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def send(today: date = TODAY, now: datetime | None = None) -> Counter[Kind]:
    return send_reminders(db.session, SETTINGS, today=today, now=now or noon(today))


def told(kind: Kind, enrolment=None) -> list[Notification]:
    """The reminders of `kind`; of a signature, not the asks its record sent as it was made or signed."""
    statement = select(Notification).where(Notification.kind == kind.value).order_by(Notification.id)
    if kind is Kind.SIGNATURE_AWAITED:
        statement = statement.where(Notification.occasion.startswith("signature-awaited:"))
    if enrolment is not None:
        statement = statement.where(Notification.enrolment_id == enrolment.id)
    return list(db.session.scalars(statement))


def ids(*people) -> set[int]:
    return {person.id for person in people}


def told_ids(kind: Kind, enrolment=None) -> set[int]:
    return {notification.user_id for notification in told(kind, enrolment)}


@pytest.fixture
def cast(world):
    """An apprenticeship 80 days in with a 12-week review interval (due in 4 days) and no training
    logged, its people and colleagues; and one elsewhere, 10 days in."""
    provider, employer = world.provider("Northgate Arts Training"), world.employer("Harbourside Museum")
    tutor = world.user(Role.TUTOR, provider, name="Priya Natarajan", email="priya@northgate.test")
    mentor = world.user(Role.EMPLOYER, employer, name="Helen Osei", email="helen@harbourside.test")
    start = TODAY - 80 * DAY
    enrolment = world.enrolment(
        employer=employer, provider=provider, tutor=tutor, mentor=mentor, start=start,
        planned_end_date=start + 365 * DAY, planned_otj_hours=375,
    )  # fmt: skip
    enrolment.review_interval = ReviewInterval.TWELVE_WEEKS
    other_provider, other_employer = world.provider("Elsewhere College"), world.employer("Larkfield Playhouse")
    elsewhere = world.enrolment(
        employer=other_employer, provider=other_provider, tutor=world.user(Role.TUTOR, other_provider),
        mentor=world.user(Role.EMPLOYER, other_employer), start=TODAY - 10 * DAY,
    )  # fmt: skip
    cast = SimpleNamespace(
        provider=provider,
        employer=employer,
        enrolment=enrolment,
        apprentice=enrolment.apprentice,
        tutor=tutor,
        mentor=mentor,
        other_tutor=world.user(Role.TUTOR, provider),  # not this apprentice's tutor
        colleague=world.user(Role.EMPLOYER, employer),  # not this apprentice's mentor
        admin=world.user(Role.ADMIN, provider, email="admin@northgate.test"),
        elsewhere=elsewhere,
        other_admin=world.user(Role.ADMIN, other_provider),
    )
    db.session.commit()
    return cast


def parties(cast) -> set[int]:
    return ids(cast.apprentice, cast.mentor, cast.tutor)


# Progress reviews -------------------------------------------------------------------------------


def test_a_review_due_within_seven_days_then_overdue_is_told_to_the_three_parties_once(app, cast, smtp_server):
    enrolment, due = cast.enrolment, cast.enrolment.start_date + timedelta(weeks=12)
    assert due == TODAY + 4 * DAY
    assert send(TODAY - 4 * DAY)[Kind.REVIEW_DUE] == 0  # due in 8 days: not yet
    assert send()[Kind.REVIEW_DUE] == 3
    assert told_ids(Kind.REVIEW_DUE) == parties(cast)  # not the colleagues, nobody elsewhere
    notice = told(Kind.REVIEW_DUE)[0]
    assert notice.link == f"/enrolments/{enrolment.id}/reviews"
    assert notice.title == f"The progress review of {cast.apprentice.name} is due on {long_date(due)}"
    assert notice.occasion == f"review-due:{enrolment.id}:{due}"
    assert send(TODAY + DAY)[Kind.REVIEW_DUE] == 0  # the same occasion
    assert send(due)[Kind.REVIEW_OVERDUE] == 0  # due today: not overdue yet
    assert send(due + DAY)[Kind.REVIEW_OVERDUE] == 3
    assert told_ids(Kind.REVIEW_OVERDUE) == parties(cast)
    assert send(due + 8 * DAY)[Kind.REVIEW_OVERDUE] == 0

    run_jobs(app)
    subjects = sorted(message["Subject"] for message in smtp_server.to("helen@harbourside.test"))
    assert "A progress review is due soon" in subjects and "A progress review is overdue" in subjects
    assert smtp_server.to(cast.colleague.email) == []


def test_a_review_signed_by_all_three_makes_a_new_due_date_a_new_occasion(cast):
    assert send()[Kind.REVIEW_DUE] == 3
    held = TODAY + 2 * DAY
    everyone = {Signer.APPRENTICE: cast.apprentice, Signer.EMPLOYER: cast.mentor, Signer.PROVIDER: cast.tutor}
    review(cast.enrolment, cast.tutor, held, everyone)
    db.session.commit()
    next_due = held + timedelta(weeks=12)
    assert send(held)[Kind.REVIEW_DUE] == 0
    send(next_due - 7 * DAY)
    assert {n.occasion for n in told(Kind.REVIEW_DUE, cast.enrolment)} == {
        f"review-due:{cast.enrolment.id}:{TODAY + 4 * DAY}",
        f"review-due:{cast.enrolment.id}:{next_due}",
    }


# Signatures -------------------------------------------------------------------------------------


def test_a_review_unsigned_for_over_seven_days_reminds_each_party_still_to_sign_once_a_week(cast):
    now = noon(TODAY)
    waiting = review(cast.enrolment, cast.tutor, TODAY - 9 * DAY, {Signer.PROVIDER: cast.tutor})
    waiting.created_at = now - 8 * DAY
    recent = review(cast.elsewhere, cast.elsewhere.tutor, TODAY - 6 * DAY, {})
    recent.created_at = now - 6 * DAY  # not yet a week
    db.session.commit()
    assert send(now=now)[Kind.SIGNATURE_AWAITED] == 2
    assert told_ids(Kind.SIGNATURE_AWAITED) == ids(cast.apprentice, cast.mentor)  # not the one recorded 6 days ago
    assert {n.link for n in told(Kind.SIGNATURE_AWAITED)} == {f"/enrolments/{cast.enrolment.id}/reviews/{waiting.id}"}

    def reminders() -> int:
        return len(told(Kind.SIGNATURE_AWAITED, cast.enrolment))

    send(now=now + 3 * DAY)
    assert reminders() == 2  # the same week of waiting
    send(now=now + 6 * DAY)
    assert reminders() == 4  # 14 days: the second week
    waiting.signatures.append(ReviewSignature(signer=Signer.EMPLOYER, user=cast.mentor))
    db.session.commit()
    send(now=now + 13 * DAY)
    assert reminders() == 5  # the third week: the apprentice only
    assert told_ids(Kind.SIGNATURE_AWAITED, cast.enrolment) == ids(cast.apprentice, cast.mentor)


def test_a_gateway_declaration_awaited_for_over_seven_days_reminds_the_parties_still_to_sign(world):
    gateway = ready_enrolment(world)
    colleague = world.user(Role.EMPLOYER, gateway.mentor.organisation)
    signed = sign_declaration(db.session, gateway.enrolment, by=gateway.apprentice, today=TODAY)
    signed.signed_at = utcnow() - 8 * DAY
    recent = ready_enrolment(world)
    sign_declaration(db.session, recent.enrolment, by=recent.apprentice, today=TODAY).signed_at = utcnow() - 6 * DAY
    db.session.commit()
    assert send(now=utcnow())[Kind.SIGNATURE_AWAITED] == 2
    assert told_ids(Kind.SIGNATURE_AWAITED) == ids(gateway.mentor, gateway.tutor)
    assert colleague.id not in told_ids(Kind.SIGNATURE_AWAITED)
    assert {n.link for n in told(Kind.SIGNATURE_AWAITED)} == {f"/enrolments/{gateway.enrolment.id}/gateway"}
    assert send(now=utcnow())[Kind.SIGNATURE_AWAITED] == 0
    sign_declaration(db.session, gateway.enrolment, by=gateway.mentor, today=TODAY)
    db.session.commit()
    send(now=utcnow() + 7 * DAY)
    # The second week since the apprentice signed: the tutor only.
    reminded = Counter(n.user_id for n in told(Kind.SIGNATURE_AWAITED, gateway.enrolment))
    assert reminded == {gateway.mentor.id: 1, gateway.tutor.id: 2}


def test_declarations_out_of_date_are_told_to_those_who_signed_once_per_change(world):
    gateway = ready_enrolment(world)
    sign_all(gateway)
    db.session.commit()
    assert send()[Kind.DECLARATIONS_OUT_OF_DATE] == 0
    accept(world.evidence(gateway.enrolment, title="Late evaluation"), gateway.tutor)
    db.session.commit()
    assert send()[Kind.DECLARATIONS_OUT_OF_DATE] == 3
    assert told_ids(Kind.DECLARATIONS_OUT_OF_DATE) == ids(*gateway.signers)
    assert send()[Kind.DECLARATIONS_OUT_OF_DATE] == 0
    sign_declaration(db.session, gateway.enrolment, by=gateway.mentor, today=TODAY)
    accept(world.evidence(gateway.enrolment, title="Second evaluation"), gateway.tutor)
    db.session.commit()
    # Changed again: the mentor signed since the first change, so the mentor's is out of date too.
    assert send()[Kind.DECLARATIONS_OUT_OF_DATE] == 3
    sign_declaration(db.session, gateway.enrolment, by=gateway.mentor, today=TODAY)
    db.session.commit()
    assert send()[Kind.DECLARATIONS_OUT_OF_DATE] == 0  # nothing changed since the last one told


# Evidence waiting for review --------------------------------------------------------------------


def _submitted_at(item, day: date, hour: int) -> None:
    item.submitted_at = datetime.combine(day, time(hour), tzinfo=ENGLAND).astimezone(UTC)


def test_evidence_waiting_over_five_working_days_is_told_to_the_tutor_and_counted_for_the_admins(cast, world):
    tuesday = date(2026, 6, 9)
    late = world.evidence(cast.enrolment, title="Workshop plan")
    _submitted_at(late, date(2026, 6, 1), 17)  # Monday: six working days by Tuesday week
    on_time = world.evidence(cast.enrolment, title="Budget")
    _submitted_at(on_time, date(2026, 6, 2), 9)  # Tuesday: five, not more
    elsewhere = world.evidence(cast.elsewhere, title="Risk assessment")
    _submitted_at(elsewhere, date(2026, 5, 29), 12)
    db.session.commit()

    assert send(tuesday)[Kind.EVIDENCE_WAITING] == 4  # a tutor and the admins, here and elsewhere
    [to_tutor] = [n for n in told(Kind.EVIDENCE_WAITING) if n.user_id == cast.tutor.id]
    assert to_tutor.link == f"/enrolments/{cast.enrolment.id}/evidence/{late.id}"
    assert "“Workshop plan”" in to_tutor.title and "1 June 2026" in to_tutor.title
    [to_admin] = [n for n in told(Kind.EVIDENCE_WAITING) if n.user_id == cast.admin.id]
    assert to_admin.title == "1 evidence item has waited more than 5 working days for a tutor's review"
    assert told_ids(Kind.EVIDENCE_WAITING) == ids(cast.tutor, cast.admin, cast.elsewhere.tutor, cast.other_admin)
    assert send(tuesday)[Kind.EVIDENCE_WAITING] == 0

    assert send(tuesday + DAY)[Kind.EVIDENCE_WAITING] == 1  # the budget, to the tutor; the admins next week
    assert send(date(2026, 6, 15))[Kind.EVIDENCE_WAITING] == 2  # a new week: each provider's admins
    newest = told(Kind.EVIDENCE_WAITING)[-2:]
    assert {(n.user_id, n.title[:16]) for n in newest} == {
        (cast.admin.id, "2 evidence items"),
        (cast.other_admin.id, "1 evidence item "),
    }


def test_a_bank_holiday_is_not_a_working_day_of_waiting(cast, world):
    item = world.evidence(cast.enrolment)
    _submitted_at(item, date(2026, 5, 18), 10)  # Monday; the 25th is the spring bank holiday
    db.session.commit()
    assert send(date(2026, 5, 25))[Kind.EVIDENCE_WAITING] == 0  # Tue-Fri and a holiday: four working days
    assert send(date(2026, 5, 26))[Kind.EVIDENCE_WAITING] == 0  # five
    assert send(date(2026, 5, 27))[Kind.EVIDENCE_WAITING] == 2  # six: the tutor, and the admin


# Off-the-job training ----------------------------------------------------------------------------


def test_training_behind_pace_is_told_to_the_apprentice_and_the_tutor_once_a_month(cast, world):
    # 80 days of 365, 375 hours planned: 82.19 expected by now, none logged.
    start = cast.enrolment.start_date
    on_pace = world.enrolment(
        employer=cast.employer, provider=cast.provider, tutor=cast.tutor, start=start,
        planned_end_date=start + 365 * DAY, planned_otj_hours=375,
    )  # fmt: skip
    # 74 hours: less than 10% short of 82.19; the hours logged count, approved or not.
    for status in (OtjStatus.APPROVED, OtjStatus.APPROVED, OtjStatus.LOGGED, OtjStatus.QUERIED):
        approved_hours(on_pace, "18.5", status)
    db.session.commit()
    send()
    assert told_ids(Kind.OTJ_BEHIND, cast.enrolment) == ids(cast.apprentice, cast.tutor)
    assert told_ids(Kind.OTJ_BEHIND, on_pace) == set()
    [notice, _] = told(Kind.OTJ_BEHIND, cast.enrolment)
    assert notice.link == f"/enrolments/{cast.enrolment.id}/otj"
    assert "0 hours logged, 82.19 hours expected by now" in notice.title
    same_month = TODAY - DAY if TODAY.day > 1 else TODAY + DAY
    next_month = (TODAY.replace(day=1) + 32 * DAY).replace(day=1)
    send(same_month)
    assert len(told(Kind.OTJ_BEHIND, cast.enrolment)) == 2
    send(next_month)
    assert len(told(Kind.OTJ_BEHIND, cast.enrolment)) == 4


# The job as a whole -------------------------------------------------------------------------------


def _awaited_and_out_of_date(world, tutor, mentor, now) -> None:
    """Two apprenticeships: one ready whose apprentice signed eight days ago (the others awaited),
    with an older review unsigned for eight days; one whose declaration went out of date with
    evidence still waiting for review, behind pace. Both have reviews long overdue."""
    waiting = ready_enrolment(world, tutor=tutor, mentor=mentor)
    sign_declaration(db.session, waiting.enrolment, by=waiting.apprentice, today=TODAY).signed_at = now - 8 * DAY
    review(waiting.enrolment, tutor, add_calendar_months(START, 3), {}).created_at = now - 8 * DAY
    changed = ready_enrolment(world, tutor=tutor, mentor=mentor)
    sign_declaration(db.session, changed.enrolment, by=changed.apprentice, today=TODAY)
    world.evidence(changed.enrolment, title="Late evaluation").submitted_at = now - 30 * DAY
    changed.enrolment.planned_otj_hours = 400
    db.session.commit()


def test_the_job_takes_the_same_queries_for_two_apprenticeships_as_for_six(world):
    provider, employer = world.provider(), world.employer()
    tutor, mentor = world.user(Role.TUTOR, provider), world.user(Role.EMPLOYER, employer)
    world.user(Role.ADMIN, provider)
    now = utcnow()
    every_kind = [
        Kind.REVIEW_OVERDUE, Kind.SIGNATURE_AWAITED, Kind.DECLARATIONS_OUT_OF_DATE, Kind.EVIDENCE_WAITING,
        Kind.OTJ_BEHIND,
    ]  # fmt: skip
    _awaited_and_out_of_date(world, tutor, mentor, now)
    with counting_queries() as two:
        few = send(now=now)
    for _ in range(2):
        _awaited_and_out_of_date(world, tutor, mentor, now)
    with counting_queries() as six:
        many = send(now=now)
    assert all(few[kind] for kind in every_kind) and all(many[kind] for kind in every_kind), (few, many)
    assert many[Kind.OTJ_BEHIND] == 2 * few[Kind.OTJ_BEHIND]  # the new ones only
    assert two() == six()


def test_two_runs_at_once_tell_each_reminder_once(app, cast, world, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("two hosts at once: PostgreSQL's row locks (SQLite runs one writer at a time)")
    for _ in range(3):  # more reminders of every kind to race over
        world.enrolment(employer=cast.employer, provider=cast.provider, tutor=cast.tutor, mentor=cast.mentor,
                        start=cast.enrolment.start_date).review_interval = ReviewInterval.TWELVE_WEEKS  # fmt: skip
    db.session.commit()
    both = threading.Barrier(2)
    results: list[Counter[Kind]] = []

    def run() -> None:
        with app.app_context():
            both.wait()
            results.append(send())
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2
    written = db.session.scalar(select(func.count(Notification.id)))
    distinct = db.session.scalar(
        select(func.count()).select_from(select(Notification.user_id, Notification.occasion).distinct().subquery())
    )
    assert written == distinct == sum(results[0].values()) + sum(results[1].values())
    assert results[0][Kind.REVIEW_DUE] + results[1][Kind.REVIEW_DUE] == 12  # 4 apprenticeships, 3 people each
    emailed = db.session.scalar(select(func.count(Notification.id)).where(Notification.delivery == Delivery.EMAIL_NOW))
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == emailed


# The command ------------------------------------------------------------------------------------


def test_the_command_sends_the_reminders_due_now_and_says_how_many_of_each_kind(runner, cast):
    result = runner.invoke(args=["reminders", "send"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "Progress reviews due within 7 days: 3" in lines
    assert "Progress reviews overdue: 0" in lines
    # Both apprenticeships are behind pace: each apprentice and tutor.
    assert "Off-the-job training behind pace: 4" in lines
    written = db.session.scalar(select(func.count(Notification.id)))
    assert lines[-1] == f"{written} reminders sent"
    again = runner.invoke(args=["reminders", "send"])
    assert again.exit_code == 0 and again.output.splitlines()[-1] == "0 reminders sent"
