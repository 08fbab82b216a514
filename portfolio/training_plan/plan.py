"""The training plan, agreed before training by the apprentice, the employer and the tutor: the
planned off-the-job activities (what, from when to when, how many hours, for which criteria),
the English and maths decision (the enrolment's) and the plan for it, the assessment organisation
(the enrolment's; the funding rules want it recorded no later than some months before the planned
end), the progress review schedule, and the prior learning of the agreed skills scan.

The tutor writes the plan; a change after any signature makes a new version, to be signed again
(agreements.py). What the enrolment contributes (the assessment organisation, the English and
maths decision, the planned end and hours, the review interval, the agreed prior learning) is
part of what is signed, so a change to it means the plan must be changed, and signed, again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.orm import Session, object_session

from ..core import audit, clock, rules
from ..core.access import is_tutor_of
from ..core.domain import DomainError, lock_enrolment_for, required_text
from ..core.text import clean_text
from ..core.wording import CENT, hours_text, long_date
from ..enrolments.domain import MAXIMUM_OTJ_HOURS
from ..models import (
    AgreementSignature,
    Enrolment,
    PlannedActivity,
    ReviewInterval,
    SkillsScan,
    TrainingPlan,
    User,
)
from ..otj.domain import check_criteria
from ..progress_reviews.domain import add_interval, next_review_due, schedule_start
from . import agreements
from .agreements import OPEN_FOR_AGREEMENTS, DocumentKind
from .skills_scan import SKILLS_SCAN

MAX_DESCRIPTION = 2_000
MAX_ENGLISH_MATHS_PLAN = 10_000


# ---------------------------------------------------------------------------------------------
# Who may do what


def may_plan(user: User, enrolment: Enrolment) -> bool:
    """A tutor of the training provider writes the plan (the three parties sign it)."""
    return is_tutor_of(user, enrolment) and enrolment.status in OPEN_FOR_AGREEMENTS


# ---------------------------------------------------------------------------------------------
# Pure arithmetic


def planned_hours_by(activities: Iterable[tuple[date, date, Decimal]], on: date) -> Decimal:
    """The planned off-the-job hours of `activities` (first day, last day, hours) done by the end
    of `on`: each activity's hours spread evenly over its days, both ends included. To 2 places."""
    total = Decimal(0)
    for starts_on, ends_on, hours in activities:
        days = (ends_on - starts_on).days + 1
        done = min(max((on - starts_on).days + 1, 0), days)
        total += Decimal(hours) * done / days
    return total.quantize(CENT, ROUND_HALF_UP)


def epao_refusal(enrolment: Enrolment, today: date) -> str | None:
    """Why the plan cannot be signed without an assessment organisation: the planned end is
    the rules' months away, or less; None when one is recorded, or when there is still time."""
    if enrolment.epao_id is not None:
        return None
    funding = rules.rules_for(enrolment.start_date)
    needed_from = funding.epao_required_from(enrolment.planned_end_date)
    if today < needed_from:
        return None
    return (
        f"Record the assessment organisation (EPAO) before signing: {funding.name} want it recorded no later "
        f"than {funding.epao_months_before_end} months before the planned end, "
        f"{long_date(enrolment.planned_end_date)}, that is by {long_date(needed_from)}"
    )


def epao_needed_by(enrolment: Enrolment) -> date:
    """The day by which the rules want the assessment organisation recorded."""
    return rules.rules_for(enrolment.start_date).epao_required_from(enrolment.planned_end_date)


# ---------------------------------------------------------------------------------------------
# What the plan shows besides its activities, from the enrolment and the skills scan


@dataclass(frozen=True)
class PriorLearningResult:
    version: int  # of the agreed skills scan
    hours: int
    months: int


def prior_learning_result(session: Session, enrolment_id: int) -> PriorLearningResult | None:
    """The prior learning of the newest agreed skills scan, or None if no scan is agreed yet (one query)."""
    scan: SkillsScan | None = agreements.agreed_before(session, SKILLS_SCAN, enrolment_id)
    if scan is None:
        return None
    return PriorLearningResult(scan.number, scan.prior_learning_hours, scan.prior_learning_months)


