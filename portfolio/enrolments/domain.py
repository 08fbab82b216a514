"""Enrolling apprentices, editing enrolments and changing their status."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from funding_rules import add_calendar_months

from ..core import audit, rules
from ..core.domain import DomainError, lock_enrolment_for_change
from ..core.text import clean_line, clean_text
from ..core.wording import long_date
from ..models import (
    AgeBand,
    Enrolment,
    EnrolmentStatus,
    EnrolmentStatusChange,
    Organisation,
    OrganisationKind,
    Role,
    SkillsScan,
    StandardVersion,
    User,
)
from ..models.enrolments import ENGLISH_AND_MATHS_ROUTES

# The terms an administrator sets: people and organisations, and plain values.
TERM_PARTIES = ("provider", "epao", "mentor", "tutor")
TERM_VALUES = (
    "start_date",
    "planned_end_date",
    "planned_otj_hours",
    "age_band",
    "english_maths_route",
    "english_maths_decided_on",
    "english_maths_agreed_by",
    "minimum_months_override",
    "contracted_weekly_hours",
    "prior_learning_otj_hours",
    "duration_exception",
)

S = EnrolmentStatus
# Which status an enrolment may move to from each status.
STATUS_CHANGES: dict[EnrolmentStatus, tuple[EnrolmentStatus, ...]] = {
    S.ON_PROGRAMME: (S.BREAK_IN_LEARNING, S.AT_GATEWAY, S.WITHDRAWN),
    S.BREAK_IN_LEARNING: (S.ON_PROGRAMME, S.WITHDRAWN),
    S.AT_GATEWAY: (S.ON_PROGRAMME, S.IN_EPA, S.WITHDRAWN),
    S.IN_EPA: (S.COMPLETED, S.WITHDRAWN),
    S.COMPLETED: (),
    S.WITHDRAWN: (),
}
# Moves into and out of the gateway are the gateway's own (`gateway.submit_to_epao` and
# `gateway.decide_gateway`), so that each has its declarations, submission and decision.
GATEWAY_MOVES = frozenset({(S.ON_PROGRAMME, S.AT_GATEWAY), (S.AT_GATEWAY, S.ON_PROGRAMME), (S.AT_GATEWAY, S.IN_EPA)})
# A break and a return are recorded with their dates and reason (`breaks.start_break`, `end_break`).
BREAK_MOVES = frozenset({(S.ON_PROGRAMME, S.BREAK_IN_LEARNING), (S.BREAK_IN_LEARNING, S.ON_PROGRAMME)})
OPEN_STATUSES = (S.ON_PROGRAMME, S.BREAK_IN_LEARNING, S.AT_GATEWAY, S.IN_EPA)
MAXIMUM_OTJ_HOURS = 5000
MAXIMUM_WEEKLY_HOURS = 60


@dataclass(frozen=True)
class EnrolmentTerms:
    """What can be set on an enrolment after it is created."""

    provider: Organisation
    epao: Organisation | None
    mentor: User | None
    tutor: User | None
    start_date: date
    planned_end_date: date
    planned_otj_hours: int
    age_band: AgeBand
    english_maths_route: str
    english_maths_decided_on: date | None = None
    english_maths_agreed_by: str = ""
    minimum_months_override: int | None = None
    contracted_weekly_hours: Decimal | None = None
    prior_learning_otj_hours: int = 0
    duration_exception: str | None = None


def english_and_maths_routes(version: StandardVersion) -> dict[str, str]:
    """The routes an enrolment on this standard may take: the usual three plus the standard's alternatives."""
    routes = dict(ENGLISH_AND_MATHS_ROUTES)
    for alternative in version.standard.gateway.english_and_maths.alternatives:
        routes[alternative.code] = f"{alternative.requirement} ({alternative.applies_to.lower()})"
    return routes


def apprentices_free_to_enrol(session: Session) -> list[User]:
    """Active apprentices without an open enrolment, by name: the ones who may be enrolled now."""
    enrolled = select(Enrolment.apprentice_id).where(Enrolment.status.in_(OPEN_STATUSES))
    return list(
        session.scalars(
            select(User)
            .where(User.role == Role.APPRENTICE, User.active.is_(True), User.id.not_in(enrolled))
            .order_by(User.name, User.id)
        )
    )


