"""An apprenticeship ready for the gateway, built by hand for the gateway's tests: every
criterion shown by accepted evidence, English and maths settled, twelve months on programme,
the planned off-the-job hours approved and the latest progress review signed by all three;
and, where the standard has the employer verify the behaviours, every behaviour confirmed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from funding_rules import add_calendar_months
from portfolio.core import clock
from portfolio.enrolments.standard_versions import store_standard
from portfolio.extensions import db
from portfolio.gateway.behaviours import behaviours_of, sign_behaviour_verification
from portfolio.gateway.domain import sign_declaration
from portfolio.models import (
    Enrolment,
    OtjActivity,
    OtjEntry,
    OtjStatus,
    ProgressReview,
    ReviewSignature,
    Role,
    StandardVersion,
    User,
)
from portfolio.review.domain import Decision, decide, start_review
from standard import Signer, shipped_path

TODAY = clock.today()  # the pages use today's date, so the world is built around it
START = add_calendar_months(TODAY, -13)


@dataclass
class Gateway:
    enrolment: Enrolment
    tutor: User
    mentor: User
    assessor: User

    @property
    def apprentice(self) -> User:
        return self.enrolment.apprentice

    @property
    def signers(self) -> list[User]:
        return [self.apprentice, self.mentor, self.tutor]


def accept(item, tutor) -> None:
    start_review(db.session, item, by=tutor)
    decide(db.session, item, by=tutor, decision=Decision.ACCEPT)


def approved_hours(enrolment, hours: str, status: OtjStatus = OtjStatus.APPROVED) -> OtjEntry:
    entry = OtjEntry(
        enrolment=enrolment, activity_date=enrolment.start_date, hours=Decimal(hours), activity=OtjActivity.WORKSHOP,
        learning="Participatory practice course.", status=status, created_by=enrolment.apprentice,
    )  # fmt: skip
    db.session.add(entry)
    return entry


def review(enrolment, tutor, day: date, signed_by: dict[Signer, User]) -> ProgressReview:
    review = ProgressReview(
        enrolment=enrolment, review_date=day, attendees="All three", progress="On track.", created_by=tutor
    )
    for signer, user in signed_by.items():
        review.signatures.append(ReviewSignature(signer=signer, user=user))
    if len(signed_by) == 3:
        review.completed_at = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    db.session.add(review)
    return review


def ready_enrolment(world, start: date = START, *, tutor: User | None = None, mentor: User | None = None,
                    behaviours_verified: bool = True, **terms) -> Gateway:  # fmt: skip
    """A ready apprenticeship of its own provider, employer and EPAO (with an assessor); or of the
    provider of `tutor` and the employer of `mentor`, if given. Where the standard has the employer
    verify the behaviours, the mentor confirms them all, unless not `behaviours_verified`."""
    provider = tutor.organisation if tutor else world.provider()
    employer = mentor.organisation if mentor else world.employer()
    epao = world.epao()
    tutor = tutor or world.user(Role.TUTOR, provider)
    mentor = mentor or world.user(Role.EMPLOYER, employer)
    assessor = world.user(Role.ASSESSOR, epao)
    defaults = dict(
        english_maths_route="not_required",
        english_maths_decided_on=START,
        english_maths_agreed_by="The employer and the apprentice",
        planned_otj_hours=200,
        planned_end_date=add_calendar_months(start, 12),
    )
    enrolment = world.enrolment(
        employer=employer, provider=provider, epao=epao, tutor=tutor, mentor=mentor, start=start, **defaults | terms
    )
    standard = enrolment.standard_version.standard
    accept(world.evidence(enrolment, links={code: f"Shows {code}." for code in standard.codes}), tutor)
    for _ in range(10):  # 200 hours, the plan (an entry holds at most 24)
        approved_hours(enrolment, "20")
    everyone = {
        Signer.APPRENTICE: enrolment.apprentice,
        Signer.EMPLOYER: mentor,
        Signer.PROVIDER: tutor,
    }
    review(enrolment, tutor, add_calendar_months(start, 6), everyone)
    if behaviours_verified and enrolment.standard_version.standard.gateway.employer_verifies_behaviours:
        confirm_behaviours(enrolment, mentor)
    db.session.flush()
    return Gateway(enrolment, tutor, mentor, assessor)


def confirm_behaviours(enrolment: Enrolment, by: User, **not_yet: str):
    """`by` (of the employer) verifies every behaviour: confirmed, but for the codes in `not_yet`
    (code -> the note saying why)."""
    decisions = {b.code: (b.code not in not_yet, not_yet.get(b.code, "")) for b in behaviours_of(enrolment)}
    return sign_behaviour_verification(db.session, enrolment, by=by, decisions=decisions)


def verifying_version() -> StandardVersion:
    """ST0396 as a plan revised under the reformed assessment principles would have it: the
    employer verifies the behaviours before the gateway to completion."""
    text = shipped_path("ST0396").read_text(encoding="utf-8")
    flag = "employer_verifies_behaviours: false"
    assert flag in text
    version, _ = store_standard(db.session, text.replace(flag, "employer_verifies_behaviours: true"))
    return version


def sign_all(gateway: Gateway, today: date = TODAY) -> None:
    for user in gateway.signers:
        sign_declaration(db.session, gateway.enrolment, by=user, today=today)


@pytest.fixture
def ready(world) -> Gateway:
    gateway = ready_enrolment(world)
    db.session.commit()
    return gateway