@dataclass(frozen=True)
class PlanFacts:
    """What a version of the plan shows from the enrolment: as signed, for an agreed version (from
    the content its signatures were given), or as the record holds them now, for one that is not."""

    english_maths_route: str
    english_maths_label: str
    english_maths_decided_on: date | None
    english_maths_agreed_by: str
    assessment_organisation: str | None
    planned_end: date
    planned_otj_hours: int
    review_interval: ReviewInterval
    prior_learning: PriorLearningResult | None
    signed_on: datetime | None = None  # when it was agreed, if these are as signed

    @property
    def as_signed(self) -> bool:
        return self.signed_on is not None


def facts_now(enrolment: Enrolment, prior: PriorLearningResult | None) -> PlanFacts:
    return PlanFacts(
        english_maths_route=enrolment.english_maths_route,
        english_maths_label=enrolment.english_maths_label,
        english_maths_decided_on=enrolment.english_maths_decided_on,
        english_maths_agreed_by=enrolment.english_maths_agreed_by,
        assessment_organisation=enrolment.epao.name if enrolment.epao else None,
        planned_end=enrolment.planned_end_date,
        planned_otj_hours=enrolment.planned_otj_hours,
        review_interval=enrolment.review_interval,
        prior_learning=prior,
    )


def facts_signed(enrolment: Enrolment, content: dict[str, Any], signed_on: datetime) -> PlanFacts:
    """The facts from a signature's content (`snapshot`'s values read back from JSON)."""
    english_maths = content["english_and_maths"]
    prior = content["prior_learning"]
    decided_on = english_maths["decided_on"]
    return PlanFacts(
        english_maths_route=english_maths["route"],
        english_maths_label=enrolment.english_maths_label_of(english_maths["route"]),
        english_maths_decided_on=date.fromisoformat(decided_on) if decided_on else None,
        english_maths_agreed_by=english_maths["agreed_by"],
        assessment_organisation=content["assessment_organisation"],
        planned_end=date.fromisoformat(content["planned_end"]),
        planned_otj_hours=int(content["planned_otj_hours"]),
        review_interval=ReviewInterval(content["review_interval"]),
        prior_learning=PriorLearningResult(prior["scan"], prior["hours"], prior["months"]) if prior else None,
        signed_on=signed_on,
    )


def shown_facts(plan: TrainingPlan | None, enrolment: Enrolment, prior_now: PriorLearningResult | None) -> PlanFacts:
    """The facts a version shows: as signed if it is agreed (and its signed content can be read),
    else as the enrolment holds them now."""
    content = agreements.agreed_content(plan) if plan is not None else None
    if plan is not None and plan.agreed_at is not None and content is not None:
        try:
            return facts_signed(enrolment, content, plan.agreed_at)
        except (KeyError, TypeError, ValueError):
            pass  # content changed out of shape: the fingerprint checks show it; show the record now
    return facts_now(enrolment, prior_now)


def review_dates(enrolment: Enrolment, last_complete: date | None, count: int = 4) -> list[date]:
    """The next `count` progress reviews due by the schedule, none after the planned end but the
    first (from the progress reviews' own arithmetic)."""
    due = next_review_due(schedule_start(enrolment), last_complete, enrolment.review_interval)
    dates = [due]
    while len(dates) < count:
        due = add_interval(due, enrolment.review_interval)
        if due > enrolment.planned_end_date:
            break
        dates.append(due)
    return dates


def total_hours(plan: TrainingPlan) -> Decimal:
    return sum((Decimal(a.hours) for a in plan.activities), Decimal(0)).quantize(CENT)


def hours_warning(plan: TrainingPlan, planned_otj_hours: int | None = None) -> str | None:
    """A warning (not a refusal) when the activities' hours differ from the planned off-the-job
    hours (the enrolment's now, unless given: those signed)."""
    planned_hours = plan.enrolment.planned_otj_hours if planned_otj_hours is None else planned_otj_hours
    total, planned = total_hours(plan), Decimal(planned_hours)
    if total == planned:
        return None
    difference = abs(total - planned)
    side = "fewer" if total < planned else "more"
    return (
        f"The planned activities add up to {hours_text(total)}, {hours_text(difference)} {side} than the "
        f"apprenticeship's planned off-the-job hours ({hours_text(planned)})"
    )


# ---------------------------------------------------------------------------------------------
# The document, as the shared mechanism sees it


