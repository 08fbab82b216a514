"""Organisations: the list, creating one, renaming one."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portfolio.extensions import db
from portfolio.models import Organisation, OrganisationKind

from .conftest import database_state, text_of


def organisation_named(name: str) -> Organisation | None:
    return db.session.scalar(select(Organisation).where(Organisation.name == name))


def test_list_filters_by_kind_and_name(as_admin, two_employers):
    html = text_of(as_admin.get("/admin/organisations"))
    assert "4 organisations" in html
    assert "Harbourside Museum" in html and "Crescent Assessment" in html
    html = text_of(as_admin.get("/admin/organisations?kind=employer"))
    assert "2 organisations found" in html
    assert "Larkfield Playhouse" in html and "Crescent Assessment" not in html
    html = text_of(as_admin.get("/admin/organisations?q=play"))
    assert "1 organisation found" in html and "Larkfield Playhouse" in html
    assert "No organisations match" in text_of(as_admin.get("/admin/organisations?q=%25"))
    # An unknown kind or page is ignored, never an error.
    assert as_admin.get("/admin/organisations?kind=castle&page=abc").status_code == 200


def test_list_shows_how_many_users_each_organisation_has(as_admin, two_employers):
    html = text_of(as_admin.get("/admin/organisations?q=Northgate"))
    provider = two_employers["provider"]
    assert f'href="/admin/users?organisation={provider.id}">2<' in html  # the tutor and the administrator


def test_create_an_organisation(as_admin):
    response = as_admin.post("/admin/organisations/new", data={"name": "  Fenwick   Gallery ", "kind": "epao"})
    assert response.status_code == 302
    organisation = organisation_named("Fenwick Gallery")
    assert organisation is not None and organisation.kind is OrganisationKind.EPAO
    html = text_of(as_admin.get(response.headers["Location"]))
    assert "Organisation created: Fenwick Gallery" in html and "govuk-notification-banner--success" in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Enter the organisation's name"),
        ({"name": "Fenwick Gallery"}, "Choose the kind of organisation"),
        ({"name": "Fenwick Gallery", "kind": "castle"}, "Choose the kind of organisation"),
        ({"name": "   ", "kind": "employer"}, "Enter the organisation's name"),
        ({"name": "F" * 10_000, "kind": "employer"}, "The name must be 200 characters or fewer"),
        (
            {"name": "harbourside museum", "kind": "employer"},
            "An organisation called harbourside museum already exists",
        ),
    ],
)
def test_creating_refuses_bad_input(as_admin, data, message):
    before = database_state()
    response = as_admin.post("/admin/organisations/new", data=data)
    assert response.status_code == 200
    html = text_of(response)
    assert message in html and "There is a problem" in html
    assert "<title>Error:" in html
    assert database_state() == before


def test_rename_an_organisation(as_admin, two_employers):
    museum = two_employers["museum"]
    html = text_of(as_admin.get(f"/admin/organisations/{museum.id}"))
    assert 'value="Harbourside Museum"' in html
    assert f'<a class="govuk-link" href="/admin/users?organisation={museum.id}">2 users</a>' in html
    response = as_admin.post(f"/admin/organisations/{museum.id}", data={"name": "Harbourside Maritime Museum"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organisation, museum.id).name == "Harbourside Maritime Museum"
    assert "Organisation renamed" in text_of(as_admin.get(response.headers["Location"]))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Larkfield Playhouse", "An organisation called Larkfield Playhouse already exists"),
        ("", "Enter the organisation's name"),
        ("x" * 10_000, "The name must be 200 characters or fewer"),
    ],
)
def test_renaming_refuses_bad_input(as_admin, two_employers, name, message):
    museum = two_employers["museum"]
    response = as_admin.post(f"/admin/organisations/{museum.id}", data={"name": name})
    assert response.status_code == 200 and message in text_of(response)
    db.session.expire_all()
    assert db.session.get(Organisation, museum.id).name == "Harbourside Museum"


def test_an_organisation_that_does_not_exist_is_404(as_admin):
    assert as_admin.get("/admin/organisations/999999").status_code == 404
    assert as_admin.post("/admin/organisations/999999", data={"name": "Ghost"}).status_code == 404
    assert as_admin.get("/admin/organisations/abc").status_code == 404
