"""Sign-in, sign-out, password changes, throttling, CSRF and security headers."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update

from portfolio import create_app
from portfolio.auth import throttle
from portfolio.core.domain import DomainError
from portfolio.extensions import db
from portfolio.models import AuditEvent, Role, SignInSession, SignInThrottle, User
from portfolio.models.types import as_utc, utcnow

from ...helpers import PASSWORD
from ..conftest import csrf_token, sign_in


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


def _wrong(client, email: str, count: int = 1) -> list[int]:
    return [client.post("/sign-in", data={"email": email, "password": f"guess {n}"}).status_code for n in range(count)]


def _let_the_waits_pass() -> None:
    """Move the throttle's clock on: every account's wait is over."""
    db.session.execute(update(SignInThrottle).values(not_before=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_after_five_failures_each_attempt_waits_and_the_password_is_not_checked(client, tutor, monkeypatch):
    checks = _count_password_checks(monkeypatch)
    assert _wrong(client, tutor.email, 10) == [200] * 5 + [429] * 5
    assert len(checks) == 5  # the waiting attempts were not even checked
    # Even the right password waits, with a clear message.
    response = sign_in(client, tutor)
    assert response.status_code == 429
    assert "Too many failed attempts to sign in. Wait 5 seconds, then try again." in response.get_data(as_text=True)


def test_the_owner_signs_in_once_the_short_wait_is_over(client, tutor):
    """Not a lock-out: five wrong guesses by someone else cost the owner a few seconds."""
    _wrong(client, tutor.email, 5)
    _let_the_waits_pass()
    assert sign_in(client, tutor).status_code == 302
    client.post("/sign-out")
    assert _wrong(client, tutor.email, 5) == [200] * 5  # the success started the count afresh


def test_each_further_failure_doubles_the_wait_up_to_the_cap(app):
    email, address, start = "someone@example.org", "192.0.2.7", utcnow()
    assert [throttle.claim(db.session, email, address, now=start) for _ in range(5)] == [None] * 5
    waits, now = [], start
    for _ in range(12):
        wait = throttle.claim(db.session, email, address, now=now)
        assert wait is not None and wait <= timedelta(minutes=15)
        waits.append(wait)
        now += wait
        assert throttle.claim(db.session, email, address, now=now) is None  # after the wait, one more check
    assert waits[:4] == [timedelta(seconds=s) for s in (5, 10, 20, 40)]
    assert waits[-1] == timedelta(minutes=15)
    throttle.succeeded(db.session, email, address)
    assert throttle.claim(db.session, email, address, now=now) is None


def test_the_wait_is_told_in_minutes_when_long():
    assert throttle.describe_wait(timedelta(seconds=1)) == "1 second"
    assert throttle.describe_wait(timedelta(seconds=59.2)) == "1 minute"
    assert throttle.describe_wait(timedelta(seconds=45)) == "45 seconds"
    assert throttle.describe_wait(timedelta(seconds=61)) == "2 minutes"
    assert throttle.describe_wait(timedelta(minutes=15)) == "15 minutes"


def test_unknown_accounts_are_throttled_the_same_way(client):
    assert _wrong(client, "nobody@example.org", 6) == [200] * 5 + [429]


def test_one_person_mistyping_behind_a_shared_address_stops_nobody_else(client, tutor, world, app):
    """A college's NAT: twenty failures on one account from the address leave the others free."""
    app.config["SIGN_IN_FIRST_DELAY_SECONDS"] = 0
    classmate = world.user(Role.APPRENTICE, world.employer())
    assert _wrong(client, classmate.email, 25) == [200] * 25
    assert sign_in(client, tutor).status_code == 302


def test_one_address_trying_many_accounts_is_made_to_wait(client, tutor, app):
    app.config["SIGN_IN_ACCOUNTS_PER_ADDRESS"] = 8
    for n in range(8):
        assert _wrong(client, f"person{n}@example.org") == [200]
    response = sign_in(client, tutor)
    assert response.status_code == 429
    assert "Wait 15 minutes" in response.get_data(as_text=True)
    assert _wrong(client, "person3@example.org") == [200]  # an account already tried may go on
    # From another address the account is free.
    other = app.test_client()
    response = other.post("/sign-in", data={"email": tutor.email, "password": PASSWORD}, environ_base=_FROM_ELSEWHERE)
    assert response.status_code == 302


_FROM_ELSEWHERE = {"REMOTE_ADDR": "198.51.100.20"}


