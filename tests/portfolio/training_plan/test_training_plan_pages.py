"""The training plan's pages: the tutor writes it and the three sign through the pages, the PDF
of a version, the enrolment page's card, the OTJ page's planned against actual hours, the query
counts, and access for every route (404 for anyone unrelated or without the role)."""

from __future__ import annotations

import io
import json
import re
from datetime import date

import pypdf
import pytest
import sqlalchemy as sa

from portfolio.core import clock
from portfolio.extensions import db
from portfolio.models import OtjActivity, OtjEntry, OtjStatus, ReviewInterval, TrainingPlan
from portfolio.training_plan import agreements
from portfolio.training_plan.plan import TRAINING_PLAN, set_english_maths_plan, sign_plan
from standard import Signer

from ..conftest import counting_queries
from ..progress_world import day_fields, error_summary, signed_in_as
from .conftest import ACTIVITIES, planned


def _fingerprint(html: str) -> str:
    return re.search(r'name="fingerprint" value="([0-9a-f]{64})"', html).group(1)


def _activity(description="Object handling workshops", starts=date(2025, 10, 1), ends=date(2025, 11, 30), hours="61",
              criteria=("K1", "S1")) -> dict:  # fmt: skip
    return {"description": description, "starts_on": day_fields(starts), "ends_on": day_fields(ends),
            "hours": hours, "criteria": list(criteria)}  # fmt: skip


def _form(data: dict) -> dict:
    return data  # the date fields are lists of day, month and year, as the three boxes post them


def test_the_tutor_writes_the_plan_and_the_three_sign_it_through_the_pages(client, plan_people):
    people = plan_people
    enrolment = people["enrolment"]
    base = f"/enrolments/{enrolment.id}/training-plan"
    signed_in_as(client, people["tutor"])
    page = client.get(base).get_data(as_text=True)
    assert "No activities planned yet" in page and "No skills scan agreed yet" in page
    refused = client.post(f"{base}/activities/new", data=_form(_activity(hours="lots")))
    assert refused.status_code == 200
    assert "Enter the hours as a number, like 7.5" in error_summary(refused.get_data(as_text=True))
    refused = client.post(f"{base}/activities/new", data=_form(_activity(ends=date(2026, 10, 1))))
    assert "on or before the planned end, 28 September 2026" in error_summary(refused.get_data(as_text=True))
    assert client.post(f"{base}/activities/new", data=_form(_activity())).status_code == 302
    second = _activity("Collections care study block", date(2025, 12, 1), date(2026, 5, 31), "182", ["K2"])
    assert client.post(f"{base}/activities/new", data=_form(second)).status_code == 302
    form = {"english_maths_plan": "Functional skills English at level 2 by March 2026"}
    assert client.post(f"{base}/english-and-maths", data=form).status_code == 302
    page = client.get(base).get_data(as_text=True)
    assert "Planned activities: 243 hours, against 400 planned off-the-job hours" in page
    assert "157 hours fewer than" in page and "Harbour Assessment Services" in page
    assert "Every 3 calendar months" in page and "1 December 2025, 1 March 2026" in page

    for role in ("tutor", "apprentice", "employer"):
        signed_in_as(client, people[role])
        html = client.get(base).get_data(as_text=True)
        assert client.post(f"{base}/versions/1/sign", data={"fingerprint": _fingerprint(html)}).status_code == 302
    page = client.get(base).get_data(as_text=True)
    assert "Agreed" in page and "Signed by Helen Osei" in page
    card = client.get(f"/enrolments/{enrolment.id}").get_data(as_text=True)
    card = card[card.index('id="training-plan-summary"') :]
    assert (
        "Agreed" in card
        and "Helen Osei (for the employer)" in card
        and "Priya Natarajan (for the training provider)" in card
    )

    # A change after signing: a new version, the old one viewable.
    signed_in_as(client, people["tutor"])
    plan = db.session.scalar(db.select(TrainingPlan))
    activity_id = plan.activities[0].id
    changed = _activity(hours="70")
    assert client.get(f"{base}/activities/{activity_id}/edit").status_code == 200
    assert client.post(f"{base}/activities/{activity_id}/edit", data=_form(changed)).status_code == 302
    page = client.get(base).get_data(as_text=True)
    assert "Training plan: version 2" in page and "70 hours" in page and "Awaiting signatures" in page
    old = client.get(f"{base}/versions/1").get_data(as_text=True)
    assert "A newer version" in old and "61 hours" in old and "Signed by Priya Natarajan" in old
    # Version 1 was agreed: the enrolment's parts are shown as signed; version 2 shows them as now.
    assert 'id="as-signed"' in old and "as signed on" in old and 'id="record-now"' not in old
    assert 'id="as-signed"' not in page and 'id="record-now"' not in page
    assert old.count("The fingerprint matches what was signed") == 3
    assert client.get(f"{base}/versions/1/pdf").status_code == 200
    assert client.get(f"{base}/versions/3").status_code == 404
    # The replaced version's activities are not the current plan's to change.
    assert client.get(f"{base}/activities/{activity_id}/edit").status_code == 404


