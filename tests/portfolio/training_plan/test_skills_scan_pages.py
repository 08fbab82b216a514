"""The skills scan's pages: the three parties' journey through the forms, the enrolment page's
summary card, and access for every route (404 for anyone unrelated or without the role)."""

from __future__ import annotations

import re

import pytest

from portfolio.extensions import db
from portfolio.models import SkillsScan

from ..conftest import counting_queries
from ..progress_world import error_summary, signed_in_as
from .conftest import RATED, ready_scan

CODES = ("K1", "K2", "S1", "B1")


def _ratings_form(ratings=RATED) -> dict:
    form = {}
    for code, (rating, note) in ratings.items():
        form[f"rating-{code}"], form[f"note-{code}"] = rating.value, note
    return form


def _fingerprint(html: str) -> str:
    return re.search(r'name="fingerprint" value="([0-9a-f]{64})"', html).group(1)


def test_the_three_parties_rate_confirm_record_and_sign_through_the_pages(client, scan_people):
    people = scan_people
    enrolment = people["enrolment"]
    base = f"/enrolments/{enrolment.id}/skills-scan"
    signed_in_as(client, people["apprentice"])
    assert "Start your skills scan" in client.get(base).get_data(as_text=True)
    refused = client.post(f"{base}/ratings", data={"rating-K1": "confident"})
    assert refused.status_code == 200
    assert "Choose how much of K2 you already know or can do" in error_summary(refused.get_data(as_text=True))
    assert client.post(f"{base}/ratings", data=_ratings_form()).status_code == 302

    signed_in_as(client, people["employer"])
    assert client.post(f"{base}/confirm", data={"confirm_all": "y"}).status_code == 302
    assert db.session.scalar(db.select(SkillsScan)).confirmed_at is not None

    signed_in_as(client, people["tutor"])
    page = client.post(
        f"{base}/prior-learning", data={"hours": "250", "months": "0", "subject-0": "K1", "reason-0": "A degree"}
    )
    assert page.status_code == 200
    assert "at least 187" in error_summary(page.get_data(as_text=True))
    form = {"hours": "60", "months": "1", "subject-0": "Collections", "reason-0": "Two years at the parish archive"}
    assert client.post(f"{base}/prior-learning", data=form).status_code == 302
    html = client.get(base).get_data(as_text=True)
    assert "Once agreed, the planned off-the-job hours go from 400 to 340" in html

    for role in ("tutor", "apprentice", "employer"):
        signed_in_as(client, people[role])
        html = client.get(base).get_data(as_text=True)
        assert client.post(f"{base}/versions/1/sign", data={"fingerprint": _fingerprint(html)}).status_code == 302
    html = client.get(base).get_data(as_text=True)
    assert "Agreeing it took the planned off-the-job hours from 400 to 340" in html
    assert db.session.get(type(enrolment), enrolment.id).prior_learning_otj_hours == 60
    card = client.get(f"/enrolments/{enrolment.id}").get_data(as_text=True)
    card = card[card.index('id="skills-scan-summary"') :]
    assert "Agreed" in card and "60 off-the-job hours and 1 month off the planned duration" in card
    assert "Helen Osei (for the employer)" in card


def test_a_stale_page_cannot_sign_what_changed_since(client, scan_people):
    people = scan_people
    ready_scan(people)
    base = f"/enrolments/{people['enrolment'].id}/skills-scan"
    signed_in_as(client, people["apprentice"])
    client.post(f"{base}/versions/1/sign", data={"fingerprint": "0" * 64})
    assert "changed since you opened it" in client.get(base).get_data(as_text=True)
    assert db.session.scalar(db.select(SkillsScan)).signatures == []


def test_earlier_versions_stay_viewable_and_the_page_takes_the_same_queries(client, scan_people):
    people = scan_people
    scan = ready_scan(people)
    base = f"/enrolments/{people['enrolment'].id}/skills-scan"
    signed_in_as(client, people["tutor"])

    def queries() -> int:
        with counting_queries() as count:
            assert client.get(base).status_code == 200
        return count()

    before = queries()
    html = client.get(base).get_data(as_text=True)
    client.post(f"{base}/versions/1/sign", data={"fingerprint": _fingerprint(html)})
    form = {"hours": "30", "months": "0", "subject-0": "K1", "reason-0": "The parish archive"}
    assert client.post(f"{base}/prior-learning", data=form).status_code == 302
    assert queries() == before
    old = client.get(f"{base}/versions/1").get_data(as_text=True)
    assert "A newer version" in old and "60 hours" in old and "Signed by Priya Natarajan" in old
    assert client.get(f"{base}/versions/3").status_code == 404
    assert scan.number == 1


ROUTES = [
    ("get", "", ()),
    ("get", "/versions/1", ()),
    ("get", "/ratings", ("apprentice",)),
    ("post", "/ratings", ("apprentice",)),
    ("get", "/confirm", ("employer",)),
    ("post", "/confirm", ("employer",)),
    ("get", "/prior-learning", ("tutor",)),
    ("post", "/prior-learning", ("tutor",)),
    ("post", "/versions/1/sign", ("apprentice", "employer", "tutor")),
]
RELATED = ("apprentice", "employer", "tutor", "admin")
UNRELATED = ("other_tutor", "other_employer", "other_apprentice", "assessor")


@pytest.mark.parametrize(("method", "path", "allowed"), ROUTES)
def test_every_route_is_404_to_the_unrelated_and_to_those_without_the_role(client, scan_people, method, path, allowed):
    people = scan_people
    ready_scan(people)
    url = f"/enrolments/{people['enrolment'].id}/skills-scan{path}"
    for name in UNRELATED + RELATED:
        signed_in_as(client, people[name])
        response = getattr(client, method)(url, data={})
        if name in UNRELATED or (allowed and name not in allowed):
            assert response.status_code == 404, (name, url)
        else:
            assert response.status_code in (200, 302), (name, url)
