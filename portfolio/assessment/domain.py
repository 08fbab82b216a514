"""The assessment result: after the gateway to completion, an assessor of the enrolment's
assessment organisation (EPAO) records each attempt at the apprenticeship assessment.

An attempt gives every method of the standard's assessment plan a grade from that method's list,
with the date it was assessed, and the overall grade from the plan's overall list. Attempts are
numbered: the first, then, only after a failed attempt, a resit or a retake, at which a method
passed the time before may be carried over rather than reassessed. A passing overall grade
completes the apprenticeship. A recorded attempt is final: a mistake is corrected by an
administrator, outside these pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, false, select
from sqlalchemy.orm import Session, joinedload, selectinload

from standard import AssessmentPlan

from ..core import audit, clock
from ..core.access import visible_enrolments_clause
from ..core.domain import DomainError, lock_enrolment_for_change
from ..core.text import clean_text
from ..core.wording import long_date
from ..enrolments.domain import change_status
from ..gateway.domain import gateway_path, is_assessor_of
from ..models import (
    AssessmentAttempt,
    AssessmentMethodResult,
    AttemptKind,
    Enrolment,
    EnrolmentStatus,
    Role,
    User,
)
from ..models.types import MAX_NOTE
from ..notifications.domain import notify, people_of
from ..notifications.kinds import Kind

# The statuses in which an enrolment may have attempts to show: in assessment, and after it.
AFTER_GATEWAY = (EnrolmentStatus.IN_EPA, EnrolmentStatus.COMPLETED, EnrolmentStatus.WITHDRAWN)


@dataclass(frozen=True)
class MethodOutcome:
    """What the assessor gives one method: a grade (by its name in the plan) and the date it was
    assessed; grade None at a resit or retake carries over the pass of the attempt before."""

    grade: str | None
    assessed_on: date | None
    note: str = ""


def plan_of(enrolment: Enrolment) -> AssessmentPlan | None:
    """The assessment plan of the standard version the enrolment is pinned to, if it holds one."""
    return enrolment.standard_version.standard.assessment


def may_record(user: User, enrolment: Enrolment) -> bool:
    """An assessor of the enrolment's assessment organisation, while the apprentice is in assessment."""
    return is_assessor_of(user, enrolment) and enrolment.status is EnrolmentStatus.IN_EPA


def attempts_of(session: Session, enrolment: Enrolment) -> list[AssessmentAttempt]:
    """Every recorded attempt, oldest first, with its methods and who recorded it (two queries)."""
    return list(
        session.scalars(
            select(AssessmentAttempt)
            .where(AssessmentAttempt.enrolment_id == enrolment.id)
            .options(
                joinedload(AssessmentAttempt.recorded_by),
                joinedload(AssessmentAttempt.epao),
                selectinload(AssessmentAttempt.methods),
            )
            .order_by(AssessmentAttempt.number)
        )
    )


@dataclass(frozen=True)
class AssessmentOverview:
    """What the pages show of the result: the plan, the attempts so far and what comes next."""

    plan: AssessmentPlan | None
    attempts: list[AssessmentAttempt]  # oldest first

    @property
    def latest(self) -> AssessmentAttempt | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def passed(self) -> AssessmentAttempt | None:
        """The attempt that passed: the result, final."""
        return self.latest if self.latest and self.latest.passed else None

    @property
    def next_number(self) -> int:
        return len(self.attempts) + 1

    @property
    def carried(self) -> dict[str, AssessmentMethodResult]:
        """The methods passed at the latest (failed) attempt, by code: a resit or retake may keep them."""
        if self.latest is None or self.latest.passed:
            return {}
        return {result.method: result for result in self.latest.methods if result.passed}


def assessment_overview(session: Session, enrolment: Enrolment) -> AssessmentOverview:
    """The plan and the attempts; no query before the gateway to completion is passed."""
    attempts = attempts_of(session, enrolment) if enrolment.status in AFTER_GATEWAY else []
    return AssessmentOverview(plan_of(enrolment), attempts)


