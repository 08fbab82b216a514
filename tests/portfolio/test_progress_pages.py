"""The off-the-job log and progress review pages: each role's journey, bad input, access and query counts."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portfolio.core import clock
from portfolio.core.wording import hours_text
from portfolio.extensions import db
from portfolio.models import (
    OtjActivity,
    OtjEntry,
    OtjStatus,
    ProgressReview,
    Rag,
    ReviewCriterion,
    ReviewSignature,
    Role,
)
from portfolio.otj.domain import enrolment_otj_summary
from portfolio.progress_reviews.domain import ReviewDetails, create_review, sign_review
from standard import Signer

from .conftest import counting_queries, sign_in

TODAY = clock.today()
START = TODAY - timedelta(days=200)


@pytest.fixture
def people(world):
    provider, employer = world.provider("Northgate Arts Training"), world.employer("Harbourside Museum")
    tutor = world.user(Role.TUTOR, provider, name="Priya Natarajan")
    mentor = world.user(Role.EMPLOYER, employer, name="Helen Osei")
    enrolment = world.enrolment(
        employer=employer, provider=provider, tutor=tutor, mentor=mentor, start=START,
        planned_end_date=START + timedelta(days=548), planned_otj_hours=375,
    )  # fmt: skip
    other_provider = world.provider("Elsewhere College")
    db.session.commit()
    return {
        "enrolment": enrolment,
        "apprentice": enrolment.apprentice,
        "tutor": tutor,
        "employer": mentor,
        "other_tutor": world.user(Role.TUTOR, other_provider),
        "other_employer": world.user(Role.EMPLOYER, world.employer()),
        "other_apprentice": world.enrolment(provider=other_provider, start=START).apprentice,
    }


def _day(day: date) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]


def _entry_form(**overrides):
    data = {
        "activity_date": _day(TODAY - timedelta(days=2)),
        "hours": "3.5",
        "activity": "workshop",
        "learning": "Facilitation techniques for family audiences.",
        "criteria": ["K1", "S5"],
    }
    data.update(overrides)
    return data


def _errors(html: str) -> str:
    match = re.search(r'govuk-error-summary__list">(.*?)</ul>', html, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split()) if match else ""


def _banner(html: str) -> str:
    match = re.search(r'govuk-notification-banner__content">(.*?)</div>', html, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split()) if match else ""


def _entries() -> list[OtjEntry]:
    return list(db.session.scalars(select(OtjEntry).order_by(OtjEntry.id)))


def _as(client, user):
    client.post("/sign-out")
    sign_in(client, user)
    client.get("/")  # shows, and so clears, the sign-out message
    return client


# ---------------------------------------------------------------------------------------------
# Off-the-job training


def test_apprentice_logs_tutor_approves_and_totals_follow(client, people):
    enrolment = people["enrolment"]
    url = f"/enrolments/{enrolment.id}/otj"
    _as(client, people["apprentice"])
    page = client.get(url).get_data(as_text=True)
    assert "No training logged yet" in page and "Log training" in page
    assert client.get(f"{url}/new").status_code == 200

    response = client.post(f"{url}/new", data=_entry_form())
    assert response.status_code == 302, _errors(response.get_data(as_text=True))
    response = client.post(f"{url}/new", data=_entry_form(hours="6", activity="self_study", criteria=[]))
    assert response.status_code == 302
    first, second = _entries()
    assert (first.hours, first.activity, first.criteria, first.status) == (
        Decimal("3.50"), OtjActivity.WORKSHOP, "K1 S5", OtjStatus.LOGGED
    )  # fmt: skip
    assert first.created_by_id == people["apprentice"].id

    page = client.get(url).get_data(as_text=True)
    expected = enrolment_otj_summary(db.session, enrolment).expected
    assert "9.5 hours" in page  # logged
    assert f"Expected by {TODAY.day} {TODAY:%B %Y}" in page and hours_text(expected) in page
    assert f"Logged hours are {hours_text(expected - Decimal('9.5'))} behind the expected pace" in page
    assert "<svg" in page and 'role="img"' in page and "Cumulative hours by month" in page
    assert 'style="' not in page and "<script>" not in page

    _as(client, people["tutor"])
    page = client.get(f"{url}/{first.id}").get_data(as_text=True)
    assert "Approve entry" in page and "Query entry" in page
    response = client.post(f"{url}/{first.id}/approve")
    assert response.status_code == 302
    assert _entries()[0].status is OtjStatus.APPROVED
    assert _entries()[0].reviewed_by_id == people["tutor"].id
    page = client.get(url).get_data(as_text=True)
    assert re.search(r"Approved\s*</dt>\s*<dd[^>]*>\s*3.5 hours", page)
    assert "Approve entry" not in client.get(f"{url}/{first.id}").get_data(as_text=True)


def test_every_bad_entry_is_refused_with_a_message_and_nothing_saved(client, people):
    url = f"/enrolments/{people['enrolment'].id}/otj/new"
    _as(client, people["apprentice"])
    cases = [
        ({"hours": "25"}, "An entry can be at most 24 hours"),
        ({"hours": "24.5"}, "An entry can be at most 24 hours"),
        ({"hours": "0"}, "The hours must be more than 0"),
        ({"hours": "-3"}, "The hours must be more than 0"),
        ({"hours": "1.555"}, "Give the hours to at most 2 decimal places"),
        ({"hours": "three"}, "Enter the hours as a number, like 1.5"),
        ({"hours": "NaN"}, "Enter the hours as a number, like 1.5"),
        ({"hours": "1e400"}, "An entry can be at most 24 hours"),
        ({"hours": ""}, "Enter the hours"),
        ({"activity_date": _day(TODAY + timedelta(days=1))}, "The date of the training must be today or in the past"),
        ({"activity_date": _day(START - timedelta(days=1))}, "on or after the start of the apprenticeship"),
        ({"activity_date": ["31", "2", "2026"]}, "must be a real date"),
        ({"activity_date": ["", "", ""]}, "Enter the date of the training"),
        ({"criteria": ["K1", "Z9"]}, "Z9 is not a criterion of ST0396"),
        ({"learning": "x" * 2001}, "What you learnt must be 2,000 characters or fewer"),
        ({"learning": ""}, "Say what you learnt"),
        ({"activity": "holiday"}, "Choose the kind of training"),
        ({"activity": ""}, "Choose the kind of training"),
    ]
    for overrides, message in cases:
        response = client.post(url, data=_entry_form(**overrides))
        html = response.get_data(as_text=True)
        assert response.status_code == 200, overrides
        assert message in _errors(html), (overrides, _errors(html))
        assert "govuk-error-message" in html
    # Several problems at once are all reported.
    html = client.post(url, data=_entry_form(hours="25", learning="", criteria=["Q1"])).get_data(as_text=True)
    assert all(m in _errors(html) for m in ("at most 24 hours", "Say what you learnt", "Q1 is not a criterion"))
    assert _entries() == []


def test_edit_delete_and_query_cycle(client, people):
    enrolment = people["enrolment"]
    url = f"/enrolments/{enrolment.id}/otj"
    _as(client, people["apprentice"])
    client.post(f"{url}/new", data=_entry_form())
    client.post(f"{url}/new", data=_entry_form(hours="1"))
    entry, spare = _entries()

    edit = client.get(f"{url}/{entry.id}/edit").get_data(as_text=True)
    assert 'value="3.5"' in edit and 'value="K1" checked' in edit
    response = client.post(f"{url}/{entry.id}/edit", data=_entry_form(hours="4.25", criteria=["S1"]))
    assert response.status_code == 302
    assert (_entries()[0].hours, _entries()[0].criteria) == (Decimal("4.25"), "S1")
    response = client.post(f"{url}/{entry.id}/edit", data=_entry_form(hours="30"))
    assert "at most 24 hours" in _errors(response.get_data(as_text=True))
    assert _entries()[0].hours == Decimal("4.25")

    assert client.get(f"{url}/{spare.id}/delete").status_code == 200
    assert client.post(f"{url}/{spare.id}/delete").status_code == 302
    assert len(_entries()) == 1

    _as(client, people["tutor"])
    response = client.post(f"{url}/{entry.id}/query", data={"note": ""})
    assert response.status_code == 200 and "Say what needs checking" in _errors(response.get_data(as_text=True))
    response = client.post(f"{url}/{entry.id}/query", data={"note": "x" * 2001})
    assert "2,000 characters or fewer" in _errors(response.get_data(as_text=True))
    assert _entries()[0].status is OtjStatus.LOGGED
    response = client.post(f"{url}/{entry.id}/query", data={"note": "Was this during your working hours?"})
    assert response.status_code == 302 and _entries()[0].status is OtjStatus.QUERIED
    # The tutor cannot edit the apprentice's entry.
    assert client.get(f"{url}/{entry.id}/edit").status_code == 404

    _as(client, people["apprentice"])
    page = client.get(f"{url}/{entry.id}").get_data(as_text=True)
    assert "Was this during your working hours?" in page and "Queried" in page
    assert "Was this during your working hours?" in client.get(f"{url}/{entry.id}/edit").get_data(as_text=True)
    response = client.post(f"{url}/{entry.id}/edit", data=_entry_form(hours="2"))
    assert response.status_code == 302
    assert (_entries()[0].status, _entries()[0].hours) == (OtjStatus.LOGGED, Decimal("2.00"))
    # The apprentice cannot approve their own entry.
    assert client.post(f"{url}/{entry.id}/approve").status_code == 404
    assert client.post(f"{url}/approve", data={"entry": [str(entry.id)]}).status_code == 404

    _as(client, people["tutor"])
    client.post(f"{url}/{entry.id}/approve")
    assert _entries()[0].status is OtjStatus.APPROVED
    # An approved entry is read-only: a clear message, not a form.
    _as(client, people["apprentice"])
    for path in (f"{url}/{entry.id}/edit", f"{url}/{entry.id}/delete"):
        response = client.get(path, follow_redirects=True)
        assert "Approved training cannot be changed" in response.get_data(as_text=True)
    client.post(f"{url}/{entry.id}/edit", data=_entry_form(hours="9"))
    client.post(f"{url}/{entry.id}/delete")
    assert _entries()[0].hours == Decimal("2.00")
    page = client.get(f"{url}/{entry.id}").get_data(as_text=True)
    assert "/edit" not in page and "Earlier query" not in page

    _as(client, people["tutor"])
    client.post(f"{url}/{entry.id}/approve")
    assert "This entry is already approved" in _banner(client.get(url).get_data(as_text=True))
    response = client.post(f"{url}/{entry.id}/query", data={"note": ""})
    assert response.status_code == 302
    assert "Only entries awaiting approval can be queried" in _banner(client.get(url).get_data(as_text=True))


def test_tutor_approves_several_entries_from_the_list(client, people):
    url = f"/enrolments/{people['enrolment'].id}/otj"
    _as(client, people["apprentice"])
    for hours in ("1", "2", "3"):
        client.post(f"{url}/new", data=_entry_form(hours=hours))
    ids = [e.id for e in _entries()]
    assert "Approve selected entries" not in client.get(url).get_data(as_text=True)
    _as(client, people["tutor"])
    page = client.get(f"{url}?status=logged").get_data(as_text=True)
    assert "Approve selected entries" in page and page.count('name="entry"') == 3
    response = client.post(f"{url}/approve?status=logged", data={"entry": [str(ids[0]), str(ids[2]), "x"]})
    assert response.status_code == 302 and response.headers["Location"].endswith("status=logged")
    assert [e.status for e in _entries()] == [OtjStatus.APPROVED, OtjStatus.LOGGED, OtjStatus.APPROVED]
    assert "2 entries approved" in _banner(client.get(url).get_data(as_text=True))
    client.post(f"{url}/approve")
    assert "Choose the entries to approve" in client.get(url).get_data(as_text=True)


def test_others_see_the_log_but_only_the_provider_decides(client, people):
    enrolment = people["enrolment"]
    url = f"/enrolments/{enrolment.id}/otj"
    _as(client, people["apprentice"])
    client.post(f"{url}/new", data=_entry_form())
    entry = _entries()[0]

    _as(client, people["employer"])
    page = client.get(url).get_data(as_text=True)
    assert "3.5 hours" in page and "Log training" not in page
    assert "Approve entry" not in client.get(f"{url}/{entry.id}").get_data(as_text=True)
    for method, path in (("post", f"{url}/{entry.id}/approve"), ("post", f"{url}/{entry.id}/query"),
                         ("post", f"{url}/approve"), ("get", f"{url}/new"), ("get", f"{url}/{entry.id}/edit")):  # fmt: skip
        assert getattr(client, method)(path).status_code == 404, path

    # A tutor of another provider: the records do not exist for them.
    _as(client, people["other_tutor"])
    for method, path in (("get", url), ("get", f"{url}/{entry.id}"), ("post", f"{url}/{entry.id}/approve"),
                         ("post", f"{url}/{entry.id}/query"), ("post", f"{url}/approve")):  # fmt: skip
        assert getattr(client, method)(path, data={"note": "Hm", "entry": [str(entry.id)]}).status_code == 404, path
    assert _entries()[0].status is OtjStatus.LOGGED
    # An entry id under another enrolment's URL is a 404 too.
    _as(client, people["other_apprentice"])
    other = db.session.scalar(select(OtjEntry.enrolment_id).limit(1))
    assert client.get(f"/enrolments/{other}/otj/{entry.id}").status_code == 404


def test_otj_page_queries_do_not_grow_with_entries(client, people, world):
    enrolment = people["enrolment"]
    url = f"/enrolments/{enrolment.id}/otj"

    def add(count):
        for n in range(count):
            db.session.add(OtjEntry(
                enrolment=enrolment, activity_date=START + timedelta(days=n % 190), hours=Decimal("1.25"),
                activity=OtjActivity.SELF_STUDY, learning="Reading.", criteria="K1",
                status=OtjStatus.APPROVED if n % 3 else OtjStatus.LOGGED, created_by=enrolment.apprentice,
            ))  # fmt: skip
        db.session.commit()

    counts = []
    for user in (people["apprentice"], people["tutor"]):
        _as(client, user)
        for total, more in ((5, 5), (300, 295)):
            add(more)
            with counting_queries() as count:
                response = client.get(f"{url}?page=2" if total == 300 else url)
            assert response.status_code == 200
            assert f"{total} entries" in response.get_data(as_text=True)
            counts.append(count())
        db.session.query(OtjEntry).delete()
        db.session.commit()
    assert counts[0] == counts[1] and counts[2] == counts[3], counts
    assert max(counts) <= 7, counts


# ---------------------------------------------------------------------------------------------
# Progress reviews


def _review_form(**overrides):
    data = {
        "review_date": _day(TODAY - timedelta(days=1)),
        "attendees": "Amira, Helen, Priya",
        "progress": "The family workshop plan was accepted.",
        "otj_and_slippage": "On pace.",
        "criteria": ["K1", "S11"],
        "rag-K1": "green",
        "note-K1": "Well evidenced",
        "rag-S11": "amber",
        "note-S11": "",
        "wellbeing_and_support": "Settled in.",
        "actions": "Budget training before the next review.",
    }
    data.update(overrides)
    return data


def test_tutor_records_a_review_and_all_three_sign(client, people):
    enrolment = people["enrolment"]
    url = f"/enrolments/{enrolment.id}/reviews"
    _as(client, people["tutor"])
    page = client.get(url).get_data(as_text=True)
    assert "No progress reviews recorded yet" in page and "Record a review" in page
    form = client.get(f"{url}/new").get_data(as_text=True)
    assert "of 375 hours planned" in form  # the OTJ summary, prefilled
    assert f"{people['apprentice'].name} (apprentice)" in form and "Helen Osei (Harbourside Museum)" in form

    response = client.post(f"{url}/new", data=_review_form())
    assert response.status_code == 302, _errors(response.get_data(as_text=True))
    review = db.session.scalar(select(ProgressReview))
    assert response.headers["Location"].endswith(f"{url}/{review.id}")
    assert [(c.criterion_code, c.rag, c.note) for c in review.criteria] == [
        ("K1", Rag.GREEN, "Well evidenced"), ("S11", Rag.AMBER, "")
    ]  # fmt: skip
    page = client.get(url).get_data(as_text=True)
    assert "Awaiting signatures" in page
    assert "Signatures of the apprentice, the employer, the training provider" in page

    def sign(user, signer):
        _as(client, user)
        assert "Needs your signature" in client.get(url).get_data(as_text=True)
        page = client.get(f"{url}/{review.id}").get_data(as_text=True)
        buttons = re.findall(r'name="signer" value="(\w+)"', page)
        assert buttons == [signer.value], (user, buttons)  # only the right person's button
        response = client.post(f"{url}/{review.id}/sign", data={"signer": signer.value})
        assert response.status_code == 302
        return client.get(f"{url}/{review.id}").get_data(as_text=True)

    page = sign(people["apprentice"], Signer.APPRENTICE)
    assert "Review signed for the apprentice" in _banner(page)
    page = sign(people["employer"], Signer.EMPLOYER)
    assert "Signed by Helen Osei" in page
    page = sign(people["tutor"], Signer.PROVIDER)
    assert "the review is complete" in _banner(page)
    assert "Signed by all three" in page and 'name="signer"' not in page
    review = db.session.get(ProgressReview, review.id)
    assert review.completed_at is not None
    page = client.get(url).get_data(as_text=True)
    assert "Complete" in page and "Nobody: signed by all three" in page and "Needs your signature" not in page
    yesterday = TODAY - timedelta(days=1)
    assert re.search(rf"Last complete review\s*</dt>\s*<dd[^>]*>\s*{yesterday.day} {yesterday:%B %Y}", page)


def test_bad_reviews_are_refused_with_messages(client, people):
    url = f"/enrolments/{people['enrolment'].id}/reviews/new"
    _as(client, people["tutor"])
    cases = [
        ({"review_date": _day(TODAY + timedelta(days=1))}, "The date of the review must be today or in the past"),
        ({"review_date": _day(START - timedelta(days=1))}, "on or after the start of the apprenticeship"),
        ({"review_date": ["", "", ""]}, "Enter the date of the review"),
        ({"attendees": ""}, "Say who attended"),
        ({"progress": ""}, "Describe progress against the plan"),
        ({"actions": ""}, "Enter the actions agreed"),
        ({"progress": "x" * 10_001}, "Progress against the plan must be 10,000 characters or fewer"),
        ({"criteria": ["K1", "X1"]}, "X1 is not a criterion of ST0396"),
        ({"rag-S11": ""}, "Choose a rating for S11"),
        ({"rag-S11": "blue"}, "Choose a rating for S11"),
        ({"note-K1": "x" * 2001}, "The note on K1 must be 2,000 characters or fewer"),
    ]
    for overrides, message in cases:
        response = client.post(url, data=_review_form(**overrides))
        assert response.status_code == 200, overrides
        assert message in _errors(response.get_data(as_text=True)), (
            overrides,
            _errors(response.get_data(as_text=True)),
        )
    assert db.session.scalar(select(func.count(ProgressReview.id))) == 0


def test_signing_for_someone_else_or_twice_is_refused(client, people):
    enrolment = people["enrolment"]
    review = create_review(db.session, enrolment=enrolment, author=people["tutor"], details=_details())
    db.session.commit()
    url = f"/enrolments/{enrolment.id}/reviews/{review.id}"

    def attempt(user, signer_value):
        _as(client, user)
        response = client.post(f"{url}/sign", data={"signer": signer_value})
        return response.status_code, _banner(
            client.get(url).get_data(as_text=True)
        ) if response.status_code == 302 else ""

    assert attempt(people["tutor"], "employer") == (302, "You cannot sign for the employer")
    assert attempt(people["tutor"], "apprentice") == (302, "You cannot sign for the apprentice")
    assert attempt(people["employer"], "provider") == (302, "You cannot sign for the training provider")
    assert attempt(people["apprentice"], "nobody") == (302, "Choose whom you are signing for")
    assert attempt(people["apprentice"], "apprentice")[0] == 302
    assert attempt(people["apprentice"], "apprentice") == (
        302,
        "This review has already been signed for the apprentice",
    )
    # People of another enrolment, employer or provider: the review does not exist for them.
    assert attempt(people["other_apprentice"], "apprentice")[0] == 404
    assert attempt(people["other_employer"], "employer")[0] == 404
    assert attempt(people["other_tutor"], "provider")[0] == 404
    signatures = db.session.scalars(select(ReviewSignature)).all()
    assert [(s.signer, s.user_id) for s in signatures] == [(Signer.APPRENTICE, people["apprentice"].id)]


def test_the_tutor_edits_only_until_the_first_signature(client, people):
    enrolment = people["enrolment"]
    review = create_review(db.session, enrolment=enrolment, author=people["tutor"], details=_details())
    db.session.commit()
    url = f"/enrolments/{enrolment.id}/reviews/{review.id}"
    _as(client, people["employer"])
    assert "Change this review" not in client.get(url).get_data(as_text=True)
    assert client.get(f"{url}/edit").status_code == 404

    _as(client, people["tutor"])
    form = client.get(f"{url}/edit").get_data(as_text=True)
    assert 'value="K1" checked' in form and 'name="rag-K1" type="radio" value="green" checked' in form
    response = client.post(f"{url}/edit", data=_review_form(progress="Revised.", criteria=["K1"], **{"rag-K1": "red"}))
    assert response.status_code == 302
    assert db.session.get(ProgressReview, review.id).progress == "Revised."
    assert [(c.criterion_code, c.rag) for c in db.session.scalars(select(ReviewCriterion))] == [("K1", Rag.RED)]

    sign_review(db.session, db.session.get(ProgressReview, review.id), by=people["employer"], signer=Signer.EMPLOYER)
    db.session.commit()
    assert "Change this review" not in client.get(url).get_data(as_text=True)
    response = client.get(f"{url}/edit", follow_redirects=True)
    assert "This review has been signed, so it can no longer be changed" in response.get_data(as_text=True)
    client.post(f"{url}/edit", data=_review_form(progress="Too late."))
    assert db.session.get(ProgressReview, review.id).progress == "Revised."


def test_next_review_due_and_overdue_on_the_list(client, people, world):
    enrolment = people["enrolment"]  # started 200 days ago, every 3 months: due and overdue
    _as(client, people["apprentice"])
    page = client.get(f"/enrolments/{enrolment.id}/reviews").get_data(as_text=True)
    assert "The next progress review is overdue" in page and "Overdue" in page
    assert "Record a review" not in page
    assert "None yet" in page

    review = create_review(
        db.session, enrolment=enrolment, author=people["tutor"], details=_details(review_date=TODAY - timedelta(days=3))
    )
    for user, signer in ((people["apprentice"], Signer.APPRENTICE), (people["employer"], Signer.EMPLOYER),
                         (people["tutor"], Signer.PROVIDER)):  # fmt: skip
        sign_review(db.session, review, by=user, signer=signer)
    db.session.commit()
    page = client.get(f"/enrolments/{enrolment.id}/reviews").get_data(as_text=True)
    assert "overdue" not in page.lower()
    assert "Every 3 calendar months" in page


def test_reviews_pages_queries_do_not_grow_with_reviews(client, people):
    enrolment = people["enrolment"]
    url = f"/enrolments/{enrolment.id}/reviews"

    def add(count):
        for n in range(count):
            review = ProgressReview(
                enrolment=enrolment, review_date=START + timedelta(days=n % 190), attendees="All three",
                progress="Fine.", created_by=people["tutor"],
                criteria=[ReviewCriterion(criterion_code="K1", rag=Rag.GREEN)],
            )  # fmt: skip
            if n % 2:
                review.signatures.append(ReviewSignature(signer=Signer.APPRENTICE, user=enrolment.apprentice))
            db.session.add(review)
        db.session.commit()

    counts = []
    for user in (people["tutor"], people["employer"]):
        _as(client, user)
        for total, more in ((5, 5), (300, 295)):
            add(more)
            with counting_queries() as count:
                response = client.get(url)
            assert response.status_code == 200 and f"{total} reviews" in response.get_data(as_text=True)
            counts.append(count())
        db.session.query(ReviewSignature).delete()
        db.session.query(ReviewCriterion).delete()
        db.session.query(ProgressReview).delete()
        db.session.commit()
    assert counts[0] == counts[1] and counts[2] == counts[3], counts
    assert max(counts) <= 7, counts


def test_review_page_queries_are_fixed(client, people):
    enrolment = people["enrolment"]
    reviews = []
    for criteria in ({}, {c: (Rag.AMBER, "Note") for c in ("K1", "K2", "S1", "S4", "B1", "B7")}):
        reviews.append(
            create_review(db.session, enrolment=enrolment, author=people["tutor"], details=_details(criteria=criteria))
        )
    for user, signer in ((people["apprentice"], Signer.APPRENTICE), (people["employer"], Signer.EMPLOYER)):
        sign_review(db.session, reviews[1], by=user, signer=signer)
    db.session.commit()
    _as(client, people["tutor"])
    counts = []
    for review in reviews:
        with counting_queries() as count:
            assert client.get(f"/enrolments/{enrolment.id}/reviews/{review.id}").status_code == 200
        counts.append(count())
    assert counts[0] == counts[1] and counts[0] <= 9, counts


def test_overview_links_to_the_log_and_the_reviews(client, people):
    enrolment = people["enrolment"]
    for user in (people["apprentice"], people["employer"], people["tutor"]):
        _as(client, user)
        page = client.get(f"/enrolments/{enrolment.id}").get_data(as_text=True)
        assert f'href="/enrolments/{enrolment.id}/otj"' in page
        assert f'href="/enrolments/{enrolment.id}/reviews"' in page


def _details(**overrides) -> ReviewDetails:
    values = dict(
        review_date=TODAY - timedelta(days=1),
        attendees="Amira, Helen, Priya",
        progress="On track.",
        actions="Keep going.",
        criteria={"K1": (Rag.GREEN, "Good")},
    )
    values.update(overrides)
    return ReviewDetails(**values)
