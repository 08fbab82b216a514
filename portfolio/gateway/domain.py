"""The gateway: readiness checks, the three declarations, submission to the EPAO and the
assessor's decision.

Readiness is a task list of checks whose thresholds come from the pinned standard's gateway
requirements and the enrolment's own facts. Apprentice, employer and provider each sign the
standard's statement for their role; a declaration records the portfolio's fingerprint, so a
later change to the portfolio makes it stale. Once every check passes and every declaration
is current, a tutor submits to the EPAO (attempt n); an assessor of that EPAO accepts or refers
each gateway item. A referral sends the enrolment back on programme and starts attempt n + 1,
for which everyone declares again. Each decision keeps a fingerprint of what its item looked at:
a referred item stays referred, and attempt n + 1 cannot be submitted, until that changes. The
referral itself stays on the gateway page until attempt n + 1 is decided.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, case, false, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from funding_rules import add_calendar_months
from standard import Signer, Standard, Status

from ..core import audit, clock, rules
from ..core.access import (
    SIGNER_LABELS,
    SIGNING_ROLES,
    is_tutor_of,
    signing_party,
    visible_enrolments_clause,
)
from ..core.domain import DomainError, lock_enrolment_for_change
from ..core.fingerprint import fingerprint as fingerprint_of
from ..core.fingerprint import portfolio_fingerprint, portfolio_fingerprints, portfolio_snapshots
from ..core.text import clean_text
from ..core.wording import hours_text, long_date
from ..enrolments.domain import change_status
from ..evidence.items import criterion_statuses_of
from ..models import (
    AgeBand,
    Enrolment,
    EnrolmentCoverage,
    EnrolmentOtjHours,
    EnrolmentStatus,
    EvidenceItem,
    EvidenceKind,
    EvidenceStatus,
    GatewayDeclaration,
    GatewayItemDecision,
    GatewayOutcome,
    GatewaySubmission,
    ProgressReview,
    Role,
    StandardVersion,
    Standing,
    User,
)
from ..models.types import MAX_NOTE, utcnow
from ..notifications.domain import notify, people_of
from ..notifications.kinds import Kind
from ..otj.domain import otj_hours_by_enrolment
from ..progress_reviews.domain import awaiting_signers
from .behaviours import VerificationState, behaviours_of, newest_verifications

MAX_REASON = 2_000

# The readiness checks, in the order of the task list.
CHECK_TITLES = {
    "criteria": "Every criterion has accepted evidence or is judged met",
    "awaiting_review": "No evidence is waiting for review",
    "english_maths": "English and maths",
    "time_on_programme": "Minimum time on programme",
    "otj_hours": "Off-the-job training hours",
    "progress_review": "Latest progress review signed by all three",
    # Only where the standard's assessment plan has the employer verify the behaviours.
    "behaviours": "Employer has verified the behaviours",
}
# What the assessor decides on: each readiness check and the declarations.
ITEM_TITLES = CHECK_TITLES | {"declarations": "Declarations of apprentice, employer and provider"}
# The items of every standard's gateway; `gateway_items` adds the checks a standard asks for besides.
GATEWAY_ITEMS = tuple(code for code in ITEM_TITLES if code != "behaviours")


def gateway_items(standard: Standard) -> tuple[str, ...]:
    """The gateway items of `standard`, in the task list's order: what the assessor decides on."""
    if standard.gateway.employer_verifies_behaviours:
        return tuple(ITEM_TITLES)
    return GATEWAY_ITEMS


# ---------------------------------------------------------------------------------------------
# Readiness


@dataclass(frozen=True)
class Check:
    """One task of the readiness list; `detail` says, in plain English, what is done or missing;
    `fingerprint` is a SHA-256 of what the check looked at, so that a referral of it can tell
    whether anything has changed since."""

    code: str
    passed: bool
    detail: str
    fingerprint: str = ""

    @property
    def title(self) -> str:
        return CHECK_TITLES[self.code]


