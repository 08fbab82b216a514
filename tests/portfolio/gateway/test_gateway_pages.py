"""The gateway pages through the test client: every role's view, signing, submitting and
deciding, bad input, access (404 for whoever may not see it) and query counts."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portfolio.core.wording import long_date
from portfolio.enrolments.domain import change_status
from portfolio.extensions import db
from portfolio.gateway.domain import GATEWAY_ITEMS, sign_declaration, submit_to_epao
from portfolio.models import (
    AuditEvent,
    EnrolmentStatus,
    GatewayDeclaration,
    GatewayItemDecision,
    GatewayOutcome,
    GatewaySubmission,
    Role,
)
from standard import Signer

from ..conftest import counting_queries, sign_in
from ..gateway_world import TODAY, accept, ready, review, sign_all

__all__ = ["ready"]  # a fixture: imported so that the tests here can use it

ACCEPT_ALL = {f"decision_{code}": "accept" for code in GATEWAY_ITEMS}


def _as(client, user):
    client.post("/sign-out")
    response = sign_in(client, user)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def _url(ready, page: str = "") -> str:
    return f"/enrolments/{ready.enrolment.id}/gateway{page}"


def _html(response) -> str:
    return response.get_data(as_text=True)


def _text(response) -> str:
    """The page's text, tags removed and spaces collapsed, for reading like a user."""
    return " ".join(re.sub(r"<[^>]+>", " ", _html(response)).split()).replace("&#39;", "'").replace("&#34;", '"')


def _follow(client, response) -> str:
    assert response.status_code == 302, _html(response)
    return _text(client.get(response.headers["Location"]))


def _declarations() -> int:
    return db.session.scalar(select(func.count(GatewayDeclaration.id)))


def _submitted(ready):
    sign_all(ready)
    submission = submit_to_epao(db.session, ready.enrolment, by=ready.tutor, today=TODAY)
    db.session.commit()
    return submission


def test_the_gateway_page_shows_the_checks_and_the_declarations(client, ready):
    page = _text(_as(client, ready.apprentice).get(_url(ready)))
    assert "Gateway" in page and "Every check passes" in page
    for title in ("Every criterion has accepted evidence or is judged met", "Minimum time on programme",
                  "All 49 criteria have accepted evidence or are judged met", "200 hours approved of 200 hours planned"):  # fmt: skip
        assert title in page
    assert page.count("Passed") == 6
    assert "I confirm that the evidence in this portfolio is my own work" in page  # the standard's statement
    assert page.count("Not signed") == 3
    html = _html(client.get(_url(ready)))
    assert html.count('name="confirm"') == 1 and 'name="signer" value="apprentice"' in html  # only their own
    assert f"Submit to {ready.enrolment.epao.name}" not in page
    overview = _html(client.get(f"/enrolments/{ready.enrolment.id}"))
    assert f'href="/enrolments/{ready.enrolment.id}/gateway">Gateway to completion</a>' in overview


def test_a_failing_check_is_shown_and_nobody_can_sign(client, ready):
    ready.enrolment.planned_otj_hours = 220
    db.session.commit()
    page = _text(_as(client, ready.mentor).get(_url(ready)))
    assert "The gateway to completion opens once every check below passes" in page
    assert "200 hours approved of 220 hours planned: 20 hours to go" in page and "Not yet" in page
    assert 'name="confirm"' not in _html(client.get(_url(ready)))
    response = client.post(_url(ready, "/declaration"), data={"signer": "employer", "confirm": "y"})
    assert "Every gateway check must pass before anyone signs a declaration" in _follow(client, response)
    assert _declarations() == 0


def test_each_party_signs_with_the_box_ticked(client, ready):
    for user, signer, label in [
        (ready.apprentice, "apprentice", "the apprentice"),
        (ready.mentor, "employer", "the employer"),
        (ready.tutor, "provider", "the training provider"),
    ]:
        _as(client, user)
        response = client.post(_url(ready, "/declaration"), data={"signer": signer})
        assert response.status_code == 200 and "Tick the box to confirm the declaration" in _text(response)
        page = _follow(client, client.post(_url(ready, "/declaration"), data={"signer": signer, "confirm": "y"}))
        assert f"Declaration signed for {label}" in page and f"Signed by {user.name}" in page
    assert _declarations() == 3
    page = _text(client.get(_url(ready)))
    assert "Every check passes and all three declarations are signed" in page
    assert f"Submit to {ready.enrolment.epao.name}" in page