def test_simultaneous_wrong_guesses_get_no_more_checks_than_the_limit(app, tutor, monkeypatch):
    """Twenty-four guesses at once, each from its own client: only five passwords are checked."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL (SQLite runs one writer at a time)")
    checks = _count_password_checks(monkeypatch)
    email = tutor.email
    db.session.commit()
    start = threading.Barrier(24)
    statuses: list[int] = []

    def guess(n: int) -> None:
        client = app.test_client()
        with app.app_context():
            start.wait(10)
            statuses.append(client.post("/sign-in", data={"email": email, "password": f"guess {n}"}).status_code)
            db.session.remove()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [200] * 5 + [429] * 19
    assert len(checks) == 5


def _count_password_checks(monkeypatch) -> list[str]:
    """Every password hash checked from now on, by sign-in or the change-password page."""
    import portfolio.models.accounts as accounts_models

    checked: list[str] = []
    real = accounts_models.check_password_hash

    def counting(pwhash: str, password: str) -> bool:
        checked.append(password)
        return real(pwhash, password)

    monkeypatch.setattr(accounts_models, "check_password_hash", counting)
    return checked


def test_the_throttle_stores_no_typed_text(client, tutor):
    typed = "Hunter2 is my password"  # a password typed into the email box
    client.post("/sign-in", data={"email": typed, "password": "whatever"})
    _wrong(client, tutor.email)
    rows = db.session.execute(text("SELECT * FROM sign_in_throttles")).all()
    rows += db.session.execute(text("SELECT * FROM sign_in_address_accounts")).all()
    stored = repr(rows).lower()
    assert rows and typed.lower() not in stored and tutor.email not in stored and "127.0.0.1" not in stored


def test_deactivated_users_cannot_sign_in_and_lose_their_sessions(client, tutor):
    from portfolio.accounts.domain import set_active

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


def test_a_new_embedded_instance_gets_its_own_secret_key(tmp_path):
    embedded = {"DATABASE_URL": f"sqlite:///{tmp_path / 'portfolio.db'}"}
    first = create_app(embedded, instance_path=str(tmp_path))
    again = create_app(embedded, instance_path=str(tmp_path))
    assert len(first.config["SECRET_KEY"]) == 64 and first.config["SECRET_KEY"] == again.config["SECRET_KEY"]
    assert (tmp_path / "secret-key").stat().st_mode & 0o077 == 0
    assert sorted(p.name for p in tmp_path.iterdir() if "key" in p.name) == ["audit-key", "secret-key"]


def test_workers_starting_at_once_share_one_key(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from portfolio.config import _instance_secret

    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: _instance_secret(tmp_path / "secret-key"), range(32)))
    assert len(keys) == 1 and len(keys.pop()) == 64
    assert [p.name for p in tmp_path.iterdir()] == ["secret-key"]  # nothing left aside


@pytest.mark.parametrize("missing", ["SECRET_KEY", "AUDIT_KEY"])
def test_on_postgresql_without_the_keys_the_app_refuses_to_start(tmp_path, missing):
    from portfolio.config import MissingSetting

    keys = {"SECRET_KEY": "s" * 40, "AUDIT_KEY": "a" * 40}
    del keys[missing]
    with pytest.raises(MissingSetting, match=f"Set PORTFOLIO_{missing} \\(the same on every host\\)"):
        create_app(
            {"DATABASE_URL": "postgresql://portfolio@db.internal/portfolio", **keys}, instance_path=str(tmp_path)
        )
    assert not any("key" in p.name for p in tmp_path.iterdir())  # no per-host key was made


# Server-side sessions ---------------------------------------------------------------------------


def _copy_of_cookie(app, client):
    """Another browser holding a copy of `client`'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("portfolio_session", client.get_cookie("portfolio_session").value)
    return thief


def _age_sessions(**ago: timedelta) -> None:
    """Move the sessions' clock: e.g. last_seen_at=timedelta(minutes=31) makes them last seen then."""
    db.session.execute(update(SignInSession).values({name: utcnow() - delta for name, delta in ago.items()}))
    db.session.commit()


def test_signing_out_ends_the_session_even_for_a_copied_cookie(app, client, tutor):
    sign_in(client, tutor)
    thief = _copy_of_cookie(app, client)
    assert thief.get("/").status_code == 200
    client.post("/sign-out")
    assert thief.get("/").status_code == 302
    assert db.session.scalar(select(SignInSession.ended_at)) is not None