@dataclass(frozen=True)
class Readiness:
    checks: tuple[Check, ...]
    portfolio_fingerprint: str  # the portfolio the checks read, as declarations and submissions record it

    def __iter__(self) -> Iterator[Check]:
        return iter(self.checks)

    @property
    def ready(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def failing(self) -> list[Check]:
        return [check for check in self.checks if not check.passed]


def readiness(session: Session, enrolment: Enrolment, today: date | None = None) -> Readiness:
    """The gateway checks for the enrolment as it stands (a fixed number of queries, at most nine;
    ten where the standard has the employer verify the behaviours)."""
    return readiness_of_each(session, [enrolment], today)[enrolment.id]


def readiness_of_each(
    session: Session, enrolments: Sequence[Enrolment], today: date | None = None
) -> dict[int, Readiness]:
    """The gateway checks of many enrolments, by enrolment id, in the same queries as one's.

    Each check's fingerprint covers what it reads: the evidence checks the whole portfolio (its
    fingerprint: the evidence, its links, statuses and the judgements); English and maths the
    enrolment's route, age band and decision date and the accepted certificates; time on programme
    the start and the minimum; off-the-job training the hours needed, logged and approved; the
    progress review the latest review and its signatures; the employer's verification of the
    behaviours, where the standard asks for it, the newest verification (who signed it and its
    fingerprint, which covers the behaviours' statements, decisions and notes as signed)."""
    if not enrolments:
        return {}
    today = today or clock.today()
    ids = sorted({enrolment.id for enrolment in enrolments})
    snapshots = portfolio_snapshots(session, enrolments)
    hours = otj_hours_by_enrolment(session, ids)
    statuses = criterion_statuses_of(session, enrolments)
    reviews = _latest_reviews(session, ids)
    verifying = {e.id for e in enrolments if e.standard_version.standard.gateway.employer_verifies_behaviours}
    verifications = newest_verifications(session, sorted(verifying))  # one query, and only if any standard asks
    found = {}
    for enrolment in enrolments:
        snapshot = snapshots[enrolment.id]
        portfolio = fingerprint_of(snapshot)
        items = snapshot["items"]
        submitted = sum(item["status"] is EvidenceStatus.SUBMITTED for item in items)
        certificates = [
            item
            for item in items
            if item["kind"] is EvidenceKind.CERTIFICATE and item["status"] is EvidenceStatus.ACCEPTED
        ]
        logged, approved = hours.get(enrolment.id, (Decimal(0), Decimal(0)))
        review = reviews.get(enrolment.id)
        version = enrolment.standard_version_id  # another version may ask for other hours or months
        checks: tuple[tuple[Check, str], ...] = (
            (_criteria_check(enrolment, statuses[enrolment.id]), portfolio),
            (_awaiting_review_check(submitted), portfolio),
            (
                _english_maths_check(enrolment, len(certificates)),
                _digest(
                    version,
                    enrolment.english_maths_route,
                    enrolment.age_band,
                    enrolment.english_maths_decided_on,
                    certificates,
                ),
            ),
            (
                _time_on_programme_check(enrolment, today),
                _digest(version, enrolment.start_date, rules.minimum_months_on_programme(enrolment)),
            ),
            (_otj_check(enrolment, logged, approved), _digest(version, enrolment.planned_otj_hours, logged, approved)),
            (_progress_review_check(review), _digest(_review_as_signed(review))),
        )
        if enrolment.id in verifying:
            behaviours, verification = behaviours_of(enrolment), verifications.get(enrolment.id)
            signed = (verification.id, verification.signed_by_id, verification.fingerprint) if verification else None
            checks += (
                (
                    _behaviours_check(VerificationState(behaviours, verification, required=True)),
                    _digest(version, [(b.code, b.text) for b in behaviours], signed),
                ),
            )
        found[enrolment.id] = Readiness(tuple(replace(check, fingerprint=basis) for check, basis in checks), portfolio)
    return found


def _digest(*values: Any) -> str:
    """A SHA-256 of plain values (dates, enums, decimals, lists and mappings of them)."""
    return fingerprint_of({"values": list(values)})


def _review_as_signed(review: ProgressReview | None) -> dict[str, Any] | None:
    if review is None:
        return None
    signatures = sorted((s.signer.value, s.user_id) for s in review.signatures)
    return {"id": review.id, "date": review.review_date, "completed_at": review.completed_at, "signed": signatures}


def _criteria_check(enrolment: Enrolment, statuses: Mapping[str, Status]) -> Check:
    standard = enrolment.standard_version.standard
    missing = [c.code for c in standard if statuses.get(c.code, Status.NONE) < Status.ACCEPTED]
    if not missing:
        return Check("criteria", True, f"All {len(standard)} criteria have accepted evidence or are judged met")
    return Check(
        "criteria",
        False,
        f"{len(missing)} of {len(standard)} criteria have no accepted evidence or met judgement: {', '.join(missing)}",
    )


def _awaiting_review_check(submitted: int) -> Check:
    if not submitted:
        return Check("awaiting_review", True, "No evidence is waiting for a tutor's review")
    items = "1 evidence item is" if submitted == 1 else f"{submitted} evidence items are"
    return Check("awaiting_review", False, f"{items} waiting for a tutor's review")


def _english_maths_check(enrolment: Enrolment, certificates: int) -> Check:
    """Settled when achieved (or met by one of the standard's alternatives) with an accepted
    certificate in the portfolio, or not required with the decision's date recorded."""
    rule = enrolment.standard_version.standard.gateway.english_and_maths
    route = enrolment.english_maths_route
    alternatives = {a.code: a for a in rule.alternatives}
    held = f"{certificates} accepted certificate{'' if certificates == 1 else 's'} in the portfolio"
    no_certificate = "add the certificates as evidence of the kind Certificate for the tutor to accept"
    if route == "achieved" or route in alternatives:
        what = "Achieved" if route == "achieved" else alternatives[route].requirement
        if certificates:
            return Check("english_maths", True, f"{what}: {held}")
        return Check(
            "english_maths", False, f"{what}, but no accepted certificate is in the portfolio: {no_certificate}"
        )
    if route == "not_required":
        if enrolment.age_band is AgeBand.AGED_16_TO_18:
            return Check(
                "english_maths", False, "Apprentices aged 16 to 18 at the start must achieve English and maths"
            )
        if enrolment.english_maths_decided_on is None:
            return Check(
                "english_maths",
                False,
                "Recorded as not required, but the date of that decision is missing: an administrator records it "
                "on the enrolment",
            )
        decided = enrolment.english_maths_decided_on
        return Check(
            "english_maths",
            True,
            f"Not required (aged {enrolment.age_band.label} at the start), decided on {long_date(decided)}",
        )
    if route == "required":
        return Check(
            "english_maths",
            False,
            f"{rule.required_level} English and maths still to be achieved: when they are, {no_certificate}, "
            "and an administrator records them as achieved on the enrolment",
        )
    return Check(
        "english_maths", False, f"The route recorded ({route}) is not one {enrolment.standard_version.reference} offers"
    )


def _time_on_programme_check(enrolment: Enrolment, today: date) -> Check:
    months, source = rules.time_on_programme(enrolment)
    reached = add_calendar_months(enrolment.start_date, months)
    needed = f"{months} months on programme needed ({source}): reached on {long_date(reached)}"
    if today >= reached:
        return Check("time_on_programme", True, needed)
    days = (reached - today).days
    return Check("time_on_programme", False, f"{needed}, in {days} day{'' if days == 1 else 's'}")


def _otj_check(enrolment: Enrolment, logged: Decimal, approved: Decimal) -> Check:
    minimum = rules.enrolment_otj_minimum(enrolment)
    needed = Decimal(max(enrolment.planned_otj_hours, minimum.hours))
    of = f"{hours_text(approved)} approved of {hours_text(needed)} " + (
        "planned" if needed == enrolment.planned_otj_hours else f"required: {minimum.working}"
    )
    if approved >= needed:
        return Check("otj_hours", True, of)
    detail = f"{of}: {hours_text(needed - approved)} to go"
    if logged > approved:
        detail += f" ({hours_text(logged - approved)} logged and not yet approved)"
    return Check("otj_hours", False, detail)


def _behaviours_check(state: VerificationState) -> Check:
    return Check("behaviours", state.complete, state.detail)


def _latest_reviews(session: Session, enrolment_ids: Sequence[int]) -> dict[int, ProgressReview]:
    """The latest progress review of each enrolment, with its signatures (one query)."""
    rank = (
        func.row_number()
        .over(
            partition_by=ProgressReview.enrolment_id,
            order_by=(ProgressReview.review_date.desc(), ProgressReview.id.desc()),
        )
        .label("rank")
    )
    ranked = select(ProgressReview.id, rank).where(ProgressReview.enrolment_id.in_(enrolment_ids)).subquery()
    latest = session.scalars(
        select(ProgressReview)
        .join(ranked, ranked.c.id == ProgressReview.id)
        .where(ranked.c.rank == 1)
        .options(joinedload(ProgressReview.signatures))
    ).unique()
    return {review.enrolment_id: review for review in latest}


def _progress_review_check(review: ProgressReview | None) -> Check:
    if review is None:
        return Check("progress_review", False, "No progress review has been recorded")
    held = long_date(review.review_date)
    if review.completed_at is not None:
        return Check("progress_review", True, f"The review of {held} is signed by all three")
    awaiting = " and ".join(SIGNER_LABELS[s] for s in awaiting_signers(review))
    return Check("progress_review", False, f"The review of {held} still needs the signature of {awaiting}")


# ---------------------------------------------------------------------------------------------
# Declarations


@dataclass(frozen=True)
class DeclarationState:
    signer: Signer
    statement: str  # what the standard asks this party to declare
    standing: Standing
    declaration: GatewayDeclaration | None  # the newest for this attempt: who signed, when

    @property
    def signer_label(self) -> str:
        return SIGNER_LABELS[self.signer]


def current_attempt(session: Session, enrolment: Enrolment) -> int:
    """The attempt declarations are given for: the one pending or signed off, else the next one."""
    latest = session.execute(
        select(GatewaySubmission.number, GatewaySubmission.outcome)
        .where(GatewaySubmission.enrolment_id == enrolment.id)
        .order_by(GatewaySubmission.number.desc())
        .limit(1)
    ).first()
    return _attempt_after(latest)


def _attempt_after(latest) -> int:
    """The current attempt, given the latest submission (anything with `number` and `outcome`) or None."""
    if latest is None:
        return 1
    return latest.number + 1 if latest.outcome is GatewayOutcome.REFERRED else latest.number


def declaration_status(
    session: Session, enrolment: Enrolment, *, fingerprint: str | None = None, attempt: int | None = None
) -> list[DeclarationState]:
    """Each declaration the standard asks for: missing, current, or stale (the portfolio has
    changed since it was signed). Pass `fingerprint` and `attempt` when already known."""
    fingerprint = fingerprint or portfolio_fingerprint(session, enrolment)
    attempt = attempt or current_attempt(session, enrolment)
    return _declaration_states(enrolment, _newest_declarations(session, enrolment, attempt), fingerprint)


def _declaration_states(
    enrolment: Enrolment, newest: Mapping[Signer, GatewayDeclaration], fingerprint: str | None
) -> list[DeclarationState]:
    """Each declaration the standard asks for, given the newest of each party and the portfolio's
    fingerprint now (None only when nobody has signed: it is not needed then)."""
    states = []
    for required in enrolment.standard_version.standard.gateway.declarations:
        signed = newest.get(required.signer)
        if signed is None:
            standing = Standing.MISSING
        else:
            standing = Standing.CURRENT if signed.fingerprint == fingerprint else Standing.STALE
        states.append(DeclarationState(required.signer, required.statement, standing, signed))
    return states


def _newest_declarations(session: Session, enrolment: Enrolment, attempt: int) -> dict[Signer, GatewayDeclaration]:
    """The newest declaration of each party for the attempt, with who signed it (one query)."""
    rows = session.scalars(
        select(GatewayDeclaration)
        .where(GatewayDeclaration.enrolment_id == enrolment.id, GatewayDeclaration.attempt == attempt)
        .options(joinedload(GatewayDeclaration.user))
        .order_by(GatewayDeclaration.id)
    )
    return _newest_of_each_party(rows)


def _newest_of_each_party(declarations: Iterable[GatewayDeclaration]) -> dict[Signer, GatewayDeclaration]:
    """The newest of each party's declarations, given in the order they were signed."""
    return {row.signer: row for row in declarations}  # later rows replace earlier ones


def sign_declaration(
    session: Session, enrolment: Enrolment, *, by: User, signer: Signer | None = None, today: date | None = None
) -> GatewayDeclaration:
    """`by` signs their party's declaration of readiness; `signer`, if given, is the party they mean
    to sign for and must be their own. Only when every check passes: readiness is what they declare."""
    own = signing_party(by, enrolment)
    if own is None:
        raise DomainError("You cannot sign a gateway declaration for this apprenticeship")
    if signer is not None and signer is not own:
        raise DomainError(f"You cannot sign for {SIGNER_LABELS[signer]}: you sign for {SIGNER_LABELS[own]}")
    lock_enrolment_for_change(session, enrolment)
    if enrolment.status is not EnrolmentStatus.ON_PROGRAMME:
        raise DomainError(
            f"Declarations are signed while the apprentice is on programme; "
            f"this apprenticeship is {_as_words(enrolment.status)}"
        )
    standard = enrolment.standard_version.standard
    required = standard.gateway.declaration_for(own)
    if required is None:
        raise DomainError(f"{standard.reference} asks for no declaration from {SIGNER_LABELS[own]}")
    checks = readiness(session, enrolment, today)
    _check_ready(checks, "before anyone signs a declaration")
    fingerprint = checks.portfolio_fingerprint
    attempt = current_attempt(session, enrolment)
    newest = _newest_declarations(session, enrolment, attempt)
    previous = newest.get(own)
    # Another person of the party may sign a current declaration afresh (the assessor may have
    # referred back who signed it); the same person signing the same portfolio again changes nothing.
    if previous is not None and previous.fingerprint == fingerprint and previous.user_id == by.id:
        raise DomainError(
            f"The declaration for {SIGNER_LABELS[own]} is already signed and current "
            f"({previous.user.name}, {long_date(previous.signed_at)})"
        )
    declaration = GatewayDeclaration(
        enrolment=enrolment, attempt=attempt, signer=own, user=by, statement=required.statement, fingerprint=fingerprint
    )
    session.add(declaration)
    audit.record_change(
        "gateway.declaration_signed",
        declaration,
        actor=by,
        before={"fingerprint": previous.fingerprint if previous else None},
        after={"signer": own, "attempt": attempt, "fingerprint": fingerprint},
    )
    newest[own] = declaration
    awaited = [
        d.signer
        for d in standard.gateway.declarations
        if d.signer not in newest or newest[d.signer].fingerprint != fingerprint
    ]
    _tell_declaration_signed(session, enrolment, awaited, by=by, attempt=attempt, fingerprint=fingerprint)
    return declaration


def _tell_declaration_signed(
    session: Session, enrolment: Enrolment, awaited: list[Signer], *, by: User, attempt: int, fingerprint: str
) -> None:
    """Ask the parties still to sign for this portfolio, once each; or, when none is, tell the
    tutors it can be submitted (the checks passed: nobody signs before they do)."""
    apprentice = enrolment.apprentice.name
    if awaited:
        notify(
            session,
            people_of(session, enrolment, *(SIGNING_ROLES[signer] for signer in awaited)),
            Kind.SIGNATURE_AWAITED,
            title=f"Sign the gateway declaration for {apprentice}'s apprenticeship",
            link=gateway_path(enrolment),
            enrolment=enrolment,
            actor=by,
            # A person signs for one party only, so once per person is once per party.
            occasion=f"declaration-sign:{enrolment.id}:{attempt}:{fingerprint}",
        )
        return
    epao = enrolment.epao.name if enrolment.epao is not None else "the assessment organisation"
    notify(
        session,
        people_of(session, enrolment, Role.TUTOR),
        Kind.READY_TO_SUBMIT,
        title=f"{apprentice}'s portfolio is ready to submit to {epao}",
        link=gateway_path(enrolment),
        enrolment=enrolment,
        actor=by,
        occasion=f"ready:{enrolment.id}:{attempt}",
    )


def gateway_path(enrolment: Enrolment, page: str = "") -> str:
    """The gateway page (or its `page`, "decision"): for a notification's link."""
    return f"/enrolments/{enrolment.id}/gateway" + (f"/{page}" if page else "")


# ---------------------------------------------------------------------------------------------
# Submission and the assessor's decision


def may_submit(user: User, enrolment: Enrolment) -> bool:
    """Tutors of the training provider submit the gateway to the EPAO."""
    return is_tutor_of(user, enrolment)


def is_assessor_of(user: User, enrolment: Enrolment) -> bool:
    """An assessor of the enrolment's EPAO: the one who decides its gateway."""
    return user.is_active and user.role is Role.ASSESSOR and user.organisation_id == enrolment.epao_id


def may_decide(user: User, submission: GatewaySubmission) -> bool:
    """Assessors of the EPAO the gateway was submitted to decide it."""
    return user.is_active and user.role is Role.ASSESSOR and user.organisation_id == submission.epao_id


def submit_to_epao(session: Session, enrolment: Enrolment, *, by: User, today: date | None = None) -> GatewaySubmission:
    """Submit the portfolio to the enrolment's EPAO: the enrolment moves to at gateway and the
    portfolio is read-only until the assessor decides."""
    if not may_submit(by, enrolment):
        raise DomainError("Only a tutor of the training provider can submit the gateway")
    lock_enrolment_for_change(session, enrolment)
    if enrolment.status is not EnrolmentStatus.ON_PROGRAMME:
        raise DomainError(
            f"Only an apprenticeship on programme can be submitted; this one is {_as_words(enrolment.status)}"
        )
    epao = enrolment.epao
    if epao is None:
        raise DomainError(
            "No assessment organisation (EPAO) is chosen for this apprenticeship: an administrator sets it on the "
            "enrolment"
        )
    checks = readiness(session, enrolment, today)
    _check_ready(checks, "before you submit")
    fingerprint = checks.portfolio_fingerprint
    latest = _latest_submission(session, enrolment)
    attempt = _attempt_after(latest)
    states = declaration_status(session, enrolment, fingerprint=fingerprint, attempt=attempt)
    referral = _referral(latest, checks, states)
    if referral and (unchanged := referral.outstanding):
        what = "; ".join(f"{item.title} (“{item.reason}”)" for item in unchanged)
        raise DomainError(
            f"Change what was referred before submitting again: {what}. Nothing these look at has changed since "
            f"attempt {referral.submission.number} was referred back"
        )
    if not_current := [s for s in states if s.standing is not Standing.CURRENT]:
        problems = "; ".join(
            f"{s.signer_label}'s is stale (the portfolio changed after it was signed)"
            if s.standing is Standing.STALE
            else f"{s.signer_label}'s is not signed"
            for s in not_current
        )
        raise DomainError(f"Every declaration must be signed and current before you submit: {problems}")
    submission = GatewaySubmission(
        enrolment=enrolment, number=attempt, epao=epao, fingerprint=fingerprint, submitted_by=by
    )
    session.add(submission)
    change_status(session, enrolment, EnrolmentStatus.AT_GATEWAY, by, f"Submitted to {epao.name} (attempt {attempt})")
    audit.record_change(
        "gateway.submitted",
        submission,
        actor=by,
        before={"status": EnrolmentStatus.ON_PROGRAMME},
        after={"status": enrolment.status, "attempt": attempt, "epao_id": epao.id, "fingerprint": fingerprint},
    )
    people = people_of(session, enrolment, Role.APPRENTICE, Role.EMPLOYER, Role.TUTOR, Role.ASSESSOR)
    title = f"{enrolment.apprentice.name}'s portfolio submitted to {epao.name} (attempt {attempt})"
    parties = [person for person in people if person.role is not Role.ASSESSOR]
    assessors = [person for person in people if person.role is Role.ASSESSOR]
    # The parties are told where it stands; the assessors are asked to decide.
    for told, page in ((parties, ""), (assessors, "decision")):
        notify(
            session,
            told,
            Kind.SUBMITTED,
            title=title,
            link=gateway_path(enrolment, page),
            enrolment=enrolment,
            actor=by,
        )
    return submission


def decide_gateway(
    session: Session,
    submission: GatewaySubmission,
    *,
    by: User,
    decisions: Mapping[str, tuple[bool, str]],
    note: str = "",
) -> None:
    """The assessor accepts or refers each gateway item (code -> (accepted, reason)). All accepted:
    signed off, and the enrolment moves to in EPA. Any referred: back on programme, and the next
    attempt needs fresh declarations."""
    if not may_decide(by, submission):
        raise DomainError(f"Only an assessor of {submission.epao.name} can decide this gateway")
    lock_enrolment_for_change(session, submission.enrolment, submission)
    if submission.outcome is not GatewayOutcome.PENDING:
        raise DomainError(f"This gateway submission has already been decided: {submission.outcome.label.lower()}")
    enrolment = submission.enrolment
    if enrolment.status is not EnrolmentStatus.AT_GATEWAY:
        raise DomainError(
            f"This apprenticeship is no longer at the gateway to completion: it is {_as_words(enrolment.status)}"
        )
    items = gateway_items(enrolment.standard_version.standard)
    if unknown := sorted(set(decisions) - set(items)):
        raise DomainError(f"Unknown gateway items: {', '.join(unknown)}")
    if missing := [ITEM_TITLES[code] for code in items if code not in decisions]:
        raise DomainError(f"Decide every gateway item: {'; '.join(missing)}")
    # What each item looks at now, as submitted (the portfolio is read-only at gateway), kept with the
    # decision so that a referred item shows as referred until something of it changes.
    looked_at = _fingerprints(
        readiness(session, enrolment),
        declaration_status(session, enrolment, fingerprint=submission.fingerprint, attempt=submission.number),
    )
    rows = []
    for code in items:
        accepted, reason = decisions[code]
        reason = clean_text(reason)
        if not accepted and not reason:
            raise DomainError(f"Give the reason for referring back “{ITEM_TITLES[code]}”", f"reason_{code}")
        if len(reason) > MAX_REASON:
            raise DomainError(f"The reason must be {MAX_REASON:,} characters or fewer", f"reason_{code}")
        rows.append(
            GatewayItemDecision(item=code, accepted=bool(accepted), reason=reason, fingerprint=looked_at.get(code))
        )
    note = clean_text(note)
    if len(note) > MAX_NOTE:
        raise DomainError(f"The note must be {MAX_NOTE:,} characters or fewer", "note")
    signed_off = all(row.accepted for row in rows)
    submission.item_decisions.extend(rows)
    submission.outcome = GatewayOutcome.SIGNED_OFF if signed_off else GatewayOutcome.REFERRED
    submission.decided_by = by
    submission.decided_at = utcnow()
    submission.note = note
    to_status = EnrolmentStatus.IN_EPA if signed_off else EnrolmentStatus.ON_PROGRAMME
    change_status(
        session,
        enrolment,
        to_status,
        by,
        f"Gateway to completion attempt {submission.number}: {submission.outcome.label.lower()}",
    )
    audit.record_change(
        "gateway.signed_off" if signed_off else "gateway.referred",
        submission,
        actor=by,
        before={"outcome": GatewayOutcome.PENDING, "status": EnrolmentStatus.AT_GATEWAY},
        after={
            "outcome": submission.outcome,
            "status": to_status,
            "referred": [row.item for row in rows if not row.accepted],
        },
    )
    apprentice, epao = enrolment.apprentice.name, submission.epao.name
    if signed_off:
        title = f"Gateway to completion signed off by {epao}: {apprentice} is now in apprenticeship assessment"
    else:
        title = f"Gateway to completion attempt {submission.number} referred back by {epao} for {apprentice}"
    reasons = [f"{ITEM_TITLES[row.item]}: {row.reason}" for row in rows if not row.accepted]
    notify(
        session,
        people_of(session, enrolment, Role.APPRENTICE, Role.EMPLOYER, Role.TUTOR),
        Kind.GATEWAY_DECISION,
        title=title,
        body="\n".join(reasons + ([f"Note from the assessor: {note}"] if note else [])),
        link=gateway_path(enrolment),
        enrolment=enrolment,
        actor=by,
    )


# ---------------------------------------------------------------------------------------------
# Referrals: what the assessor referred back stays in view, and blocks the next submission,
# until something that the referred item looks at changes.


@dataclass(frozen=True)
class ReferredItem:
    code: str
    reason: str
    outstanding: bool  # nothing the item looks at has changed since it was referred

    @property
    def title(self) -> str:
        return ITEM_TITLES.get(self.code, self.code)


@dataclass(frozen=True)
class Referral:
    """The latest attempt, referred back, and each item the assessor referred."""

    submission: GatewaySubmission
    items: tuple[ReferredItem, ...]

    @property
    def outstanding(self) -> tuple[ReferredItem, ...]:
        return tuple(item for item in self.items if item.outstanding)

    @property
    def by_code(self) -> dict[str, ReferredItem]:
        return {item.code: item for item in self.items}


def referral_outstanding(session: Session, enrolment: Enrolment, today: date | None = None) -> Referral | None:
    """The referral of the enrolment's latest attempt while any item it referred is unchanged, and
    so the next attempt cannot be submitted; else None (two queries, a dozen with a referral)."""
    latest = _latest_submission(session, enrolment)
    if latest is None or latest.outcome is not GatewayOutcome.REFERRED:
        return None
    checks = readiness(session, enrolment, today)
    states = declaration_status(session, enrolment, fingerprint=checks.portfolio_fingerprint, attempt=latest.number + 1)
    referral = _referral(latest, checks, states)
    return referral if referral and referral.outstanding else None


def _latest_submission(session: Session, enrolment: Enrolment) -> GatewaySubmission | None:
    """The enrolment's newest attempt, with its item decisions (two queries)."""
    return session.scalar(
        select(GatewaySubmission)
        .where(GatewaySubmission.enrolment_id == enrolment.id)
        .options(joinedload(GatewaySubmission.epao), selectinload(GatewaySubmission.item_decisions))
        .order_by(GatewaySubmission.number.desc())
        .limit(1)
    )


def _fingerprints(checks: Readiness, declarations: list[DeclarationState]) -> dict[str, str | None]:
    """Gateway item code -> a SHA-256 of what it looks at now. For the declarations: who signed for
    each party and the portfolio they signed; None until every party has signed for the attempt."""
    looked_at: dict[str, str | None] = {check.code: check.fingerprint for check in checks}
    signed = [state.declaration for state in declarations]
    looked_at["declarations"] = (
        _digest(sorted((d.signer.value, d.user_id, d.fingerprint) for d in signed if d is not None))
        if all(signed)
        else None
    )
    return looked_at


def _referral(
    submission: GatewaySubmission | None, checks: Readiness, declarations: list[DeclarationState]
) -> Referral | None:
    """The referral of `submission`, if it was referred, with each referred item's standing against
    the checks and declarations as they are now."""
    if submission is None or submission.outcome is not GatewayOutcome.REFERRED:
        return None
    now = _fingerprints(checks, declarations)

    def unchanged(decision: GatewayItemDecision) -> bool:
        if decision.fingerprint is None or decision.item not in now:
            # Decided before items kept fingerprints: the portfolio's is all there is to compare.
            return checks.portfolio_fingerprint == submission.fingerprint
        current = now[decision.item]
        return current is None or current == decision.fingerprint  # None: nothing new to compare yet

    items = tuple(ReferredItem(d.item, d.reason, unchanged(d)) for d in submission.item_decisions if not d.accepted)
    return Referral(submission, items)


def _as_words(status: EnrolmentStatus) -> str:
    """A status inside a sentence: "at gateway to completion", "in apprenticeship assessment"."""
    return status.label[0].lower() + status.label[1:]


def _check_ready(checks: Readiness, when: str) -> None:
    if failing := checks.failing:
        raise DomainError(f"Every gateway check must pass {when}. Not yet: {'; '.join(c.title for c in failing)}")


# ---------------------------------------------------------------------------------------------
# The gateway page


@dataclass(frozen=True)
class GatewayOverview:
    """Everything the gateway page shows about one enrolment."""

    readiness: Readiness
    attempt: int
    declarations: list[DeclarationState]
    submissions: list[GatewaySubmission]  # newest first, with their item decisions
    accepted_earlier: dict[str, int]  # item code -> the first attempt that accepted it
    # The latest referral: of the latest attempt, or of the one before the attempt now pending.
    referral: Referral | None

    @property
    def pending(self) -> GatewaySubmission | None:
        latest = self.submissions[0] if self.submissions else None
        return latest if latest and latest.outcome is GatewayOutcome.PENDING else None

    @property
    def declarations_current(self) -> bool:
        return all(state.standing is Standing.CURRENT for state in self.declarations)


def gateway_submissions(session: Session, enrolment: Enrolment) -> list[GatewaySubmission]:
    """Every attempt at the gateway, oldest first, with who submitted and decided it and the
    assessor's decision on each item (two queries)."""
    return list(
        session.scalars(
            select(GatewaySubmission)
            .where(GatewaySubmission.enrolment_id == enrolment.id)
            .options(
                joinedload(GatewaySubmission.epao),
                joinedload(GatewaySubmission.submitted_by),
                joinedload(GatewaySubmission.decided_by),
                selectinload(GatewaySubmission.item_decisions),
            )
            .order_by(GatewaySubmission.number)
        )
    )


def gateway_overview(session: Session, enrolment: Enrolment, today: date | None = None) -> GatewayOverview:
    """The readiness checks, the declarations and every attempt so far (a fixed number of queries)."""
    submissions = gateway_submissions(session, enrolment)[::-1]  # newest first
    attempt = _attempt_after(submissions[0] if submissions else None)
    accepted_earlier: dict[str, int] = {}
    for submission in reversed(submissions):  # oldest first, so the first acceptance wins
        for decision in submission.item_decisions:
            if decision.accepted:
                accepted_earlier.setdefault(decision.item, submission.number)
    checks = readiness(session, enrolment, today)
    declarations = declaration_status(session, enrolment, fingerprint=checks.portfolio_fingerprint, attempt=attempt)
    # While the next attempt is pending, the assessor sees what was referred the time before.
    pending = bool(submissions) and submissions[0].outcome is GatewayOutcome.PENDING
    referred = submissions[1] if pending and len(submissions) > 1 else (submissions[0] if submissions else None)
    return GatewayOverview(
        readiness=checks,
        attempt=attempt,
        declarations=declarations,
        submissions=submissions,
        accepted_earlier=accepted_earlier,
        referral=_referral(referred, checks, declarations),
    )


# ---------------------------------------------------------------------------------------------
# Many apprenticeships at once: the to-do lists and the reminders


@dataclass(frozen=True)
class GatewayStanding:
    """Where one apprenticeship on programme stands at the gateway: whether every check passes,
    and each declaration the standard asks for, for the current attempt."""

    enrolment: Enrolment
    attempt: int
    ready: bool
    declarations: tuple[DeclarationState, ...]
    fingerprint: str | None  # the portfolio's now; worked out only when someone has signed
    # The standard has the employer verify the behaviours, every criterion has accepted evidence or
    # is judged met, and the newest verification does not confirm every behaviour.
    behaviours_to_verify: bool = False

    def standing_of(self, signer: Signer) -> Standing | None:
        """None when the standard asks no declaration of that party."""
        return next((state.standing for state in self.declarations if state.signer is signer), None)

    def to_sign(self, signer: Signer) -> bool:
        """Every check passes and the party has not signed for this attempt."""
        return self.ready and self.standing_of(signer) is Standing.MISSING

    def out_of_date(self, signer: Signer) -> bool:
        """The party signed, and the portfolio has changed since."""
        return self.standing_of(signer) is Standing.STALE

    @property
    def ready_to_submit(self) -> bool:
        return self.ready and all(state.standing is Standing.CURRENT for state in self.declarations)

    @property
    def current_since(self) -> GatewayDeclaration | None:
        """The earliest declaration signed for the portfolio as it is now: the others have been
        awaited since it was signed."""
        current = [s.declaration for s in self.declarations if s.standing is Standing.CURRENT and s.declaration]
        return min(current, key=lambda declaration: declaration.id, default=None)

    @property
    def awaited(self) -> list[Signer]:
        """The parties whose declaration is not current while another's is, every check passing."""
        if not self.ready or self.current_since is None:
            return []
        return [state.signer for state in self.declarations if state.standing is not Standing.CURRENT]


def gateway_standings(
    session: Session, scope: ColumnElement[bool], today: date | None = None, *, options: Sequence = ()
) -> list[GatewayStanding]:
    """The standing of every apprenticeship on programme in `scope` (a WHERE clause on Enrolment)
    that is ready for the gateway or has a declaration for its current attempt; the others have
    nothing to sign or submit. A fixed number of queries whatever the number (twelve at most);
    `options` load more with the enrolments.

    The stored totals (enrolments/totals.py) rule out, in the query, most apprenticeships that
    cannot be ready; readiness, the declarations and the fingerprints are then worked out for the
    few left, all at once."""
    today = today or clock.today()
    on_programme = scope & (Enrolment.status == EnrolmentStatus.ON_PROGRAMME)
    versions = session.scalars(
        select(StandardVersion).where(StandardVersion.id.in_(select(Enrolment.standard_version_id).where(on_programme)))
    ).all()
    if not versions:
        return []
    criteria = case({version.id: len(version.standard) for version in versions}, value=Enrolment.standard_version_id)
    awaiting_review = select(EvidenceItem.id).where(
        EvidenceItem.enrolment_id == Enrolment.id, EvidenceItem.status == EvidenceStatus.SUBMITTED
    )
    # Necessary for readiness: the criteria accepted, the planned hours approved, nothing awaiting review.
    may_be_ready = (
        (func.coalesce(EnrolmentCoverage.accepted, 0) >= criteria)
        & (func.coalesce(EnrolmentOtjHours.approved, 0) >= Enrolment.planned_otj_hours)
        & ~awaiting_review.exists()
    )
    # On programme, every earlier attempt was referred: the current one is the next number.
    attempt = (
        select(func.count(GatewaySubmission.id))
        .where(GatewaySubmission.enrolment_id == Enrolment.id)
        .correlate(Enrolment)
        .scalar_subquery()
        + 1
    )
    declared = select(GatewayDeclaration.id).where(
        GatewayDeclaration.enrolment_id == Enrolment.id, GatewayDeclaration.attempt == attempt
    )
    rows = session.execute(
        select(Enrolment, attempt.label("attempt"), case((may_be_ready, 1), else_=0).label("may_be_ready"))
        .outerjoin(EnrolmentCoverage, EnrolmentCoverage.enrolment_id == Enrolment.id)
        .outerjoin(EnrolmentOtjHours, EnrolmentOtjHours.enrolment_id == Enrolment.id)
        .where(on_programme, may_be_ready | declared.exists())
        .options(*options)
        .order_by(Enrolment.id)
    ).all()
    if not rows:
        return []
    checks = readiness_of_each(session, [row.Enrolment for row in rows if row.may_be_ready], today)
    attempts = {row.Enrolment.id: row.attempt for row in rows}
    declarations: dict[int, list[GatewayDeclaration]] = {}
    for declaration in session.scalars(
        select(GatewayDeclaration)
        .where(GatewayDeclaration.enrolment_id.in_(list(attempts)))
        .order_by(GatewayDeclaration.id)
    ):
        if declaration.attempt == attempts[declaration.enrolment_id]:
            declarations.setdefault(declaration.enrolment_id, []).append(declaration)
    fingerprints = portfolio_fingerprints(session, [row.Enrolment for row in rows if row.Enrolment.id in declarations])
    standings = []
    for row in rows:
        enrolment = row.Enrolment
        newest = _newest_of_each_party(declarations.get(enrolment.id, []))
        standings.append(
            GatewayStanding(
                enrolment=enrolment,
                attempt=row.attempt,
                ready=enrolment.id in checks and checks[enrolment.id].ready,
                declarations=tuple(_declaration_states(enrolment, newest, fingerprints.get(enrolment.id))),
                fingerprint=fingerprints.get(enrolment.id),
                behaviours_to_verify=_behaviours_to_verify(checks.get(enrolment.id)),
            )
        )
    return standings


def _behaviours_to_verify(checks: Readiness | None) -> bool:
    by_code = {check.code: check for check in checks} if checks else {}
    return "behaviours" in by_code and by_code["criteria"].passed and not by_code["behaviours"].passed


def decision_awaited_clause(user: User) -> ColumnElement[bool]:
    """Submissions to the assessor's EPAO still waiting for a decision (join GatewaySubmission to Enrolment)."""
    if user.role is not Role.ASSESSOR or not user.is_active:
        return false()
    return (
        (GatewaySubmission.epao_id == user.organisation_id)
        & (GatewaySubmission.outcome == GatewayOutcome.PENDING)
        & (Enrolment.status == EnrolmentStatus.AT_GATEWAY)
        & visible_enrolments_clause(user)
    )
