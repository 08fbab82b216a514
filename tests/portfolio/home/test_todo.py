"""The "To do" list on each role's home page: what waits for the user, with counts and links."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portfolio.extensions import db
from portfolio.home.todo import BREAKDOWN_LIMIT, todo_list
from portfolio.models import (
    EvidenceStatus,
    OtjActivity,
    OtjEntry,
    OtjStatus,
    ProgressReview,
    ReviewSignature,
    Role,
)
from standard import Signer

from ..conftest import sign_in


def _otj(enrolment, status=OtjStatus.LOGGED):
    db.session.add(
        OtjEntry(
            enrolment=enrolment, activity_date=enrolment.start_date, hours=Decimal("2"),
            activity=OtjActivity.SELF_STUDY, learning="Reading on audience research.", status=status,
            created_by=enrolment.apprentice,
        )
    )  # fmt: skip


def _review(enrolment, tutor, signed_by=()):
    review = ProgressReview(
        enrolment=enrolment, review_date=enrolment.start_date, attendees="All three", progress="On track.",
        created_by=tutor,
    )  # fmt: skip
    for signer, user in signed_by:
        review.signatures.append(ReviewSignature(signer=signer, user=user))
    db.session.add(review)


@pytest.fixture
def work(two_employers, world):
    """Work waiting at both employers of one provider."""
    museum, theatre = two_employers["museum_enrolment"], two_employers["theatre_enrolment"]
    tutor = two_employers["tutor"]
    world.evidence(museum)  # submitted: for the tutor to review
    world.evidence(theatre)
    world.evidence(museum, submitted=False)  # a draft of the museum's apprentice
    world.evidence(museum).status = EvidenceStatus.REFERRED  # back to the apprentice to fix
    world.evidence(museum).status = EvidenceStatus.ACCEPTED
    _otj(museum)
    _otj(museum)
    _otj(theatre)
    _otj(theatre, OtjStatus.APPROVED)
    _otj(theatre, OtjStatus.QUERIED)  # back with the apprentice, not for approval
    # The tutor has signed the museum's review; the theatre's awaits everyone.
    _review(museum, tutor, [(Signer.PROVIDER, tutor)])
    _review(theatre, tutor)
    db.session.commit()
    return two_employers


def _home(client, user) -> str:
    client.post("/sign-out")
    sign_in(client, user)
    response = client.get("/")
    assert response.status_code == 200
    return " ".join(response.get_data(as_text=True).split())


def test_tutor_reviews_evidence_approves_training_and_signs_reviews(client, work):
    museum, theatre = work["museum_enrolment"], work["theatre_enrolment"]
    html = _home(client, work["tutor"])
    assert '<h2 class="govuk-heading-m" id="to-do">To do</h2>' in html
    assert '<a class="govuk-link" href="/review">2 evidence items to review</a>' in html
    assert "3 off-the-job training entries to approve:" in html
    assert (
        f'{museum.apprentice.name}: <a class="govuk-link" href="/enrolments/{museum.id}/otj?status=logged">2 entries'
        in html
    )
    assert (
        f'{theatre.apprentice.name}: <a class="govuk-link" href="/enrolments/{theatre.id}/otj?status=logged">1 entry'
        in html
    )
    assert "1 progress review to sign:" in html
    assert (
        f'{theatre.apprentice.name}: <a class="govuk-link" href="/enrolments/{theatre.id}/reviews">1 review to sign</a>'
        in html
    )
    assert "referred back" not in html and "not yet submitted" not in html


def test_employer_signs_their_organisations_reviews(client, work):
    museum = work["museum_enrolment"]
    html = _home(client, work["museum_mentor"])
    assert "1 progress review to sign:" in html
    assert (
        f'{museum.apprentice.name}: <a class="govuk-link" href="/enrolments/{museum.id}/reviews">1 review to sign</a>'
        in html
    )
    assert "to review" not in html and "to approve" not in html
    html = _home(client, work["theatre_mentor"])
    assert work["theatre_enrolment"].apprentice.name in html and "1 progress review to sign:" in html


def test_apprentice_fixes_referred_evidence_signs_reviews_and_submits_drafts(client, work):
    museum = work["museum_enrolment"]
    html = _home(client, museum.apprentice)
    assert (
        f'href="/enrolments/{museum.id}/evidence?status=referred">1 evidence item referred back to you to fix' in html
    )
    assert f'href="/enrolments/{museum.id}/reviews">1 progress review to sign</a>' in html
    assert f'href="/enrolments/{museum.id}/evidence?status=draft">1 draft not yet submitted for review' in html


def test_assessor_has_nothing_to_do_yet(client, work, world):
    assessor = world.user(Role.ASSESSOR, work["epao"])
    db.session.commit()
    html = _home(client, assessor)
    assert "To do</h2>" in html and "Nothing needs your action here yet." in html


def test_nothing_to_do(client, world):
    tutor = world.user(Role.TUTOR, world.provider())
    db.session.commit()
    html = _home(client, tutor)
    assert "Nothing needs your action at the moment." in html


def test_a_long_breakdown_names_the_busiest_apprentices(client, world):
    provider, employer = world.provider(), world.employer()
    tutor = world.user(Role.TUTOR, provider)
    enrolments = [world.enrolment(employer=employer, provider=provider, tutor=tutor) for _ in range(7)]
    for n, enrolment in enumerate(enrolments):
        for _ in range(n + 1):
            _otj(enrolment)
    db.session.commit()
    todo = todo_list(db.session, tutor)
    assert todo.otj_to_approve == 28
    assert [p.count for p in todo.otj_by_enrolment] == [7, 6, 5, 4, 3][:BREAKDOWN_LIMIT]
    html = _home(client, tutor)
    assert "28 off-the-job training entries to approve:" in html
    assert "<li>3 more for other apprentices</li>" in html


def test_withdrawn_apprenticeships_leave_the_list(client, work):
    from portfolio.enrolments.domain import change_status
    from portfolio.models import EnrolmentStatus

    change_status(db.session, work["theatre_enrolment"], EnrolmentStatus.WITHDRAWN, None)
    db.session.commit()
    todo = todo_list(db.session, work["tutor"])
    assert todo.otj_to_approve == 2 and [p.count for p in todo.otj_by_enrolment] == [2]
    assert todo.reviews_to_sign == 0 and todo.reviews_by_enrolment == ()
