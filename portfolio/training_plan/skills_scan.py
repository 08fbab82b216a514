"""The skills scan at the start: the apprentice rates each criterion, the employer confirms or
adjusts each rating, the tutor records the prior learning recognised (hours off the planned and the
minimum off-the-job hours, months off the planned duration, a reason per criterion or area), and
the three parties sign. Agreeing it sets the enrolment's prior learning, planned hours and planned
end, which the funding rules must still accept: the checks are the enrolment's own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from funding_rules import add_calendar_months

from ..core import audit
from ..core.access import is_apprentice_of, is_employer_of, is_tutor_of
from ..core.domain import DomainError, lock_enrolment_for
from ..core.text import clean_line, clean_text
from ..enrolments.domain import MAXIMUM_OTJ_HOURS, check_plan_change
from ..models import Enrolment, PriorLearning, ScanRating, SkillsScan, SkillsScanRating, User
from ..models.types import MAX_NOTE, utcnow
from . import agreements
from .agreements import OPEN_FOR_AGREEMENTS, DocumentKind

MAX_REASON = 2_000
MAX_SUMMARY = 10_000
MAX_SUBJECT = 200
MAXIMUM_MONTHS = 36


# ---------------------------------------------------------------------------------------------
# Who may do what


def may_rate(user: User, enrolment: Enrolment) -> bool:
    return is_apprentice_of(user, enrolment) and enrolment.status in OPEN_FOR_AGREEMENTS


def may_confirm(user: User, enrolment: Enrolment) -> bool:
    return is_employer_of(user, enrolment) and enrolment.status in OPEN_FOR_AGREEMENTS


def may_record_prior_learning(user: User, enrolment: Enrolment) -> bool:
    return is_tutor_of(user, enrolment) and enrolment.status in OPEN_FOR_AGREEMENTS


# ---------------------------------------------------------------------------------------------
# The document, as the shared mechanism sees it


def snapshot(scan: SkillsScan) -> dict[str, Any]:
    """Exactly what the parties sign: the ratings and the prior learning, with the standard's version."""
    version = scan.enrolment.standard_version
    return {
        "document": "skills_scan",
        "enrolment": scan.enrolment_id,
        "version": scan.number,
        "standard": {"reference": version.reference, "version": version.version, "content_hash": version.content_hash},
        "ratings": [
            {
                "code": r.criterion_code,
                "rating": r.rating,
                "note": r.note,
                "employer_rating": r.employer_rating,
                "employer_note": r.employer_note,
            }
            for r in scan.ratings
        ],
        "prior_learning": {
            "hours": scan.prior_learning_hours,
            "months": scan.prior_learning_months,
            "summary": scan.prior_learning_summary,
            "items": [{"subject": p.subject, "reason": p.reason} for p in scan.prior_learning],
        },
    }


def status_text(scan: SkillsScan | None) -> str:
    if scan is None:
        return "Not started"
    if scan.agreed_at is not None:
        return "Agreed"
    return _not_ready(scan) or "Awaiting signatures"


def _not_ready(scan: SkillsScan) -> str | None:
    if scan.rated_at is None:
        return "Awaiting the apprentice's ratings"
    if scan.confirmed_at is None:
        return "Awaiting the employer's confirmation"
    if scan.prior_learning_at is None:
        return "Awaiting the tutor's record of prior learning"
    return None


def _copy(scan: SkillsScan, by: User) -> SkillsScan:
    copied = SkillsScan(
        enrolment=scan.enrolment,
        created_by=by,
        rated_by=scan.rated_by,
        rated_at=scan.rated_at,
        confirmed_by=scan.confirmed_by,
        confirmed_at=scan.confirmed_at,
        prior_learning_hours=scan.prior_learning_hours,
        prior_learning_months=scan.prior_learning_months,
        prior_learning_summary=scan.prior_learning_summary,
        prior_learning_by=scan.prior_learning_by,
        prior_learning_at=scan.prior_learning_at,
    )
    for r in scan.ratings:
        copied.ratings.append(
            SkillsScanRating(
                enrolment_id=scan.enrolment_id,
                criterion_code=r.criterion_code,
                rating=r.rating,
                note=r.note,
                employer_rating=r.employer_rating,
                employer_note=r.employer_note,
            )
        )
    for p in scan.prior_learning:
        copied.prior_learning.append(PriorLearning(enrolment_id=scan.enrolment_id, subject=p.subject, reason=p.reason))
    return copied


