"""The employer verifies the apprentice's behaviours: a step before the gateway to completion.

Under the reformed assessment principles the employer, not the assessor, confirms the behaviours,
required where the standard's assessment plan says so (`employer_verifies_behaviours` in its YAML);
elsewhere the step is open to the employer all the same, and goes into the exports, but the gateway
to completion does not wait for it. Someone
of the apprentice's employer goes through each behaviour criterion of the standard: "Confirmed",
or "Not yet" with a note saying what is still to be shown. The verification is signed by that
person and fingerprinted like the gateway declarations: the SHA-256 covers each behaviour's
statement and the decision and note exactly as signed. A new verification replaces the previous
one (each is kept; the newest counts), and the gateway's readiness check passes only when the
newest confirms every behaviour.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from standard import Criterion, Kind

from ..core import audit
from ..core.access import is_employer_of
from ..core.domain import DomainError, lock_enrolment_for_change
from ..core.fingerprint import fingerprint as fingerprint_of
from ..core.text import clean_text
from ..core.wording import long_date
from ..models import BehaviourDecision, BehaviourVerification, Enrolment, EnrolmentStatus, Role, User
from ..models.types import MAX_NOTE
from ..notifications.domain import notify, people_of
from ..notifications.kinds import Kind as NotificationKind

CONFIRMED = "confirmed"
NOT_YET = "not_yet"
DECISION_LABELS = {CONFIRMED: "Confirmed", NOT_YET: "Not yet"}


def asks_for_verification(enrolment: Enrolment) -> bool:
    """Whether the enrolment's standard has the employer verify the behaviours before the gateway."""
    return enrolment.standard_version.standard.gateway.employer_verifies_behaviours


def behaviours_of(enrolment: Enrolment) -> tuple[Criterion, ...]:
    """The behaviour criteria that apply to the enrolment, in the standard's order."""
    return enrolment.standard_version.standard.criteria_of(Kind.BEHAVIOURS)


def may_verify_behaviours(user: User, enrolment: Enrolment) -> bool:
    """Someone of the apprentice's employer, where the standard has behaviours (required or not)."""
    return is_employer_of(user, enrolment) and bool(behaviours_of(enrolment))


def verification_fingerprint(enrolment_id: int, decisions: Sequence[tuple[str, str, bool, str]]) -> str:
    """A SHA-256 of the enrolment and each behaviour's (code, statement, confirmed, note) as signed."""
    return fingerprint_of(
        {
            "enrolment": enrolment_id,
            "behaviours": [
                {"code": code, "statement": statement, "decision": CONFIRMED if confirmed else NOT_YET, "note": note}
                for code, statement, confirmed, note in decisions
            ],
        }
    )


def fingerprint_of_signed(verification: BehaviourVerification) -> str:
    """The fingerprint worked out afresh from the stored decisions: equal to the one kept, unless
    the record was changed after it was signed."""
    return verification_fingerprint(
        verification.enrolment_id,
        [(d.criterion_code, d.statement, d.confirmed, d.note) for d in verification.decisions],
    )


# ---------------------------------------------------------------------------------------------
# Where it stands


@dataclass(frozen=True)
class VerificationState:
    """The behaviours the standard asks the employer to verify and the newest verification, if any."""

    behaviours: tuple[Criterion, ...]
    verification: BehaviourVerification | None
    required: bool  # the standard's assessment plan asks for it before the gateway to completion

    @property
    def decisions(self) -> dict[str, BehaviourDecision]:
        return {d.criterion_code: d for d in self.verification.decisions} if self.verification else {}

    @property
    def not_confirmed(self) -> list[str]:
        """The codes of the behaviours the newest verification does not confirm as they are stated
        now (a behaviour whose statement differs from the one signed counts as not confirmed)."""
        decisions = self.decisions
        return [
            b.code
            for b in self.behaviours
            if not ((d := decisions.get(b.code)) and d.confirmed and d.statement == b.text)
        ]

    @property
    def changed_since(self) -> list[str]:
        """Behaviours whose statement in the pinned standard differs from the one signed (the
        enrolment moved to another version of the standard since)."""
        decisions = self.decisions
        return [b.code for b in self.behaviours if (d := decisions.get(b.code)) and d.statement != b.text]

    @property
    def complete(self) -> bool:
        return self.verification is not None and not self.not_confirmed

    @property
    def detail(self) -> str:
        """The readiness check's detail: who verified and when, or which behaviours are not yet confirmed."""
        total = len(self.behaviours)
        if self.verification is None:
            return f"The employer has not verified the behaviours yet: {total} to confirm ({_codes(self.behaviours)})"
        signed = f"{self.verification.signed_by.name}, {long_date(self.verification.signed_at)}"
        if not self.not_confirmed:
            return f"All {total} behaviours confirmed by the employer ({signed})"
        missing = self.not_confirmed
        detail = (
            f"{len(missing)} of {total} behaviours not yet confirmed by the employer ({signed}): {', '.join(missing)}"
        )
        if changed := self.changed_since:
            detail += f"; the statement of {', '.join(changed)} has changed since it was verified"
        return detail


def _codes(behaviours: Sequence[Criterion]) -> str:
    return ", ".join(b.code for b in behaviours)