def test_the_cookie_names_a_random_session_not_the_user(client, tutor):
    sign_in(client, tutor)
    with client.session_transaction() as cookie:
        token = cookie["_user_id"]
    assert str(tutor.id) not in token.split(".") and len(token) >= 40
    # Only its hash is stored: the table opens no session.
    assert token not in repr(db.session.execute(text("SELECT * FROM sign_in_sessions")).all())


def test_a_session_idle_for_longer_than_the_timeout_ends(client, tutor):
    sign_in(client, tutor)
    _age_sessions(last_seen_at=timedelta(minutes=29))
    assert client.get("/").status_code == 200  # and that use keeps it alive
    _age_sessions(last_seen_at=timedelta(minutes=31))
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")


def test_the_idle_timeout_is_a_setting(client, tutor, app):
    app.config["SESSION_IDLE_MINUTES"] = 5
    sign_in(client, tutor)
    _age_sessions(last_seen_at=timedelta(minutes=6))
    assert client.get("/").status_code == 302


def test_a_session_in_use_ends_after_its_absolute_lifetime(client, tutor):
    sign_in(client, tutor)
    _age_sessions(created_at=timedelta(hours=11, minutes=59))
    assert client.get("/").status_code == 200
    _age_sessions(created_at=timedelta(hours=12, minutes=1), last_seen_at=timedelta(seconds=10))
    assert client.get("/").status_code == 302


def test_last_seen_is_written_at_most_once_a_minute(client, tutor):
    sign_in(client, tutor)
    _age_sessions(last_seen_at=timedelta(seconds=30))
    before = db.session.scalar(select(SignInSession.last_seen_at))
    client.get("/")
    assert db.session.scalar(select(SignInSession.last_seen_at)) == before
    _age_sessions(last_seen_at=timedelta(minutes=2))
    client.get("/")
    assert as_utc(db.session.scalar(select(SignInSession.last_seen_at))) > utcnow() - timedelta(seconds=30)


def test_sessions_past_their_lifetime_are_deleted_at_a_sign_in(app, client, tutor):
    sign_in(client, tutor)
    client.post("/sign-out")
    sign_in(client, tutor)
    _age_sessions(created_at=timedelta(hours=13))
    sign_in(app.test_client(), tutor)
    assert db.session.scalar(select(func.count()).select_from(SignInSession)) == 1


def test_the_signed_cookie_expires_with_the_absolute_lifetime(app):
    assert app.permanent_session_lifetime == timedelta(hours=12)


def test_signing_in_rotates_the_csrf_token(csrf_client, tutor):
    before = csrf_token(csrf_client.get("/sign-in").get_data(as_text=True))
    with csrf_client.session_transaction() as cookie:
        raw_before = cookie["csrf_token"]
    response = csrf_client.post("/sign-in", data={"email": tutor.email, "password": PASSWORD, "csrf_token": before})
    assert response.status_code == 302
    after = csrf_token(csrf_client.get("/").get_data(as_text=True))
    with csrf_client.session_transaction() as cookie:
        assert cookie["csrf_token"] != raw_before
    assert csrf_client.post("/sign-out", data={"csrf_token": before}).status_code == 400  # the old token is dead
    assert csrf_client.post("/sign-out", data={"csrf_token": after}).status_code == 302


def test_a_password_reset_by_an_administrator_ends_the_users_sessions(client, tutor):
    from portfolio.accounts.domain import reset_password

    sign_in(client, tutor)
    reset_password(tutor, "a brand new password")
    db.session.commit()
    assert client.get("/").status_code == 302


# Passwords --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("aaaaaaaaaa", "too easy to guess: repeats like"),
        ("password12", "too easy to guess: this is a very common password"),
        ("1234567890", "too easy to guess"),
        ("abcdefghijk", "too easy to guess: sequences like"),
        ("qwertyuiop", "too easy to guess"),
        ("iloveyou123", "too easy to guess"),
        ("priya.natarajan@example.org", "must not be made from the account's name or email address"),
        ("priya.natarajan", "must not be made from the account's name or email address"),
        ("Natarajan2026", "must not be made from the account's name or email address"),
        ("Priya Natarajan", "must not be made from the account's name or email address"),
        ("priyanatarajan2026", "must not be made from the account's name or email address"),
        ("Priya.Natarajan!", "must not be made from the account's name or email address"),
        ("portfolio2026", "or the name of this service"),
        ("apprenticeship1", "or the name of this service"),
        ("short", "at least 10 characters"),
        ("x" * 201, "200 characters or fewer"),
        ("x" * 200, "too easy to guess"),
    ],
)
def test_common_and_context_specific_passwords_are_refused(password, message):
    from portfolio.accounts.domain import check_password_strength

    with pytest.raises(DomainError) as refused:
        check_password_strength(password, email="priya.natarajan@example.org", name="Priya Natarajan")
    assert message in refused.value.message and refused.value.field == "password"