def snapshot(plan: TrainingPlan) -> dict[str, Any]:
    """Exactly what the parties sign: the activities, the English and maths decision and plan, the
    assessment organisation, the planned end and hours, the review interval and the prior learning."""
    enrolment = plan.enrolment
    session = object_session(plan)
    prior = prior_learning_result(session, enrolment.id) if session is not None else None
    return {
        "document": "training_plan",
        "enrolment": plan.enrolment_id,
        "version": plan.number,
        "activities": [
            {
                "description": a.description,
                "starts_on": a.starts_on,
                "ends_on": a.ends_on,
                "hours": f"{Decimal(a.hours).quantize(CENT)}",
                "criteria": a.criteria,
            }
            for a in plan.activities
        ],
        "english_and_maths": {
            "route": enrolment.english_maths_route,
            "decided_on": enrolment.english_maths_decided_on,
            "agreed_by": enrolment.english_maths_agreed_by,
            "plan": plan.english_maths_plan,
        },
        "assessment_organisation": enrolment.epao.name if enrolment.epao else None,
        "planned_end": enrolment.planned_end_date,
        "planned_otj_hours": enrolment.planned_otj_hours,
        "review_interval": enrolment.review_interval,
        "prior_learning": {"scan": prior.version, "hours": prior.hours, "months": prior.months} if prior else None,
    }


def not_ready(plan: TrainingPlan) -> str | None:
    if not plan.activities:
        return "Add the planned off-the-job activities before the plan is signed"
    return epao_refusal(plan.enrolment, clock.today())


def status_text(plan: TrainingPlan | None) -> str:
    if plan is None:
        return "Not started"
    if plan.agreed_at is not None:
        return "Agreed"
    if not plan.activities:
        return "Awaiting the planned activities"
    if epao_refusal(plan.enrolment, clock.today()):
        return "Awaiting the assessment organisation"
    return "Awaiting signatures"


def _copy(plan: TrainingPlan, by: User) -> TrainingPlan:
    copied = TrainingPlan(enrolment=plan.enrolment, created_by=by, english_maths_plan=plan.english_maths_plan)
    for a in plan.activities:
        copied.activities.append(
            PlannedActivity(
                enrolment_id=plan.enrolment_id,
                description=a.description,
                starts_on=a.starts_on,
                ends_on=a.ends_on,
                hours=a.hours,
                criteria=a.criteria,
            )
        )
    return copied


def _on_agreed(session: Session, plan: TrainingPlan, by: User) -> None:
    """Agreeing the plan changes nothing else: the OTJ page reads the agreed plan's activities."""


TRAINING_PLAN = DocumentKind(
    model=TrainingPlan,
    name="training plan",
    action="training_plan",
    path="training-plan",
    snapshot=snapshot,
    not_ready=not_ready,
    copy=_copy,
    on_agreed=_on_agreed,
)


# ---------------------------------------------------------------------------------------------
# Changes


@dataclass(frozen=True)
class ActivityDetails:
    description: str
    starts_on: date | None
    ends_on: date | None
    hours: Decimal | None
    criteria: Sequence[str] = ()


def _checked(enrolment: Enrolment, details: ActivityDetails) -> tuple[str, date, date, Decimal, str]:
    description = required_text(
        details.description,
        maximum=MAX_DESCRIPTION,
        missing="Describe the activity",
        called="The description",
        field="description",
    )
    starts_on, ends_on = details.starts_on, details.ends_on
    if not isinstance(starts_on, date):
        raise DomainError("Enter the date the activity starts", "starts_on")
    if not isinstance(ends_on, date):
        raise DomainError("Enter the date the activity ends", "ends_on")
    if starts_on < enrolment.start_date:
        raise DomainError(
            f"The activity must start on or after the start of the apprenticeship, {long_date(enrolment.start_date)}",
            "starts_on",
        )
    if ends_on > enrolment.planned_end_date:
        raise DomainError(
            f"The activity must end on or before the planned end, {long_date(enrolment.planned_end_date)}", "ends_on"
        )
    if ends_on < starts_on:
        raise DomainError("The activity must end on or after the day it starts", "ends_on")
    hours = details.hours
    if not isinstance(hours, Decimal) or not hours.is_finite():
        raise DomainError("Enter the hours as a number, like 7.5", "hours")
    if hours <= 0 or hours > MAXIMUM_OTJ_HOURS:
        raise DomainError(f"The hours must be more than 0 and at most {MAXIMUM_OTJ_HOURS:,}", "hours")
    if hours != hours.quantize(CENT):
        raise DomainError("The hours can have at most 2 decimal places, like 7.25", "hours")
    criteria = check_criteria(details.criteria, enrolment.standard_version.standard)
    return description, starts_on, ends_on, hours.quantize(CENT), criteria