def _on_agreed(session: Session, scan: SkillsScan, by: User) -> None:
    """The agreed prior learning becomes the enrolment's: its hours, and the planned hours and
    planned end they shorten, if the funding rules still accept the plan."""
    enrolment = scan.enrolment
    effect = prior_learning_effect(
        session, enrolment, scan.number, scan.prior_learning_hours, scan.prior_learning_months
    )
    scan.planned_otj_before, scan.planned_otj_after = effect.planned_hours_before, effect.planned_hours_after
    scan.planned_end_before, scan.planned_end_after = effect.planned_end_before, effect.planned_end_after
    with audit.recording(
        "enrolment.prior_learning_agreed",
        enrolment,
        actor=by,
        values=lambda e: (
            audit.values(e, "prior_learning_otj_hours", "planned_otj_hours", "planned_end_date")
            | {"skills_scan": scan.number}
        ),
    ):
        enrolment.prior_learning_otj_hours = scan.prior_learning_hours
        enrolment.planned_otj_hours = effect.planned_hours_after
        enrolment.planned_end_date = effect.planned_end_after


SKILLS_SCAN = DocumentKind(
    model=SkillsScan,
    name="skills scan",
    action="skills_scan",
    path="skills-scan",
    snapshot=snapshot,
    not_ready=_not_ready,
    copy=_copy,
    on_agreed=_on_agreed,
)


# ---------------------------------------------------------------------------------------------
# What the prior learning does to the plan


@dataclass(frozen=True)
class PlanEffect:
    """The enrolment's planned hours and planned end before and after agreeing a scan's prior learning."""

    planned_hours_before: int
    planned_hours_after: int
    planned_end_before: date
    planned_end_after: date


def prior_learning_effect(session: Session, enrolment: Enrolment, number: int, hours: int, months: int) -> PlanEffect:
    """What agreeing `hours` and `months` of prior learning in version `number` of the scan would do to the enrolment:
    the planned hours fall by the hours not yet taken off (the enrolment's prior learning so far),
    the planned end by the months not taken off by an earlier agreed scan. DomainError, naming the
    funding rule and the figure, if the rules would not accept the plan that leaves."""
    earlier = agreements.agreed_before(session, SKILLS_SCAN, enrolment.id, number)
    months_taken = earlier.prior_learning_months if earlier is not None else 0
    planned = enrolment.planned_otj_hours - (hours - enrolment.prior_learning_otj_hours)
    end = add_calendar_months(enrolment.planned_end_date, months_taken - months)
    try:
        check_plan_change(enrolment, planned_otj_hours=planned, planned_end_date=end, prior_learning_otj_hours=hours)
    except DomainError as error:
        field = "months" if error.field == "planned_end_date" else "hours"
        raise DomainError(
            f"With this prior learning the planned off-the-job hours would be {planned:,} and the planned end "
            f"{end.day} {end:%B %Y}, which the funding rules do not accept. {error.message}",
            field,
        ) from None
    return PlanEffect(enrolment.planned_otj_hours, planned, enrolment.planned_end_date, end)


def effect_or_refusal(session: Session, scan: SkillsScan) -> tuple[PlanEffect | None, str | None]:
    """For the page: what agreeing `scan` would do to the enrolment, or why the rules would refuse it."""
    try:
        effect = prior_learning_effect(
            session, scan.enrolment, scan.number, scan.prior_learning_hours, scan.prior_learning_months
        )
    except DomainError as error:
        return None, error.message
    return effect, None


# ---------------------------------------------------------------------------------------------
# Changes