@pytest.mark.parametrize(
    ("signer", "message"),
    [
        ("apprentice", "You cannot sign for the apprentice: you sign for the employer"),
        ("king", "Your declaration could not be recorded. Try again."),
    ],
)
def test_signing_for_another_role_is_refused(client, ready, signer, message):
    _as(client, ready.mentor)
    response = client.post(_url(ready, "/declaration"), data={"signer": signer, "confirm": "y"})
    page = _text(response) if response.status_code == 200 else _follow(client, response)
    assert message in page
    assert _declarations() == 0


def test_a_change_to_the_portfolio_shows_the_declarations_as_stale(client, world, ready):
    sign_all(ready)
    accept(world.evidence(ready.enrolment, title="Evaluation of the lantern parade"), ready.tutor)
    db.session.commit()
    page = _text(_as(client, ready.apprentice).get(_url(ready)))
    assert page.count("Out of date") == 3
    assert "The portfolio has changed since then, so this declaration must be signed again." in page
    assert "Sign again" in page
    _as(client, ready.tutor)
    assert f"Submit to {ready.enrolment.epao.name}" not in _text(client.get(_url(ready)))
    response = client.post(_url(ready, "/submit"))
    assert "the apprentice's is stale (the portfolio changed after it was signed)" in _follow(client, response)
    assert ready.enrolment.status is EnrolmentStatus.ON_PROGRAMME


def test_the_tutor_submits_once_and_only_when_ready(client, world, ready):
    _as(client, ready.tutor)
    response = client.post(_url(ready, "/submit"))
    assert "Every declaration must be signed and current before you submit" in _follow(client, response)
    sign_all(ready)
    world.evidence(ready.enrolment, title="Awaiting review")
    db.session.commit()
    response = client.post(_url(ready, "/submit"))
    assert "Not yet: No evidence is waiting for review" in _follow(client, response)
    assert db.session.scalar(select(GatewaySubmission.id)) is None


def test_submitting_freezes_the_portfolio_and_only_the_epaos_assessors_see_it(client, world, ready):
    sign_all(ready)
    db.session.commit()
    other_assessor = world.user(Role.ASSESSOR, world.epao())
    db.session.commit()
    for user in (ready.assessor, other_assessor):  # nothing submitted yet: the page does not exist
        _as(client, user)
        for method, page in [("GET", ""), ("POST", "/declaration"), ("POST", "/submit"), ("GET", "/decision"),
                             ("POST", "/decision")]:  # fmt: skip
            assert client.open(_url(ready, page), method=method).status_code == 404, (user, page)
    for user in (ready.apprentice, ready.mentor):  # only a tutor submits
        _as(client, user)
        assert "Only a tutor of the training provider" in _follow(client, client.post(_url(ready, "/submit")))

    _as(client, ready.tutor)
    page = _follow(client, client.post(_url(ready, "/submit")))
    assert f"Submitted to {ready.enrolment.epao.name}: the portfolio is now read-only" in page
    assert "Attempt 1" in page and "Awaiting the assessor" in page
    assert ready.enrolment.status is EnrolmentStatus.AT_GATEWAY
    page = _follow(client, client.post(_url(ready, "/submit")))  # a second click
    assert "Only an apprenticeship on programme can be submitted; this one is at gateway to completion" in page
    assert db.session.scalar(select(func.count(GatewaySubmission.id))) == 1
    assert client.get(_url(ready, "/decision")).status_code == 404  # the tutor does not decide

    _as(client, other_assessor)
    for method, page in [("GET", ""), ("GET", "/decision"), ("POST", "/decision")]:
        assert client.open(_url(ready, page), method=method).status_code == 404
    _as(client, ready.assessor)
    page = _text(client.get(_url(ready)))
    assert "Decide the gateway" in page and "Sign the declaration" not in page