def test_an_agreed_plan_shows_what_was_signed_after_the_enrolment_changes(client, world, scan_people, monkeypatch):
    people = scan_people  # no assessment organisation yet, and months before the rules want one
    monkeypatch.setattr(clock, "today", lambda: date(2025, 9, 15))
    enrolment = people["enrolment"]
    plan = planned(people)
    for role in ("apprentice", "employer", "tutor"):
        sign_plan(db.session, plan, by=people[role], seen=agreements.content_fingerprint(TRAINING_PLAN, plan))
    db.session.commit()
    assert plan.agreed_at is not None
    # Then the record changes: the assessment organisation is set, the planned end and hours move,
    # and the reviews fall due every 12 weeks.
    enrolment.epao = world.epao("Coastal Assessment Partnership")
    enrolment.planned_end_date, enrolment.planned_otj_hours = date(2026, 11, 30), 450
    enrolment.review_interval = ReviewInterval.TWELVE_WEEKS
    db.session.commit()

    base = f"/enrolments/{enrolment.id}/training-plan"
    signed_in_as(client, people["employer"])
    for page in (client.get(base).get_data(as_text=True), client.get(f"{base}/versions/1").get_data(as_text=True)):
        assert 'id="as-signed"' in page and "shown as signed on" in page
        assert "None was recorded when the plan was signed" in page and "Coastal Assessment Partnership" not in page
        assert 'id="epao-missing"' not in page
        assert "against 400 planned off-the-job hours" in page and "157 hours fewer than" in page
        assert "Every 3 calendar months" in page and "Every 12 weeks" not in page
        assert "Next due now" in page
        assert page.count("The fingerprint matches what was signed") == 3
    text = _pdf_text(client.get(f"{base}/versions/1/pdf").data)
    assert "shown as signed on" in text
    assert "1 September 2025 to 28 September 2026" in text and "30 November 2026" not in text
    assert "400 hours; the activities below add up to 243 hours" in text
    assert "Coastal Assessment Partnership" not in text and "Every 3 calendar months" in text
    assert text.count("Fingerprint matches what was signed") == 3

    # A version not yet agreed shows the record as it is now.
    set_english_maths_plan(db.session, enrolment, by=people["tutor"], text="Functional skills maths at level 2")
    db.session.commit()
    page = client.get(base).get_data(as_text=True)
    assert "Training plan: version 2" in page and 'id="as-signed"' not in page
    assert "Coastal Assessment Partnership" in page and "against 450 planned off-the-job hours" in page
    assert "Every 12 weeks" in page


def test_a_changed_record_of_what_was_signed_shows_as_a_mismatch(client, plan_people):
    people = plan_people
    plan = planned(people)
    for role in ("apprentice", "employer", "tutor"):
        sign_plan(db.session, plan, by=people[role], seen=agreements.content_fingerprint(TRAINING_PLAN, plan))
    db.session.commit()
    employers = next(s for s in plan.signatures if s.signer is Signer.EMPLOYER)
    content = json.loads(employers.content)
    content["planned_otj_hours"] = 300
    db.session.execute(
        sa.text("UPDATE agreement_signatures SET content = :content WHERE id = :id"),
        {"content": json.dumps(content), "id": employers.id},
    )
    db.session.commit()
    db.session.expire_all()
    base = f"/enrolments/{people['enrolment'].id}/training-plan"
    signed_in_as(client, people["tutor"])
    page = client.get(base).get_data(as_text=True)
    assert page.count("The fingerprint matches what was signed") == 2
    mismatch = page[page.index('id="check-employer"') :]
    assert "The fingerprint does not match the content stored with this signature" in mismatch[:600]
    # The page shows what the signatures that still match were given.
    assert "against 400 planned off-the-job hours" in page
    text = _pdf_text(client.get(f"{base}/pdf").data)
    assert "Fingerprint does not match the content stored with the signature" in text


def test_without_an_assessment_organisation_the_page_flags_it_and_the_signature_is_refused(client, scan_people):
    people = scan_people  # no assessment organisation; the planned end, 28 September 2026, is past
    planned(people)
    base = f"/enrolments/{people['enrolment'].id}/training-plan"
    signed_in_as(client, people["apprentice"])
    page = client.get(base).get_data(as_text=True)
    assert 'id="epao-missing"' in page and "The plan cannot be signed without it" in page
    assert "no later than 6 months before the planned end" in page
    assert 'name="fingerprint"' not in page  # no button to sign
    fingerprint = "0" * 64
    client.post(f"{base}/versions/1/sign", data={"fingerprint": fingerprint})
    assert "Record the assessment organisation (EPAO) before signing" in client.get(base).get_data(as_text=True)
    assert db.session.scalar(db.select(TrainingPlan)).signatures == []