def newest_verifications(session: Session, enrolment_ids: Sequence[int]) -> dict[int, BehaviourVerification]:
    """The newest signed verification of each enrolment, with its decisions and signer (one query)."""
    if not enrolment_ids:
        return {}
    newest = (
        select(func.max(BehaviourVerification.id))
        .where(BehaviourVerification.enrolment_id.in_(sorted(set(enrolment_ids))))
        .group_by(BehaviourVerification.enrolment_id)
    )
    found = session.scalars(
        select(BehaviourVerification)
        .where(BehaviourVerification.id.in_(newest))
        .options(joinedload(BehaviourVerification.decisions), joinedload(BehaviourVerification.signed_by))
    ).unique()
    return {verification.enrolment_id: verification for verification in found}


def verification_state(session: Session, enrolment: Enrolment) -> VerificationState | None:
    """Where the employer's verification stands (one query); None where the standard has no behaviours."""
    behaviours = behaviours_of(enrolment)
    if not behaviours:
        return None
    verification = newest_verifications(session, [enrolment.id]).get(enrolment.id)
    return VerificationState(behaviours, verification, asks_for_verification(enrolment))


def verification_history(session: Session, enrolment: Enrolment) -> list[BehaviourVerification]:
    """Every verification signed for the enrolment, oldest first, with decisions and signers (one query)."""
    return list(
        session.scalars(
            select(BehaviourVerification)
            .where(BehaviourVerification.enrolment_id == enrolment.id)
            .options(joinedload(BehaviourVerification.decisions), joinedload(BehaviourVerification.signed_by))
            .order_by(BehaviourVerification.id)
        ).unique()
    )


# ---------------------------------------------------------------------------------------------
# Signing


def sign_behaviour_verification(
    session: Session, enrolment: Enrolment, *, by: User, decisions: Mapping[str, tuple[bool, str]]
) -> BehaviourVerification:
    """`by`, of the apprentice's employer, signs a verification of every behaviour: code ->
    (confirmed, note); a note is required for a behaviour not yet confirmed. It replaces the
    previous verification (which is kept). Only on programme: before the gateway to completion."""
    standard = enrolment.standard_version.standard
    if not is_employer_of(by, enrolment):
        raise DomainError("Only someone of the apprentice's employer can verify their behaviours")
    lock_enrolment_for_change(session, enrolment)
    if enrolment.status is not EnrolmentStatus.ON_PROGRAMME:
        raise DomainError(
            "The employer verifies the behaviours while the apprentice is on programme, before the gateway to "
            f"completion; this apprenticeship is {enrolment.status.label.lower()}"
        )
    behaviours = behaviours_of(enrolment)
    if not behaviours:
        raise DomainError(f"{standard.reference} has no behaviours to verify")
    if unknown := sorted(set(decisions) - {b.code for b in behaviours}):
        raise DomainError(f"{', '.join(unknown)} is not a behaviour of {standard.reference}")
    rows: list[tuple[str, str, bool, str]] = []
    for behaviour in behaviours:
        if behaviour.code not in decisions:
            raise DomainError(f"Choose Confirmed or Not yet for {behaviour.code}", f"decision_{behaviour.code}")
        confirmed, note = decisions[behaviour.code]
        note = clean_text(note)
        if not confirmed and not note:
            raise DomainError(
                f"Say what is not yet shown for {behaviour.code}: a note is needed when it is not yet confirmed",
                f"note_{behaviour.code}",
            )
        if len(note) > MAX_NOTE:
            raise DomainError(
                f"The note for {behaviour.code} must be {MAX_NOTE:,} characters or fewer", f"note_{behaviour.code}"
            )
        rows.append((behaviour.code, behaviour.text, bool(confirmed), note))
    fingerprint = verification_fingerprint(enrolment.id, rows)
    previous = newest_verifications(session, [enrolment.id]).get(enrolment.id)
    if previous is not None and previous.fingerprint == fingerprint and previous.signed_by_id == by.id:
        raise DomainError(
            f"You already signed this verification ({long_date(previous.signed_at)}): change a decision or a note "
            "to sign a new one"
        )
    verification = BehaviourVerification(enrolment=enrolment, signed_by=by, fingerprint=fingerprint)
    verification.decisions.extend(
        BehaviourDecision(criterion_code=code, statement=statement, confirmed=confirmed, note=note)
        for code, statement, confirmed, note in rows
    )
    session.add(verification)
    not_yet = [code for code, _, confirmed, _ in rows if not confirmed]
    audit.record_change(
        "gateway.behaviours_verified",
        verification,
        actor=by,
        before={
            "fingerprint": previous.fingerprint if previous else None,
            "not_yet": previous.not_yet if previous else None,
        },
        after={"fingerprint": fingerprint, "not_yet": not_yet},
    )
    _tell_behaviours_verified(session, enrolment, verification, len(rows) - len(not_yet), len(rows), by=by)
    return verification


def _tell_behaviours_verified(
    session: Session, enrolment: Enrolment, verification: BehaviourVerification, confirmed: int, total: int, *, by: User
) -> None:
    """Tell the apprentice and the tutor how many behaviours the employer confirmed."""
    apprentice = enrolment.apprentice.name
    if confirmed == total:
        title = f"{by.name} of {enrolment.employer.name} confirmed all {total} of {apprentice}'s behaviours"
    else:
        title = f"{by.name} of {enrolment.employer.name} confirmed {confirmed} of {total} of {apprentice}'s behaviours"
    body = "\n".join(f"{d.criterion_code} not yet: {d.note}" for d in verification.decisions if not d.confirmed)
    notify(
        session,
        people_of(session, enrolment, Role.APPRENTICE, Role.TUTOR),
        NotificationKind.BEHAVIOURS_VERIFIED,
        title=title,
        body=body,
        link=f"/enrolments/{enrolment.id}/gateway#behaviour-verification",
        enrolment=enrolment,
        actor=by,
    )