def test_the_assessor_must_decide_every_item_and_give_reasons(client, ready):
    _submitted(ready)
    _as(client, ready.assessor)
    form = _text(client.get(_url(ready, "/decision")))
    assert "Decide the gateway" in form and form.count("Refer back") == len(GATEWAY_ITEMS)
    assert "200 hours approved of 200 hours planned." in form  # what the check found, beside each item
    response = client.post(_url(ready, "/decision"), data={"decision_criteria": "refer", "decision_bogus": "accept"})
    page = _text(response)
    assert response.status_code == 200 and page.startswith("Error: Decide the gateway")
    assert "Give the reason for referring back “Every criterion has accepted evidence or is judged met”" in page
    assert "Choose whether to accept or refer back “English and maths”" in page
    data = ACCEPT_ALL | {"decision_otj_hours": "maybe"}
    assert "Choose whether to accept or refer back “Off-the-job training hours”" in _text(
        client.post(_url(ready, "/decision"), data=data)
    )
    data = ACCEPT_ALL | {"decision_criteria": "refer", "reason_criteria": "x" * 2001}
    assert "The reason must be 2,000 characters or fewer" in _text(client.post(_url(ready, "/decision"), data=data))
    assert db.session.scalar(select(func.count(GatewayItemDecision.id))) == 0
    assert ready.enrolment.status is EnrolmentStatus.AT_GATEWAY


def test_the_assessor_signs_off(client, ready):
    _submitted(ready)
    _as(client, ready.assessor)
    page = _follow(client, client.post(_url(ready, "/decision"), data=ACCEPT_ALL | {"note": "A strong portfolio."}))
    assert f"Gateway to completion signed off: {ready.apprentice.name} is now in apprenticeship assessment" in page
    assert "Signed off" in page and "A strong portfolio." in page and page.count("Accepted") >= len(GATEWAY_ITEMS)
    assert ready.enrolment.status is EnrolmentStatus.IN_EPA
    again = client.post(_url(ready, "/decision"), data=ACCEPT_ALL)
    assert "No gateway submission is waiting for your decision" in _follow(client, again)


def test_a_referral_goes_back_with_reasons_and_earlier_acceptances_are_offered_again(client, ready):
    _submitted(ready)
    _as(client, ready.assessor)
    data = ACCEPT_ALL | {"decision_progress_review": "refer", "reason_progress_review": "The review is unsigned."}
    page = _follow(client, client.post(_url(ready, "/decision"), data=data))  # back on their home page
    assert (
        f"Gateway to completion referred back to {ready.enrolment.provider.name}" in page
        and "attempt 2 will need" in page
    )
    assert ready.enrolment.status is EnrolmentStatus.ON_PROGRAMME
    assert client.get(_url(ready)).status_code == 404  # no longer the EPAO's to see
    _as(client, ready.apprentice)
    page = _text(client.get(_url(ready)))
    assert "Referred back" in page and "The review is unsigned." in page
    assert "Declarations for attempt 2" in page and page.count("Not signed") == 3 and "Sign the declaration" in page

    review(ready.enrolment, ready.tutor, TODAY, dict(zip(Signer, ready.signers, strict=True)))  # a new one
    for user in ready.signers:
        sign_declaration(db.session, ready.enrolment, by=user, today=TODAY)
    submit_to_epao(db.session, ready.enrolment, by=ready.tutor, today=TODAY)
    db.session.commit()
    _as(client, ready.assessor)
    form = _html(client.get(_url(ready, "/decision")))
    assert form.count("Accepted at attempt 1.") == len(GATEWAY_ITEMS) - 1
    assert form.count('value="accept" checked') == len(GATEWAY_ITEMS) - 1
    page = _follow(client, client.post(_url(ready, "/decision"), data=ACCEPT_ALL))
    assert "Attempt 2" in page and "Attempt 1" in page
    outcomes = db.session.scalars(select(GatewaySubmission.outcome).order_by(GatewaySubmission.number)).all()
    assert outcomes == [GatewayOutcome.REFERRED, GatewayOutcome.SIGNED_OFF]


REFER_CRITERIA = ACCEPT_ALL | {
    "decision_criteria": "refer",
    "reason_criteria": "K5 is shown only by a plan, with no feedback.",
}