def record_result(
    session: Session,
    enrolment: Enrolment,
    *,
    by: User,
    attempt: int,
    kind: AttemptKind,
    methods: Mapping[str, MethodOutcome],
    grade: str,
    note: str = "",
    today: date | None = None,
) -> AssessmentAttempt:
    """Record attempt number `attempt` (the number the assessor's form was for): each method's
    outcome, by the method's code, and the overall grade. A pass completes the apprenticeship; a
    fail leaves it in assessment, for a resit or a retake."""
    if not is_assessor_of(by, enrolment):
        raise DomainError("Only an assessor of the apprenticeship's assessment organisation can record its result")
    lock_enrolment_for_change(session, enrolment)
    today = today or clock.today()
    attempts = attempts_of(session, enrolment)
    if 1 <= attempt <= len(attempts):
        # Someone else recorded it meanwhile (two assessors at once, or the form sent twice).
        earlier = attempts[attempt - 1]
        raise DomainError(
            f"Attempt {attempt} has already been recorded, by {earlier.recorded_by.name} on "
            f"{long_date(clock.day_of(earlier.recorded_at))}: {earlier.grade}. Nothing was changed: check the result "
            "on the gateway page"
        )
    if enrolment.status is not EnrolmentStatus.IN_EPA:
        raise DomainError(
            "A result can be recorded only while the apprentice is in assessment, after the gateway to completion; "
            f"this apprenticeship is {enrolment.status.label.lower()}"
        )
    plan = plan_of(enrolment)
    if plan is None:
        version = enrolment.standard_version
        raise DomainError(
            f"{version.reference} version {version.version} holds no assessment plan yet, so no result can be "
            "recorded: an administrator loads a version of the standard with its assessment methods and grades"
        )
    number = len(attempts) + 1
    if attempt != number:
        raise DomainError(f"The next attempt to record is attempt {number}: reload the page and try again")
    latest = attempts[-1] if attempts else None
    if latest is None and kind is not AttemptKind.FIRST:
        raise DomainError("The first attempt cannot be a resit or a retake", "kind")
    if latest is not None and kind is AttemptKind.FIRST:
        raise DomainError(f"Attempt {number} follows a failed attempt: choose a resit or a retake", "kind")
    carried = {r.method: r for r in latest.methods if r.passed} if latest else {}
    if unknown := sorted(set(methods) - {method.code for method in plan.methods}):
        raise DomainError(f"The assessment plan has no method {', '.join(unknown)}")
    rows = [_method_result(plan, code, methods.get(code), carried.get(code), enrolment, today) for code in _codes(plan)]
    overall = plan.grade(grade)
    if overall is None:
        raise DomainError(f"Choose the overall grade from the plan's: {_names(plan.grades)}", "grade")
    if overall.passed and plan.every_method_must_pass and (failed := [row.name for row in rows if not row.passed]):
        raise DomainError(
            f"An overall {overall.name.lower()} needs a pass in every method; not passed: {'; '.join(failed)}", "grade"
        )
    note = clean_text(note)
    if len(note) > MAX_NOTE:
        raise DomainError(f"The note must be {MAX_NOTE:,} characters or fewer", "note")
    recorded = AssessmentAttempt(
        enrolment=enrolment, number=number, kind=kind, epao_id=enrolment.epao_id, grade=overall.name,
        passed=overall.passed, note=note, recorded_by=by, methods=rows,
    )  # fmt: skip
    session.add(recorded)
    audit.record_change(
        "assessment.recorded",
        recorded,
        actor=by,
        after={
            "attempt": number,
            "kind": kind,
            "grade": overall.name,
            "passed": overall.passed,
            "methods": {row.method: [row.grade, row.assessed_on.isoformat(), row.carried_over] for row in rows},
        },
    )
    outcome = f"{overall.name} at attempt {number}"
    if overall.passed:
        change_status(session, enrolment, EnrolmentStatus.COMPLETED, by, f"Apprenticeship assessment: {outcome}")
    apprentice = enrolment.apprentice.name
    title = (
        f"{apprentice} has completed the apprenticeship: {outcome}"
        if overall.passed
        else f"{apprentice}'s apprenticeship assessment: {outcome}; a resit or retake can follow"
    )
    lines = [f"{row.name}: {row.grade}" + (" (carried over)" if row.carried_over else "") for row in rows]
    notify(
        session,
        people_of(session, enrolment, Role.APPRENTICE, Role.EMPLOYER, Role.TUTOR),
        Kind.ASSESSMENT_RESULT,
        title=title,
        body="\n".join(lines + ([f"Note from the assessor: {note}"] if note else [])),
        link=gateway_path(enrolment) + "#assessment-result",
        enrolment=enrolment,
        actor=by,
    )
    return recorded


def _codes(plan: AssessmentPlan) -> list[str]:
    return [method.code for method in plan.methods]


def _names(grades) -> str:
    return ", ".join(grade.name for grade in grades)


def _method_result(
    plan: AssessmentPlan,
    code: str,
    outcome: MethodOutcome | None,
    carried: AssessmentMethodResult | None,
    enrolment: Enrolment,
    today: date,
) -> AssessmentMethodResult:
    method = plan.method(code)
    assert method is not None
    if outcome is None or outcome.grade is None:
        if carried is None:
            raise DomainError(f"Choose the grade for “{method.name}”", f"grade_{code}")
        return AssessmentMethodResult(
            method=code, name=method.name, grade=carried.grade, passed=True, assessed_on=carried.assessed_on,
            carried_over=True, note="",
        )  # fmt: skip
    grade = method.grade(outcome.grade)
    if grade is None:
        raise DomainError(
            f"Choose the grade for “{method.name}” from the plan's: {_names(method.grades)}", f"grade_{code}"
        )
    if outcome.assessed_on is None:
        raise DomainError(f"Enter the date “{method.name}” was assessed", f"date_{code}")
    if outcome.assessed_on > today:
        raise DomainError(f"The date “{method.name}” was assessed must be today or in the past", f"date_{code}")
    if outcome.assessed_on < enrolment.start_date:
        raise DomainError(
            f"The date “{method.name}” was assessed must be after the start, {long_date(enrolment.start_date)}",
            f"date_{code}",
        )
    note = clean_text(outcome.note)
    if len(note) > MAX_NOTE:
        raise DomainError(f"The note must be {MAX_NOTE:,} characters or fewer", f"note_{code}")
    return AssessmentMethodResult(
        method=code, name=method.name, grade=grade.name, passed=grade.passed, assessed_on=outcome.assessed_on,
        carried_over=False, note=note,
    )  # fmt: skip


def awaiting_result_clause(user: User) -> ColumnElement[bool]:
    """Enrolments in assessment with the assessor's organisation: each waits for a result (a pass
    completes it). A WHERE clause on Enrolment."""
    if user.role is not Role.ASSESSOR or not user.is_active:
        return false()
    return (
        (Enrolment.epao_id == user.organisation_id)
        & (Enrolment.status == EnrolmentStatus.IN_EPA)
        & visible_enrolments_clause(user)
    )
