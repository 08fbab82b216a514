"""The employer's verification of behaviours through the test client: the form, what the gateway
and enrolment pages show to everyone who sees the apprenticeship, bad input, access (404 for
whoever may not verify), the assessor's decision form, and two employers signing at once."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portfolio.core.domain import DomainError
from portfolio.extensions import db
from portfolio.gateway.behaviours import sign_behaviour_verification
from portfolio.gateway.domain import GATEWAY_ITEMS, submit_to_epao
from portfolio.models import AuditEvent, BehaviourVerification, Enrolment, GatewayOutcome, Role, User

from ..conftest import counting_queries, sign_in
from ..gateway_world import TODAY, confirm_behaviours, ready, ready_enrolment, sign_all, verifying_version

__all__ = ["ready"]  # a fixture: imported so that the tests here can use it

BEHAVIOURS = [f"B{n}" for n in range(1, 12)]
ALL_CONFIRMED = {f"decision_{code}": "confirmed" for code in BEHAVIOURS} | {"confirm": "y"}


@pytest.fixture
def verifying(world):
    gateway = ready_enrolment(world, standard_version=verifying_version(), behaviours_verified=False)
    db.session.commit()
    return gateway


def _as(client, user):
    client.post("/sign-out")
    response = sign_in(client, user)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def _url(gateway, page: str = "") -> str:
    return f"/enrolments/{gateway.enrolment.id}/gateway{page}"


def _html(response) -> str:
    return response.get_data(as_text=True)


def _text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", _html(response)).split()).replace("&#39;", "'").replace("&#34;", '"')


def _verifications() -> int:
    return db.session.scalar(select(func.count(BehaviourVerification.id)))


def test_the_employer_verifies_each_behaviour_from_the_gateway_page(client, verifying):
    _as(client, verifying.mentor)
    gateway = _text(client.get(_url(verifying)))
    assert (
        "Employer has verified the behaviours" in gateway and "Not verified yet: 11 behaviours to confirm." in gateway
    )
    assert f'href="{_url(verifying, "/behaviours")}"' in _html(client.get(_url(verifying)))
    form = client.get(_url(verifying, "/behaviours"))
    assert form.status_code == 200
    html = _html(form)
    assert html.count('type="radio"') == 22 and html.count("<textarea") == 11
    assert "Passionate about the arts and culture and believe in its value to society." in html  # B11's statement
    data = ALL_CONFIRMED | {"decision_B3": "not_yet", "note_B3": "Still leads sessions with support."}
    response = client.post(_url(verifying, "/behaviours"), data=data)
    assert response.status_code == 302 and response.headers["Location"].endswith("/gateway#behaviour-verification")
    page = _text(client.get(response.headers["Location"]))
    assert "Behaviours verified: not yet confirmed B3" in page
    assert f"Signed by {verifying.mentor.name} on" in page
    assert "10 of 11 behaviours confirmed; not yet confirmed: B3." in page
    assert "Still leads sessions with support." in page
    # The form starts from the newest verification.
    again = _html(client.get(_url(verifying, "/behaviours")))
    assert 'value="not_yet" checked' in again.replace("\n", " ") or re.search(r'value="not_yet"[^>]*checked', again)
    assert "Still leads sessions with support." in again
    response = client.post(_url(verifying, "/behaviours"), data=ALL_CONFIRMED)
    assert "Behaviours verified: all confirmed" in _text(client.get(response.headers["Location"]))
    assert _verifications() == 2


def test_everyone_who_sees_the_apprenticeship_sees_the_verification(client, verifying):
    confirm_behaviours(verifying.enrolment, verifying.mentor, B9="not yet: a lapse in confidentiality")
    db.session.commit()
    for user in (verifying.apprentice, verifying.tutor, verifying.mentor):
        _as(client, user)
        for url in (_url(verifying), f"/enrolments/{verifying.enrolment.id}"):
            page = _text(client.get(url))
            assert "Employer's verification of behaviours" in page, (user.role, url)
            assert f"Signed by {verifying.mentor.name}" in page and "not yet confirmed: B9." in page
            assert "a lapse in confidentiality" in page
    _as(client, verifying.apprentice)
    home = _text(client.get("/"))
    assert "Employer's verification of behaviours" in home  # the apprentice's home shows their enrolment
    html = _html(client.get(_url(verifying)))
    assert f'href="{_url(verifying, "/behaviours")}"' not in html  # no way to the form but the employer's


def test_where_the_standard_does_not_ask_the_pages_say_so_and_the_employer_may_verify(client, ready):
    _as(client, ready.mentor)
    words = "does not ask the employer to verify the behaviours, so the gateway to completion does not wait for it"
    assert words in _text(client.get(_url(ready)))
    assert words in _text(client.get(f"/enrolments/{ready.enrolment.id}"))
    assert client.get(_url(ready, "/behaviours")).status_code == 200
    response = client.post(_url(ready, "/behaviours"), data=ALL_CONFIRMED)
    assert response.status_code == 302
    assert "Signed by" in _text(client.get(_url(ready)))
    _as(client, ready.tutor)  # only the employer's people sign it
    assert client.get(_url(ready, "/behaviours")).status_code == 404


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (ALL_CONFIRMED | {"decision_B3": "not_yet"}, "Say what is not yet shown for B3"),
        ({k: v for k, v in ALL_CONFIRMED.items() if k != "decision_B5"}, "Choose Confirmed or Not yet for B5"),
        (ALL_CONFIRMED | {"decision_B5": "perhaps"}, "Choose Confirmed or Not yet for B5"),
        (ALL_CONFIRMED | {"note_B1": "x" * 2_001}, "The note for B1 must be 2,000 characters or fewer"),
        ({k: v for k, v in ALL_CONFIRMED.items() if k != "confirm"}, "Tick the box to sign the verification"),
    ],
)
def test_bad_input_is_shown_on_the_form_and_changes_nothing(client, verifying, data, words):
    response = _as(client, verifying.mentor).post(_url(verifying, "/behaviours"), data=data)
    assert response.status_code == 200
    text = _text(response)
    assert "There is a problem" in text and words in text
    assert _verifications() == 0


def test_signing_the_same_again_is_refused_with_a_message(client, verifying):
    _as(client, verifying.mentor)
    client.post(_url(verifying, "/behaviours"), data=ALL_CONFIRMED)
    response = client.post(_url(verifying, "/behaviours"), data=ALL_CONFIRMED)
    assert response.status_code == 302
    assert "You already signed this verification" in _text(client.get(response.headers["Location"]))
    assert _verifications() == 1


def test_only_the_employers_people_reach_the_form(client, world, verifying):
    enrolment = verifying.enrolment
    strangers = [
        world.user(Role.EMPLOYER, world.employer()),  # another employer
        world.user(Role.TUTOR, world.provider()),  # another provider's tutor
        world.user(Role.APPRENTICE, world.employer()),  # another apprentice
        verifying.assessor,  # the assessment organisation's, before submission
    ]
    related = [verifying.apprentice, verifying.tutor]  # see the apprenticeship, but do not verify
    for user in strangers + related:
        _as(client, user)
        assert client.get(_url(verifying, "/behaviours")).status_code == 404, user.role
        assert client.post(_url(verifying, "/behaviours"), data=ALL_CONFIRMED).status_code == 404, user.role
    for user in strangers:
        _as(client, user)
        assert client.get(_url(verifying)).status_code == 404
        assert client.get(f"/enrolments/{enrolment.id}").status_code == 404
    assert _verifications() == 0
    line_manager = world.user(Role.EMPLOYER, enrolment.employer)  # anyone of the employer, not only the mentor
    db.session.commit()
    _as(client, line_manager)
    assert client.post(_url(verifying, "/behaviours"), data=ALL_CONFIRMED).status_code == 302
    assert _verifications() == 1


def test_after_submission_the_assessor_sees_it_and_nobody_can_verify(client, verifying):
    confirm_behaviours(verifying.enrolment, verifying.mentor)
    sign_all(verifying)
    submit_to_epao(db.session, verifying.enrolment, by=verifying.tutor, today=TODAY)
    db.session.commit()
    _as(client, verifying.assessor)
    page = _text(client.get(_url(verifying)))
    assert "all 11 behaviours confirmed." in page
    assert client.get(_url(verifying, "/behaviours")).status_code == 404
    _as(client, verifying.mentor)
    assert "Verify the behaviours" not in _text(client.get(_url(verifying)))
    response = client.post(_url(verifying, "/behaviours"), data=ALL_CONFIRMED | {"note_B1": "Again."})
    assert response.status_code == 302
    assert "before the gateway to completion" in _text(client.get(response.headers["Location"]))
    assert _verifications() == 1


def test_the_assessor_decides_the_behaviours_with_the_other_items(client, verifying):
    confirm_behaviours(verifying.enrolment, verifying.mentor)
    sign_all(verifying)
    submission = submit_to_epao(db.session, verifying.enrolment, by=verifying.tutor, today=TODAY)
    db.session.commit()
    _as(client, verifying.assessor)
    form = _text(client.get(_url(verifying, "/decision")))
    assert "Employer has verified the behaviours" in form and form.count("Refer back") == len(GATEWAY_ITEMS) + 1
    accept_all = {f"decision_{code}": "accept" for code in GATEWAY_ITEMS}
    response = client.post(_url(verifying, "/decision"), data=accept_all)
    assert (
        response.status_code == 200
        and "Choose whether to accept or refer back “Employer has verified the behaviours”" in _text(response)
    )
    response = client.post(_url(verifying, "/decision"), data=accept_all | {"decision_behaviours": "accept"})
    assert response.status_code == 302
    db.session.refresh(submission)
    assert submission.outcome is GatewayOutcome.SIGNED_OFF
    assert "behaviours" in {d.item for d in submission.item_decisions}


def test_the_pages_take_a_fixed_number_of_queries(client, world, verifying):
    _as(client, verifying.mentor)

    def pages():
        with counting_queries() as count:
            for url in (_url(verifying), _url(verifying, "/behaviours"), f"/enrolments/{verifying.enrolment.id}"):
                assert client.get(url).status_code == 200
        return count()

    before = pages()
    for number in range(3):
        confirm_behaviours(verifying.enrolment, verifying.mentor, B1=f"not yet: round {number}")
    db.session.commit()
    after = pages()
    assert before == after


# Two employers at once (PostgreSQL: SQLite runs one writer at a time whatever the code does) -------


@pytest.mark.one_transaction(enabled=False)  # two sessions play the two requests
def test_two_of_the_employers_people_signing_at_once_are_both_kept_in_order(app, world, verifying):
    """Both verifications are kept: the enrolment's row lock puts one wholly after the other, so
    the second replaces the first (its audit event names the first as what it replaced) and the
    newest, by id, is the one that counts."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks make transactions wait only on PostgreSQL; SQLite runs one writer at a time")
    other = world.user(Role.EMPLOYER, verifying.enrolment.employer)
    db.session.commit()
    enrolment_id, signers = verifying.enrolment.id, {verifying.mentor.id: {}, other.id: {"B4": "not yet: shy"}}
    barrier = threading.Barrier(2)
    outcomes: list = []

    def sign(user_id: int, not_yet: dict) -> None:
        with app.app_context(), Session(db.engine) as session:
            enrolment = session.get(Enrolment, enrolment_id)
            user = session.get(User, user_id)
            decisions = {code: (code not in not_yet, not_yet.get(code, "")) for code in BEHAVIOURS}
            assert enrolment.standard_version.standard.gateway.employer_verifies_behaviours  # read before the race
            barrier.wait()
            try:
                sign_behaviour_verification(session, enrolment, by=user, decisions=decisions)
                session.commit()
                outcomes.append(user_id)
            except DomainError as error:
                session.rollback()
                outcomes.append(error)

    threads = [threading.Thread(target=sign, args=item) for item in signers.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == sorted(signers), outcomes
    db.session.expire_all()
    kept = db.session.scalars(select(BehaviourVerification).order_by(BehaviourVerification.id)).all()
    assert [v.signed_by_id for v in kept] == outcomes  # in the order they were signed
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "gateway.behaviours_verified").order_by(AuditEvent.id)
    ).all()
    assert [e.subject_id for e in events] == [v.id for v in kept]
    assert '"fingerprint":null' in events[0].before  # the first replaced nothing
    assert f'"fingerprint":"{kept[0].fingerprint}"' in events[1].before  # the second saw the first, under the lock
