"""Signing requests: the domain functions, called directly, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portfolio.core import audit
from portfolio.core.domain import DomainError
from portfolio.evidence.items import may_change
from portfolio.extensions import db
from portfolio.models import (
    AuditEvent,
    EvidenceItem,
    EvidenceKind,
    EvidenceStatus,
    Notification,
    OutboxMessage,
    ProgressReview,
    Rag,
    ReviewCriterion,
    ReviewSignature,
    Role,
    SigningPurpose,
    SigningRequest,
    SigningStatus,
    WitnessSignature,
)
from portfolio.models.types import utcnow
from portfolio.notifications.kinds import Kind
from portfolio.progress_reviews.domain import ReviewDetails, sign_review, update_review
from portfolio.review.domain import Decision, WitnessTestimony, decide, sign_testimony, start_review
from portfolio.signing import domain
from portfolio.signing.domain import (
    NotVerified,
    RequestClosed,
    WitnessDetails,
    closed,
    create_review_request,
    create_testimony_request,
    decline,
    expire_requests,
    send_again,
    send_code,
    sign,
    verify_code,
    withdraw,
)
from standard import Signer

WITNESS = "jo.bloggs@riverside-arts.example"
ADDRESS = "192.0.2.10"
DETAILS = WitnessDetails(
    name="Jo Bloggs",
    job_title="Venue manager",
    relationship="Manager of the venue where the workshop ran",
    signature="  jo BLOGGS ",  # the typed signature matches the name whatever its case and spacing
    confirmed=True,
)
TEXT = "I saw the apprentice brief twenty volunteer stewards and answer their questions calmly."


@pytest.fixture
def museum(two_employers):
    return two_employers["museum_enrolment"]


@pytest.fixture
def tutor(two_employers):
    return two_employers["tutor"]


def ask(enrolment, by, *, email=WITNESS, text=TEXT, now=None, links=None):
    testimony = WitnessTestimony(
        title="Witness testimony: the lantern parade",
        activity_date=enrolment.start_date,
        text=text,
        links=links or {"S5": "She briefed the stewards clearly.", "B6": "She worked well with the venue team."},
    )
    return create_testimony_request(
        db.session,
        enrolment=enrolment,
        by=by,
        witness_email=email,
        witness_name="Jo Bloggs",
        testimony=testimony,
        now=now,
    )


def verified(request, now):
    """Send a code and enter it, as the witness does; when their email address was verified."""
    code = send_code(db.session, request, address=ADDRESS, now=now)
    return verify_code(db.session, request, code, address=ADDRESS, now=now + timedelta(seconds=5))


def events(action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


# Asking -----------------------------------------------------------------------------------------


@pytest.mark.one_transaction
def test_asking_makes_a_draft_and_emails_a_single_use_link_of_which_only_a_hash_is_kept(museum, tutor):
    request, token = ask(museum, tutor)
    item = request.item
    assert (item.kind, item.status, item.created_by, item.description) == (
        EvidenceKind.WITNESS_TESTIMONY,
        EvidenceStatus.DRAFT,
        tutor,
        TEXT,
    )
    assert item.codes == ["S5", "B6"]
    assert request.purpose is SigningPurpose.WITNESS_TESTIMONY and request.status is SigningStatus.PENDING
    assert (request.witness_email, request.witness_name_given, request.text_to_confirm) == (WITNESS, "Jo Bloggs", TEXT)
    assert request.token_hash == hashlib.sha256(token.encode()).hexdigest() and len(token) >= 40
    assert request.expires_at - request.created_at == timedelta(days=14)
    [message] = db.session.scalars(select(OutboxMessage)).all()
    assert message.to_address == WITNESS and message.holds_secret
    assert f"/sign/{token}" in message.text_body and f"/sign/{token}" in message.html_body
    assert tutor.name in message.text_body and museum.apprentice.name in message.text_body
    stored = json.dumps([str(v) for v in db.session.execute(select(SigningRequest.__table__)).one()])
    assert token not in stored  # the token lives in the email alone
    assert domain.request_by_token(db.session, token) is request
    assert domain.request_by_token(db.session, token + "x") is None
    assert [e.actor_id for e in events("signing_request.sent")] == [tutor.id]


@pytest.mark.one_transaction
def test_the_link_lasts_as_the_setting_says(app, museum, tutor):
    app.config["SIGNING_REQUEST_DAYS"] = 3
    request, _ = ask(museum, tutor)
    assert request.expires_at - request.created_at == timedelta(days=3)


@pytest.mark.one_transaction
def test_the_text_may_be_left_for_the_witness_to_write(museum, tutor):
    request, _ = ask(museum, tutor, text="  ")
    assert request.text_to_confirm == "" and request.item.description == ""
    now = utcnow()
    at = verified(request, now)
    with pytest.raises(DomainError, match="Write your testimony") as refused:
        sign(db.session, request, DETAILS, verified_at=at, address=ADDRESS, now=now)
    assert refused.value.field == "text"
    written = WitnessDetails(**{**DETAILS.__dict__, "text": "  She kept the parade moving safely.\x00 "})
    sign(db.session, request, written, verified_at=at, address=ADDRESS, now=now)
    assert request.item.description == request.signed_text == "She kept the parade moving safely."


@pytest.mark.one_transaction
@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("not an address", "correct format"),
        ("", "correct format"),
    ],
)
def test_a_bad_address_is_refused(museum, tutor, email, message):
    with pytest.raises(DomainError, match=message) as refused:
        ask(museum, tutor, email=email)
    assert refused.value.field == "witness_email"


@pytest.mark.one_transaction
def test_nobody_asks_themselves_or_the_apprentice_to_be_the_witness(museum, tutor):
    for email in (tutor.email.upper(), museum.apprentice.email):
        with pytest.raises(DomainError, match="witness") as refused:
            ask(museum, tutor, email=email)
        assert refused.value.field == "witness_email"


@pytest.mark.one_transaction
def test_a_request_asks_about_at_least_one_criterion(museum, tutor):
    testimony = WitnessTestimony(title="Parade", activity_date=museum.start_date, text=TEXT, links={})
    with pytest.raises(DomainError, match="at least one criterion") as refused:
        create_testimony_request(
            db.session, enrolment=museum, by=tutor, witness_email=WITNESS, witness_name="", testimony=testimony
        )
    assert refused.value.field == "links"


@pytest.mark.one_transaction
def test_only_the_apprenticeships_tutors_and_employers_ask(museum, two_employers, world):
    for outsider in (
        museum.apprentice,
        two_employers["theatre_mentor"],
        world.user(Role.TUTOR, world.provider("Elsewhere College")),
    ):
        with pytest.raises(DomainError, match="cannot ask"):
            ask(museum, outsider)
    request, _ = ask(museum, two_employers["museum_mentor"])
    assert request.requested_by == two_employers["museum_mentor"]


# The code ---------------------------------------------------------------------------------------


@pytest.mark.one_transaction
def test_the_code_goes_in_a_second_email_and_proves_the_address(museum, tutor):
    request, token = ask(museum, tutor)
    now = utcnow()
    code = send_code(db.session, request, address=ADDRESS, now=now)
    assert len(code) == 6 and code.isdigit()
    link_message, code_message = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert code_message.to_address == WITNESS and code_message.holds_secret
    assert code in code_message.text_body and code not in link_message.text_body
    assert token not in code_message.text_body and museum.apprentice.name not in code_message.text_body
    assert request.code_hash is not None and code not in request.code_hash
    at = verify_code(db.session, request, f" {code[:3]} {code[3:]} ", address=ADDRESS, now=now + timedelta(seconds=9))
    assert at == request.email_verified_at == now + timedelta(seconds=9)
    assert request.code_hash is None  # once only
    with pytest.raises(DomainError, match="Ask for a code first"):
        verify_code(db.session, request, code, address=ADDRESS, now=now + timedelta(seconds=10))


@pytest.mark.one_transaction
def test_a_wrong_code_is_refused_clearly_and_five_wrong_tries_end_the_code(museum, tutor):
    request, _ = ask(museum, tutor)
    now = utcnow()
    code = send_code(db.session, request, address=ADDRESS, now=now)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for tries_left in (4, 3, 2, 1):
        with pytest.raises(DomainError, match=f"The code is not right.*{tries_left} tr") as refused:
            verify_code(db.session, request, wrong, address=ADDRESS, now=now)
        assert refused.value.field == "code"
    with pytest.raises(DomainError, match="Send yourself a new code"):
        verify_code(db.session, request, wrong, address=ADDRESS, now=now)
    assert request.code_attempts == 5
    with pytest.raises(DomainError, match="entered wrongly 5 times"):
        verify_code(db.session, request, code, address=ADDRESS, now=now)  # the right code, too late
    assert request.email_verified_at is None
    assert [json.loads(e.after)["tries"] for e in events("signing_request.code_refused")] == [1, 2, 3, 4, 5]
    assert {e.actor_id for e in events("signing_request.code_refused")} == {None}
    # A new code starts the count again.
    code = send_code(db.session, request, address=ADDRESS, now=now + timedelta(minutes=1))
    assert verify_code(db.session, request, code, address=ADDRESS, now=now + timedelta(minutes=1))


@pytest.mark.one_transaction
def test_a_malformed_or_missing_code_is_not_a_try(museum, tutor):
    request, _ = ask(museum, tutor)
    send_code(db.session, request, address=ADDRESS)
    for typed, message in (("", "Enter the 6-digit code"), ("12ab56", "6 digits"), ("1234567", "6 digits")):
        with pytest.raises(DomainError, match=message):
            verify_code(db.session, request, typed, address=ADDRESS)
    assert request.code_attempts == 0


@pytest.mark.one_transaction
def test_codes_are_sent_at_most_once_a_minute_and_five_times_in_all(museum, tutor):
    request, _ = ask(museum, tutor)
    now = utcnow()
    send_code(db.session, request, address=ADDRESS, now=now)
    with pytest.raises(DomainError, match="less than a minute ago"):
        send_code(db.session, request, address=ADDRESS, now=now + timedelta(seconds=59))
    for minute in range(1, 5):
        send_code(db.session, request, address=ADDRESS, now=now + timedelta(minutes=minute))
    with pytest.raises(DomainError, match="5 codes"):
        send_code(db.session, request, address=ADDRESS, now=now + timedelta(minutes=10))
    assert request.codes_sent == 5
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1 + 5


@pytest.mark.one_transaction
def test_a_code_works_for_half_an_hour_and_the_latest_code_only(museum, tutor):
    request, _ = ask(museum, tutor)
    now = utcnow()
    first = send_code(db.session, request, address=ADDRESS, now=now)
    with pytest.raises(DomainError, match="expired"):
        verify_code(db.session, request, first, address=ADDRESS, now=now + timedelta(minutes=31))
    second = send_code(db.session, request, address=ADDRESS, now=now + timedelta(minutes=32))
    if first != second:
        with pytest.raises(DomainError, match="not right"):
            verify_code(db.session, request, first, address=ADDRESS, now=now + timedelta(minutes=33))
    assert verify_code(db.session, request, second, address=ADDRESS, now=now + timedelta(minutes=33))


# Signing ----------------------------------------------------------------------------------------


@pytest.mark.one_transaction
def test_the_witness_signs_and_the_testimony_goes_for_review(museum, tutor):
    request, _ = ask(museum, tutor)
    now = utcnow()
    at = verified(request, now)
    sign(db.session, request, DETAILS, verified_at=at, address=ADDRESS, now=now + timedelta(minutes=2))
    item = request.item
    assert item.status is EvidenceStatus.SUBMITTED and item.submitted_at == now + timedelta(minutes=2)
    [signature] = db.session.scalars(select(WitnessSignature)).all()
    assert (signature.signed_by, signature.signing_request, signature.signed_name, signature.job_title) == (
        None,
        request,
        "Jo Bloggs",
        "Venue manager",
    )
    assert request.status is SigningStatus.SIGNED and request.signed_text == TEXT == item.description
    assert (request.signer_name, request.signer_relationship, request.signer_address) == (
        "Jo Bloggs",
        "Manager of the venue where the workshop ran",
        ADDRESS,
    )
    change = item.history[-1]
    assert change.to_status is EvidenceStatus.SUBMITTED and change.changed_by == tutor
    assert "Jo Bloggs" in change.note and WITNESS in change.note


@pytest.mark.one_transaction
def test_the_tutor_who_asked_reviews_what_the_witness_signed_as_their_own(museum, tutor):
    request, _ = ask(museum, tutor)
    with pytest.raises(DomainError, match="wrote yourself"):
        start_review(db.session, request.item, by=tutor)  # a draft of theirs, until the witness signs it
    now = utcnow()
    sign(db.session, request, DETAILS, verified_at=verified(request, now), address=ADDRESS, now=now)
    start_review(db.session, request.item, by=tutor)
    decide(db.session, request.item, by=tutor, decision=Decision.ACCEPT)
    assert request.item.status is EvidenceStatus.ACCEPTED


@pytest.mark.one_transaction
def test_the_audit_trail_records_the_witness_the_moment_the_address_and_the_exact_text(museum, tutor):
    request, _ = ask(museum, tutor)
    now = utcnow()
    at = verified(request, now)
    sign(db.session, request, DETAILS, verified_at=at, address="203.0.113.7", now=now)
    [signed] = events("testimony.signed")
    assert (signed.actor_id, signed.actor_name, signed.subject_type, signed.subject_id) == (
        None,
        "",
        "evidence_item",
        request.item_id,
    )
    after = json.loads(signed.after)
    assert after["text"] == TEXT
    assert after["witness"] == {
        "name": "Jo Bloggs",
        "job_title": "Venue manager",
        "relationship": "Manager of the venue where the workshop ran",
        "email": WITNESS,
        "email_verified_at": at.isoformat(),
        "address": "203.0.113.7",
        "signing_request": request.id,
    }
    [submitted] = events("evidence.submitted")
    assert submitted.actor_id is None
    assert [json.loads(e.after)["address"] for e in events("signing_request.email_verified")] == [ADDRESS]
    assert audit.verify(db.session).ok


@pytest.mark.one_transaction
@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": " "}, "name", "Enter your full name"),
        ({"job_title": ""}, "job_title", "Enter your job title"),
        ({"relationship": ""}, "relationship", "Say how you know"),
        ({"name": "x" * 201, "signature": "x" * 201}, "name", "200 characters"),
        ({"signature": ""}, "signature", "Type your full name to sign"),
        ({"signature": "Joe Bloggs"}, "signature", "exactly as you entered it"),
        ({"confirmed": False}, "confirm", "true account"),
    ],
)
def test_the_signature_must_be_complete_and_the_typed_name_must_match(museum, tutor, change, field, message):
    request, _ = ask(museum, tutor)
    now = utcnow()
    at = verified(request, now)
    with pytest.raises(DomainError, match=message) as refused:
        sign(db.session, request, WitnessDetails(**{**DETAILS.__dict__, **change}), verified_at=at, address=ADDRESS)
    assert refused.value.field == field


@pytest.mark.one_transaction
def test_signing_needs_this_browsers_latest_verification_within_the_hour(museum, tutor):
    request, _ = ask(museum, tutor)
    now = utcnow()
    with pytest.raises(NotVerified):
        sign(db.session, request, DETAILS, verified_at=None, address=ADDRESS, now=now)
    first = verified(request, now)
    second = verified(request, now + timedelta(minutes=2))  # another browser entered a new code since
    with pytest.raises(NotVerified):
        sign(db.session, request, DETAILS, verified_at=first, address=ADDRESS, now=now + timedelta(minutes=3))
    with pytest.raises(NotVerified, match="more than an hour"):
        sign(db.session, request, DETAILS, verified_at=second, address=ADDRESS, now=now + timedelta(minutes=63))
    sign(db.session, request, DETAILS, verified_at=second, address=ADDRESS, now=now + timedelta(minutes=4))
    assert request.status is SigningStatus.SIGNED


@pytest.mark.one_transaction
def test_a_used_link_cannot_be_used_again(museum, tutor):
    request, _ = ask(museum, tutor)
    now = utcnow()
    at = verified(request, now)
    sign(db.session, request, DETAILS, verified_at=at, address=ADDRESS, now=now)
    shown = closed(request, now)
    assert shown.title == "This link has already been used"
    for again in (
        lambda: sign(db.session, request, DETAILS, verified_at=at, address=ADDRESS, now=now),
        lambda: send_code(db.session, request, address=ADDRESS, now=now + timedelta(minutes=5)),
        lambda: decline(db.session, request, reason="", verified_at=at, address=ADDRESS, now=now),
    ):
        with pytest.raises(RequestClosed, match="already been used"):
            again()
    with pytest.raises(DomainError, match="has been signed"):
        send_again(db.session, request, by=tutor)
    assert db.session.scalar(select(func.count(WitnessSignature.id))) == 1


@pytest.mark.one_transaction
def test_an_expired_link_says_so_and_whom_to_ask_and_the_job_records_it(museum, tutor):
    now = utcnow()
    request, _ = ask(museum, tutor, now=now)
    later = now + timedelta(days=14, seconds=1)
    shown = closed(request, later)
    assert shown.title == "This link has expired"
    assert shown.message == (
        f"This link expired on {domain.day_of_expiry(request)}; ask {tutor.organisation.name} for a new one."
    )
    assert museum.apprentice.name not in shown.message
    with pytest.raises(RequestClosed, match="expired"):
        send_code(db.session, request, address=ADDRESS, now=later)
    assert expire_requests(db.session, now=now + timedelta(days=13)) == 0
    assert expire_requests(db.session, now=later) == 1
    assert request.status is SigningStatus.EXPIRED
    assert [e.actor_id for e in events("signing_request.expired")] == [None]
    # Sent again, with a new link that works for a new fortnight.
    again, token = send_again(db.session, request, by=tutor, now=later)
    assert again.is_open(later) and again.expires_at == later + timedelta(days=14)
    assert domain.request_by_token(db.session, token) is again and again.item == request.item


@pytest.mark.one_transaction
def test_sending_again_kills_the_old_link_and_withdrawing_kills_the_new(museum, tutor):
    request, old_token = ask(museum, tutor)
    again, new_token = send_again(db.session, request, by=tutor)
    assert old_token != new_token
    assert request.status is SigningStatus.WITHDRAWN and closed(request).title == "This link has been withdrawn"
    assert again.status is SigningStatus.PENDING and closed(again) is None
    with pytest.raises(DomainError, match="A newer request"):
        send_again(db.session, request, by=tutor)
    withdraw(db.session, again, by=tutor)
    assert again.status is SigningStatus.WITHDRAWN
    assert tutor.organisation.name in closed(again).message
    with pytest.raises(DomainError, match="cannot be withdrawn"):
        withdraw(db.session, again, by=tutor)
    assert [m.to_address for m in db.session.scalars(select(OutboxMessage))] == [WITNESS, WITNESS]


@pytest.mark.one_transaction
def test_only_the_requester_manages_a_testimony_request(museum, tutor, two_employers, world):
    request, _ = ask(museum, tutor)
    other_tutor = world.user(Role.TUTOR, two_employers["provider"])
    for somebody in (other_tutor, two_employers["museum_mentor"], museum.apprentice):
        with pytest.raises(DomainError, match="cannot withdraw"):
            withdraw(db.session, request, by=somebody)
        with pytest.raises(DomainError, match="cannot send"):
            send_again(db.session, request, by=somebody)


@pytest.mark.one_transaction
def test_the_witness_may_decline_saying_why(museum, tutor):
    request, _ = ask(museum, tutor)
    now = utcnow()
    at = verified(request, now)
    decline(db.session, request, reason="I was not at the parade.\x07", verified_at=at, address=ADDRESS, now=now)
    assert request.status is SigningStatus.REFUSED and request.refusal_reason == "I was not at the parade."
    assert closed(request, now).title == "This link has already been used"
    assert domain.progress_of(request, now).label == "Declined"
    assert request.item.status is EvidenceStatus.DRAFT


@pytest.mark.one_transaction
def test_the_requester_cannot_sign_in_the_witnesss_place(museum, two_employers):
    mentor = two_employers["museum_mentor"]
    request, _ = ask(museum, mentor)
    item = request.item
    assert not may_change(mentor, item)  # no "Check and sign", no editing, no deleting
    with pytest.raises(DomainError, match="for the witness"):
        sign_testimony(db.session, item, by=mentor, signed_name=mentor.name, job_title="Head of Learning")
    assert item.status is EvidenceStatus.DRAFT


@pytest.mark.one_transaction
def test_a_testimony_whose_apprenticeship_stopped_taking_evidence_cannot_be_signed(museum, tutor):
    from portfolio.models import EnrolmentStatus

    request, _ = ask(museum, tutor)
    now = utcnow()
    at = verified(request, now)
    museum.status = EnrolmentStatus.WITHDRAWN
    db.session.flush()
    assert closed(request, now).title == "This request can no longer be signed"
    with pytest.raises(RequestClosed):
        sign(db.session, request, DETAILS, verified_at=at, address=ADDRESS, now=now)


# Notifications ----------------------------------------------------------------------------------


@pytest.mark.one_transaction
def test_an_employer_user_with_the_address_hears_of_the_request_and_the_parties_of_the_signature(
    museum, tutor, two_employers, world
):
    contact = world.user(Role.EMPLOYER, two_employers["museum"], email="head.of.learning@harbourside.example")
    request, _ = ask(museum, tutor, email="Head.Of.Learning@harbourside.example")
    [asked] = db.session.scalars(select(Notification)).all()
    assert (asked.user_id, asked.kind, asked.link) == (
        contact.id,
        Kind.TESTIMONY_REQUESTED.value,
        f"/enrolments/{museum.id}",
    )
    assert "/sign/" not in asked.link + asked.body
    now = utcnow()
    sign(db.session, request, DETAILS, verified_at=verified(request, now), address=ADDRESS, now=now)
    told = db.session.scalars(select(Notification).where(Notification.kind == Kind.TESTIMONY_SIGNED.value)).all()
    assert sorted(n.user_id for n in told) == sorted([museum.apprentice.id, tutor.id])
    assert {n.link for n in told} == {f"/enrolments/{museum.id}/evidence/{request.item_id}"}
    assert all("Jo Bloggs" in n.title for n in told)


# Progress reviews -------------------------------------------------------------------------------


def _review(enrolment, tutor):
    review = ProgressReview(
        enrolment=enrolment,
        review_date=enrolment.start_date,
        attendees="Apprentice, mentor, tutor",
        progress="On track with the parade project.",
        actions="Write up the steward briefing.",
        created_by=tutor,
    )
    review.criteria.append(ReviewCriterion(criterion_code="S5", rag=Rag.GREEN, note="Clear briefings."))
    db.session.add(review)
    db.session.flush()
    return review


@pytest.mark.one_transaction
def test_the_employers_contact_signs_a_progress_review_without_an_account(museum, tutor):
    review = _review(museum, tutor)
    sign_review(db.session, review, by=museum.apprentice, signer=Signer.APPRENTICE)
    sign_review(db.session, review, by=tutor, signer=Signer.PROVIDER)
    request, token = create_review_request(
        db.session, review, by=tutor, witness_email="line.manager@harbourside.example", witness_name="Sam Patel"
    )
    assert request.purpose is SigningPurpose.PROGRESS_REVIEW and request.review == review and request.item is None
    assert "Progress against the plan:\nOn track with the parade project." in request.text_to_confirm
    assert "S5 (Green):" in request.text_to_confirm and "Clear briefings." in request.text_to_confirm
    with pytest.raises(DomainError, match="already asked"):
        create_review_request(db.session, review, by=tutor, witness_email="other@harbourside.example", witness_name="")
    now = utcnow()
    details = WitnessDetails(**{**DETAILS.__dict__, "name": "Sam Patel", "signature": "Sam Patel"})
    sign(db.session, request, details, verified_at=verified(request, now), address=ADDRESS, now=now)
    employer = next(s for s in review.signatures if s.signer is Signer.EMPLOYER)
    assert (employer.user, employer.signing_request, employer.name) == (None, request, "Sam Patel")
    assert review.completed_at == now
    [signed] = [e for e in events("progress_review.signed") if e.actor_id is None]
    assert json.loads(signed.after)["witness"]["name"] == "Sam Patel"
    assert request.signed_text == request.text_to_confirm


@pytest.mark.one_transaction
def test_a_review_cannot_change_while_its_employer_is_asked_and_an_employer_user_signing_withdraws_the_ask(
    museum, tutor, two_employers
):
    review = _review(museum, tutor)
    request, _ = create_review_request(
        db.session, review, by=tutor, witness_email="line.manager@harbourside.example", witness_name=""
    )
    details = ReviewDetails(
        review_date=museum.start_date, attendees="Everyone", progress="Changed.", actions="None.",
        otj_and_slippage="On pace.", training_plan_changes="None.", concerns_and_changes="None.",
    )  # fmt: skip
    with pytest.raises(DomainError, match="withdraw the request"):
        update_review(db.session, review, by=tutor, details=details)
    sign_review(db.session, review, by=two_employers["museum_mentor"], signer=Signer.EMPLOYER)
    assert request.status is SigningStatus.WITHDRAWN
    assert closed(request).title == "This link has been withdrawn"
    assert db.session.scalar(select(func.count(ReviewSignature.id))) == 1


@pytest.mark.one_transaction
def test_a_review_changed_after_its_request_was_withdrawn_is_sent_again_as_it_is_now(museum, tutor):
    review = _review(museum, tutor)
    request, _ = create_review_request(db.session, review, by=tutor, witness_email=WITNESS, witness_name="")
    withdraw(db.session, request, by=tutor)
    details = ReviewDetails(
        review_date=museum.start_date, attendees="Everyone", progress="Ahead of the plan.", actions="None.",
        otj_and_slippage="On pace.", training_plan_changes="None.", concerns_and_changes="None.",
    )  # fmt: skip
    update_review(db.session, review, by=tutor, details=details)
    again, _ = send_again(db.session, request, by=tutor)
    assert "Ahead of the plan." in again.text_to_confirm and "Ahead of the plan." not in request.text_to_confirm


@pytest.mark.one_transaction
def test_only_a_tutor_asks_for_the_employers_signature_once_and_only_until_it_is_given(museum, tutor, two_employers):
    review = _review(museum, tutor)
    for somebody in (museum.apprentice, two_employers["museum_mentor"]):
        with pytest.raises(DomainError, match="Only a tutor"):
            create_review_request(db.session, review, by=somebody, witness_email=WITNESS, witness_name="")
    sign_review(db.session, review, by=two_employers["museum_mentor"], signer=Signer.EMPLOYER)
    with pytest.raises(DomainError, match="already been signed for the employer"):
        create_review_request(db.session, review, by=tutor, witness_email=WITNESS, witness_name="")


# Two tabs at once (PostgreSQL: SQLite runs one writer at a time whatever the code does) ---------


def test_two_tabs_signing_at_once_sign_once(app, museum, tutor):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks make transactions wait only on PostgreSQL; SQLite runs one writer at a time")
    request, _ = ask(museum, tutor)
    now = utcnow()
    at = verified(request, now)
    db.session.commit()
    request_id = request.id
    barrier = threading.Barrier(2)
    outcomes: list = []

    def tab() -> None:
        with app.app_context(), Session(db.engine) as session:
            mine = session.get(SigningRequest, request_id)
            barrier.wait()
            try:
                sign(session, mine, DETAILS, verified_at=at, address=ADDRESS)
                session.commit()
                outcomes.append("signed")
            except DomainError as error:
                session.rollback()
                outcomes.append(error)

    threads = [threading.Thread(target=tab) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == 2 and outcomes.count("signed") == 1, outcomes
    [refused] = [o for o in outcomes if o != "signed"]
    assert isinstance(refused, RequestClosed) and "already been used" in str(refused)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(WitnessSignature.id))) == 1
    assert len(events("testimony.signed")) == 1
    item = db.session.get(EvidenceItem, request.item_id)
    assert item.status is EvidenceStatus.SUBMITTED
    assert [c.to_status for c in item.history] == [EvidenceStatus.DRAFT, EvidenceStatus.SUBMITTED]