def _check_ratings(
    enrolment: Enrolment, ratings: Mapping[str, tuple[ScanRating | None, str]], missing: str
) -> dict[str, tuple[ScanRating, str]]:
    """Every criterion of the enrolment's standard rated, with notes cleaned; DomainError on the first fault."""
    standard = enrolment.standard_version.standard
    for code in ratings:
        if code not in standard:
            raise DomainError(f"{code} is not a criterion of {standard.reference}", "ratings")
    checked: dict[str, tuple[ScanRating, str]] = {}
    for criterion in standard:
        rating, note = ratings.get(criterion.code, (None, ""))
        if not isinstance(rating, ScanRating):
            raise DomainError(missing.format(code=criterion.code), f"rating-{criterion.code}")
        note = clean_text(note)
        if len(note) > MAX_NOTE:
            raise DomainError(
                f"The note on {criterion.code} must be {MAX_NOTE:,} characters or fewer", f"note-{criterion.code}"
            )
        checked[criterion.code] = (rating, note)
    return checked


def _new_scan(enrolment: Enrolment, by: User) -> SkillsScan:
    return SkillsScan(enrolment=enrolment, created_by=by)


def _audited(scan: SkillsScan) -> dict[str, Any]:
    return (
        {
            "version": scan.number,
            "ratings": {r.criterion_code: [r.rating, r.note] for r in scan.ratings},
            "employer_ratings": {r.criterion_code: [r.employer_rating, r.employer_note] for r in scan.ratings},
            "confirmed": scan.confirmed_at is not None,
        }
        | audit.values(scan, "prior_learning_hours", "prior_learning_months", "prior_learning_summary")
        | {"prior_learning": [[p.subject, p.reason] for p in scan.prior_learning]}
    )


def rate(
    session: Session, enrolment: Enrolment, *, by: User, ratings: Mapping[str, tuple[ScanRating | None, str]]
) -> SkillsScan:
    """The apprentice rates every criterion. A changed rating asks the employer to confirm again."""
    lock_enrolment_for(session, enrolment, by, may_rate, "Only the apprentice can rate their own skills scan")
    checked = _check_ratings(enrolment, ratings, "Choose how much of {code} you already know or can do")
    scan = agreements.version_for_change(session, SKILLS_SCAN, enrolment, by=by, new=lambda: _new_scan(enrolment, by))
    with audit.recording("skills_scan.rated", scan, actor=by, values=_audited):
        existing = {r.criterion_code: r for r in scan.ratings}
        changed = False
        for code, (rating, note) in checked.items():
            row = existing.get(code)
            if row is None:
                scan.ratings.append(
                    SkillsScanRating(enrolment_id=enrolment.id, criterion_code=code, rating=rating, note=note)
                )
                changed = True
            elif (row.rating, row.note) != (rating, note):
                row.rating, row.note = rating, note
                changed = True
        if changed and scan.confirmed_at is not None:
            # What the employer confirmed has changed: they confirm again (their ratings are kept).
            scan.confirmed_at, scan.confirmed_by = None, None
        scan.rated_by, scan.rated_at = by, utcnow()
    agreements.ask_for_signatures(session, SKILLS_SCAN, scan, by=by)
    return scan


def confirm(
    session: Session, enrolment: Enrolment, *, by: User, ratings: Mapping[str, tuple[ScanRating | None, str]]
) -> SkillsScan:
    """Someone of the employer confirms or adjusts each of the apprentice's ratings."""
    lock_enrolment_for(
        session, enrolment, by, may_confirm, "Only the apprentice's employer can confirm the skills scan"
    )
    current = agreements.current_version(session, SKILLS_SCAN, enrolment.id)
    if current is None or current.rated_at is None:
        raise DomainError("The apprentice has not rated the criteria yet")
    checked = _check_ratings(enrolment, ratings, "Choose your rating of {code}")
    scan = agreements.version_for_change(session, SKILLS_SCAN, enrolment, by=by, new=lambda: _new_scan(enrolment, by))
    with audit.recording("skills_scan.confirmed", scan, actor=by, values=_audited):
        for row in scan.ratings:
            row.employer_rating, row.employer_note = checked[row.criterion_code]
        scan.confirmed_by, scan.confirmed_at = by, utcnow()
    agreements.ask_for_signatures(session, SKILLS_SCAN, scan, by=by)
    return scan