@pytest.mark.parametrize(
    "password", [PASSWORD, "portfolio-demo-2026", "a much longer secret", "Harbourside Museum 1", "tr0ub4dor&3x"]
)
def test_passphrases_and_the_demo_password_are_accepted(password):
    from portfolio.accounts.domain import check_password_strength

    check_password_strength(password, email="priya.natarajan@example.org", name="Priya Natarajan")


def test_a_short_name_inside_a_longer_password_is_weighed_not_refused():
    from portfolio.accounts.domain import check_password_strength

    check_password_strength("savannah river trip", email="anna@example.org", name="Anna Berg")
    check_password_strength("benchmark password", email="bench@example.org", name="Bench Apprentice")


def test_the_change_password_page_refuses_a_guessable_or_personal_password(client, tutor):
    sign_in(client, tutor)
    for new, message in [("password12", "too easy to guess"), (tutor.email, "name or email address")]:
        data = {"current_password": PASSWORD, "new_password": new, "confirm_password": new}
        response = client.post("/account/password", data=data)
        assert response.status_code == 200 and message in response.get_data(as_text=True)
    db.session.refresh(tutor)
    assert tutor.check_password(PASSWORD)


def test_the_current_password_check_is_throttled(client, tutor, monkeypatch):
    sign_in(client, tutor)
    checks = _count_password_checks(monkeypatch)
    new = "a much longer secret"
    statuses = []
    for n in range(7):
        data = {"current_password": f"guess {n}", "new_password": new, "confirm_password": new}
        statuses.append("Wait 5 seconds" in client.post("/account/password", data=data).get_data(as_text=True))
    assert statuses == [False] * 5 + [True] * 2 and len(checks) == 5
    data = {"current_password": PASSWORD, "new_password": new, "confirm_password": new}
    assert "Wait 5 seconds" in client.post("/account/password", data=data).get_data(as_text=True)
    _let_the_waits_pass()
    assert client.post("/account/password", data=data).status_code == 302


# The audit trail keeps no typed text ------------------------------------------------------------


def test_refused_sign_ins_keep_no_typed_text_in_the_audit_trail(client, tutor):
    typed = "Correct-Horse-42"  # a password typed into the email box
    client.post("/sign-in", data={"email": typed, "password": "whatever"})
    _wrong(client, tutor.email)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.sign_in_failed")).all()
    assert [event.subject_id for event in events] == [None, tutor.id]
    for event in events:
        assert typed.lower() not in (event.before + event.after).lower()
        assert tutor.email not in event.before + event.after


def test_every_place_that_sets_a_password_refuses_a_guessable_one(client, world, runner, tutor):
    """The admin area (create and reset), the command line and the demo all apply the same rule."""
    provider = world.provider()
    admin = world.user(Role.ADMIN, provider)
    db.session.commit()
    sign_in(client, admin)
    new_user = {"name": "Idris Fairweather", "email": "idris@example.org", "role": "tutor", "organisation": provider.id}
    new_user["first_password"] = "password"
    response = client.post("/admin/users/new", data=new_user | {"password": "password12"})
    assert response.status_code == 200 and "too easy to guess" in response.get_data(as_text=True)
    response = client.post(f"/admin/users/{tutor.id}/password", data={"password": "Priya.Natarajan!"})
    assert "name or email address" in response.get_data(as_text=True)
    db.session.refresh(tutor)
    assert tutor.check_password(PASSWORD)

    db.session.commit()
    result = runner.invoke(
        args=["user", "create", "helen@example.org", "--name", "Helen Osei", "--role", "tutor",
              "--organisation", provider.name, "--password-stdin"],
        input="1234567890\n",
    )  # fmt: skip
    assert result.exit_code != 0 and "too easy to guess" in result.output
    result = runner.invoke(args=["demo", "--no-serve", "--password", "aaaaaaaaaaaa"])
    assert result.exit_code != 0 and "too easy to guess" in result.output
    assert db.session.scalar(select(User).where(User.email.in_(["idris@example.org", "helen@example.org"]))) is None
