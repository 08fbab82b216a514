"""Signing requests through the pages: the requester asks, the witness follows the emailed link,
enters the emailed code and signs, all read out of the mail a real SMTP server received."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portfolio.core import logs
from portfolio.extensions import db
from portfolio.models import (
    AuditEvent,
    EvidenceItem,
    EvidenceStatus,
    ProgressReview,
    Role,
    SigningRequest,
    SigningStatus,
    WitnessSignature,
)
from portfolio.signing.domain import MAX_CODE_TRIES
from tests.helpers import run_jobs
from tests.smtp_server import body_html, body_text

from ..conftest import sign_in

WITNESS = "jo.bloggs@riverside-arts.example"
TEXT = "I saw the apprentice brief twenty volunteer stewards and answer their questions calmly."
FORWARDED = "198.51.100.23"  # the witness's address as the proxy in front of the app saw it


@pytest.fixture
def app_config(mail_config):
    return {**mail_config, "PROXY_FIX": True}


@pytest.fixture(autouse=True)
def mail_sent_before_the_end(app):
    """What a test queued is sent before its database is emptied, not while."""
    yield
    run_jobs(app)


@pytest.fixture
def museum(two_employers):
    return two_employers["museum_enrolment"]


@pytest.fixture
def tutor(two_employers):
    return two_employers["tutor"]


def _as(client, user):
    client.post("/sign-out")
    assert sign_in(client, user).status_code == 302
    return client


def _ask(client, enrolment, **changes):
    today = enrolment.start_date + timedelta(days=30)
    data = {
        "witness_email": WITNESS,
        "witness_name": "Jo Bloggs",
        "title": "Witness testimony: the lantern parade",
        "activity_date": [str(today.day), str(today.month), str(today.year)],
        "criteria": ["S5"],
        "justification-S5": "She briefed the stewards clearly.",
        "text": TEXT,
        **changes,
    }
    return client.post(f"/enrolments/{enrolment.id}/witness-testimony/ask", data=data)


def _mail_to(app, smtp_server, count: int):
    """Send what is waiting and return the messages the witness has received so far."""
    run_jobs(app)
    smtp_server.wait_for(count)
    return smtp_server.to(WITNESS)


def _link(message) -> str:
    match = re.search(r"https://portfolio\.example\.test(/sign/[A-Za-z0-9_-]+)", body_text(message))
    assert match, body_text(message)
    return match.group(1)


def _code(message) -> str:
    match = re.search(r"Your code is (\d{6})", body_text(message))
    assert match, body_text(message)
    return match.group(1)


def _signature(**changes) -> dict:
    return {
        "name": "Jo Bloggs",
        "job_title": "Venue manager",
        "relationship": "Manager of the venue where the parade started",
        "signature": "jo bloggs",
        "confirm": "y",
        **changes,
    }


def _witness_verifies(app, client, smtp_server, link: str, messages_before: int) -> str:
    """Ask for a code on the link's page and enter it; returns the sign page's address."""
    response = client.post(f"{link}/code", headers={"X-Forwarded-For": FORWARDED})
    assert response.status_code == 302 and response.headers["Location"] == f"{link}/verify"
    code = _code(_mail_to(app, smtp_server, messages_before + 1)[-1])
    response = client.post(f"{link}/verify", data={"code": code}, headers={"X-Forwarded-For": FORWARDED})
    assert response.status_code == 302 and response.headers["Location"] == f"{link}/sign", response.get_data(True)
    return f"{link}/sign"


def test_a_tutor_asks_and_the_witness_signs_through_the_link_and_the_code(app, client, smtp_server, museum, tutor):
    _as(client, tutor)
    asked = _ask(client, museum)
    assert asked.status_code == 302, asked.get_data(as_text=True)
    item = db.session.scalar(select(EvidenceItem).where(EvidenceItem.created_by_id == tutor.id))
    assert asked.headers["Location"] == f"/enrolments/{museum.id}/evidence/{item.id}"
    page = client.get(asked.headers["Location"]).get_data(as_text=True)
    assert "Request sent to jo.bloggs@riverside-arts.example" in page
    assert "Asked by email" in page and "Waiting" in page and "Withdraw the request" in page
    assert "Check and sign" not in page  # the requester cannot sign in the witness's place

    [request_email] = _mail_to(app, smtp_server, 1)
    assert request_email["Subject"] == "Will you confirm a witness testimony?"
    assert tutor.name in body_text(request_email) and museum.apprentice.name in body_text(request_email)
    link = _link(request_email)
    assert link in body_html(request_email)

    witness = app.test_client()  # the witness's own browser, signed in to nothing
    landing = witness.get(link)
    html = landing.get_data(as_text=True)
    assert landing.status_code == 200 and landing.headers["Cache-Control"] == "no-store"
    assert museum.apprentice.name in html and tutor.name in html and "Witness testimony: the lantern parade" in html
    assert (
        "S5" in html and "Communicate clearly and effectively" in html and "She briefed the stewards clearly." in html
    )
    assert TEXT in html and "Send me a code" in html
    assert witness.get(f"{link}/sign").headers["Location"] == link  # no code entered yet: no form

    response = witness.post(f"{link}/code")
    assert response.status_code == 302
    code_email = _mail_to(app, smtp_server, 2)[-1]
    assert code_email["Subject"] == "Your code to sign the witness testimony"
    code = _code(code_email)
    assert link not in body_text(code_email)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    refused = witness.post(f"{link}/verify", data={"code": wrong})
    assert refused.status_code == 200
    assert "The code is not right" in refused.get_data(as_text=True) and "4 tries left" in refused.get_data(True)
    # The right code, entered next, still works: four tries were left.
    verified = witness.post(f"{link}/verify", data={"code": code}, headers={"X-Forwarded-For": FORWARDED})
    assert verified.headers["Location"] == f"{link}/sign"

    form = witness.get(f"{link}/sign").get_data(as_text=True)
    assert "Type your full name to sign" in form and 'name="text"' not in form  # the text is confirmed as given
    mismatch = witness.post(f"{link}/sign", data=_signature(signature="Joe Bloggs"))
    assert mismatch.status_code == 200 and "exactly as you entered it" in mismatch.get_data(as_text=True)
    unconfirmed = witness.post(f"{link}/sign", data=_signature(confirm=""))
    assert "Confirm that this is true" in unconfirmed.get_data(as_text=True)
    signed = witness.post(f"{link}/sign", data=_signature(), headers={"X-Forwarded-For": FORWARDED})
    assert signed.status_code == 302 and signed.headers["Location"] == link
    thanks = witness.get(link)
    assert thanks.status_code == 200 and "Thank you: you have signed" in thanks.get_data(as_text=True)

    request = db.session.scalar(select(SigningRequest))
    assert request.status is SigningStatus.SIGNED and request.signer_address == FORWARDED
    assert request.signed_text == TEXT
    # The apprentice sees the signed testimony: who, in what role and relationship, when, the email verified.
    apprentice = _as(client, museum.apprentice)
    evidence = apprentice.get(f"/enrolments/{museum.id}/evidence/{item.id}").get_data(as_text=True)
    assert "Witness testimony by Jo Bloggs" in evidence and "Submitted for review" in evidence
    for shown in ("Venue manager", "Manager of the venue where the parade started", WITNESS, "email verified", TEXT):
        assert shown in evidence, shown
    # The link refuses a second use, to anyone, and shows nothing of the portfolio.
    again = app.test_client().get(link)
    gone = again.get_data(as_text=True)
    assert again.status_code == 410 and "This link has already been used" in gone
    assert museum.apprentice.name not in gone and TEXT not in gone
    for step in ("code", "verify", "sign", "decline"):
        assert app.test_client().post(f"{link}/{step}", data=_signature()).status_code == 410, step
    assert db.session.scalar(select(func.count(WitnessSignature.id))) == 1


def test_the_witness_writes_the_testimony_when_the_requester_leaves_it_blank(
    app, client, smtp_server, museum, two_employers
):
    _as(client, two_employers["museum_mentor"])
    assert _ask(client, museum, text="").status_code == 302
    link = _link(_mail_to(app, smtp_server, 1)[0])
    witness = app.test_client()
    assert "You are asked to write the testimony yourself" in witness.get(link).get_data(as_text=True)
    _witness_verifies(app, witness, smtp_server, link, 1)
    form = witness.get(f"{link}/sign").get_data(as_text=True)
    assert 'name="text"' in form
    blank = witness.post(f"{link}/sign", data=_signature())
    assert "Write your testimony" in blank.get_data(as_text=True)
    assert witness.post(f"{link}/sign", data=_signature(text="She led the parade safely.")).status_code == 302
    item = db.session.scalar(select(EvidenceItem))
    assert item.description == "She led the parade safely." and item.status is EvidenceStatus.SUBMITTED


def test_five_wrong_codes_stop_the_code_until_a_new_one_is_sent(app, client, smtp_server, museum, tutor):
    _as(client, tutor)
    _ask(client, museum)
    link = _link(_mail_to(app, smtp_server, 1)[0])
    witness = app.test_client()
    witness.post(f"{link}/code")
    code = _code(_mail_to(app, smtp_server, 2)[-1])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(MAX_CODE_TRIES):
        assert witness.post(f"{link}/verify", data={"code": wrong}).status_code == 200
    refused = witness.post(f"{link}/verify", data={"code": code}).get_data(as_text=True)
    assert "entered wrongly 5 times" in refused
    throttled = witness.post(f"{link}/code")  # and no new code within the minute
    assert throttled.headers["Location"] == f"{link}/verify"
    assert "less than a minute ago" in witness.get(throttled.headers["Location"]).get_data(as_text=True)
    run_jobs(app)
    assert len(smtp_server.to(WITNESS)) == 2


def test_unknown_and_expired_links(app, client, smtp_server, museum, tutor):
    assert client.get("/sign/not-a-token").status_code == 404
    assert client.post("/sign/not-a-token/code").status_code == 404
    assert client.get("/sign/" + "x" * 5_000).status_code == 404
    _as(client, tutor)
    _ask(client, museum)
    link = _link(_mail_to(app, smtp_server, 1)[0])
    request = db.session.scalar(select(SigningRequest))
    request.expires_at = request.created_at - timedelta(seconds=1)
    db.session.commit()
    expired = app.test_client().get(link)
    text = expired.get_data(as_text=True)
    assert expired.status_code == 410 and "This link has expired" in text
    assert re.search(rf"This link expired on \d+ \w+ \d{{4}}; ask {tutor.organisation.name} for a new one", text)
    assert museum.apprentice.name not in text


def test_a_signed_in_person_opening_the_link_is_treated_as_anyone_else(app, client, smtp_server, museum, tutor):
    _as(client, tutor)
    _ask(client, museum)
    link = _link(_mail_to(app, smtp_server, 1)[0])
    # The requester, signed in, gets no signing form through their account: the code is the witness's.
    assert client.get(f"{link}/sign").headers["Location"] == link
    assert client.post(f"{link}/sign", data=_signature()).headers["Location"] == link
    assert db.session.scalar(select(SigningRequest.status)) is SigningStatus.PENDING
    # The witness may happen to be signed in to an account of their own: the link works the same.
    _witness_verifies(app, client, smtp_server, link, 1)
    assert client.post(f"{link}/sign", data=_signature()).status_code == 302
    assert db.session.scalar(select(SigningRequest.status)) is SigningStatus.SIGNED


def test_the_requester_withdraws_and_sends_again_and_only_the_newest_link_works(
    app, client, smtp_server, museum, tutor
):
    _as(client, tutor)
    _ask(client, museum)
    first = _link(_mail_to(app, smtp_server, 1)[0])
    request = db.session.scalar(select(SigningRequest))
    base = f"/enrolments/{museum.id}/signing-requests/{request.id}"
    again = client.post(f"{base}/send-again")
    assert again.status_code == 302
    assert "The link sent before no longer works" in client.get(again.headers["Location"]).get_data(as_text=True)
    second = _link(_mail_to(app, smtp_server, 2)[-1])
    assert second != first
    assert client.get(first).status_code == 410 and "withdrawn" in client.get(first).get_data(as_text=True)
    assert app.test_client().get(second).status_code == 200
    newest = db.session.scalars(select(SigningRequest).order_by(SigningRequest.id.desc())).first()
    client.post(f"/enrolments/{museum.id}/signing-requests/{newest.id}/withdraw")
    assert newest.status is SigningStatus.WITHDRAWN
    gone = app.test_client().get(second)
    assert gone.status_code == 410 and "This link has been withdrawn" in gone.get_data(as_text=True)
    page = client.get(f"/enrolments/{museum.id}/evidence/{newest.item_id}").get_data(as_text=True)
    assert page.count("Withdrawn on") == 2 and "Send the request again" in page


def test_the_request_pages_do_not_exist_for_other_organisations(
    app, client, smtp_server, museum, tutor, two_employers, world
):
    _as(client, tutor)
    _ask(client, museum)
    request = db.session.scalar(select(SigningRequest))
    base = f"/enrolments/{museum.id}/signing-requests/{request.id}"
    review = ProgressReview(
        enrolment=museum, review_date=museum.start_date, attendees="All three", progress="On track.", created_by=tutor
    )
    db.session.add(review)
    db.session.commit()
    outsiders = [
        two_employers["theatre_mentor"],
        two_employers["theatre_enrolment"].apprentice,
        world.user(Role.TUTOR, world.provider("Elsewhere College")),
    ]
    # Inside the relationship but not the requester: the draft and its request are the requester's.
    insiders = [two_employers["museum_mentor"], museum.apprentice, world.user(Role.TUTOR, two_employers["provider"])]
    db.session.commit()
    for person in outsiders + insiders:
        _as(client, person)
        for method, url in (("POST", f"{base}/withdraw"), ("POST", f"{base}/send-again")):
            assert client.open(url, method=method).status_code == 404, (person.name, url)
    for person in outsiders:
        _as(client, person)
        assert client.get(f"/enrolments/{museum.id}/witness-testimony/ask").status_code == 404
        assert client.get(f"/enrolments/{museum.id}/reviews/{review.id}/ask-employer").status_code == 404
    _as(client, museum.apprentice)
    assert client.get(f"/enrolments/{museum.id}/witness-testimony/ask").status_code == 404
    assert db.session.scalar(select(SigningRequest.status)) is SigningStatus.PENDING


def test_the_request_form_shows_clear_errors(client, smtp_server, museum, tutor):
    _as(client, tutor)
    page = client.get(f"/enrolments/{museum.id}/witness-testimony/ask").get_data(as_text=True)
    assert "Ask a witness for a testimony" in page
    for changes, message in (
        ({"witness_email": ""}, "Enter the email address to send the request to"),
        ({"witness_email": "nobody"}, "correct format"),
        ({"witness_email": tutor.email}, "cannot be the witness of your own request"),
        ({"criteria": []}, "at least one criterion"),
        ({"justification-S5": ""}, "Explain how this evidence shows S5"),
        ({"title": ""}, "Say what activity the witness saw"),
    ):
        response = _ask(client, museum, **changes)
        assert response.status_code == 200 and message in response.get_data(as_text=True), changes
    assert db.session.scalar(select(func.count(SigningRequest.id))) == 0


def test_the_employers_contact_signs_a_progress_review(app, client, smtp_server, museum, tutor, two_employers):
    review = ProgressReview(
        enrolment=museum, review_date=museum.start_date, attendees="Apprentice, line manager, tutor",
        progress="On track with the parade.", actions="Write up the briefing.", created_by=tutor,
    )  # fmt: skip
    db.session.add(review)
    db.session.commit()
    url = f"/enrolments/{museum.id}/reviews/{review.id}"
    _as(client, tutor)
    assert "Ask the employer to sign by email" in client.get(url).get_data(as_text=True)
    form = client.get(f"{url}/ask-employer").get_data(as_text=True)
    assert two_employers["museum_mentor"].email in form and "On track with the parade." in form
    asked = client.post(f"{url}/ask-employer", data={"witness_email": WITNESS, "witness_name": "Jo Bloggs"})
    assert asked.headers["Location"] == url
    page = client.get(url).get_data(as_text=True)
    assert f"Asked by email: {WITNESS}" in page and "Change this review" not in page
    assert client.get(f"{url}/edit").status_code == 302  # no change while the employer is asked

    [message] = _mail_to(app, smtp_server, 1)
    assert message["Subject"] == "Will you sign a progress review?"
    link = _link(message)
    witness = app.test_client()
    assert "On track with the parade." in witness.get(link).get_data(as_text=True)
    _witness_verifies(app, witness, smtp_server, link, 1)
    signing = witness.post(
        f"{link}/sign", data=_signature(relationship="Line manager"), headers={"X-Forwarded-For": FORWARDED}
    )
    assert signing.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Signed by Jo Bloggs" in page and "Line manager" in page and "email verified" in page
    signed = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "progress_review.signed", AuditEvent.actor_id.is_(None))
    )
    assert signed is not None and FORWARDED in signed.after
    audit_page = client.get(f"/enrolments/{museum.id}/audit").get_data(as_text=True)
    assert "Jo Bloggs, a witness with no account" in audit_page


def test_the_witness_may_decline(app, client, smtp_server, museum, tutor):
    _as(client, tutor)
    _ask(client, museum)
    link = _link(_mail_to(app, smtp_server, 1)[0])
    witness = app.test_client()
    assert witness.get(f"{link}/decline").headers["Location"] == link  # the code first
    _witness_verifies(app, witness, smtp_server, link, 1)
    assert "Decline to sign" in witness.get(f"{link}/decline").get_data(as_text=True)
    assert witness.post(f"{link}/decline", data={"reason": "I did not see the parade."}).status_code == 302
    assert "You have declined to sign" in witness.get(link).get_data(as_text=True)
    page = client.get(f"/enrolments/{museum.id}/evidence/{db.session.scalar(select(EvidenceItem.id))}")
    assert "Declined" in page.get_data(as_text=True) and "I did not see the parade." in page.get_data(as_text=True)
    assert app.test_client().get(link).status_code == 410


def test_the_access_log_never_holds_the_links_token(app, client, smtp_server, museum, tutor, capsys):
    _as(client, tutor)
    _ask(client, museum)
    link = _link(_mail_to(app, smtp_server, 1)[0])
    token = link.rsplit("/", 1)[1]
    logs.configure_logging("json", "INFO")
    capsys.readouterr()
    witness = app.test_client()
    witness.get(link)
    witness.post(f"{link}/code")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    paths = [line["path"] for line in lines if line["logger"] == logs.ACCESS_LOGGER]
    assert paths == ["/sign/[token]", "/sign/[token]/code"]
    assert token not in capsys.readouterr().err + json.dumps(lines)
