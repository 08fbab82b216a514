"""A small cohort built by hand, for the cohort table's tests: four apprentices of one
provider at two employers, with evidence, judgements, off-the-job entries and reviews whose
figures the tests know, and one apprentice of another provider who must never show."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from portfolio.enrolments.domain import change_status
from portfolio.extensions import db
from portfolio.models import (
    CriterionJudgement,
    EnrolmentStatus,
    EvidenceStatus,
    OtjActivity,
    OtjEntry,
    OtjStatus,
    ProgressReview,
    ReviewInterval,
    Role,
)


def _set_status(item, status: EvidenceStatus) -> None:
    item.status = status  # the review pages are not under test here: only what the table counts


def _judge(enrolment, tutor, code: str, met: bool) -> None:
    db.session.add(
        CriterionJudgement(
            enrolment=enrolment, criterion_code=code, level_code="met" if met else "not_yet", met=met, judged_by=tutor
        )
    )
    db.session.flush()  # ids in the order judged: the newest is the current one


def _otj(enrolment, hours: str, status: OtjStatus) -> None:
    db.session.add(
        OtjEntry(
            enrolment=enrolment, activity_date=enrolment.start_date, hours=Decimal(hours),
            activity=OtjActivity.WORKSHOP, learning="Workshop facilitation.", status=status,
            created_by=enrolment.apprentice,
        )
    )  # fmt: skip


def _review(enrolment, tutor, day: date, complete: bool) -> None:
    db.session.add(
        ProgressReview(
            enrolment=enrolment, review_date=day, attendees="Apprentice, mentor, tutor", progress="On track.",
            created_by=tutor, completed_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC) if complete else None,
        )
    )  # fmt: skip


def build_cohort(world) -> dict:
    """Four apprentices of one provider at two employers, and one of another provider."""
    provider = world.provider("Northgate Arts Training")
    museum, theatre = world.employer("Harbourside Museum"), world.employer("Larkfield Playhouse")
    priya = world.user(Role.TUTOR, provider, name="Priya Natarajan")
    tom = world.user(Role.TUTOR, provider, name="Tom Whitlock")
    helen = world.user(Role.EMPLOYER, museum, name="Helen Osei")
    gareth = world.user(Role.EMPLOYER, theatre, name="Gareth Lloyd")

    def apprentice(name, employer):
        return world.user(Role.APPRENTICE, employer, name=name)

    alice = world.enrolment(
        apprentice=apprentice("Alice Archer", museum), provider=provider, tutor=priya,
        start=date(2025, 9, 1), planned_end_date=date(2026, 8, 28), planned_otj_hours=375,
    )  # fmt: skip
    ben = world.enrolment(
        apprentice=apprentice("Ben Baker", theatre), provider=provider, tutor=tom,
        start=date(2025, 10, 6), planned_end_date=date(2027, 4, 6), planned_otj_hours=400,
    )  # fmt: skip
    ben.review_interval = ReviewInterval.TWELVE_WEEKS
    cara = world.enrolment(
        apprentice=apprentice("Cara Clay", museum), provider=provider, tutor=priya,
        start=date(2024, 9, 2), planned_end_date=date(2025, 12, 1), planned_otj_hours=300,
        contracted_weekly_hours=Decimal(25),  # part-time: 20% of 25 hours over 58 weeks, 290 hours at least
    )  # fmt: skip
    dev = world.enrolment(
        apprentice=apprentice("Dev Dunn", museum), provider=provider,
        start=date(2025, 12, 1), planned_end_date=date(2026, 12, 1), planned_otj_hours=300,
    )  # fmt: skip
    elsewhere = world.enrolment(apprentice=apprentice("Eve Else", world.employer()), start=date(2025, 9, 1))

    # Alice: evidence in every status; only submitted, referred and accepted count.
    _set_status(world.evidence(alice, links={"K1": "a", "S4": "b"}), EvidenceStatus.SUBMITTED)
    _set_status(world.evidence(alice, links={"K1": "a", "K2": "b"}), EvidenceStatus.ACCEPTED)
    _set_status(world.evidence(alice, links={"B1": "a"}), EvidenceStatus.REFERRED)
    world.evidence(alice, links={"K3": "a"}, submitted=False)
    _set_status(world.evidence(alice, links={"K4": "a"}), EvidenceStatus.WITHDRAWN)
    _judge(alice, priya, "K1", True)
    _judge(alice, priya, "K1", False)  # the newer judgement wins: K1 no longer met
    _judge(alice, priya, "K2", False)
    _judge(alice, priya, "K2", True)
    _judge(alice, priya, "S4", True)  # met counts as accepted and evidenced too, as on the dashboard
    _judge(alice, priya, "B5", True)  # judged met from an observation, without evidence
    _otj(alice, "3.5", OtjStatus.APPROVED)
    _otj(alice, "2.25", OtjStatus.LOGGED)
    _otj(alice, "1", OtjStatus.QUERIED)
    _review(alice, priya, date(2025, 11, 30), complete=True)
    _review(alice, priya, date(2025, 8, 30), complete=True)
    _review(alice, priya, date(2026, 2, 10), complete=False)  # not signed by all three yet

    # Cara: at gateway, a lot of evidence; two items awaiting review.
    _set_status(world.evidence(cara, links={f"K{n}": "a" for n in range(1, 7)}), EvidenceStatus.ACCEPTED)
    world.evidence(cara, links={"K1": "a"})
    world.evidence(cara, links={"K7": "a"})
    change_status(db.session, cara, EnrolmentStatus.AT_GATEWAY, None)

    # Dev: well ahead on off-the-job hours, all approved.
    _otj(dev, "80", OtjStatus.APPROVED)

    # Eve, of another provider: plenty of everything, never in this cohort.
    world.evidence(elsewhere, links={"K1": "a"})
    _otj(elsewhere, "10", OtjStatus.LOGGED)
    db.session.commit()
    return {
        "priya": priya, "tom": tom, "helen": helen, "gareth": gareth, "museum": museum, "theatre": theatre,
        "alice": alice, "ben": ben, "cara": cara, "dev": dev,
    }  # fmt: skip