def _referral_banner(html: str) -> str:
    """The text of the referral banner, which must come before the page's heading."""
    start, heading = html.find('id="referral"'), html.find("<h1")
    assert 0 <= start < heading, "the page does not lead with the referral"
    end = html.find("</ul>", start)
    return " ".join(re.sub(r"<[^>]+>", " ", html[start:end]).split())


def test_a_referral_leads_the_gateway_page_and_the_referred_check_says_so(client, world, ready):
    _submitted(ready)
    _as(client, ready.assessor)
    _follow(client, client.post(_url(ready, "/decision"), data=REFER_CRITERIA))
    epao = ready.enrolment.epao.name
    for user in (ready.apprentice, ready.mentor, ready.tutor):
        html = _html(_as(client, user).get(_url(ready)))
        banner = _referral_banner(html)
        assert f"Attempt 1 was referred back by {epao} on {long_date(TODAY)}" in banner
        assert "Change what was referred back before submitting attempt 2" in banner
        assert (
            "Every criterion has accepted evidence or is judged met : K5 is shown only by a plan, with no feedback."
            in (banner)
        )
        assert 'href="#check-criteria"' in html and 'id="check-criteria"' in html  # the link leads to the check
        page = _text(client.get(_url(ready)))
        assert "Every check passes" not in page and "Referred back at attempt 1: change what was referred" in page
        checks = page[page.index("Readiness checks") : page.index("Declarations for attempt 2")]
        assert checks.count("Referred") == 2 and checks.count("Passed") == 5  # the tag and the reason's line
        assert "Referred back at attempt 1: K5 is shown only by a plan, with no feedback." in checks
    assert "You can submit attempt 2 to" in page and "once what was referred back has changed" in page

    # Signed again for attempt 2, the same portfolio cannot be submitted: nothing is written.
    sign_all(ready)
    db.session.commit()
    assert f"Submit to {epao}" not in _text(client.get(_url(ready)))
    page = _follow(client, client.post(_url(ready, "/submit")))
    assert (
        "Change what was referred before submitting again: Every criterion has accepted evidence or is judged met "
        "(“K5 is shown only by a plan, with no feedback.”)"
    ) in page
    assert db.session.scalar(select(func.count(GatewaySubmission.id))) == 1
    assert db.session.scalar(select(func.count(AuditEvent.id)).filter_by(action="gateway.submitted")) == 1
    assert ready.enrolment.status is EnrolmentStatus.ON_PROGRAMME

    # New evidence for K5: the check no longer says Referred; the banner stays until attempt 2.
    accept(world.evidence(ready.enrolment, title="Feedback cards", links={"K5": "Audience feedback."}), ready.tutor)
    db.session.commit()
    html = _html(client.get(_url(ready)))
    assert "Each item referred back has changed since" in _referral_banner(html) and "(changed since)" in html
    page = _text(client.get(_url(ready)))
    checks = page[page.index("Readiness checks") : page.index("Declarations for attempt 2")]
    assert checks.count("Passed") == 6 and "Referred back at attempt 1 (changed since): K5" in checks
    assert "Every check passes" in page
    sign_all(ready)
    db.session.commit()
    page = _follow(client, client.post(_url(ready, "/submit")))
    assert f"Submitted to {epao}" in page and "Attempt 2" in page

    # The assessor, deciding attempt 2, is shown what they referred at attempt 1.
    _as(client, ready.assessor)
    banner = _referral_banner(_html(client.get(_url(ready))))
    assert "Attempt 1 was referred back" in banner and "Attempt 2 was submitted after a change" in banner
    form = _text(client.get(_url(ready, "/decision")))
    assert "Referred back at attempt 1: “K5 is shown only by a plan, with no feedback.”." in form