def _audited(plan: TrainingPlan) -> dict[str, Any]:
    return {
        "version": plan.number,
        "english_maths_plan": plan.english_maths_plan,
        "activities": [
            [a.description, a.starts_on, a.ends_on, f"{Decimal(a.hours).quantize(CENT)}", a.criteria]
            for a in plan.activities
        ],
    }


def _version_for_change(session: Session, enrolment: Enrolment, by: User) -> TrainingPlan:
    """The plan a change goes into, the enrolment locked first: the current draft, or a new version."""
    lock_enrolment_for(session, enrolment, by, may_plan, "Only a tutor of the training provider can change the plan")
    return agreements.version_for_change(
        session, TRAINING_PLAN, enrolment, by=by, new=lambda: TrainingPlan(enrolment=enrolment, created_by=by)
    )


def _activity_index(session: Session, enrolment: Enrolment, activity_id: int) -> int:
    """Where the activity is in the current version (read under the enrolment's lock)."""
    current = agreements.current_version(session, TRAINING_PLAN, enrolment.id)
    index = next((i for i, a in enumerate(current.activities) if a.id == activity_id), None) if current else None
    if index is None:
        raise DomainError("The training plan changed since you opened it: this activity is not on its current version")
    return index


def add_activity(session: Session, enrolment: Enrolment, *, by: User, details: ActivityDetails) -> PlannedActivity:
    description, starts_on, ends_on, hours, criteria = _checked(enrolment, details)
    plan = _version_for_change(session, enrolment, by)
    activity = PlannedActivity(
        enrolment_id=enrolment.id,
        description=description,
        starts_on=starts_on,
        ends_on=ends_on,
        hours=hours,
        criteria=criteria,
    )
    with audit.recording("training_plan.activity_added", plan, actor=by, values=_audited):
        plan.activities.append(activity)
    agreements.ask_for_signatures(session, TRAINING_PLAN, plan, by=by)
    return activity


def update_activity(
    session: Session, enrolment: Enrolment, activity_id: int, *, by: User, details: ActivityDetails
) -> PlannedActivity:
    description, starts_on, ends_on, hours, criteria = _checked(enrolment, details)
    lock_enrolment_for(session, enrolment, by, may_plan, "Only a tutor of the training provider can change the plan")
    index = _activity_index(session, enrolment, activity_id)
    plan = _version_for_change(session, enrolment, by)
    activity = plan.activities[index]
    with audit.recording("training_plan.activity_changed", plan, actor=by, values=_audited):
        activity.description, activity.starts_on, activity.ends_on = description, starts_on, ends_on
        activity.hours, activity.criteria = hours, criteria
    agreements.ask_for_signatures(session, TRAINING_PLAN, plan, by=by)
    return activity


def remove_activity(session: Session, enrolment: Enrolment, activity_id: int, *, by: User) -> TrainingPlan:
    lock_enrolment_for(session, enrolment, by, may_plan, "Only a tutor of the training provider can change the plan")
    index = _activity_index(session, enrolment, activity_id)
    plan = _version_for_change(session, enrolment, by)
    with audit.recording("training_plan.activity_removed", plan, actor=by, values=_audited):
        del plan.activities[index]
    agreements.ask_for_signatures(session, TRAINING_PLAN, plan, by=by)
    return plan


def set_english_maths_plan(session: Session, enrolment: Enrolment, *, by: User, text: str) -> TrainingPlan:
    """The plan for English and maths, in words. Saved unchanged on a signed plan, it makes a new
    version: the way to have a plan signed again after the enrolment's part of it changed."""
    text = clean_text(text)
    if len(text) > MAX_ENGLISH_MATHS_PLAN:
        raise DomainError(
            f"The plan for English and maths must be {MAX_ENGLISH_MATHS_PLAN:,} characters or fewer",
            "english_maths_plan",
        )
    plan = _version_for_change(session, enrolment, by)
    with audit.recording("training_plan.english_maths_planned", plan, actor=by, values=_audited):
        plan.english_maths_plan = text
    agreements.ask_for_signatures(session, TRAINING_PLAN, plan, by=by)
    return plan


def sign_plan(session: Session, plan: TrainingPlan, *, by: User, seen: str) -> AgreementSignature:
    return agreements.sign(session, TRAINING_PLAN, plan, by=by, seen=seen)
