"""The progress review pages: each role's journey, bad input, access and query counts."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from portfolio.extensions import db
from portfolio.models import (
    ProgressReview,
    Rag,
    ReviewCriterion,
    ReviewSignature,
)
from portfolio.progress_reviews.domain import ReviewDetails, create_review, sign_review
from standard import Signer

from ..conftest import counting_queries
from ..progress_world import START, TODAY, banner_text, day_fields, error_summary, signed_in_as


def _review_form(**overrides):
    data = {
        "review_date": day_fields(TODAY - timedelta(days=1)),
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
        "actions_since_last": "The plan was finished.",
        "training_plan_changes": "None.",
        "concerns_and_changes": "None raised.",
        "late_reason": "Moved for the apprentice's leave.",
    }
    data.update(overrides)
    return data


def test_tutor_records_a_review_and_all_three_sign(client, people):
    enrolment = people["enrolment"]
    url = f"/enrolments/{enrolment.id}/reviews"
    signed_in_as(client, people["tutor"])
    page = client.get(url).get_data(as_text=True)
    assert "No progress reviews recorded yet" in page and "Record a review" in page
    form = client.get(f"{url}/new").get_data(as_text=True)
    assert "of 375 hours planned" in form  # the OTJ summary, prefilled
    assert f"{people['apprentice'].name} (apprentice)" in form and "Helen Osei (Harbourside Museum)" in form

    response = client.post(f"{url}/new", data=_review_form())
    assert response.status_code == 302, error_summary(response.get_data(as_text=True))
    review = db.session.scalar(select(ProgressReview))
    assert response.headers["Location"].endswith(f"{url}/{review.id}")
    assert [(c.criterion_code, c.rag, c.note) for c in review.criteria] == [
        ("K1", Rag.GREEN, "Well evidenced"), ("S11", Rag.AMBER, "")
    ]  # fmt: skip
    page = client.get(url).get_data(as_text=True)
    assert "Awaiting signatures" in page
    assert "Signatures of the apprentice, the employer, the training provider" in page

    def sign(user, signer):
        signed_in_as(client, user)
        assert "Needs your signature" in client.get(url).get_data(as_text=True)
        page = client.get(f"{url}/{review.id}").get_data(as_text=True)
        buttons = re.findall(r'name="signer" value="(\w+)"', page)
        assert buttons == [signer.value], (user, buttons)  # only the right person's button
        response = client.post(f"{url}/{review.id}/sign", data={"signer": signer.value})
        assert response.status_code == 302
        return client.get(f"{url}/{review.id}").get_data(as_text=True)

    page = sign(people["apprentice"], Signer.APPRENTICE)
    assert "Review signed for the apprentice" in banner_text(page)
    page = sign(people["employer"], Signer.EMPLOYER)
    assert "Signed by Helen Osei" in page
    page = sign(people["tutor"], Signer.PROVIDER)
    assert "the review is complete" in banner_text(page)
    assert "Signed by all three" in page and 'name="signer"' not in page
    review = db.session.get(ProgressReview, review.id)
    assert review.completed_at is not None
    page = client.get(url).get_data(as_text=True)
    assert "Complete" in page and "Nobody: signed by all three" in page and "Needs your signature" not in page
    yesterday = TODAY - timedelta(days=1)
    assert re.search(rf"Last complete review\s*</dt>\s*<dd[^>]*>\s*{yesterday.day} {yesterday:%B %Y}", page)


def test_bad_reviews_are_refused_with_messages(client, people):
    url = f"/enrolments/{people['enrolment'].id}/reviews/new"
    signed_in_as(client, people["tutor"])
    cases = [
        ({"review_date": day_fields(TODAY + timedelta(days=1))}, "The date of the review must be today or in the past"),
        ({"review_date": day_fields(START - timedelta(days=1))}, "on or after the start of the apprenticeship"),
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
        assert message in error_summary(response.get_data(as_text=True)), (
            overrides,
            error_summary(response.get_data(as_text=True)),
        )
    assert db.session.scalar(select(func.count(ProgressReview.id))) == 0


def test_signing_for_someone_else_or_twice_is_refused(client, people):
    enrolment = people["enrolment"]
    review = create_review(db.session, enrolment=enrolment, author=people["tutor"], details=_details())
    db.session.commit()
    url = f"/enrolments/{enrolment.id}/reviews/{review.id}"

    def attempt(user, signer_value):
        signed_in_as(client, user)
        response = client.post(f"{url}/sign", data={"signer": signer_value})
        return response.status_code, banner_text(
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
    signed_in_as(client, people["employer"])
    assert "Change this review" not in client.get(url).get_data(as_text=True)
    assert client.get(f"{url}/edit").status_code == 404

    signed_in_as(client, people["tutor"])
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
    signed_in_as(client, people["apprentice"])
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
        signed_in_as(client, user)
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
    signed_in_as(client, people["tutor"])
    counts = []
    for review in reviews:
        with counting_queries() as count:
            assert client.get(f"/enrolments/{enrolment.id}/reviews/{review.id}").status_code == 200
        counts.append(count())
    assert counts[0] == counts[1] and counts[0] <= 9, counts


def test_overview_links_to_the_log_and_the_reviews(client, people):
    enrolment = people["enrolment"]
    for user in (people["apprentice"], people["employer"], people["tutor"]):
        signed_in_as(client, user)
        page = client.get(f"/enrolments/{enrolment.id}").get_data(as_text=True)
        assert f'href="/enrolments/{enrolment.id}/otj"' in page
        assert f'href="/enrolments/{enrolment.id}/reviews"' in page


def _details(**overrides) -> ReviewDetails:
    values = dict(
        review_date=TODAY - timedelta(days=1),
        attendees="Amira, Helen, Priya",
        progress="On track.",
        actions="Keep going.",
        otj_and_slippage="On pace with the plan.",
        training_plan_changes="None.",
        concerns_and_changes="None raised.",
        actions_since_last="All done.",
        late_reason="Moved for the apprentice's leave.",
        criteria={"K1": (Rag.GREEN, "Good")},
    )
    values.update(overrides)
    return ReviewDetails(**values)
