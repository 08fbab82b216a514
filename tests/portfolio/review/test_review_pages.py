"""The review pages for each role: queue, review and decision, comments, judgements, witness testimony."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portfolio.enrolments.domain import change_status
from portfolio.extensions import db
from portfolio.models import (
    CriterionJudgement,
    EnrolmentStatus,
    EvidenceComment,
    EvidenceItem,
    EvidenceKind,
    EvidenceStatus,
    Role,
    WitnessSignature,
)
from portfolio.review.domain import Decision, add_comment, decide, start_review

from ..conftest import counting_queries, sign_in


@pytest.fixture
def museum(two_employers):
    return two_employers["museum_enrolment"]


@pytest.fixture
def tutor(two_employers):
    return two_employers["tutor"]


@pytest.fixture
def mentor(two_employers):
    return two_employers["museum_mentor"]


def _as(client, user):
    client.post("/sign-out")
    sign_in(client, user)
    return client


def _item_url(item) -> str:
    return f"/enrolments/{item.enrolment_id}/evidence/{item.id}"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# Queue -----------------------------------------------------------------------------------------


def test_the_queue_lists_the_providers_submitted_evidence_oldest_first(client, world, two_employers, tutor):
    museum, theatre = two_employers["museum_enrolment"], two_employers["theatre_enrolment"]
    first = world.evidence(museum, title="Clay workshop plan")
    world.evidence(theatre, title="Relaxed performance bookings")
    world.evidence(museum, title="Private draft", submitted=False)
    world.evidence(world.enrolment(), title="Another provider's plan")
    start_review(db.session, first, by=tutor)
    _as(client, tutor)
    html = client.get("/review").get_data(as_text=True)
    assert "2 items to review" in html
    assert html.index("Clay workshop plan") < html.index("Relaxed performance bookings")
    assert "Private draft" not in html and "Another provider" not in html
    assert '<td class="govuk-table__cell">You</td>' in html and "Nobody yet" in html
    html = client.get("/review", query_string={"employer": two_employers["theatre"].id}).get_data(as_text=True)
    assert "1 item to review" in html and "Relaxed performance bookings" in html
    html = client.get("/review", query_string={"apprentice": museum.apprentice.id}).get_data(as_text=True)
    assert "1 item to review" in html and "Clay workshop plan" in html
    for hostile in ({"employer": "%00"}, {"apprentice": "-1"}, {"employer": "99999999999"}, {"page": "x"}):
        assert client.get("/review", query_string=hostile).status_code == 200


def test_the_queue_shows_who_reviews_each_item(client, world, museum, tutor, two_employers):
    other = world.user(Role.TUTOR, two_employers["provider"], name="Tom Whitlock")
    item = world.evidence(museum)
    start_review(db.session, item, by=other)
    _as(client, tutor)
    assert "Tom Whitlock" in client.get("/review").get_data(as_text=True)


@pytest.mark.parametrize("who", ["apprentice", "employer", "assessor", "admin"])
def test_the_queue_is_for_tutors_only(client, world, museum, two_employers, who):
    users = {
        "apprentice": museum.apprentice,
        "employer": two_employers["museum_mentor"],
        "assessor": world.user(Role.ASSESSOR, two_employers["epao"]),
        "admin": world.user(Role.ADMIN, two_employers["provider"]),
    }
    _as(client, users[who])
    assert client.get("/review").status_code == 404


def test_queue_queries_do_not_grow_with_the_queue(app, client, world, two_employers, tutor):
    app.config["PAGE_SIZE"] = 2  # so that both sizes have a second page
    counts = []
    for size in (5, 295):  # 5, then 300 in all
        for n in range(size):
            enrolment = two_employers["museum_enrolment"] if n % 2 else two_employers["theatre_enrolment"]
            item = world.evidence(enrolment, title=f"Item {n}", files={})
            if n % 3 == 0:
                start_review(db.session, item, by=tutor)
        db.session.commit()
        _as(client, tutor)
        row = []
        for query in ({}, {"page": 2}, {"employer": two_employers["museum"].id}):
            with counting_queries() as count:
                response = client.get("/review", query_string=query)
            assert response.status_code == 200
            row.append(count())
        counts.append(row)
    assert counts[0] == counts[1], counts
    assert max(counts[0]) <= 10, counts


# Reviewing an item -----------------------------------------------------------------------------


def test_the_tutor_starts_a_review_and_refers_the_item_back(client, world, museum, tutor):
    item = world.evidence(museum, title="Clay workshop plan")
    _as(client, tutor)
    page = client.get(_item_url(item)).get_data(as_text=True)
    assert "Start review" in page and "Record decision" not in page
    response = client.post(f"{_item_url(item)}/review/start")
    assert response.status_code == 302 and response.headers["Location"].endswith("#review")
    db.session.refresh(item)
    assert item.reviewer_id == tutor.id and item.review_started_at is not None
    page = client.get(_item_url(item)).get_data(as_text=True)
    assert "You started reviewing this" in page and "Record decision" in page

    response = client.post(f"{_item_url(item)}/review/decide", data={"decision": "refer", "feedback": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "There is a problem" in html
    assert "Give feedback that says what the apprentice needs to change" in html
    assert "<title>Error: " in html

    feedback = "Please add the risk assessment <b>you</b> wrote.\nAnd the room booking."
    response = client.post(f"{_item_url(item)}/review/decide", data={"decision": "refer", "feedback": feedback})
    assert response.status_code == 302
    db.session.refresh(item)
    assert item.status is EvidenceStatus.REFERRED and item.reviewer_id == tutor.id and item.review_started_at is None
    assert item.history[-1].note == feedback

    # The apprentice sees the feedback prominently, escaped and with its line breaks, and can edit.
    _as(client, museum.apprentice)
    page = client.get(_item_url(item)).get_data(as_text=True)
    assert f"{tutor.name} referred this evidence back" in page
    assert "the risk assessment &lt;b&gt;you&lt;/b&gt; wrote.<br>And the room booking." in page
    assert "Change the evidence, then submit it for review again." in page
    assert page.index("govuk-notification-banner") < page.index("Description")
    library = client.get(f"/enrolments/{museum.id}/evidence").get_data(as_text=True)
    assert "1 item is referred back to you with feedback" in library and "Referred back" in library
    library = client.get(f"/enrolments/{museum.id}/evidence", query_string={"status": "referred"})
    assert "Clay workshop plan" in library.get_data(as_text=True)
    assert client.get(f"{_item_url(item)}/edit").status_code == 200
    assert client.post(f"{_item_url(item)}/submit").status_code == 302
    db.session.refresh(item)
    assert item.status is EvidenceStatus.SUBMITTED

    # Accepted with optional feedback, which the apprentice then sees.
    _as(client, tutor)
    client.post(f"{_item_url(item)}/review/start")
    response = client.post(f"{_item_url(item)}/review/decide", data={"decision": "accept", "feedback": "Well done."})
    assert response.status_code == 302
    db.session.refresh(item)
    assert item.status is EvidenceStatus.ACCEPTED
    _as(client, museum.apprentice)
    assert "Well done." in client.get(_item_url(item)).get_data(as_text=True)


def test_a_second_tutor_sees_who_reviews_and_cannot_decide(client, world, museum, tutor, two_employers):
    second = world.user(Role.TUTOR, two_employers["provider"], name="Tom Whitlock")
    item = world.evidence(museum)
    start_review(db.session, item, by=tutor)
    _as(client, second)
    page = client.get(_item_url(item)).get_data(as_text=True)
    assert f"{tutor.name} is reviewing this evidence" in page
    assert "Record decision" not in page and "Take over the review" in page
    response = client.post(f"{_item_url(item)}/review/decide", data={"decision": "accept"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"{tutor.name} is reviewing this evidence. Take over the review to decide it." in page
    response = client.post(f"{_item_url(item)}/review/start")  # without taking over: refused
    db.session.refresh(item)
    assert item.status is EvidenceStatus.SUBMITTED and item.reviewer_id == tutor.id
    client.post(f"{_item_url(item)}/review/start", data={"take_over": "1"})
    db.session.refresh(item)
    assert item.reviewer_id == second.id
    assert client.post(f"{_item_url(item)}/review/decide", data={"decision": "accept"}).status_code == 302
    db.session.refresh(item)
    assert item.status is EvidenceStatus.ACCEPTED and item.history[-1].changed_by_id == second.id


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"decision": "refer", "feedback": "f" * 10_000}, "The feedback must be 2,000 characters or fewer"),
        ({"decision": "refer", "feedback": " \x00 "}, "Give feedback"),
        ({"decision": "maybe", "feedback": "x"}, "Not a valid choice"),
        ({"feedback": "x"}, "Choose whether to accept the evidence or refer it back"),
    ],
)
def test_bad_decisions_are_refused_and_change_nothing(client, world, museum, tutor, data, message):
    item = world.evidence(museum)
    start_review(db.session, item, by=tutor)
    _as(client, tutor)
    response = client.post(f"{_item_url(item)}/review/decide", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and message in html
    db.session.refresh(item)
    assert item.status is EvidenceStatus.SUBMITTED and item.reviewer_id == tutor.id


@pytest.mark.parametrize("who", ["apprentice", "employer", "assessor", "admin"])
def test_only_tutors_start_reviews_and_decide(client, world, museum, two_employers, who):
    item = world.evidence(museum)
    change_status(db.session, museum, EnrolmentStatus.AT_GATEWAY, None)  # so that the assessor sees it
    users = {
        "apprentice": museum.apprentice,
        "employer": two_employers["museum_mentor"],
        "assessor": world.user(Role.ASSESSOR, two_employers["epao"]),
        "admin": world.user(Role.ADMIN, two_employers["provider"]),
    }
    _as(client, users[who])
    page = client.get(_item_url(item))
    assert page.status_code == 200 and "Start review" not in page.get_data(as_text=True)
    assert client.post(f"{_item_url(item)}/review/start").status_code == 404
    assert client.post(f"{_item_url(item)}/review/decide", data={"decision": "accept"}).status_code == 404
    db.session.refresh(item)
    assert item.status is EvidenceStatus.SUBMITTED and item.reviewer_id is None


def test_a_tutor_of_another_provider_gets_404(client, world, museum):
    item = world.evidence(museum)
    outsider = world.user(Role.TUTOR, world.provider())
    _as(client, outsider)
    for path in ("", "/review/start", "/review/decide", "/comments"):
        method = client.get if path == "" else client.post
        assert method(f"{_item_url(item)}{path}").status_code == 404


# Comments --------------------------------------------------------------------------------------


def test_apprentice_employer_and_tutor_talk_on_the_item(client, world, museum, mentor, tutor):
    item = world.evidence(museum)
    for user, body in ((museum.apprentice, "Is the plan enough?"), (mentor, "I was there <b>too</b>."),
                       (tutor, "Add the booking.\nThanks.")):  # fmt: skip
        _as(client, user)
        response = client.post(f"{_item_url(item)}/comments", data={"comment": body})
        assert response.status_code == 302 and response.headers["Location"].endswith("#comments")
    page = client.get(_item_url(item)).get_data(as_text=True)
    assert page.index("Is the plan enough?") < page.index("I was there") < page.index("Add the booking.")
    assert "I was there &lt;b&gt;too&lt;/b&gt;." in page and "Add the booking.<br>Thanks." in page
    assert f"<strong>{mentor.name}</strong> (employer)" in page
    assert _count(EvidenceComment) == 3


@pytest.mark.parametrize(
    ("body", "message"), [("", "Write a comment"), ("c" * 10_000, "The comment must be 2,000 characters or fewer")]
)
def test_bad_comments_are_refused(client, world, museum, body, message):
    item = world.evidence(museum)
    _as(client, museum.apprentice)
    response = client.post(f"{_item_url(item)}/comments", data={"comment": body})
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert _count(EvidenceComment) == 0


def test_assessors_read_comments_but_do_not_post(client, world, museum, two_employers):
    item = world.evidence(museum)
    _as(client, museum.apprentice)
    client.post(f"{_item_url(item)}/comments", data={"comment": "Ready for gateway?"})
    change_status(db.session, museum, EnrolmentStatus.AT_GATEWAY, None)
    assessor = world.user(Role.ASSESSOR, two_employers["epao"])
    _as(client, assessor)
    page = client.get(_item_url(item)).get_data(as_text=True)
    assert "Ready for gateway?" in page and "Post comment" not in page
    assert client.post(f"{_item_url(item)}/comments", data={"comment": "Fine"}).status_code == 404
    assert _count(EvidenceComment) == 1


def test_drafts_and_their_threads_stay_private_to_their_author(client, world, museum, mentor, tutor):
    draft = world.evidence(museum, submitted=False)
    _as(client, museum.apprentice)
    assert client.post(f"{_item_url(draft)}/comments", data={"comment": "Note to self"}).status_code == 302
    for user in (mentor, tutor):
        _as(client, user)
        assert client.get(_item_url(draft)).status_code == 404
        assert client.post(f"{_item_url(draft)}/comments", data={"comment": "Hello"}).status_code == 404


def test_item_page_queries_do_not_grow_with_comments(client, world, museum, mentor, tutor):
    item = world.evidence(museum)
    start_review(db.session, item, by=tutor)
    counts = []
    for size in (2, 58):  # 2, then 60 in all
        for n in range(size):
            add_comment(db.session, item, by=(museum.apprentice, mentor, tutor)[n % 3], body=f"Comment {n}")
        db.session.commit()
        _as(client, tutor)
        with counting_queries() as count:
            assert client.get(_item_url(item)).status_code == 200
        counts.append(count())
    assert counts[0] == counts[1], counts


# Judgements ------------------------------------------------------------------------------------


def test_the_tutor_judges_a_criterion_and_coverage_shows_met(client, world, museum, tutor):
    item = world.evidence(museum, links={"K1": "Audience research.", "S4": "Risk assessment."})
    start_review(db.session, item, by=tutor)
    decide(db.session, item, by=tutor, decision=Decision.ACCEPT)
    _as(client, tutor)
    page = client.get(f"/enrolments/{museum.id}/judgements/K1").get_data(as_text=True)
    assert "Record a judgement" in page and "Partly shown" in page and item.title in page
    response = client.post(
        f"/enrolments/{museum.id}/judgements/K1", data={"level": "met", "note": "Shown in the clay workshop."}
    )
    assert response.status_code == 302
    page = client.get(f"/enrolments/{museum.id}/judgements/K1").get_data(as_text=True)
    assert "Met (current)" in page and "Shown in the clay workshop." in page
    listing = client.get(f"/enrolments/{museum.id}/judgements").get_data(as_text=True)
    assert "1 of 49 criteria are judged" in listing
    k1 = listing[listing.index('id="criterion-K1"') :][:1200]
    assert "Met" in k1 and tutor.name in k1 and "Shown in the clay workshop." in k1
    criteria = client.get(f"/enrolments/{museum.id}/criteria").get_data(as_text=True)
    assert "2 have accepted evidence and 1 are judged met" in criteria
    assert 'govuk-tag--turquoise">Met<' in criteria
    # A later judgement replaces it as the current one; the history keeps both.
    client.post(f"/enrolments/{museum.id}/judgements/K1", data={"level": "developing", "note": ""})
    criteria = client.get(f"/enrolments/{museum.id}/criteria").get_data(as_text=True)
    assert "and 0 are judged met" in criteria
    assert _count(CriterionJudgement) == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"level": "excellent"}, "Not a valid choice"),
        ({}, "Choose a level from the judgement scale"),
        ({"level": "met", "note": "n" * 10_000}, "The note must be 2,000 characters or fewer"),
    ],
)
def test_bad_judgements_are_refused(client, museum, tutor, data, message):
    _as(client, tutor)
    response = client.post(f"/enrolments/{museum.id}/judgements/K1", data=data)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert _count(CriterionJudgement) == 0


def test_a_code_not_in_the_standard_is_404(client, museum, tutor):
    _as(client, tutor)
    for code in ("K99", "k1", "K1%00", "<script>"):
        assert client.get(f"/enrolments/{museum.id}/judgements/{code}").status_code == 404
        assert client.post(f"/enrolments/{museum.id}/judgements/{code}", data={"level": "met"}).status_code == 404


@pytest.mark.parametrize("who", ["apprentice", "employer", "assessor", "admin"])
def test_others_see_judgements_but_do_not_judge(client, world, museum, two_employers, tutor, who):
    users = {
        "apprentice": museum.apprentice,
        "employer": two_employers["museum_mentor"],
        "assessor": world.user(Role.ASSESSOR, two_employers["epao"]),
        "admin": world.user(Role.ADMIN, two_employers["provider"]),
    }
    _as(client, tutor)
    client.post(f"/enrolments/{museum.id}/judgements/B9", data={"level": "met", "note": "Seen on placement."})
    change_status(db.session, museum, EnrolmentStatus.AT_GATEWAY, None)  # so that the assessor sees it
    _as(client, users[who])
    assert "Seen on placement." in client.get(f"/enrolments/{museum.id}/judgements").get_data(as_text=True)
    page = client.get(f"/enrolments/{museum.id}/judgements/B9").get_data(as_text=True)
    assert "Seen on placement." in page and "Record a judgement" not in page
    assert client.post(f"/enrolments/{museum.id}/judgements/B9", data={"level": "not_yet"}).status_code == 404
    assert _count(CriterionJudgement) == 1


def test_a_tutor_of_another_provider_cannot_judge(client, world, museum):
    _as(client, world.user(Role.TUTOR, world.provider()))
    assert client.get(f"/enrolments/{museum.id}/judgements").status_code == 404
    assert client.post(f"/enrolments/{museum.id}/judgements/K1", data={"level": "met"}).status_code == 404
    assert _count(CriterionJudgement) == 0


def test_judgement_pages_take_a_fixed_number_of_queries(client, world, museum, tutor):
    counts = []
    for codes in (["K1"], [c for c in ("K2", "K3", "S1", "S2", "B1", "B2", "B3") for _ in range(3)]):
        for code in codes:
            world.evidence(museum, links={code: "x"}, files={})
            _as(client, tutor)
            client.post(f"/enrolments/{museum.id}/judgements/{code}", data={"level": "met"})
        row = []
        for url in (f"/enrolments/{museum.id}/judgements", f"/enrolments/{museum.id}/judgements/K2"):
            with counting_queries() as count:
                assert client.get(url).status_code == 200
            row.append(count())
        counts.append(row)
    assert counts[0] == counts[1], counts


# Witness testimony -----------------------------------------------------------------------------

TESTIMONY = {
    "title": "Witness testimony: the lantern parade",
    "activity_date": ["4", "10", "2025"],
    "text": "I watched the apprentice brief twenty stewards.\nShe adapted the route.",
    "criteria": ["S5", "B4"],
    "justification-S5": "She briefed the stewards clearly.",
    "justification-B4": "She made the route accessible.",
}


def test_the_employer_writes_signs_and_the_apprentice_cannot_change_it(client, world, museum, mentor, tutor):
    _as(client, mentor)
    library = client.get(f"/enrolments/{museum.id}/evidence").get_data(as_text=True)
    assert "Write a witness testimony" in library
    form = client.get(f"/enrolments/{museum.id}/witness-testimony/new").get_data(as_text=True)
    assert "<strong>K1</strong>" in form
    response = client.post(f"/enrolments/{museum.id}/witness-testimony/new", data=TESTIMONY)
    assert response.status_code == 302 and response.headers["Location"].endswith("/sign")
    item = db.session.scalar(select(EvidenceItem))
    assert item.kind is EvidenceKind.WITNESS_TESTIMONY and item.created_by_id == mentor.id
    assert item.status is EvidenceStatus.DRAFT and item.codes == ["S5", "B4"]

    # The draft is the employer's alone.
    _as(client, museum.apprentice)
    assert client.get(_item_url(item)).status_code == 404
    _as(client, mentor)
    page = client.get(_item_url(item)).get_data(as_text=True)
    assert "Check and sign" in page and "Not signed yet" in page and "Submit for review" not in page
    assert client.get(f"{_item_url(item)}/edit").status_code == 302  # the evidence form sends it to its own
    assert client.post(f"{_item_url(item)}/submit").status_code == 302
    db.session.refresh(item)
    assert item.status is EvidenceStatus.DRAFT  # submitted only by signing
    edit = f"/enrolments/{museum.id}/witness-testimony/{item.id}/edit"
    assert "She adapted the route." in client.get(edit).get_data(as_text=True)
    assert client.post(edit, data=TESTIMONY | {"title": "The lantern parade"}).status_code == 302

    sign = f"/enrolments/{museum.id}/witness-testimony/{item.id}/sign"
    page = client.get(sign).get_data(as_text=True)
    assert "The lantern parade" in page and f'value="{mentor.name}"' in page
    response = client.post(sign, data={"signed_name": mentor.name, "job_title": "", "confirm": "y"})
    assert "Enter your job title" in response.get_data(as_text=True)
    response = client.post(sign, data={"signed_name": mentor.name, "job_title": "Learning manager"})
    assert "Confirm that the testimony is a true account" in response.get_data(as_text=True)
    assert _count(WitnessSignature) == 0
    response = client.post(sign, data={"signed_name": mentor.name, "job_title": "Learning manager", "confirm": "y"})
    assert response.status_code == 302
    assert ">Testimony signed and submitted for review<" in client.get(response.headers["Location"]).get_data(
        as_text=True
    ).replace("\n", "").replace("  ", "")
    db.session.refresh(item)
    assert item.status is EvidenceStatus.SUBMITTED
    signature = db.session.scalar(select(WitnessSignature))
    assert (signature.signed_by_id, signature.job_title) == (mentor.id, "Learning manager")

    # Signed: nobody changes it; everyone in the relationship sees the signature.
    assert client.get(edit).status_code == 404 and client.get(sign).status_code == 404
    assert client.post(sign, data={"signed_name": "X", "job_title": "Y", "confirm": "y"}).status_code == 404
    _as(client, museum.apprentice)
    page = client.get(_item_url(item)).get_data(as_text=True)
    assert "Learning manager" in page and f"Witness testimony by {mentor.name}" in page
    for action in ("Edit", "Withdraw", "Check and sign"):
        assert f">{action}<" not in page
    assert client.get(f"{_item_url(item)}/edit").status_code == 404
    assert client.post(f"{_item_url(item)}/withdraw", data={"reason": "No"}).status_code == 404
    assert client.get(edit).status_code == 404
    _as(client, tutor)
    assert "The lantern parade" in client.get("/review").get_data(as_text=True)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"text": ""}, "Write your testimony"),
        ({"text": "t" * 10_001}, "The testimony must be 10,000 characters or fewer"),
        ({"title": "\x00"}, "Enter a title"),
        ({"activity_date": ["1", "1", "2099"]}, "must be today or in the past"),
        ({"criteria": ["S5", "K99"]}, "K99 is not a criterion of ST0396"),
        ({"justification-B4": "j" * 5000}, "must be 2,000 characters or fewer"),
    ],
)
def test_bad_testimony_is_refused(client, museum, mentor, overrides, message):
    _as(client, mentor)
    response = client.post(f"/enrolments/{museum.id}/witness-testimony/new", data=TESTIMONY | overrides)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and message in html and "There is a problem" in html
    assert _count(EvidenceItem) == 0


@pytest.mark.parametrize("who", ["apprentice", "tutor", "other employer", "assessor"])
def test_only_the_apprentices_employer_writes_testimony(client, world, museum, two_employers, who):
    users = {
        "apprentice": museum.apprentice,
        "tutor": two_employers["tutor"],
        "other employer": two_employers["theatre_mentor"],
        "assessor": world.user(Role.ASSESSOR, two_employers["epao"]),
    }
    _as(client, users[who])
    assert client.get(f"/enrolments/{museum.id}/witness-testimony/new").status_code == 404
    assert client.post(f"/enrolments/{museum.id}/witness-testimony/new", data=TESTIMONY).status_code == 404
    assert _count(EvidenceItem) == 0


def test_a_colleague_cannot_sign_anothers_testimony(client, world, museum, mentor, two_employers):
    _as(client, mentor)
    client.post(f"/enrolments/{museum.id}/witness-testimony/new", data=TESTIMONY)
    item = db.session.scalar(select(EvidenceItem))
    _as(client, world.user(Role.EMPLOYER, two_employers["museum"]))
    sign = f"/enrolments/{museum.id}/witness-testimony/{item.id}/sign"
    assert client.post(sign, data={"signed_name": mentor.name, "job_title": "Boss", "confirm": "y"}).status_code == 404
    assert _count(WitnessSignature) == 0
