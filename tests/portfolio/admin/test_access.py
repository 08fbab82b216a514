"""Only administrators reach the admin area: everyone else gets 404, visitors are sent to sign in."""

from __future__ import annotations

import pytest
from flask import url_for

from portfolio.extensions import db
from portfolio.models import Role, User

from .conftest import database_state

BRIEFED_ENDPOINTS = {"admin.index", "admin.organisations", "admin.users", "admin.enrolments", "admin.standards"}


def admin_urls(app, two_employers) -> list[tuple[str, str]]:
    """(method, url) for every admin route and every method it serves, with ids of real records."""
    enrolment = two_employers["museum_enrolment"]
    ids = {
        "organisation_id": enrolment.employer_id,
        "user_id": enrolment.apprentice_id,
        "enrolment_id": enrolment.id,
        "version_id": enrolment.standard_version_id,
    }
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint.startswith("admin."):
                url = url_for(rule.endpoint, **{name: ids[name] for name in rule.arguments})
                urls += [(method, url) for method in sorted(rule.methods & {"GET", "POST"})]
    return urls


def test_the_navigation_endpoints_exist(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints >= BRIEFED_ENDPOINTS


@pytest.mark.parametrize("role", [Role.APPRENTICE, Role.EMPLOYER, Role.TUTOR, Role.ASSESSOR])
def test_every_admin_url_is_404_for_every_other_role(app, world, two_employers, signed_in, role):
    people = {
        Role.APPRENTICE: two_employers["museum_enrolment"].apprentice,
        Role.EMPLOYER: two_employers["museum_mentor"],
        Role.TUTOR: two_employers["tutor"],
    }
    person = people.get(role) or world.user(role, two_employers["epao"])
    client = signed_in(person)
    urls = admin_urls(app, two_employers)
    assert len(urls) >= 20
    before = database_state()
    for method, url in urls:
        data = {"name": "Renamed by a stranger", "status": "withdrawn", "password": "a new password 123"}
        response = client.open(url, method=method, data=data if method == "POST" else None)
        assert response.status_code == 404, (role, method, url)
    assert database_state() == before
    assert db.session.get(User, person.id).active


def test_visitors_are_sent_to_sign_in(app, client, two_employers):
    for method, url in admin_urls(app, two_employers):
        response = client.open(url, method=method)
        assert response.status_code == 302, (method, url)
        assert response.headers["Location"].startswith("/sign-in"), (method, url)


def test_a_deactivated_administrator_is_signed_out(as_admin, admin, world, two_employers):
    from portfolio.accounts.domain import set_active

    set_active(admin, False)
    db.session.commit()
    response = as_admin.get("/admin/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")


def test_forms_need_the_csrf_token(app, as_admin, two_employers):
    app.config["WTF_CSRF_ENABLED"] = True
    before = database_state()
    response = as_admin.post("/admin/organisations/new", data={"name": "Tokenless Gallery", "kind": "employer"})
    assert response.status_code == 400
    assert "Your form could not be sent" in response.get_data(as_text=True)
    apprentice = two_employers["museum_enrolment"].apprentice
    assert as_admin.post(f"/admin/users/{apprentice.id}/deactivate").status_code == 400
    assert database_state() == before
    # Every admin form carries the token.
    for url in ["/admin/organisations/new", "/admin/users/new", "/admin/enrolments/new", "/admin/standards/new",
                f"/admin/users/{apprentice.id}", f"/admin/enrolments/{two_employers['museum_enrolment'].id}"]:  # fmt: skip
        assert 'name="csrf_token"' in as_admin.get(url).get_data(as_text=True), url
