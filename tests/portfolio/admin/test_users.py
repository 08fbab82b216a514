"""Users: the list, creating one, the user page, deactivating and resetting passwords."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portfolio.extensions import db
from portfolio.models import Role, User
from tests.helpers import PASSWORD

from ..conftest import sign_in
from .conftest import bulk_users, database_state, text_of


def user_with_email(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def test_list_with_search_role_filter_and_organisation(as_admin, two_employers, admin):
    html = text_of(as_admin.get("/admin/users"))
    assert "6 users" in html and "Rosa Lindqvist" in html
    html = text_of(as_admin.get("/admin/users?role=tutor"))
    assert "1 user found" in html and two_employers["tutor"].name in html
    html = text_of(as_admin.get("/admin/users", query_string={"q": admin.email.upper()}))
    assert "1 user found" in html and "Rosa Lindqvist" in html
    museum = two_employers["museum"]
    html = text_of(as_admin.get(f"/admin/users?organisation={museum.id}"))
    assert "2 users found" in html and "Showing users at Harbourside Museum" in html
    assert "No users match" in text_of(as_admin.get("/admin/users?q=_"))
    assert as_admin.get("/admin/users?role=king&organisation=abc&page=-3").status_code == 200


def test_list_is_paginated(as_admin, two_employers):
    bulk_users(30, Role.EMPLOYER, two_employers["theatre"])
    first = text_of(as_admin.get("/admin/users?role=employer"))
    assert "32 users found" in first and 'rel="next"' in first
    second = as_admin.get("/admin/users?role=employer&page=2").get_data(as_text=True)
    assert second.count('<tr class="govuk-table__row">') == 1 + 7
    assert 'href="/admin/users?page=2&q=&role=employer&organisation="' in first  # keeps the filter


NEW_USER = {
    "name": "Idris Fairweather",
    "email": "Idris.Fairweather@Harbourside-Museum.example",
    "role": "employer",
    "first_password": "password",
    "password": "a long enough password",
}


def test_create_a_user(as_admin, two_employers, client):
    museum = two_employers["museum"]
    response = as_admin.post("/admin/users/new", data=NEW_USER | {"organisation": museum.id})
    assert response.status_code == 302
    user = user_with_email("idris.fairweather@harbourside-museum.example")
    assert user is not None and user.role is Role.EMPLOYER and user.organisation_id == museum.id
    assert response.headers["Location"] == f"/admin/users/{user.id}"
    html = text_of(as_admin.get(response.headers["Location"]))
    assert "User created: Idris Fairweather" in html and "Harbourside Museum" in html
    assert user.check_password("a long enough password")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, "Enter the person's full name"),
        ({"email": ""}, "Enter the email address"),
        ({"email": "not an email"}, "Enter an email address in the correct format"),
        ({"email": "x" * 10_000 + "@example.org"}, "The email address must be 254 characters or fewer"),
        ({"name": "N" * 10_000}, "The name must be 200 characters or fewer"),
        ({"role": "emperor"}, "Choose the role"),
        ({"role": ""}, "Choose the role"),
        ({"organisation": "999999"}, "Choose the organisation"),
        ({"organisation": "abc"}, "Choose the organisation"),
        ({"organisation": ""}, "Choose the organisation"),
        ({"role": "tutor"}, "A user with the role tutor belongs to a training provider"),
        ({"password": "short"}, "The password must be at least 10 characters long"),
        ({"password": "p" * 10_000}, "The initial password must be 200 characters or fewer"),
        ({"password": ""}, "Enter an initial password"),
    ],
)
def test_creating_refuses_bad_input(as_admin, two_employers, change, message):
    before = database_state()
    data = NEW_USER | {"organisation": two_employers["museum"].id} | change
    response = as_admin.post("/admin/users/new", data=data)
    assert response.status_code == 200
    assert message in text_of(response)
    assert database_state() == before


def test_an_email_address_is_used_once(as_admin, two_employers):
    tutor = two_employers["tutor"]
    data = NEW_USER | {"email": tutor.email.upper(), "organisation": two_employers["museum"].id}
    response = as_admin.post("/admin/users/new", data=data)
    assert response.status_code == 200
    assert f"There is already an account for {tutor.email}" in text_of(response)


def test_the_user_page(as_admin, two_employers):
    apprentice = two_employers["museum_enrolment"].apprentice
    html = text_of(as_admin.get(f"/admin/users/{apprentice.id}"))
    assert apprentice.name in html and apprentice.email in html
    museum = two_employers["museum"]
    assert f'<a class="govuk-link" href="/admin/organisations/{museum.id}">Harbourside Museum</a>' in html
    assert "Deactivate account" in html and f"/admin/users/{apprentice.id}/password" in html
    assert "ST0396 version 1.0, started 1 September 2025" in html
    assert as_admin.get("/admin/users/999999").status_code == 404


def test_deactivate_and_reactivate(as_admin, two_employers, client):
    tutor = two_employers["tutor"]
    response = as_admin.post(f"/admin/users/{tutor.id}/deactivate")
    assert response.status_code == 302
    assert "Account deactivated" in text_of(as_admin.get(response.headers["Location"]))
    assert not user_with_email(tutor.email).active
    html = text_of(as_admin.get(f"/admin/users/{tutor.id}"))
    assert "This account is deactivated" in html and "Reactivate account" in html
    assert "Deactivated" in text_of(as_admin.get("/admin/users?role=tutor"))
    response = as_admin.post(f"/admin/users/{tutor.id}/reactivate")
    assert response.status_code == 302
    assert user_with_email(tutor.email).active


def test_a_deactivated_user_cannot_sign_in(as_admin, two_employers, app):
    tutor = two_employers["tutor"]
    as_admin.post(f"/admin/users/{tutor.id}/deactivate")
    other = app.test_client()
    response = sign_in(other, user_with_email(tutor.email))
    assert response.status_code == 200 and "Enter a correct email address and password" in text_of(response)


def test_an_administrator_cannot_deactivate_themselves(as_admin, admin):
    html = text_of(as_admin.get(f"/admin/users/{admin.id}"))
    assert "This is your own account" in html and "Deactivate account" not in html
    response = as_admin.post(f"/admin/users/{admin.id}/deactivate")
    assert response.status_code == 200
    html = text_of(response)
    assert "There is a problem" in html and "You cannot deactivate your own account" in html
    assert 'href="#submit"' in html and 'id="submit"' in html
    assert user_with_email(admin.email).active
    assert as_admin.get("/admin/").status_code == 200  # still signed in


def test_deactivating_someone_who_does_not_exist_is_404(as_admin):
    assert as_admin.post("/admin/users/999999/deactivate").status_code == 404
    assert as_admin.post("/admin/users/999999/reactivate").status_code == 404
    assert as_admin.post("/admin/users/999999/password", data={"password": "x" * 12}).status_code == 404


def test_reset_a_password(as_admin, two_employers, app):
    tutor = two_employers["tutor"]
    assert "Reset password" in text_of(as_admin.get(f"/admin/users/{tutor.id}/password"))
    response = as_admin.post(f"/admin/users/{tutor.id}/password", data={"password": "a brand new password"})
    assert response.status_code == 302
    assert "Password reset" in text_of(as_admin.get(response.headers["Location"]))
    tutor = user_with_email(tutor.email)
    assert tutor.check_password("a brand new password") and not tutor.check_password(PASSWORD)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "Enter a new password"),
        ("short", "The password must be at least 10 characters long"),
        ("p" * 10_000, "The new password must be 200 characters or fewer"),
    ],
)
def test_resetting_refuses_bad_passwords(as_admin, two_employers, password, message):
    tutor = two_employers["tutor"]
    response = as_admin.post(f"/admin/users/{tutor.id}/password", data={"password": password})
    assert response.status_code == 200 and message in text_of(response)
    assert user_with_email(tutor.email).check_password(PASSWORD)


def test_resetting_ones_own_password_keeps_one_signed_in(as_admin, admin):
    response = as_admin.post(f"/admin/users/{admin.id}/password", data={"password": "a brand new password"})
    assert response.status_code == 302
    assert as_admin.get("/admin/").status_code == 200


def test_the_rule_lives_in_the_domain_function(admin, two_employers):
    from portfolio.accounts.domain import set_active
    from portfolio.core.domain import DomainError

    with pytest.raises(DomainError, match="You cannot deactivate your own account"):
        set_active(admin, False, by=admin)
    assert admin.active
    set_active(two_employers["tutor"], False, by=admin)
    assert not two_employers["tutor"].active
    set_active(admin, True, by=admin)  # reactivating oneself is harmless
