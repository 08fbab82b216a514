"""Recording the assessment result: who may, when, on which grades, numbered attempts, and what
a pass and a fail do to the apprenticeship."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portfolio.assessment.domain import MethodOutcome, assessment_overview, record_result
from portfolio.core.domain import DomainError
from portfolio.enrolments.standard_versions import store_standard
from portfolio.extensions import db
from portfolio.models import (
    AssessmentAttempt,
    AttemptKind,
    AuditEvent,
    EnrolmentStatus,
    EnrolmentStatusChange,
    Notification,
    Role,
)
from standard import shipped_path

from ..gateway_world import TODAY, ready_enrolment
from .assessment_world import ASSESSED_ON, assessed, graded, into_assessment

__all__ = ["assessed"]

FIRST = AttemptKind.FIRST


def record(gateway, *grades, overall="Pass", attempt=1, kind=FIRST, by=None, **more) -> AssessmentAttempt:
    return record_result(
        db.session, gateway.enrolment, by=by or gateway.assessor, attempt=attempt, kind=kind,
        methods=graded(*grades), grade=overall, today=TODAY, **more,
    )  # fmt: skip


def refused(action) -> DomainError:
    with pytest.raises(DomainError) as caught:
        action()
    db.session.rollback()
    return caught.value


def count(model, **where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).filter_by(**where)) or 0


def test_a_pass_completes_the_apprenticeship_with_its_history_audit_and_notices(assessed):
    recorded = record(assessed, "Pass", "Distinction", overall="Distinction", note="A confident discussion.")
    db.session.commit()
    enrolment = assessed.enrolment
    assert enrolment.status is EnrolmentStatus.COMPLETED
    assert (recorded.number, recorded.kind, recorded.grade, recorded.passed) == (1, FIRST, "Distinction", True)
    assert [(m.method, m.grade, m.passed, m.assessed_on, m.carried_over) for m in recorded.methods] == [
        ("method_1", "Pass", True, ASSESSED_ON, False),
        ("method_2", "Distinction", True, ASSESSED_ON, False),
    ]
    assert recorded.epao_id == enrolment.epao_id and recorded.recorded_by == assessed.assessor
    change = db.session.scalars(
        select(EnrolmentStatusChange).where(EnrolmentStatusChange.enrolment_id == enrolment.id)
        .order_by(EnrolmentStatusChange.id.desc())
    ).first()  # fmt: skip
    assert (change.from_status, change.to_status) == (EnrolmentStatus.IN_EPA, EnrolmentStatus.COMPLETED)
    assert change.note == "Apprenticeship assessment: Distinction at attempt 1"
    after = json.loads(db.session.scalar(select(AuditEvent.after).where(AuditEvent.action == "assessment.recorded")))
    assert after["grade"] == "Distinction" and after["methods"]["method_2"][0] == "Distinction"
    told = db.session.scalars(select(Notification).where(Notification.kind == "assessment_result")).all()
    assert sorted(n.user_id for n in told) == sorted(
        u.id for u in (assessed.apprentice, assessed.mentor, assessed.tutor)
    )
    assert told[0].title.endswith("has completed the apprenticeship: Distinction at attempt 1")
    assert "Assessment method 2 (to be completed from ST0396/AP01): Distinction" in told[0].body
    # Final: nothing more can be recorded.
    error = refused(lambda: record(assessed, "Pass", "Pass", attempt=2, kind=AttemptKind.RESIT))
    assert "only while the apprentice is in assessment" in error.message and "completed" in error.message


def test_a_fail_leaves_the_apprentice_in_assessment_for_a_resit_or_retake(assessed):
    record(assessed, "Pass", "Fail", overall="Fail")
    db.session.commit()
    assert assessed.enrolment.status is EnrolmentStatus.IN_EPA
    told = db.session.scalars(select(Notification).where(Notification.kind == "assessment_result")).first()
    assert "Fail at attempt 1; a resit or retake can follow" in told.title
    overview = assessment_overview(db.session, assessed.enrolment)
    assert overview.next_number == 2 and overview.passed is None and list(overview.carried) == ["method_1"]
    # The next attempt is a resit or a retake, never a first attempt.
    error = refused(lambda: record(assessed, "Pass", "Pass", attempt=2, kind=FIRST))
    assert (error.field, error.message) == ("kind", "Attempt 2 follows a failed attempt: choose a resit or a retake")
    # The method failed the time before must be reassessed; the one passed may be carried over.
    error = refused(lambda: record(assessed, "Pass", None, attempt=2, kind=AttemptKind.RESIT))
    assert error.field == "grade_method_2"
    resit = record(assessed, None, "Pass", attempt=2, kind=AttemptKind.RESIT)
    db.session.commit()
    assert (resit.number, resit.kind, resit.passed) == (2, AttemptKind.RESIT, True)
    kept = resit.methods[0]
    assert (kept.grade, kept.assessed_on, kept.carried_over) == ("Pass", ASSESSED_ON, True)
    assert assessed.enrolment.status is EnrolmentStatus.COMPLETED
    assert [a.number for a in assessment_overview(db.session, assessed.enrolment).attempts] == [1, 2]


def test_a_retake_after_two_fails_is_attempt_three(assessed):
    record(assessed, "Fail", "Fail", overall="Fail")
    record(assessed, "Pass", "Fail", overall="Fail", attempt=2, kind=AttemptKind.RESIT)
    third = record(assessed, None, "Pass", attempt=3, kind=AttemptKind.RETAKE)
    assert (third.number, third.kind, third.methods[0].carried_over) == (3, AttemptKind.RETAKE, True)


def test_the_first_attempt_is_not_a_resit(assessed):
    error = refused(lambda: record(assessed, "Pass", "Pass", kind=AttemptKind.RESIT))
    assert error.field == "kind" and count(AssessmentAttempt) == 0


def test_grades_come_from_the_plan(assessed):
    error = refused(lambda: record(assessed, "Merit", "Pass"))
    assert error.field == "grade_method_1"
    assert "from the plan's: Fail, Pass, Distinction" in error.message
    error = refused(lambda: record(assessed, "Pass", "Pass", overall="Outstanding"))
    assert (error.field, error.message) == (
        "grade",
        "Choose the overall grade from the plan's: Fail, Pass, Distinction",
    )
    error = refused(lambda: record(assessed, None, "Pass"))  # nothing to carry over at the first attempt
    assert error.field == "grade_method_1"
    error = refused(
        lambda: record_result(
            db.session,
            assessed.enrolment,
            by=assessed.assessor,
            attempt=1,
            kind=FIRST,
            methods=graded("Pass", "Pass") | {"interview": MethodOutcome("Pass", ASSESSED_ON)},
            grade="Pass",
        )  # fmt: skip
    )
    assert error.message == "The assessment plan has no method interview"
    assert count(AssessmentAttempt) == 0


def test_an_overall_pass_needs_a_pass_in_every_method_where_the_plan_says_so(assessed):
    error = refused(lambda: record(assessed, "Pass", "Fail", overall="Pass"))
    assert error.field == "grade" and error.message.startswith("An overall pass needs a pass in every method")
    assert assessed.enrolment.status is EnrolmentStatus.IN_EPA


def test_each_method_needs_a_real_date(assessed):
    for day, words in ((None, "Enter the date"), (TODAY + timedelta(days=1), "today or in the past")):
        error = refused(
            lambda day=day: record_result(
                db.session,
                assessed.enrolment,
                by=assessed.assessor,
                attempt=1,
                kind=FIRST,
                methods=graded("Pass", "Pass", on=day),
                grade="Pass",
                today=TODAY,
            )  # fmt: skip
        )
        assert error.field == "date_method_1" and words in error.message


def test_only_an_assessor_of_the_enrolments_assessment_organisation_records(world, assessed):
    other_epao = world.user(Role.ASSESSOR, world.epao())
    for user in (
        assessed.tutor,
        assessed.mentor,
        assessed.apprentice,
        other_epao,
        world.user(Role.ADMIN, world.provider()),
    ):
        error = refused(lambda user=user: record(assessed, "Pass", "Pass", by=user))
        assert error.message.startswith("Only an assessor of the apprenticeship's assessment organisation")
    assert count(AssessmentAttempt) == 0


def test_only_after_the_gateway_to_completion(world):
    gateway = ready_enrolment(world)
    db.session.commit()
    error = refused(lambda: record(gateway, "Pass", "Pass"))
    assert "only while the apprentice is in assessment" in error.message and "on programme" in error.message


def test_an_attempt_recorded_meanwhile_is_not_recorded_again(world, assessed):
    colleague = world.user(Role.ASSESSOR, assessed.enrolment.epao, name="Priya Nair")
    record(assessed, "Pass", "Fail", overall="Fail", by=colleague)
    db.session.commit()
    error = refused(lambda: record(assessed, "Pass", "Pass"))  # the form was for attempt 1 too
    assert error.message.startswith("Attempt 1 has already been recorded, by Priya Nair on ")
    assert error.message.endswith(": Fail. Nothing was changed: check the result on the gateway page")
    assert count(AssessmentAttempt) == 1
    error = refused(lambda: record(assessed, None, "Pass", attempt=5, kind=AttemptKind.RESIT))
    assert error.message == "The next attempt to record is attempt 2: reload the page and try again"


def test_a_standard_without_an_assessment_plan_has_no_result_recording(world):
    text = shipped_path("ST0396").read_text(encoding="utf-8").split("\n# The assessment plan's methods")[0] + "\n"
    version, _ = store_standard(db.session, text.replace('version: "1.0"', 'version: "0.9"'))
    assert version.standard.assessment is None
    gateway = into_assessment(world)
    gateway.enrolment.standard_version = version
    db.session.commit()
    error = refused(lambda: record(gateway, "Pass", "Pass"))
    assert error.message.startswith("ST0396 version 0.9 holds no assessment plan yet, so no result can be recorded")
