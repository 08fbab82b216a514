"""The result pages through the test client: the assessor's form, the result on the enrolment and
gateway pages for everyone who sees the apprenticeship, the to-do list, bad input, and access
(404 for whoever may not record)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portfolio.assessment.domain import record_result
from portfolio.enrolments.domain import change_status
from portfolio.enrolments.standard_versions import store_standard
from portfolio.extensions import db
from portfolio.models import AssessmentAttempt, AttemptKind, EnrolmentStatus, Role
from standard import shipped_path

from ..conftest import counting_queries, sign_in
from ..gateway_world import TODAY, ready_enrolment
from .assessment_world import ASSESSED_ON, assessed, graded, into_assessment

__all__ = ["assessed"]

DAY = {"day": str(ASSESSED_ON.day), "month": str(ASSESSED_ON.month), "year": str(ASSESSED_ON.year)}


def form(grade_1="Pass", grade_2="Pass", overall="Pass", attempt="1", **more) -> dict:
    data = {"attempt": attempt, "grade": overall, "note": "Well prepared."}
    for code, grade in (("method_1", grade_1), ("method_2", grade_2)):
        data[f"grade_{code}"] = grade
        data |= {f"date_{code}": [DAY["day"], DAY["month"], DAY["year"]]}
    return data | more


def _as(client, user):
    client.post("/sign-out")
    assert sign_in(client, user).status_code == 302
    return client


def _text(response) -> str:
    html = response.get_data(as_text=True)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split()).replace("&#39;", "'").replace("&#34;", '"')


def _url(gateway) -> str:
    return f"/enrolments/{gateway.enrolment.id}/assessment/result"


def _attempts() -> int:
    return db.session.scalar(select(func.count(AssessmentAttempt.id))) or 0


def test_the_assessor_records_a_pass_and_everyone_sees_it(client, assessed):
    _as(client, assessed.assessor)
    page = _text(client.get(_url(assessed)))
    assert "Record the result of attempt 1" in page
    assert "Assessment method 1 (to be completed from ST0396/AP01)" in page and "Distinction" in page
    assert "To be completed:" in page  # ST0396's plan is not confirmed, and the form says so
    assert "resit or a retake?" not in page  # a first attempt
    response = client.post(_url(assessed), data=form("Pass", "Distinction", "Distinction"))
    assert response.status_code == 302 and response.headers["Location"].endswith("/gateway#assessment-result")
    shown = _text(client.get(response.headers["Location"]))
    assert "Attempt 1 recorded: Distinction." in shown and "has completed the apprenticeship" in shown
    assert assessed.enrolment.status is EnrolmentStatus.COMPLETED
    for user in (assessed.apprentice, assessed.mentor, assessed.tutor, assessed.assessor):
        _as(client, user)
        for url in (f"/enrolments/{assessed.enrolment.id}", f"/enrolments/{assessed.enrolment.id}/gateway"):
            page = _text(client.get(url))
            assert "Apprenticeship assessment result" in page, (user.role, url)
            assert "passed the apprenticeship assessment with distinction at attempt 1" in page
            assert f"recorded by {assessed.assessor.name} of {assessed.enrolment.epao.name}" in page
            assert "Record the result" not in page
        assert client.get(_url(assessed)).status_code == 404 or user is assessed.assessor


def test_a_completed_apprenticeship_takes_no_further_result(client, assessed):
    _as(client, assessed.assessor).post(_url(assessed), data=form())
    response = client.get(_url(assessed))
    assert response.status_code == 302
    assert "it is completed, not in assessment" in _text(client.get(response.headers["Location"]))
    assert _text(client.post(_url(assessed), data=form(attempt="2"), follow_redirects=True)).count("Attempt 1") >= 1
    assert _attempts() == 1


def test_a_fail_then_a_resit_with_a_method_carried_over(client, assessed):
    _as(client, assessed.assessor).post(_url(assessed), data=form("Pass", "Fail", "Fail"))
    assert assessed.enrolment.status is EnrolmentStatus.IN_EPA
    gateway_page = _text(client.get(f"/enrolments/{assessed.enrolment.id}/gateway"))
    assert "Attempt 1 was not passed" in gateway_page and "Record the result of attempt 2" in gateway_page
    page = _text(client.get(_url(assessed)))
    assert "Is this attempt a resit or a retake?" in page and "Not reassessed: keep the pass of attempt 1" in page
    # Without the kind, and carrying over the failed method: both refused, with messages.
    refused = _text(client.post(_url(assessed), data=form("carried", "carried", attempt="2")))
    assert "Choose whether this attempt is a resit or a retake" in refused
    assert "Choose the grade for “Assessment method 2 (to be completed from ST0396/AP01)”" in refused
    response = client.post(_url(assessed), data=form("carried", "Pass", attempt="2", kind="retake"))
    assert response.status_code == 302
    attempt = db.session.scalars(select(AssessmentAttempt).where(AssessmentAttempt.number == 2)).one()
    assert attempt.kind is AttemptKind.RETAKE and attempt.methods[0].carried_over
    assert "carried over from attempt 1" in _text(client.get(f"/enrolments/{assessed.enrolment.id}"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (form(grade_1=""), "Choose the grade for “Assessment method 1 (to be completed from ST0396/AP01)”"),
        (form(grade_1="Merit"), "Choose the grade for “Assessment method 1 (to be completed from ST0396/AP01)”"),
        (form(overall="<script>"), "Choose the overall grade"),
        (
            form(date_method_2=["", "", ""]),
            "Enter the date “Assessment method 2 (to be completed from ST0396/AP01)” was assessed",
        ),
        (form(date_method_2=["31", "2", "2026"]), "must be a real date"),
        (form("Pass", "Fail", "Pass"), "An overall pass needs a pass in every method"),
        (form(note="x" * 2001), "The note must be 2,000 characters or fewer"),
    ],
)
def test_bad_input_is_shown_on_the_form_and_changes_nothing(client, assessed, data, message):
    response = _as(client, assessed.assessor).post(_url(assessed), data=data)
    assert response.status_code == 200
    assert message in _text(response)
    assert _attempts() == 0 and assessed.enrolment.status is EnrolmentStatus.IN_EPA


def test_a_form_for_an_attempt_recorded_meanwhile_is_refused_with_a_message(client, world, assessed):
    colleague = world.user(Role.ASSESSOR, assessed.enrolment.epao, name="Priya Nair")
    record_result(db.session, assessed.enrolment, by=colleague, attempt=1, kind=AttemptKind.FIRST,
                  methods=graded("Pass", "Fail"), grade="Fail", today=TODAY)  # fmt: skip
    db.session.commit()
    response = _as(client, assessed.assessor).post(_url(assessed), data=form())
    assert response.status_code == 302
    page = _text(client.get(response.headers["Location"]))
    assert "Attempt 1 has already been recorded, by Priya Nair" in page and "Nothing was changed" in page
    assert _attempts() == 1
    for attempt in ("", "abc", "-1"):  # a hidden field tampered with: refused, never a 500
        assert _as(client, assessed.assessor).post(
            _url(assessed), data=form(attempt=attempt, kind="resit")
        ).status_code in (200, 302)
    assert _attempts() == 1


def test_nobody_else_reaches_the_form(client, world, assessed):
    """404 for the parties (who may see the result but not record it), an administrator, and
    everyone unrelated: another assessment organisation's assessor, another provider's tutor,
    another employer, another apprentice."""
    other = ready_enrolment(world)
    outsiders = [
        assessed.apprentice, assessed.mentor, assessed.tutor, world.user(Role.ADMIN, assessed.enrolment.provider),
        world.user(Role.ASSESSOR, world.epao()), other.tutor, other.mentor, other.apprentice, other.assessor,
    ]  # fmt: skip
    db.session.commit()
    for user in outsiders:
        _as(client, user)
        assert client.get(_url(assessed)).status_code == 404, user.role
        assert client.post(_url(assessed), data=form()).status_code == 404, user.role
    assert _attempts() == 0
    # The unrelated do not see the result either: the enrolment and its gateway page are 404 to them.
    for user in outsiders[4:]:
        _as(client, user)
        assert client.get(f"/enrolments/{assessed.enrolment.id}").status_code == 404


def test_an_assessor_before_the_gateway_is_passed_gets_404(client, world):
    gateway = ready_enrolment(world)
    db.session.commit()
    _as(client, gateway.assessor)
    assert client.get(_url(gateway)).status_code == 404
    assert client.post(_url(gateway), data=form()).status_code == 404


def test_the_assessors_to_do_list_shows_who_waits_for_a_result(client, assessed):
    home = _as(client, assessed.assessor).get("/").get_data(as_text=True)
    assert "1 apprentice in assessment, waiting for a result:" in home
    assert f'href="/enrolments/{assessed.enrolment.id}/assessment/result">1 result to record</a>' in home
    client.post(_url(assessed), data=form())
    assert "waiting for a result" not in _as(client, assessed.assessor).get("/").get_data(as_text=True)


def test_a_standard_without_an_assessment_plan_says_so(client, world):
    text = shipped_path("ST0396").read_text(encoding="utf-8").split("\n# The assessment plan's methods")[0] + "\n"
    version, _ = store_standard(db.session, text.replace('version: "1.0"', 'version: "0.9"'))
    gateway = into_assessment(world)
    gateway.enrolment.standard_version = version
    db.session.commit()
    _as(client, gateway.assessor)
    page = _text(client.get(f"/enrolments/{gateway.enrolment.id}/gateway"))
    assert "ST0396 version 0.9 holds no assessment plan yet, so no result can be recorded here" in page
    response = client.get(_url(gateway))
    assert response.status_code == 302
    assert "its standard holds no assessment plan yet" in _text(client.get(response.headers["Location"]))


def test_a_withdrawn_apprenticeship_takes_no_result(client, assessed):
    change_status(db.session, assessed.enrolment, EnrolmentStatus.WITHDRAWN, None)
    db.session.commit()
    _as(client, assessed.assessor)
    assert client.post(_url(assessed), data=form()).status_code in (302, 404)
    assert _attempts() == 0


def test_the_pages_take_a_fixed_number_of_queries(client, assessed):
    enrolment = assessed.enrolment
    record_result(db.session, enrolment, by=assessed.assessor, attempt=1, kind=AttemptKind.FIRST,
                  methods=graded("Fail", "Fail"), grade="Fail", today=TODAY)  # fmt: skip
    db.session.commit()
    urls = [f"/enrolments/{enrolment.id}", f"/enrolments/{enrolment.id}/gateway", _url(assessed)]
    _as(client, assessed.assessor)
    with counting_queries() as few:
        for url in urls:
            assert client.get(url).status_code == 200
    for number in (2, 3):
        record_result(db.session, enrolment, by=assessed.assessor, attempt=number, kind=AttemptKind.RESIT,
                      methods=graded("Pass", "Fail"), grade="Fail", today=TODAY)  # fmt: skip
    db.session.commit()
    with counting_queries() as more:
        for url in urls:
            assert client.get(url).status_code == 200
    assert few() == more()
