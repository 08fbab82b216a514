"""Enrolments: the list, enrolling an apprentice, editing the terms, changing the status."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from portfolio.enrolments.domain import change_status
from portfolio.enrolments.standard_versions import store_standard
from portfolio.extensions import db
from portfolio.models import AgeBand, Enrolment, EnrolmentStatus, EnrolmentStatusChange, Role

from .conftest import database_state, text_of

FIXTURES = Path(__file__).parents[2] / "standard" / "fixtures"


@pytest.fixture
def newcomer(world, two_employers):
    """An apprentice at the museum who is not enrolled yet."""
    user = world.user(Role.APPRENTICE, two_employers["museum"], name="Nia Castellanos")
    db.session.commit()
    return user


@pytest.fixture
def archive_standard(app):
    """A second, small standard (ST9001): 280 off-the-job hours at least, no English and maths alternatives."""
    version, _ = store_standard(db.session, (FIXTURES / "minimal.yaml").read_text(encoding="utf-8"))
    db.session.commit()
    return version


def form_data(two_employers, apprentice=None, **change) -> dict:
    enrolment = two_employers["museum_enrolment"]
    data = {
        "apprentice": apprentice.id if apprentice else "",
        "standard_version": enrolment.standard_version_id,
        "provider": two_employers["provider"].id,
        "epao": two_employers["epao"].id,
        "tutor": two_employers["tutor"].id,
        "mentor": two_employers["museum_mentor"].id,
        "start_date": ["1", "9", "2025"],
        "planned_end_date": ["28", "2", "2027"],
        "planned_otj_hours": "400",
        "age_band": "16-18",
        "english_maths_route": "required",
        "english_maths_decided_on": ["15", "8", "2025"],
        "minimum_months_override": "",
    }
    return data | change


def enrolment_of(apprentice) -> Enrolment | None:
    db.session.expire_all()
    return db.session.scalar(select(Enrolment).where(Enrolment.apprentice_id == apprentice.id))


def test_list_with_search_and_status_filter(as_admin, two_employers):
    museum, theatre = two_employers["museum_enrolment"], two_employers["theatre_enrolment"]
    change_status(db.session, theatre, EnrolmentStatus.WITHDRAWN, None)
    db.session.commit()
    html = text_of(as_admin.get("/admin/enrolments"))
    assert "2 enrolments" in html and museum.apprentice.name in html and "Larkfield Playhouse" in html
    html = text_of(as_admin.get("/admin/enrolments?status=withdrawn"))
    assert "1 enrolment found" in html and theatre.apprentice.name in html and museum.apprentice.name not in html
    html = text_of(as_admin.get("/admin/enrolments", query_string={"q": museum.apprentice.email}))
    assert "1 enrolment found" in html and museum.apprentice.name in html
    assert "No enrolments match" in text_of(as_admin.get("/admin/enrolments?q=%25%25"))
    assert as_admin.get("/admin/enrolments?status=lost&page=x&per_page=-1").status_code == 200


def test_only_apprentices_without_an_open_enrolment_are_offered(as_admin, two_employers, newcomer, world):
    withdrawn = two_employers["theatre_enrolment"]
    change_status(db.session, withdrawn, EnrolmentStatus.WITHDRAWN, None)
    db.session.commit()
    html = text_of(as_admin.get("/admin/enrolments/new"))
    assert "Nia Castellanos" in html
    assert withdrawn.apprentice.name in html  # withdrawn: free to enrol again
    assert two_employers["museum_enrolment"].apprentice.name not in html


def test_enrol_an_apprentice(as_admin, two_employers, newcomer, admin):
    response = as_admin.post("/admin/enrolments/new", data=form_data(two_employers, newcomer))
    assert response.status_code == 302, text_of(response)
    enrolment = enrolment_of(newcomer)
    assert response.headers["Location"] == f"/admin/enrolments/{enrolment.id}"
    assert enrolment.employer_id == two_employers["museum"].id  # the apprentice's organisation
    assert enrolment.provider_id == two_employers["provider"].id and enrolment.epao_id == two_employers["epao"].id
    assert enrolment.tutor_id == two_employers["tutor"].id and enrolment.mentor_id == two_employers["museum_mentor"].id
    assert (enrolment.start_date, enrolment.planned_end_date) == (date(2025, 9, 1), date(2027, 2, 28))
    assert enrolment.planned_otj_hours == 400 and enrolment.age_band is AgeBand.AGED_16_TO_18
    assert enrolment.english_maths_decided_on == date(2025, 8, 15) and enrolment.minimum_months_override is None
    assert enrolment.status is EnrolmentStatus.ON_PROGRAMME
    [change] = enrolment.status_changes
    assert change.changed_by_id == admin.id and change.from_status is None
    html = text_of(as_admin.get(response.headers["Location"]))
    assert "Enrolment created: Nia Castellanos" in html and "Harbourside Museum" in html


def test_optional_terms_may_be_left_out(as_admin, two_employers, newcomer):
    data = form_data(two_employers, newcomer, epao="", tutor="", mentor="", minimum_months_override="14")
    data["english_maths_route"] = "ehc_plan"
    assert as_admin.post("/admin/enrolments/new", data=data).status_code == 302
    enrolment = enrolment_of(newcomer)
    assert (enrolment.epao, enrolment.tutor, enrolment.mentor) == (None, None, None)
    assert enrolment.minimum_months_override == 14 and enrolment.english_maths_route == "ehc_plan"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"apprentice": ""}, "Choose the apprentice"),
        ({"apprentice": "999999"}, "Choose the apprentice"),
        ({"standard_version": "abc"}, "Choose the standard"),
        ({"provider": "999999"}, "Choose the training provider"),
        ({"epao": "abc"}, "Choose an assessment organisation from the list"),
        ({"tutor": "-1"}, "Choose a tutor from the list"),
        ({"start_date": ["", "", ""]}, "Enter the start date"),
        ({"start_date": ["31", "2", "2025"]}, "Start date must be a real date"),
        ({"start_date": ["1", "9"]}, "Start date must include a year"),
        ({"start_date": ["", "9", "2025"]}, "Start date must include a day"),
        ({"start_date": ["1", "9", "25"]}, "Start date must be a real date"),
        ({"start_date": ["1", "9", "1066"]}, "Start date must be between 1900 and 2100"),
        ({"start_date": ["x" * 10_000, "9", "2025"]}, "Start date must be a real date"),
        ({"planned_end_date": ["1", "8", "2025"]}, "The planned end date must be after the start date"),
        ({"planned_otj_hours": ""}, "Enter the planned off-the-job training hours"),
        ({"planned_otj_hours": "lots"}, "Planned off-the-job training hours must be a whole number"),
        ({"planned_otj_hours": "-5"}, "Planned off-the-job training hours must be a whole number"),
        ({"planned_otj_hours": "9" * 10_000}, "Planned off-the-job training hours is too large"),
        ({"planned_otj_hours": "0"}, "Planned off-the-job hours must be between 1 and 5000"),
        ({"planned_otj_hours": "5001"}, "Planned off-the-job hours must be between 1 and 5000"),
        ({"age_band": "12"}, "Choose the apprentice's age at the start"),
        ({"english_maths_route": "telepathy"}, "Choose how English and maths will be met"),
        ({"english_maths_route": "not_required"}, "Apprentices aged 16 to 18 at the start must achieve English"),
        ({"english_maths_decided_on": ""}, "Enter the date the English and maths route was decided"),
        ({"minimum_months_override": "0"}, "The minimum time on programme must be between 1 and 60 months"),
        ({"minimum_months_override": "1.5"}, "The minimum months on programme must be a whole number"),
    ],
)
def test_enrolling_refuses_bad_input(as_admin, two_employers, newcomer, change, message):
    before = database_state()
    response = as_admin.post("/admin/enrolments/new", data=form_data(two_employers, newcomer) | change)
    assert response.status_code == 200
    html = text_of(response)
    assert message in html and "There is a problem" in html
    assert database_state() == before


def test_domain_errors_are_shown_on_their_field(as_admin, two_employers, newcomer):
    data = form_data(two_employers, newcomer, mentor=two_employers["theatre_mentor"].id)
    response = as_admin.post("/admin/enrolments/new", data=data)
    html = text_of(response)
    assert response.status_code == 200
    assert 'href="#mentor">The mentor must be an employer user at Harbourside Museum' in html
    assert 'id="mentor-error"' in html


def test_a_tutor_of_another_provider_is_refused(as_admin, two_employers, newcomer, world):
    other_tutor = world.user(Role.TUTOR, world.provider("Eastbrook College"))
    db.session.commit()
    response = as_admin.post("/admin/enrolments/new", data=form_data(two_employers, newcomer, tutor=other_tutor.id))
    assert response.status_code == 200
    assert "The tutor must be a tutor at Northgate Arts Training" in text_of(response)
    assert enrolment_of(newcomer) is None


def test_an_apprentice_with_an_open_enrolment_cannot_be_enrolled_again(as_admin, two_employers):
    apprentice = two_employers["museum_enrolment"].apprentice
    before = database_state()
    response = as_admin.post("/admin/enrolments/new", data=form_data(two_employers, apprentice))
    assert response.status_code == 200 and "Choose the apprentice" in text_of(response)
    assert database_state() == before


def test_the_standard_chosen_decides_which_routes_and_hours_are_allowed(
    as_admin, two_employers, newcomer, archive_standard
):
    html = text_of(as_admin.get("/admin/enrolments/new"))
    assert "ST9001 Community archive assistant, version 1.1" in html
    assert 'value="ehc_plan"' in html  # offered: ST0396 has it
    data = form_data(two_employers, newcomer, standard_version=archive_standard.id, english_maths_route="ehc_plan")
    response = as_admin.post("/admin/enrolments/new", data=data)
    assert response.status_code == 200 and "Choose how English and maths will be met" in text_of(response)
    data = form_data(two_employers, newcomer, standard_version=archive_standard.id, planned_otj_hours="200")
    response = as_admin.post("/admin/enrolments/new", data=data)
    assert (
        "Planned off-the-job hours must be at least 280: 280 hours published for the standard version (the funding "
        "rules for starts from 1 August 2025)" in text_of(response)
    )
    assert enrolment_of(newcomer) is None


def test_the_enrolment_page(as_admin, two_employers):
    enrolment = two_employers["museum_enrolment"]
    html = as_admin.get(f"/admin/enrolments/{enrolment.id}").get_data(as_text=True)
    assert (
        f'<a class="govuk-link" href="/admin/users/{enrolment.apprentice_id}">{enrolment.apprentice.name}</a>' in html
    )
    assert f'<a class="govuk-link" href="/admin/standards/{enrolment.standard_version_id}">ST0396' in html
    assert "Crescent Assessment" in html
    assert "Status history" in html and "Enrolled" in html
    assert '<option value="break_in_learning">' not in html and "Start the break" in html  # with its dates
    assert '<option value="at_gateway">' not in html  # only the gateway's submission moves it there
    assert '<option value="completed">' not in html  # not allowed from on programme
    assert as_admin.get("/admin/enrolments/999999").status_code == 404


def test_edit_the_terms(as_admin, two_employers):
    enrolment = two_employers["theatre_enrolment"]
    html = text_of(as_admin.get(f"/admin/enrolments/{enrolment.id}/edit"))
    assert 'name="start_date" type="text" value="01"' in html and 'value="375"' in html
    assert "Choose the apprentice" not in html
    data = form_data(two_employers, mentor=two_employers["theatre_mentor"].id, planned_otj_hours="450")
    data["apprentice"] = two_employers["museum_enrolment"].apprentice.id  # ignored: not part of the terms
    response = as_admin.post(f"/admin/enrolments/{enrolment.id}/edit", data=data)
    assert response.status_code == 302
    db.session.expire_all()
    enrolment = db.session.get(Enrolment, enrolment.id)
    assert enrolment.planned_otj_hours == 450 and enrolment.epao_id == two_employers["epao"].id
    assert enrolment.apprentice_id != two_employers["museum_enrolment"].apprentice_id
    assert "Enrolment updated" in text_of(as_admin.get(response.headers["Location"]))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"planned_otj_hours": "x" * 10_000}, "must be a whole number"),
        ({"provider": ""}, "Choose the training provider"),
        ({"planned_end_date": ["1", "1", "2020"]}, "The planned end date must be after the start date"),
        ({"mentor": "museum"}, "Choose a mentor from the list"),
    ],
)
def test_editing_refuses_bad_input(as_admin, two_employers, change, message):
    enrolment = two_employers["theatre_enrolment"]
    data = form_data(two_employers, mentor=two_employers["theatre_mentor"].id) | change
    response = as_admin.post(f"/admin/enrolments/{enrolment.id}/edit", data=data)
    assert response.status_code == 200 and message in text_of(response)
    db.session.expire_all()
    unchanged = db.session.get(Enrolment, enrolment.id)
    assert unchanged.planned_otj_hours == 375 and unchanged.mentor_id == two_employers["theatre_mentor"].id


def test_the_mentor_offered_when_editing_works_at_the_apprentices_employer(as_admin, two_employers):
    enrolment = two_employers["theatre_enrolment"]
    html = text_of(as_admin.get(f"/admin/enrolments/{enrolment.id}/edit"))
    assert two_employers["theatre_mentor"].name in html
    assert two_employers["museum_mentor"].name not in html
    data = form_data(two_employers, mentor=two_employers["museum_mentor"].id)
    response = as_admin.post(f"/admin/enrolments/{enrolment.id}/edit", data=data)
    assert response.status_code == 200 and "Choose a mentor from the list" in text_of(response)


def test_change_the_status_with_a_note(as_admin, two_employers, admin):
    enrolment = two_employers["museum_enrolment"]
    response = as_admin.post(
        f"/admin/enrolments/{enrolment.id}/status", data={"status": "withdrawn", "note": "Left the museum"}
    )
    assert response.status_code == 302
    html = text_of(as_admin.get(response.headers["Location"]))
    assert "Status changed to withdrawn" in html and "Left the museum" in html
    db.session.expire_all()
    enrolment = db.session.get(Enrolment, enrolment.id)
    assert enrolment.status is EnrolmentStatus.WITHDRAWN
    last = enrolment.status_changes[-1]
    assert (last.from_status, last.to_status, last.changed_by_id, last.note) == (
        EnrolmentStatus.ON_PROGRAMME,
        EnrolmentStatus.WITHDRAWN,
        admin.id,
        "Left the museum",
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose the new status"),
        ({"status": "completed"}, "Choose the new status"),  # not allowed from on programme
        ({"status": "on_programme"}, "Choose the new status"),
        ({"status": "at_gateway"}, "Choose the new status"),  # only the gateway's submission moves it there
        ({"status": "break_in_learning"}, "Choose the new status"),  # a break has its own form, with dates
        ({"status": "retired"}, "Choose the new status"),
        ({"status": "withdrawn", "note": "n" * 10_000}, "The note must be 2,000 characters or fewer"),
    ],
)
def test_changing_the_status_refuses_bad_input(as_admin, two_employers, data, message):
    enrolment = two_employers["museum_enrolment"]
    before = database_state()
    response = as_admin.post(f"/admin/enrolments/{enrolment.id}/status", data=data)
    assert response.status_code == 200 and message in text_of(response)
    assert database_state() == before
    db.session.expire_all()
    assert db.session.get(Enrolment, enrolment.id).status is EnrolmentStatus.ON_PROGRAMME


def test_a_finished_enrolment_cannot_change_status(as_admin, two_employers):
    enrolment = two_employers["museum_enrolment"]
    change_status(db.session, enrolment, EnrolmentStatus.WITHDRAWN, None)
    db.session.commit()
    html = text_of(as_admin.get(f"/admin/enrolments/{enrolment.id}"))
    assert "its status cannot change any more" in html and "Change status" not in html
    response = as_admin.post(f"/admin/enrolments/{enrolment.id}/status", data={"status": "on_programme"})
    assert response.status_code == 200 and "Choose the new status" in text_of(response)
    count = db.session.scalar(
        select(db.func.count())
        .select_from(EnrolmentStatusChange)
        .where(EnrolmentStatusChange.enrolment_id == enrolment.id)
    )
    assert count == 2
    assert as_admin.post("/admin/enrolments/999999/status", data={"status": "withdrawn"}).status_code == 404


def test_the_admin_form_refuses_a_plan_below_the_rules_and_accepts_one_that_meets_them(
    as_admin, two_employers, newcomer
):
    apprentice, client = newcomer, as_admin
    data = form_data(two_employers, apprentice, planned_otj_hours="10", planned_end_date=["15", "5", "2026"])
    page = text_of(client.post("/admin/enrolments/new", data=data))
    assert "Planned off-the-job hours must be at least 187: the standard version publishes no minimum" in page
    assert enrolment_of(apprentice) is None
    data |= {"planned_otj_hours": "187", "contracted_weekly_hours": "37.5", "prior_learning_otj_hours": "12"}
    assert client.post("/admin/enrolments/new", data=data).status_code == 302
    enrolment = enrolment_of(apprentice)
    assert (enrolment.planned_otj_hours, enrolment.contracted_weekly_hours, enrolment.prior_learning_otj_hours) == (
        187, Decimal("37.5"), 12
    )  # fmt: skip
    for hours in ("37.55", "lots", "-3", "0"):
        bad = client.post(f"/admin/enrolments/{enrolment.id}/edit", data=data | {"contracted_weekly_hours": hours})
        assert bad.status_code == 200 and "hours a week" in text_of(bad).lower()