def enrol(
    session: Session,
    *,
    apprentice: User,
    standard_version: StandardVersion,
    employer: Organisation,
    terms: EnrolmentTerms,
    by: User | None,
) -> Enrolment:
    if apprentice.role is not Role.APPRENTICE:
        raise DomainError(f"{apprentice.name} is not an apprentice", "apprentice")
    if apprentice.organisation_id != employer.id:
        raise DomainError(f"{apprentice.name} works at {apprentice.organisation.name}, not {employer.name}", "employer")
    if employer.kind is not OrganisationKind.EMPLOYER:
        raise DomainError(f"{employer.name} is not an employer", "employer")
    open_enrolment = session.scalar(
        select(Enrolment.id).where(Enrolment.apprentice_id == apprentice.id, Enrolment.status.in_(OPEN_STATUSES))
    )
    if open_enrolment:
        raise DomainError(
            f"{apprentice.name} is already enrolled; complete or withdraw that enrolment first", "apprentice"
        )
    _check_terms(standard_version, employer, terms)
    enrolment = Enrolment(
        apprentice=apprentice, standard_version=standard_version, employer=employer, status=S.ON_PROGRAMME
    )
    _apply_terms(enrolment, terms)
    session.add(enrolment)
    session.add(EnrolmentStatusChange(enrolment=enrolment, from_status=None, to_status=S.ON_PROGRAMME, changed_by=by))
    enrolled = {"apprentice": apprentice.name, "standard": standard_version.label, "employer": employer.name}
    audit.record_change("enrolment.created", enrolment, actor=by, after=enrolled | _audited_terms(enrolment))
    return enrolment


def update_terms(enrolment: Enrolment, terms: EnrolmentTerms, *, by: User | None = None) -> None:
    _check_terms(enrolment.standard_version, enrolment.employer, terms)
    _check_prior_learning_from_scan(enrolment, terms)
    with audit.recording("enrolment.updated", enrolment, actor=by, values=_audited_terms):
        _apply_terms(enrolment, terms)


def change_status(
    session: Session, enrolment: Enrolment, to_status: EnrolmentStatus, by: User | None, note: str = ""
) -> None:
    if to_status not in STATUS_CHANGES[enrolment.status]:
        raise DomainError(
            f"An enrolment that is {enrolment.status.label.lower()} cannot move to {to_status.label.lower()}", "status"
        )
    note = clean_text(note)
    session.add(
        EnrolmentStatusChange(
            enrolment=enrolment, from_status=enrolment.status, to_status=to_status, changed_by=by, note=note
        )
    )
    before = {"status": enrolment.status}
    enrolment.status = to_status
    audit.record_change(
        "enrolment.status_changed",
        enrolment,
        actor=by,
        before=before,
        after={"status": to_status, "note": note},
    )


def status_changes_by_hand(status: EnrolmentStatus) -> tuple[EnrolmentStatus, ...]:
    """The statuses an administrator may move an enrolment to by hand: every allowed move but the gateway's."""
    return tuple(to for to in STATUS_CHANGES[status] if (status, to) not in GATEWAY_MOVES | BREAK_MOVES)


def change_status_by_hand(
    session: Session, enrolment: Enrolment, to_status: EnrolmentStatus, by: User | None, note: str = ""
) -> None:
    """An administrator's change of status (a break, a return, a withdrawal, completion)."""
    lock_enrolment_for_change(session, enrolment)  # two at once: the second sees the first's status
    if (enrolment.status, to_status) in GATEWAY_MOVES:
        raise DomainError(
            "Only the gateway to completion moves an apprenticeship into or out of it: use its gateway page", "status"
        )
    if (enrolment.status, to_status) in BREAK_MOVES:
        raise DomainError(
            "Record a break in learning, or the return from one, with its dates: use the forms below", "status"
        )
    change_status(session, enrolment, to_status, by, note)