def test_referred_declarations_can_be_signed_instead_by_another_person_of_the_party(client, world, ready):
    _submitted(ready)
    reason = "The employer's declaration was signed by someone outside the apprentice's team."
    data = ACCEPT_ALL | {"decision_declarations": "refer", "reason_declarations": reason}
    _follow(client, _as(client, ready.assessor).post(_url(ready, "/decision"), data=data))
    sign_all(ready)  # the same three again
    manager = world.user(Role.EMPLOYER, ready.enrolment.employer, name="Line Manager")
    db.session.commit()
    html = _html(_as(client, manager).get(_url(ready)))
    assert "Declarations of apprentice, employer and provider" in _referral_banner(html)
    assert 'href="#declarations"' in html and "declarations-referral" in html
    assert "Who signs, or the portfolio they sign, must change" in _text(client.get(_url(ready)))
    page = _follow(client, client.post(_url(ready, "/declaration"), data={"signer": "employer", "confirm": "y"}))
    assert "Declaration signed for the employer" in page and "Signed by Line Manager" in page
    assert "Who signs, or the portfolio they sign, must change" not in page
    page = _follow(client, _as(client, ready.tutor).post(_url(ready, "/submit")))
    assert f"Submitted to {ready.enrolment.epao.name}" in page


def test_the_referred_gateway_page_takes_a_fixed_number_of_queries(client, world, ready):
    _submitted(ready)
    _as(client, ready.assessor).post(_url(ready, "/decision"), data=REFER_CRITERIA)
    _as(client, ready.tutor)
    with counting_queries() as few:
        assert "Referred" in _text(client.get(_url(ready)))
    for n in range(10):
        accept(world.evidence(ready.enrolment, title=f"Workshop {n}"), ready.tutor)
    db.session.commit()
    with counting_queries() as more:
        assert "Referred back" in _text(client.get(_url(ready)))
    assert few() == more()


def test_administrators_see_the_page_but_neither_sign_nor_submit(client, world, ready):
    admin = world.user(Role.ADMIN, ready.enrolment.provider)
    db.session.commit()
    _as(client, admin)
    assert client.get(_url(ready)).status_code == 200
    page = _follow(client, client.post(_url(ready, "/declaration"), data={"signer": "provider", "confirm": "y"}))
    assert "You cannot sign a gateway declaration for this apprenticeship" in page
    sign_all(ready)
    db.session.commit()
    assert "Only a tutor of the training provider" in _follow(client, client.post(_url(ready, "/submit")))
    assert client.get(_url(ready, "/decision")).status_code == 404


def test_a_withdrawn_apprenticeship_leaves_the_assessor(client, ready):
    _submitted(ready)
    change_status(db.session, ready.enrolment, EnrolmentStatus.WITHDRAWN, None)
    db.session.commit()
    _as(client, ready.assessor)
    assert "gateway submission to decide" not in _text(client.get("/"))
    for method in ("GET", "POST"):
        assert client.open(_url(ready, "/decision"), method=method, data=ACCEPT_ALL).status_code == 404


def test_the_to_do_lists_link_to_the_gateway(client, ready):
    sign_declaration(db.session, ready.enrolment, by=ready.apprentice, today=TODAY)
    db.session.commit()
    home = _html(_as(client, ready.mentor).get("/"))
    assert "1 gateway declaration to sign:" in home
    assert f'href="/enrolments/{ready.enrolment.id}/gateway">1 declaration to sign</a>' in home
    sign_declaration(db.session, ready.enrolment, by=ready.mentor, today=TODAY)
    sign_declaration(db.session, ready.enrolment, by=ready.tutor, today=TODAY)
    submit_to_epao(db.session, ready.enrolment, by=ready.tutor, today=TODAY)
    db.session.commit()
    home = _html(_as(client, ready.assessor).get("/"))
    assert "1 gateway submission to decide:" in home
    assert f'href="/enrolments/{ready.enrolment.id}/gateway/decision">1 gateway to decide</a>' in home


def test_the_pages_take_a_fixed_number_of_queries(client, world, ready):
    _submitted(ready)
    _as(client, ready.assessor)
    with counting_queries() as few:
        assert client.get(_url(ready)).status_code == 200
        assert client.get(_url(ready, "/decision")).status_code == 200
    enrolment = ready.enrolment
    change_status(db.session, enrolment, EnrolmentStatus.ON_PROGRAMME, None)  # as if referred, for more data
    for n in range(10):
        accept(world.evidence(enrolment, title=f"Workshop {n}"), ready.tutor)
    db.session.commit()
    db.session.query(GatewaySubmission).update({"outcome": GatewayOutcome.REFERRED})
    _submitted(ready)
    with counting_queries() as more:
        assert client.get(_url(ready)).status_code == 200
        assert client.get(_url(ready, "/decision")).status_code == 200
    assert few() == more()
