"""The "To do" list on each role's home page: what waits for the user, with counts and links."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from portfolio.core import clock
from portfolio.extensions import db
from portfolio.gateway.domain import GATEWAY_ITEMS, decide_gateway, submit_to_epao
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
from portfolio.models.types import utcnow
from portfolio.notifications.domain import mark_read, notify
from portfolio.notifications.kinds import Kind
from standard import Signer

from ..conftest import sign_in
from ..gateway_world import TODAY, accept, ready_enrolment, sign_all


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


# Reviews overdue, queried training, new comments ------------------------------------------------


def test_overdue_progress_reviews_are_on_each_partys_list(client, work, world):
    museum, theatre = work["museum_enrolment"], work["theatre_enrolment"]
    # Started a month ago: its first review is not due yet.
    world.enrolment(employer=work["museum"], provider=work["provider"], tutor=work["tutor"],
                    start=clock.today() - timedelta(days=30))  # fmt: skip
    db.session.commit()
    html = _home(client, work["tutor"])
    assert "2 progress reviews overdue:" in html
    for enrolment in (museum, theatre):
        assert (
            f'{enrolment.apprentice.name}: <a class="govuk-link" href="/enrolments/{enrolment.id}/reviews">'
            "1 review overdue</a>" in html
        )
    html = _home(client, work["museum_mentor"])
    assert "1 progress review overdue:" in html and theatre.apprentice.name not in html
    html = _home(client, museum.apprentice)
    assert f'href="/enrolments/{museum.id}/reviews">Your progress review is overdue</a>' in html

    # Signed by all three today: the next is due in three months.
    review = ProgressReview(enrolment=theatre, review_date=clock.today(), attendees="All three", progress="Good.",
                            created_by=work["tutor"], completed_at=utcnow())  # fmt: skip
    db.session.add(review)
    db.session.commit()
    assert "1 progress review overdue:" in _home(client, work["tutor"])
    assert "overdue" not in _home(client, work["theatre_mentor"])


def test_an_entry_the_tutor_queried_is_on_the_apprentices_list(client, work):
    theatre = work["theatre_enrolment"]
    html = _home(client, theatre.apprentice)
    assert (
        f'href="/enrolments/{theatre.id}/otj?status=queried">1 off-the-job training entry queried by your tutor, '
        "to change</a>" in html
    )
    assert "queried" not in _home(client, work["museum_enrolment"].apprentice)


def test_new_comments_are_the_unread_comment_notifications(client, work):
    museum = work["museum_enrolment"]
    people = [museum.apprentice, work["museum_mentor"], work["tutor"]]
    for _ in range(2):
        notify(db.session, people, Kind.COMMENT, title="A comment on the workshop plan", link="/", enrolment=museum)
    notify(db.session, people, Kind.JUDGEMENT, title="K1 judged", link="/", enrolment=museum)  # not a comment
    db.session.commit()
    for person in people:
        assert '<a class="govuk-link" href="/notifications?show=unread">2 new comments on evidence</a>' in _home(
            client, person
        )
    mark_read(db.session, museum.apprentice)
    db.session.commit()
    assert "new comment" not in _home(client, museum.apprentice)
    assert "new comment" not in _home(client, work["theatre_mentor"])


# The gateway -----------------------------------------------------------------------------------


def test_a_gateway_ready_before_anyone_has_signed_asks_all_three_to_sign(client, world):
    gateway = ready_enrolment(world)
    db.session.commit()
    enrolment = gateway.enrolment
    assert f'href="/enrolments/{enrolment.id}/gateway">Your gateway declaration to sign</a>' in _home(
        client, gateway.apprentice
    )
    for person in (gateway.mentor, gateway.tutor):
        html = _home(client, person)
        assert "1 gateway declaration to sign:" in html
        assert f'href="/enrolments/{enrolment.id}/gateway">1 declaration to sign</a>' in html
        assert "ready to submit" not in html


def test_declarations_out_of_date_ask_those_who_signed_to_sign_again(client, world):
    gateway = ready_enrolment(world)
    sign_all(gateway)
    accept(world.evidence(gateway.enrolment, title="Late evaluation"), gateway.tutor)
    db.session.commit()
    enrolment = gateway.enrolment
    html = _home(client, gateway.apprentice)
    assert (
        f'href="/enrolments/{enrolment.id}/gateway">Your gateway declaration is out of date: the portfolio changed '
        "after you signed it</a>" in html
    )
    for person in (gateway.mentor, gateway.tutor):
        html = _home(client, person)
        assert "1 gateway declaration out of date, to sign again:" in html
        assert f'href="/enrolments/{enrolment.id}/gateway">1 declaration to sign again</a>' in html
        assert "declaration to sign</a>" not in html and "ready to submit" not in html


def test_a_gateway_ready_to_submit_is_on_the_tutors_list(client, world):
    gateway = ready_enrolment(world)
    sign_all(gateway)
    db.session.commit()
    html = _home(client, gateway.tutor)
    assert "1 apprenticeship ready to submit to the assessment organisation:" in html
    assert f'href="/enrolments/{gateway.enrolment.id}/gateway">1 gateway ready to submit</a>' in html
    assert "ready to submit" not in _home(client, gateway.mentor)
    assert "ready to submit" not in _home(client, gateway.apprentice)
    submit_to_epao(db.session, gateway.enrolment, by=gateway.tutor, today=TODAY)
    db.session.commit()
    assert "ready to submit" not in _home(client, gateway.tutor)


def test_a_referral_by_the_assessment_organisation_is_on_each_partys_list_until_submitted_again(client, world):
    gateway = ready_enrolment(world)
    sign_all(gateway)
    submission = submit_to_epao(db.session, gateway.enrolment, by=gateway.tutor, today=TODAY)
    decisions = {code: (True, "") for code in GATEWAY_ITEMS} | {"otj_hours": (False, "Hours not evidenced")}
    decide_gateway(db.session, submission, by=gateway.assessor, decisions=decisions)
    db.session.commit()
    enrolment = gateway.enrolment
    assert (
        f'href="/enrolments/{enrolment.id}/gateway">Your gateway was referred back by the assessment organisation</a>'
        in _home(client, gateway.apprentice)
    )
    for person in (gateway.mentor, gateway.tutor):
        html = _home(client, person)
        assert "1 gateway referred back by the assessment organisation:" in html
        assert f'href="/enrolments/{enrolment.id}/gateway">1 gateway referred back</a>' in html
    # What was referred changes (an unchanged resubmission is refused), then the second attempt.
    db.session.add(
        OtjEntry(
            enrolment=enrolment, activity_date=enrolment.start_date, hours=Decimal("2"), activity=OtjActivity.WORKSHOP,
            learning="Evaluation training.", created_by=enrolment.apprentice, status=OtjStatus.APPROVED,
        )
    )  # fmt: skip
    sign_all(gateway)
    submit_to_epao(db.session, enrolment, by=gateway.tutor, today=TODAY)
    db.session.commit()
    for person in gateway.signers:
        assert "referred back by the assessment organisation" not in _home(client, person)