def _check_terms(version: StandardVersion, employer: Organisation, terms: EnrolmentTerms) -> None:
    if terms.provider.kind is not OrganisationKind.PROVIDER:
        raise DomainError(f"{terms.provider.name} is not a training provider", "provider")
    if terms.epao is not None and terms.epao.kind is not OrganisationKind.EPAO:
        raise DomainError(f"{terms.epao.name} is not an assessment organisation", "epao")
    if terms.mentor is not None and (
        terms.mentor.role is not Role.EMPLOYER or terms.mentor.organisation_id != employer.id
    ):
        raise DomainError(f"The mentor must be an employer user at {employer.name}", "mentor")
    if terms.tutor is not None and (
        terms.tutor.role is not Role.TUTOR or terms.tutor.organisation_id != terms.provider.id
    ):
        raise DomainError(f"The tutor must be a tutor at {terms.provider.name}", "tutor")
    if terms.planned_end_date <= terms.start_date:
        raise DomainError("The planned end date must be after the start date", "planned_end_date")
    _check_plan(version, terms)
    routes = english_and_maths_routes(version)
    if terms.english_maths_route not in routes:
        raise DomainError("Choose how English and maths will be met", "english_maths_route")
    if terms.english_maths_route == "not_required":
        _check_leaving_out_english_and_maths(terms)
    if terms.minimum_months_override is not None and not 1 <= terms.minimum_months_override <= 60:
        raise DomainError("The minimum time on programme must be between 1 and 60 months", "minimum_months_override")


def _check_plan(version: StandardVersion, terms: EnrolmentTerms) -> None:
    """The planned hours and duration against the funding rules of the start date."""
    if not 0 < terms.planned_otj_hours <= MAXIMUM_OTJ_HOURS:
        raise DomainError(f"Planned off-the-job hours must be between 1 and {MAXIMUM_OTJ_HOURS}", "planned_otj_hours")
    weekly = terms.contracted_weekly_hours
    if weekly is not None and not 0 < weekly <= MAXIMUM_WEEKLY_HOURS:
        raise DomainError(
            f"Weekly hours must be more than 0 and at most {MAXIMUM_WEEKLY_HOURS}", "contracted_weekly_hours"
        )
    if not 0 <= terms.prior_learning_otj_hours <= MAXIMUM_OTJ_HOURS:
        raise DomainError(f"Prior learning hours must be between 0 and {MAXIMUM_OTJ_HOURS}", "prior_learning_otj_hours")
    start, end = terms.start_date, terms.planned_end_date
    funding = rules.rules_for(start)
    minimum = rules.otj_minimum(
        version, start=start, planned_end=end, weekly_hours=weekly, prior_learning_hours=terms.prior_learning_otj_hours
    )
    if terms.planned_otj_hours < minimum.hours:
        raise DomainError(
            f"Planned off-the-job hours must be at least {minimum.hours:,}: {minimum.working}", "planned_otj_hours"
        )
    if terms.duration_exception is not None and funding.exception(terms.duration_exception) is None:
        raise DomainError("Choose a reason from the list, or none", "duration_exception")
    earliest_end = add_calendar_months(start, funding.minimum_months)
    if end < earliest_end and terms.duration_exception is None:
        raise DomainError(
            f"The planned end date must be on or after {long_date(earliest_end)}: {funding.name} set a minimum "
            f"duration of {funding.minimum_months} months, unless one of their exceptions applies",
            "planned_end_date",
        )


def current_terms(enrolment: Enrolment) -> EnrolmentTerms:
    """The enrolment's terms as they stand."""
    return EnrolmentTerms(
        provider=enrolment.provider,
        epao=enrolment.epao,
        mentor=enrolment.mentor,
        tutor=enrolment.tutor,
        start_date=enrolment.start_date,
        planned_end_date=enrolment.planned_end_date,
        planned_otj_hours=enrolment.planned_otj_hours,
        age_band=enrolment.age_band,
        english_maths_route=enrolment.english_maths_route,
        english_maths_decided_on=enrolment.english_maths_decided_on,
        english_maths_agreed_by=enrolment.english_maths_agreed_by,
        minimum_months_override=enrolment.minimum_months_override,
        contracted_weekly_hours=enrolment.contracted_weekly_hours,
        prior_learning_otj_hours=enrolment.prior_learning_otj_hours,
        duration_exception=enrolment.duration_exception,
    )