def _pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def test_the_pdf_of_a_version_holds_its_activities_and_signatures(client, plan_people):
    people = plan_people
    plan = planned(people)
    base = f"/enrolments/{people['enrolment'].id}/training-plan"
    for role in ("tutor", "employer"):
        signed_in_as(client, people[role])
        client.post(
            f"{base}/versions/1/sign", data={"fingerprint": _fingerprint(client.get(base).get_data(as_text=True))}
        )
    response = client.get(f"{base}/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = _pdf_text(response.data)
    assert "Training plan, version 1" in text
    assert "Object handling and documentation workshops" in text and "Collections care study block" in text
    assert "Harbour Assessment Services" in text and "Functional skills English at level 2" in text
    assert "Priya Natarajan" in text and "Helen Osei" in text and "Not signed" in text
    assert plan.signatures[0].fingerprint in text.replace(" ", "")
    assert client.get(f"{base}/versions/1/pdf").status_code == 200
    assert client.get(f"{base}/versions/2/pdf").status_code == 404


def test_a_character_the_pdf_cannot_show_is_named_not_dropped(client, plan_people):
    planned(plan_people, english_maths="Maths, and the kanji 漢")
    base = f"/enrolments/{plan_people['enrolment'].id}/training-plan"
    signed_in_as(client, plan_people["tutor"])
    response = client.get(f"{base}/pdf")
    assert response.status_code == 302
    assert "U+6F22" in client.get(base).get_data(as_text=True)


def test_the_plan_page_takes_the_same_queries_however_big_the_plan(client, plan_people):
    people = plan_people
    base = f"/enrolments/{people['enrolment'].id}/training-plan"
    planned(people, activities=ACTIVITIES[:1])
    signed_in_as(client, people["tutor"])

    def queries() -> int:
        with counting_queries() as count:
            assert client.get(base).status_code == 200
        return count()

    before = queries()
    planned(people, activities=ACTIVITIES * 5)
    html = client.get(base).get_data(as_text=True)
    client.post(f"{base}/versions/1/sign", data={"fingerprint": _fingerprint(html)})
    planned(people, activities=ACTIVITIES)  # version 2
    assert queries() == before


def test_the_otj_page_shows_the_agreed_plans_hours_to_date_against_those_logged(client, plan_people):
    people = plan_people
    enrolment = people["enrolment"]
    url = f"/enrolments/{enrolment.id}/otj"
    signed_in_as(client, people["tutor"])
    assert 'No <a class="govuk-link"' in client.get(url).get_data(as_text=True)
    plan = planned(people)
    assert "has been agreed yet" in client.get(url).get_data(as_text=True)  # written, not agreed
    for role in ("apprentice", "employer", "tutor"):
        sign_plan(db.session, plan, by=people[role], seen=agreements.content_fingerprint(TRAINING_PLAN, plan))
    for hours, status in (("10", OtjStatus.APPROVED), ("4.5", OtjStatus.LOGGED)):
        db.session.add(OtjEntry(enrolment_id=enrolment.id, activity_date=date(2025, 10, 2), hours=hours,
                                activity=OtjActivity.WORKSHOP, learning="Handling", status=status,
                                created_by_id=people["apprentice"].id))  # fmt: skip
    db.session.commit()
    # Both activities have ended by today (after 31 May 2026): all 61 + 182 = 243 hours planned.
    assert clock.today() > date(2026, 5, 31)
    page = client.get(url).get_data(as_text=True)
    block = page[page.index('id="otj-against-plan"') :]
    assert "243 hours" in block and "14.5 hours" in block and "10 hours" in block and "(version 1)" in block


ROUTES = [
    ("get", "", ()),
    ("get", "/versions/1", ()),
    ("get", "/pdf", ()),
    ("get", "/versions/1/pdf", ()),
    ("get", "/activities/new", ("tutor",)),
    ("post", "/activities/new", ("tutor",)),
    ("get", "/activities/{activity}/edit", ("tutor",)),
    ("post", "/activities/{activity}/edit", ("tutor",)),
    ("get", "/activities/{activity}/remove", ("tutor",)),
    ("post", "/activities/{activity}/remove", ("tutor",)),
    ("get", "/english-and-maths", ("tutor",)),
    ("post", "/english-and-maths", ("tutor",)),
    ("post", "/versions/1/sign", ("apprentice", "employer", "tutor")),
]
RELATED = ("apprentice", "employer", "tutor", "admin")
UNRELATED = ("other_tutor", "other_employer", "other_apprentice", "assessor")


@pytest.mark.parametrize(("method", "path", "allowed"), ROUTES)
def test_every_route_is_404_to_the_unrelated_and_to_those_without_the_role(client, plan_people, method, path, allowed):
    people = plan_people
    plan = planned(people)
    url = f"/enrolments/{people['enrolment'].id}/training-plan{path.format(activity=plan.activities[0].id)}"
    for name in UNRELATED + RELATED:
        signed_in_as(client, people[name])
        response = getattr(client, method)(url, data={})
        if name in UNRELATED or (allowed and name not in allowed):
            assert response.status_code == 404, (name, url)
        else:
            assert response.status_code in (200, 302), (name, url)