@dataclass(frozen=True)
class PriorLearningDetails:
    """What the tutor records: the hours and months taken off, and why (by criterion or area)."""

    hours: int
    months: int
    items: Sequence[tuple[str, str]] = ()  # (a criterion's code or an area's title, the reason)
    summary: str = ""


def subjects(enrolment: Enrolment) -> list[tuple[str, str]]:
    """What prior learning may be recorded against: each area, then each criterion, as (value, label)."""
    standard = enrolment.standard_version.standard
    areas = [(area.title, f"{area.kind.label}: {area.title} (the whole area)") for area in standard.areas]
    return areas + [(c.code, f"{c.code}: {c.text[:80]}") for c in standard]


def record_prior_learning(
    session: Session, enrolment: Enrolment, *, by: User, details: PriorLearningDetails
) -> SkillsScan:
    """The tutor records the prior learning recognised, once the employer has confirmed the ratings;
    the plan it leaves must meet the funding rules."""
    lock_enrolment_for(
        session,
        enrolment,
        by,
        may_record_prior_learning,
        "Only a tutor of the training provider can record prior learning",
    )
    current = agreements.current_version(session, SKILLS_SCAN, enrolment.id)
    if current is None or current.rated_at is None:
        raise DomainError("The apprentice has not rated the criteria yet")
    if current.confirmed_at is None:
        raise DomainError("The employer has not confirmed the ratings yet")
    hours, months = details.hours, details.months
    if not isinstance(hours, int) or not 0 <= hours <= MAXIMUM_OTJ_HOURS:
        raise DomainError(f"The hours must be a whole number from 0 to {MAXIMUM_OTJ_HOURS:,}", "hours")
    if not isinstance(months, int) or not 0 <= months <= MAXIMUM_MONTHS:
        raise DomainError(f"The months must be a whole number from 0 to {MAXIMUM_MONTHS}", "months")
    allowed = dict(subjects(enrolment))
    items: list[tuple[str, str]] = []
    for number, (subject, reason) in enumerate(details.items):
        subject, reason = clean_line(subject), clean_text(reason)
        if not subject and not reason:
            continue
        if subject not in allowed:
            raise DomainError("Choose a criterion or an area of the standard", f"subject-{number}")
        if not reason:
            raise DomainError(f"Say why prior learning is recognised for {subject}", f"reason-{number}")
        if len(reason) > MAX_REASON:
            raise DomainError(f"The reason must be {MAX_REASON:,} characters or fewer", f"reason-{number}")
        items.append((subject, reason))
    if (hours or months) and not items:
        raise DomainError("Give the reason for the prior learning against a criterion or an area", "subject-0")
    summary = clean_text(details.summary)
    if len(summary) > MAX_SUMMARY:
        raise DomainError(f"The summary must be {MAX_SUMMARY:,} characters or fewer", "summary")
    # Refused here already, not only at the last signature. A signed scan changes in a new version.
    prior_learning_effect(session, enrolment, current.number + bool(current.signatures), hours, months)
    scan = agreements.version_for_change(session, SKILLS_SCAN, enrolment, by=by, new=lambda: _new_scan(enrolment, by))
    with audit.recording("skills_scan.prior_learning_recorded", scan, actor=by, values=_audited):
        scan.prior_learning_hours, scan.prior_learning_months, scan.prior_learning_summary = hours, months, summary
        scan.prior_learning.clear()
        for subject, reason in items:
            scan.prior_learning.append(PriorLearning(enrolment_id=enrolment.id, subject=subject, reason=reason))
        scan.prior_learning_by, scan.prior_learning_at = by, utcnow()
    agreements.ask_for_signatures(session, SKILLS_SCAN, scan, by=by)
    return scan


def sign_scan(session: Session, scan: SkillsScan, *, by: User, seen: str):
    return agreements.sign(session, SKILLS_SCAN, scan, by=by, seen=seen)
