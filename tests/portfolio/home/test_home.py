"""Home pages per role, and the enrolment overview."""

from portfolio.extensions import db
from portfolio.models import Role

from ..conftest import sign_in


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")


def test_apprentice_sees_their_apprenticeship_and_an_empty_criteria_tree(client, two_employers):
    apprentice = two_employers["museum_enrolment"].apprentice
    sign_in(client, apprentice)
    html = client.get("/").get_data(as_text=True)
    assert "My apprenticeship" in html
    assert "ST0396 Cultural learning and participation officer, version 1.0" in html
    assert "Harbourside Museum" in html and "Northgate Arts Training" in html
    assert "Of 49 criteria, 0 have submitted evidence" in html
    assert html.count("app-criterion--bare") == 49
    assert 'id="criterion-S18"' in html


def test_employer_sees_only_their_organisations_apprentices(client, two_employers):
    sign_in(client, two_employers["museum_mentor"])
    html = client.get("/").get_data(as_text=True)
    assert two_employers["museum_enrolment"].apprentice.name in html
    assert two_employers["theatre_enrolment"].apprentice.name not in html


def test_tutor_sees_the_providers_cohort_with_search(client, two_employers, world):
    sign_in(client, two_employers["tutor"])
    html = client.get("/").get_data(as_text=True)
    assert "2 apprentices" in html
    museum_name = two_employers["museum_enrolment"].apprentice.name
    html = client.get("/", query_string={"q": museum_name}).get_data(as_text=True)
    assert "1 apprentice found" in html and museum_name in html
    html = client.get("/", query_string={"q": "%"}).get_data(as_text=True)
    assert "No apprentices match your search" in html


def test_assessor_sees_only_enrolments_submitted_to_their_epao(client, two_employers, world):
    from portfolio.enrolments.domain import change_status
    from portfolio.models import EnrolmentStatus

    assessor = world.user(Role.ASSESSOR, two_employers["epao"])
    db.session.commit()
    sign_in(client, assessor)
    html = client.get("/").get_data(as_text=True)
    assert "No apprentices have been submitted" in html
    museum = two_employers["museum_enrolment"]
    assert client.get(f"/enrolments/{museum.id}").status_code == 404
    change_status(db.session, museum, EnrolmentStatus.AT_GATEWAY, None)
    db.session.commit()
    assert museum.apprentice.name in client.get("/").get_data(as_text=True)
    assert client.get(f"/enrolments/{museum.id}").status_code == 200


def test_pagination(client, world):
    provider = world.provider()
    tutor = world.user(Role.TUTOR, provider)
    employer = world.employer()
    for _ in range(30):
        world.enrolment(employer=employer, provider=provider, tutor=tutor)
    sign_in(client, tutor)
    first = client.get("/").get_data(as_text=True)
    assert "30 apprentices" in first and 'rel="next"' in first
    second = client.get("/?page=2").get_data(as_text=True)
    assert second.count('<tr class="govuk-table__row">') == 1 + 5
    assert client.get("/?page=99").status_code == 200
    assert client.get("/?page=abc").status_code == 200


def test_the_status_filter_keeps_to_the_next_page(client, world):
    from portfolio.enrolments.domain import change_status
    from portfolio.models import EnrolmentStatus

    provider = world.provider()
    tutor = world.user(Role.TUTOR, provider)
    employer = world.employer()
    enrolments = [world.enrolment(employer=employer, provider=provider, tutor=tutor) for _ in range(30)]
    change_status(db.session, enrolments[0], EnrolmentStatus.BREAK_IN_LEARNING, None)
    db.session.commit()
    sign_in(client, tutor)
    html = client.get("/?status=on_programme").get_data(as_text=True)
    assert "29 apprentices found" in html
    assert 'href="/?page=2&amp;q=&amp;status=on_programme"' in html
    assert "1 apprentice found" in client.get("/?status=break_in_learning").get_data(as_text=True)
    assert "30 apprentices" in client.get("/?status=nonsense").get_data(
        as_text=True
    )  # an unknown status filters nothing