def check_plan_change(enrolment: Enrolment, **changes) -> EnrolmentTerms:
    """The enrolment's terms with `changes`, if the funding rules of its start accept their planned
    hours and duration (the checks of enrolling); DomainError naming the rule and the figure if not."""
    terms = replace(current_terms(enrolment), **changes)
    _check_plan(enrolment.standard_version, terms)
    return terms


def _check_prior_learning_from_scan(enrolment: Enrolment, terms: EnrolmentTerms) -> None:
    """Once a skills scan is agreed, the prior learning hours are the scan's."""
    if terms.prior_learning_otj_hours == enrolment.prior_learning_otj_hours:
        return
    session = object_session(enrolment)
    agreed = (
        session.scalar(
            select(SkillsScan.prior_learning_hours)
            .where(SkillsScan.enrolment_id == enrolment.id, SkillsScan.agreed_at.is_not(None))
            .order_by(SkillsScan.number.desc())
            .limit(1)
        )
        if session is not None
        else None
    )
    if agreed is not None:
        raise DomainError(
            f"The prior learning hours come from the agreed skills scan ({agreed:,} hours): change them there",
            "prior_learning_otj_hours",
        )


def _check_leaving_out_english_and_maths(terms: EnrolmentTerms) -> None:
    if terms.age_band is AgeBand.AGED_16_TO_18:
        raise DomainError(
            "Apprentices aged 16 to 18 at the start must achieve English and maths", "english_maths_route"
        )
    allowed_from = rules.rules_for(terms.start_date).adults_may_leave_out_english_and_maths_from
    decided = terms.english_maths_decided_on
    if allowed_from is None:
        raise DomainError(
            "The funding rules of this start date ask every apprentice for English and maths", "english_maths_route"
        )
    if decided is None or decided < allowed_from:
        raise DomainError(
            f"An apprentice aged 19 or over may leave English and maths out by a decision made on or after "
            f"{long_date(allowed_from)}: enter its date",
            "english_maths_decided_on",
        )
    if not clean_line(terms.english_maths_agreed_by):
        raise DomainError(
            "Enter who agreed to leave English and maths out (the employer and the apprentice)",
            "english_maths_agreed_by",
        )


def _audited_terms(enrolment: Enrolment) -> dict:
    """The terms as the audit trail records them, with people and organisations by name."""
    names = {role: getattr(getattr(enrolment, role), "name", None) for role in TERM_PARTIES}
    return names | audit.values(enrolment, *TERM_VALUES)


def _apply_terms(enrolment: Enrolment, terms: EnrolmentTerms) -> None:
    enrolment.provider = terms.provider
    enrolment.epao = terms.epao
    enrolment.mentor = terms.mentor
    enrolment.tutor = terms.tutor
    enrolment.start_date = terms.start_date
    enrolment.planned_end_date = terms.planned_end_date
    enrolment.planned_otj_hours = terms.planned_otj_hours
    enrolment.age_band = terms.age_band
    enrolment.english_maths_route = terms.english_maths_route
    enrolment.english_maths_decided_on = terms.english_maths_decided_on
    enrolment.minimum_months_override = terms.minimum_months_override
    enrolment.english_maths_agreed_by = clean_line(terms.english_maths_agreed_by)
    enrolment.contracted_weekly_hours = terms.contracted_weekly_hours
    enrolment.prior_learning_otj_hours = terms.prior_learning_otj_hours
    enrolment.duration_exception = terms.duration_exception


def check_day_on_programme(day: date, enrolment: Enrolment, today: date, *, called: str, field: str) -> date:
    """`day` if it is neither in the future nor before the apprenticeship started; `called` names it."""
    if day > today:
        raise DomainError(f"{called} must be today or in the past", field)
    if day < enrolment.start_date:
        start = enrolment.start_date
        raise DomainError(
            f"{called} must be on or after the start of the apprenticeship, {start.day} {start:%B %Y}", field
        )
    return day
