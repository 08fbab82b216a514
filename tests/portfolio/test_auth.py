"""Sign-in, sign-out, password changes, throttling, CSRF and security headers."""

from __future__ import annotations

import pytest

from portfolio import create_app
from portfolio.extensions import db
from portfolio.models import Role, SignInAttempt

from ..helpers import PASSWORD
from .conftest import csrf_token, sign_in


@pytest.fixture
def tutor(world):
    user = world.user(Role.TUTOR, world.provider(), name="Priya Natarajan")
    db.session.commit()
    return user


def test_sign_in_and_out(client, tutor):
    response = sign_in(client, tutor)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Priya Natarajan" in client.get("/").get_data(as_text=True)
    response = client.post("/sign-out")
    assert response.headers["Location"] == "/sign-in"
    assert client.get("/").status_code == 302


def test_email_is_not_case_sensitive(client, tutor):
    response = client.post("/sign-in", data={"email": f"  {tutor.email.upper()} ", "password": PASSWORD})
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "", "password": ""}, "Enter your email address"),
        ({"email": "someone@example.org", "password": ""}, "Enter your password"),
        ({"email": "x" * 10_000, "password": "y"}, "Enter a shorter email address"),
        ({"email": ["a@example.org", "b@example.org"], "password": "z"}, "Enter a correct email address and password"),
        ({"email": "<script>alert(1)</script>", "password": "z"}, "Enter a correct email address and password"),
    ],
)
def test_bad_sign_in_forms_get_a_clear_message(client, tutor, data, message):
    response = client.post("/sign-in", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert "There is a problem" in html
    assert "<script>alert(1)</script>" not in html


def test_wrong_password_and_unknown_account_look_the_same(client, tutor):
    wrong = client.post("/sign-in", data={"email": tutor.email, "password": "not it"}).get_data(as_text=True)
    unknown = client.post("/sign-in", data={"email": "nobody@example.org", "password": "not it"}).get_data(as_text=True)
    assert "Enter a correct email address and password" in wrong
    assert wrong.replace(tutor.email, "X") == unknown.replace("nobody@example.org", "X")


def test_ten_bad_passwords_lock_the_account_for_a_while(client, tutor):
    statuses = [
        client.post("/sign-in", data={"email": tutor.email, "password": f"guess {n}"}).status_code for n in range(10)
    ]
    assert statuses == [200] * 5 + [429] * 5
    # Even the right password is refused while the account is throttled, with a clear message.
    response = client.post("/sign-in", data={"email": tutor.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed attempts to sign in. Wait 15 minutes" in response.get_data(as_text=True)
    # Throttled attempts are not even checked, so they are not recorded.
    assert db.session.query(SignInAttempt).count() == 5


def test_unknown_accounts_are_throttled_the_same_way(client):
    for n in range(5):
        client.post("/sign-in", data={"email": "nobody@example.org", "password": f"guess {n}"})
    assert client.post("/sign-in", data={"email": "nobody@example.org", "password": "x"}).status_code == 429


def test_one_address_trying_many_accounts_is_throttled(client, app):
    app.config["SIGN_IN_ATTEMPTS_PER_ADDRESS"] = 8
    for n in range(8):
        client.post("/sign-in", data={"email": f"person{n}@example.org", "password": "guess"})
    response = client.post("/sign-in", data={"email": "fresh@example.org", "password": "guess"})
    assert response.status_code == 429


def test_deactivated_users_cannot_sign_in_and_lose_their_sessions(client, tutor):
    from portfolio.accounts import set_active

    sign_in(client, tutor)
    set_active(tutor, False)
    db.session.commit()
    assert client.get("/").status_code == 302  # the open session has ended
    response = client.post("/sign-in", data={"email": tutor.email, "password": PASSWORD})
    assert "Enter a correct email address and password" in response.get_data(as_text=True)


def test_change_password(client, tutor, app):
    sign_in(client, tutor)
    other_device = app.test_client()
    sign_in(other_device, tutor)
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a much longer secret",
            "confirm_password": "a much longer secret",
        },
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # this session carries on
    assert other_device.get("/").status_code == 302  # others end
    client.post("/sign-out")
    assert sign_in(client, tutor, "a much longer secret").status_code == 302


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"current_password": "wrong", "new_password": "abcdefghijk", "confirm_password": "abcdefghijk"},
            "Your current password is not correct",
        ),  # noqa: E501
        (
            {"current_password": PASSWORD, "new_password": "short", "confirm_password": "short"},
            "at least 10 characters",
        ),
        (
            {"current_password": PASSWORD, "new_password": "abcdefghijk", "confirm_password": "abcdefghijx"},
            "The passwords do not match",
        ),  # noqa: E501
        ({}, "Enter your current password"),
    ],
)
def test_change_password_refuses_bad_input(client, tutor, data, message):
    sign_in(client, tutor)
    response = client.post("/account/password", data=data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    db.session.refresh(tutor)
    assert tutor.check_password(PASSWORD)


def test_next_only_leads_to_this_site(client, tutor):
    for target, expected in [
        ("/enrolments/1", "/enrolments/1"),
        ("https://evil.example/", "/"),
        ("//evil.example", "/"),
    ]:
        response = client.post(f"/sign-in?next={target}", data={"email": tutor.email, "password": PASSWORD})
        assert response.headers["Location"] == expected
        client.post("/sign-out")


def test_security_headers(client, tutor):
    response = client.get("/sign-in")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    sign_in(client, tutor)
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_session_cookie_flags(client, tutor):
    response = sign_in(client, tutor)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_secure_cookies_when_configured(database_url, tmp_path):
    app = create_app(
        {"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "t", "SESSION_COOKIE_SECURE": True},
        instance_path=str(tmp_path),
    )
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]


@pytest.fixture
def csrf_client(database_url, tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "t"}, instance_path=str(tmp_path))
    with app.app_context():
        yield app.test_client()
        db.session.remove()


def test_forms_without_a_valid_csrf_token_are_refused(csrf_client, tutor):
    for token in (None, "forged"):
        data = {"email": tutor.email, "password": PASSWORD}
        if token:
            data["csrf_token"] = token
        response = csrf_client.post("/sign-in", data=data)
        assert response.status_code == 400
        assert "Your form could not be sent" in response.get_data(as_text=True)
    token = csrf_token(csrf_client.get("/sign-in").get_data(as_text=True))
    response = csrf_client.post("/sign-in", data={"email": tutor.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    # signing out is a form too
    assert csrf_client.post("/sign-out").status_code == 400
    assert csrf_client.get("/").status_code == 200


def test_a_new_instance_gets_its_own_secret_key(database_url, tmp_path):
    first = create_app({"DATABASE_URL": database_url}, instance_path=str(tmp_path))
    again = create_app({"DATABASE_URL": database_url}, instance_path=str(tmp_path))
    assert len(first.config["SECRET_KEY"]) == 64 and first.config["SECRET_KEY"] == again.config["SECRET_KEY"]
    assert (tmp_path / "secret-key").stat().st_mode & 0o077 == 0
