"""Accounts by email: a forgotten password reset by an emailed link, invitations, and a change of
email address confirmed at the new address. Each link works once, until it expires, for its own
purpose only; the mail arrives at a real SMTP server and the link is read out of it."""

from __future__ import annotations

import hashlib
import re
import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, update

from portfolio.auth import invitations, links, password_reset
from portfolio.auth.email_change import ask_to_change_email, confirm_email_change
from portfolio.core.domain import DomainError
from portfolio.extensions import db
from portfolio.models import AccountToken, AuditEvent, LinkRequest, OutboxMessage, Role, TokenPurpose, User
from portfolio.models.types import utcnow
from tests.helpers import PASSWORD, run_jobs
from tests.smtp_server import body_html, body_text

from ..conftest import sign_in

NEW_PASSWORD = "lantern orchard pebble"
ELSEWHERE = {"REMOTE_ADDR": "198.51.100.20"}


@pytest.fixture
def app_config(mail_config):
    return mail_config


@pytest.fixture
def tutor(world):
    user = world.user(Role.TUTOR, world.provider("Northgate Arts Training"), name="Priya Natarajan")
    db.session.commit()
    return user


@pytest.fixture
def admin(world, tutor):
    user = world.user(Role.ADMIN, tutor.organisation, name="Rosa Lindqvist")
    db.session.commit()
    return user


def link_path(message, purpose: TokenPurpose) -> str:
    """The path of the link of `purpose` in a received message (checked in both its parts)."""
    prefix = links.PATHS[purpose]
    pattern = rf"https://portfolio\.example\.test({re.escape(prefix)}[A-Za-z0-9_-]+)"
    found = re.search(pattern, body_text(message))
    assert found, f"no {prefix} link in:\n{body_text(message)}"
    assert f'href="{found.group(0)}"' in body_html(message)
    return found.group(1)


def ask_for_reset(client, email: str, environ: dict | None = None):
    return client.post("/forgotten-password", data={"email": email}, environ_base=environ or {})


def mail_to(app, smtp_server, address: str, count: int = 1):
    """Run the queue and return the messages to `address`, which must be `count`."""
    run_jobs(app)
    run_jobs(app)  # the reset job writes a message whose sending is a job of its own
    received = smtp_server.to(address)
    assert len(received) == count, [m["Subject"] for m in received]
    return received


@contextmanager
def statements_of_this_thread():
    """The SQL run by this thread inside the block: a request of the test client runs here, the
    in-process job runner on a thread of its own."""
    here = threading.get_ident()
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if threading.get_ident() == here:
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def events(action_start: str) -> list[AuditEvent]:
    db.session.expire_all()
    chosen = select(AuditEvent).where(AuditEvent.action.startswith(action_start)).order_by(AuditEvent.id)
    return list(db.session.scalars(chosen))


# Password reset -------------------------------------------------------------------------------


def test_the_sign_in_page_leads_to_the_forgotten_password_page(client):
    html = client.get("/sign-in").get_data(as_text=True)
    assert 'href="/forgotten-password">Forgotten your password?</a>' in html
    page = client.get("/forgotten-password").get_data(as_text=True)
    assert "Reset your password" in page and 'name="email"' in page


def test_a_reset_link_sets_a_new_password_once(app, client, tutor, smtp_server):
    other_browser = app.test_client()
    sign_in(other_browser, tutor)
    response = ask_for_reset(client, tutor.email.upper())  # as sign-in, the case does not matter
    assert (response.status_code, response.headers["Location"]) == (303, "/forgotten-password/sent")
    sent_page = client.get("/forgotten-password/sent").get_data(as_text=True)
    assert "If an account uses that address, we have sent it a link" in sent_page

    [message] = mail_to(app, smtp_server, tutor.email)
    assert message["Subject"] == "Reset your password"
    assert "Hello Priya Natarajan" in body_text(message) and "for 1 hour" in body_text(message)
    path = link_path(message, TokenPurpose.RESET_PASSWORD)
    token = path.rsplit("/", 1)[1]

    page = client.get(path)
    assert page.status_code == 200 and "Choose a new password" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    done = client.post(path, data={"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert (done.status_code, done.headers["Location"]) == (302, "/sign-in")
    assert "Your password has been reset" in client.get("/sign-in").get_data(as_text=True)

    db.session.expire_all()
    assert tutor.check_password(NEW_PASSWORD) and not tutor.check_password(PASSWORD)
    assert other_browser.get("/").status_code == 302  # every session of the account ended
    assert sign_in(client, tutor, NEW_PASSWORD).status_code == 302
    client.post("/sign-out")

    again = client.post(path, data={"new_password": "another fine passphrase", "confirm_password": "x"})
    assert again.status_code == 410 and "This link has already been used" in again.get_data(as_text=True)
    assert client.get(path).status_code == 410
    db.session.expire_all()
    assert tutor.check_password(NEW_PASSWORD)

    # Only the token's hash is kept; the message's body went once it was sent.
    row = db.session.scalar(select(AccountToken))
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and row.used_at is not None
    outbox = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == tutor.email))
    assert outbox.holds_secret and outbox.text_body == outbox.html_body == ""
    trail = events("user.reset_password_link")
    assert [e.action for e in trail] == [
        "user.reset_password_link_sent",
        "user.reset_password_link_used",
        "user.reset_password_link_refused",
        "user.reset_password_link_refused",
    ]
    assert {e.subject_id for e in trail} == {tutor.id} and trail[1].actor_id == tutor.id
    assert '"reason":"used"' in trail[2].after and '"address":"127.0.0.1"' in trail[0].after
    assert all(token not in e.before + e.after for e in db.session.scalars(select(AuditEvent)))


def test_the_token_never_reaches_the_access_log(app, client, tutor, caplog):
    token = links.issue(db.session, tutor, TokenPurpose.RESET_PASSWORD)
    db.session.commit()
    caplog.set_level("INFO", logger="portfolio.access")
    assert client.get(f"/reset-password/{token}").status_code == 200
    lines = [record.getMessage() for record in caplog.records if record.name == "portfolio.access"]
    assert lines and "GET /reset-password/[token] 200" in lines[-1]
    assert token not in caplog.text


def test_an_unknown_address_gets_the_same_answer_the_same_way_and_no_mail(app, client, tutor, smtp_server):
    """The same page, the same statements run (only their values differ), and nothing is sent."""
    ask_for_reset(client, "warm-up@example.org")  # the first request of a client sets up its session
    email = tutor.email  # read before: reading it reloads the test's copy of the account
    with statements_of_this_thread() as known_statements:
        known = ask_for_reset(client, email)
    with statements_of_this_thread() as unknown_statements:
        unknown = ask_for_reset(client, "nobody@example.org")
    assert (known.status_code, known.headers["Location"]) == (unknown.status_code, unknown.headers["Location"])
    assert known.get_data() == unknown.get_data()
    assert known_statements == unknown_statements
    run_jobs(app)
    run_jobs(app)
    assert [m["To"] for m in smtp_server.messages] == [tutor.email]
    assert db.session.scalar(select(func.count(AccountToken.id))) == 1


def test_a_deactivated_account_gets_no_mail(app, client, tutor, smtp_server):
    tutor.active = False
    db.session.commit()
    response = ask_for_reset(client, tutor.email)
    assert response.headers["Location"] == "/forgotten-password/sent"
    run_jobs(app)
    run_jobs(app)
    assert smtp_server.messages == [] and db.session.scalar(select(func.count(AccountToken.id))) == 0
    # A link sent before the account was deactivated stops working with it.
    token = links.issue(db.session, tutor, TokenPurpose.RESET_PASSWORD)
    db.session.commit()
    page = client.get(f"/reset-password/{token}")
    assert page.status_code == 410 and "has been deactivated" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("email", "message"),
    [("", "Enter your email address"), ("not an address", "Enter an email address in the correct format")],
)
def test_the_forgotten_password_form_says_what_is_wrong(client, email, message):
    response = ask_for_reset(client, email)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(LinkRequest.id))) == 0


def test_reset_emails_are_limited_per_account_and_per_network_address(app, client, tutor, world, smtp_server):
    for _ in range(4):
        assert ask_for_reset(client, tutor.email).headers["Location"] == "/forgotten-password/sent"
    mail_to(app, smtp_server, tutor.email, count=3)  # the fourth got the same answer, and nothing

    # From one address, at most EMAILED_LINKS_PER_ADDRESS links an hour, whichever accounts they are for.
    app.config["EMAILED_LINKS_PER_ADDRESS"] = 2
    people = [world.user(Role.TUTOR, tutor.organisation) for _ in range(3)]
    db.session.commit()
    for person in people:
        ask_for_reset(client, person.email, ELSEWHERE)
    ask_for_reset(client, "nobody@example.org", ELSEWHERE)  # an unknown address counts the same
    run_jobs(app)
    run_jobs(app)
    assert [len(smtp_server.to(p.email)) for p in people] == [1, 1, 0]

    # An hour later both limits have room again.
    db.session.execute(update(LinkRequest).values(requested_at=utcnow() - timedelta(minutes=61)))
    db.session.commit()
    ask_for_reset(client, tutor.email)
    ask_for_reset(client, people[2].email, ELSEWHERE)
    mail_to(app, smtp_server, tutor.email, count=4)
    assert len(smtp_server.to(people[2].email)) == 1


def test_the_limit_holds_when_many_ask_at_once(app, tutor):
    """Ten requests for one account at once: exactly three are allowed."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL (SQLite runs one writer at a time)")
    start, email = threading.Barrier(10), tutor.email

    def ask() -> None:
        with app.app_context():
            start.wait(10)
            password_reset.ask_for_password_reset(db.session, email, "192.0.2.9")
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=ask) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    allowed = db.session.scalars(select(LinkRequest.allowed)).all()
    assert len(allowed) == 10 and sum(allowed) == 3


def test_the_job_sends_one_link_however_often_it_runs(app, tutor):
    password_reset.ask_for_password_reset(db.session, tutor.email, "192.0.2.9")
    db.session.commit()
    run_jobs(app)
    request_id = db.session.scalar(select(LinkRequest.id))
    password_reset.send_reset_link(db.session, request_id, "192.0.2.9")  # again, as a retried job would
    db.session.commit()
    assert db.session.scalar(select(func.count(AccountToken.id))) == 1
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1


def test_an_expired_link_is_refused_and_the_refusal_recorded(client, tutor):
    token = links.issue(db.session, tutor, TokenPurpose.RESET_PASSWORD, now=utcnow() - timedelta(minutes=61))
    db.session.commit()
    page = client.get(f"/reset-password/{token}")
    assert page.status_code == 410 and "This link has expired" in page.get_data(as_text=True)
    assert 'href="/forgotten-password"' in page.get_data(as_text=True)
    response = client.post(
        f"/reset-password/{token}", data={"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    )
    assert response.status_code == 410
    db.session.expire_all()
    assert tutor.check_password(PASSWORD)
    refused = events("user.reset_password_link_refused")
    assert len(refused) == 2 and all('"reason":"expired"' in e.after for e in refused)
    with pytest.raises(links.LinkRefused) as refusal:
        links.open_link(db.session, token, TokenPurpose.RESET_PASSWORD)
    assert refusal.value.reason == "expired"


def test_the_link_lasts_as_long_as_the_setting_says(app, tutor):
    app.config["PASSWORD_RESET_MINUTES"] = 15
    start = utcnow()
    token = links.issue(db.session, tutor, TokenPurpose.RESET_PASSWORD, now=start)
    assert links.open_link(db.session, token, TokenPurpose.RESET_PASSWORD, now=start + timedelta(minutes=14))
    with pytest.raises(links.LinkRefused):
        links.open_link(db.session, token, TokenPurpose.RESET_PASSWORD, now=start + timedelta(minutes=15))
    assert links.lifetime_text(TokenPurpose.INVITATION) == "7 days"
    assert links.lifetime_text(TokenPurpose.EMAIL_CHANGE) == "24 hours"


def test_using_one_reset_link_ends_the_others_and_a_changed_password_ends_them_all(client, tutor):
    first, second, third = (links.issue(db.session, tutor, TokenPurpose.RESET_PASSWORD) for _ in range(3))
    db.session.commit()
    data = {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    assert client.post(f"/reset-password/{second}", data=data).status_code == 302
    for token in (first, third):
        assert client.get(f"/reset-password/{token}").status_code == 410

    fourth = links.issue(db.session, tutor, TokenPurpose.RESET_PASSWORD)
    db.session.commit()
    sign_in(client, tutor, NEW_PASSWORD)
    changed = client.post(
        "/account/password",
        data={
            "current_password": NEW_PASSWORD,
            "new_password": "quiet harbour lamp",
            "confirm_password": "quiet harbour lamp",
        },
    )
    assert changed.status_code == 302
    assert client.get(f"/reset-password/{fourth}").status_code == 410


def test_unknown_and_hostile_tokens_are_not_found(client):
    for token in ["nothing-like-a-token", "x" * 10_000, "%00", "a" * 43]:
        response = client.get(f"/reset-password/{token}")
        assert response.status_code == 404, token
        assert "This link is not one we sent" in response.get_data(as_text=True)
        assert client.post(f"/accept-invitation/{token}", data={}).status_code == 404


def test_a_link_of_one_purpose_opens_nothing_else(app, client, tutor):
    reset = links.issue(db.session, tutor, TokenPurpose.RESET_PASSWORD)
    change = links.issue(db.session, tutor, TokenPurpose.EMAIL_CHANGE, by=tutor, new_email="p.n@elsewhere.example")
    db.session.commit()
    data = {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    assert client.post(f"/accept-invitation/{reset}", data=data).status_code == 404
    assert client.post(f"/confirm-email/{reset}").status_code == 404
    assert client.post(f"/reset-password/{change}", data=data).status_code == 404
    db.session.expire_all()
    assert tutor.check_password(PASSWORD) and tutor.email != "p.n@elsewhere.example"
    refused = events("user.reset_password_link_refused")
    assert len(refused) == 2 and all('"reason":"wrong_purpose"' in e.after for e in refused)
    # Each still works for its own purpose.
    assert client.post(f"/reset-password/{reset}", data=data).status_code == 302


def test_a_weak_password_keeps_the_link_working(client, tutor):
    token = links.issue(db.session, tutor, TokenPurpose.RESET_PASSWORD)
    db.session.commit()
    for data, message in [
        ({"new_password": "password12", "confirm_password": "password12"}, "too easy to guess"),
        ({"new_password": NEW_PASSWORD, "confirm_password": "something else"}, "The passwords do not match"),
        ({"new_password": "Priya Natarajan", "confirm_password": "Priya Natarajan"}, "name or email address"),
    ]:
        response = client.post(f"/reset-password/{token}", data=data)
        assert response.status_code == 200 and message in response.get_data(as_text=True)
    data = {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    assert client.post(f"/reset-password/{token}", data=data).status_code == 302


def test_two_uses_of_one_link_at_once_change_the_password_once(app, tutor):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL (SQLite runs one writer at a time)")
    token = links.issue(db.session, tutor, TokenPurpose.RESET_PASSWORD)
    db.session.commit()
    start = threading.Barrier(2)
    outcomes: dict[str, int] = {}

    def use(password: str) -> None:
        client = app.test_client()
        with app.app_context():
            start.wait(10)
            data = {"new_password": password, "confirm_password": password}
            outcomes[password] = client.post(f"/reset-password/{token}", data=data).status_code
            db.session.remove()

    passwords = ["lantern orchard pebble", "copper meadow violin"]
    threads = [threading.Thread(target=use, args=(password,)) for password in passwords]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes.values()) == [302, 410]
    [winner] = [password for password, status in outcomes.items() if status == 302]
    db.session.expire_all()
    assert tutor.check_password(winner)
    assert len(events("user.reset_password_link_used")) == 1


# Invitations ----------------------------------------------------------------------------------


def test_an_invitation_from_the_admin_page_to_a_signed_in_newcomer(app, client, admin, smtp_server):
    admin_client = app.test_client()
    sign_in(admin_client, admin)
    form = admin_client.get("/admin/users/new").get_data(as_text=True)
    assert 'value="invite" checked' in form  # inviting is the default
    created = admin_client.post(
        "/admin/users/new",
        data={"name": "Idris Fairweather", "email": "idris@northgate.example", "role": "tutor",
              "organisation": admin.organisation_id, "first_password": "invite"},
    )  # fmt: skip
    assert created.status_code == 302
    idris = db.session.scalar(select(User).where(User.email == "idris@northgate.example"))
    assert not idris.has_usable_password
    page = admin_client.get(created.headers["Location"]).get_data(as_text=True)
    assert "We have emailed an invitation to idris@northgate.example" in page
    assert "not yet accepted" in page and "Send the invitation again" in page
    assert "Invited" in admin_client.get("/admin/users", query_string={"q": "idris"}).get_data(as_text=True)

    # Until it is accepted, nobody signs in to the account, with any password.
    for password in ("", "!", idris.password_hash, PASSWORD):
        assert client.post("/sign-in", data={"email": idris.email, "password": password}).status_code != 302

    [first] = mail_to(app, smtp_server, "idris@northgate.example")
    assert first["Subject"] == "You are invited to the apprenticeship portfolio"
    assert "Northgate Arts Training" in body_text(first) and "for 7 days" in body_text(first)
    old_path = link_path(first, TokenPurpose.INVITATION)

    assert admin_client.post(f"/admin/users/{idris.id}/invitation").status_code == 302
    [_, second] = mail_to(app, smtp_server, "idris@northgate.example", count=2)
    new_path = link_path(second, TokenPurpose.INVITATION)
    assert client.get(old_path).status_code == 410  # the earlier invitation no longer works

    page = client.get(new_path).get_data(as_text=True)
    assert "Choose your password" in page and "Idris Fairweather, tutor at Northgate Arts Training" in page
    accepted = client.post(new_path, data={"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert (accepted.status_code, accepted.headers["Location"]) == (302, "/")
    home = client.get("/")
    assert home.status_code == 200 and "Your password is set and you are signed in" in home.get_data(as_text=True)
    client.post("/sign-out")
    assert sign_in(client, idris, NEW_PASSWORD).status_code == 302
    assert client.get(new_path).status_code == 410

    page = admin_client.get(f"/admin/users/{idris.id}").get_data(as_text=True)
    assert "not yet accepted" not in page and "Reset Idris Fairweather" in page
    assert [e.action for e in events("user.invitation_link")] == [
        "user.invitation_link_sent",
        "user.invitation_link_sent",
        "user.invitation_link_refused",
        "user.invitation_link_used",
        "user.invitation_link_refused",
    ]
    assert events("user.invitation_link_sent")[0].actor_id == admin.id


def test_an_expired_invitation_shows_on_the_admin_page(app, client, admin):
    idris = invitations.invite_new_user(
        db.session, email="idris@example.org", name="Idris Fairweather", role=Role.TUTOR,
        organisation=admin.organisation, by=admin,
    )  # fmt: skip
    db.session.execute(update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    sign_in(client, admin)
    page = client.get(f"/admin/users/{idris.id}").get_data(as_text=True)
    assert "not yet accepted" in page and "Its link has expired" in page


def test_the_admin_may_still_set_a_first_password(app, client, admin, smtp_server):
    sign_in(client, admin)
    data = {"name": "Helen Osei", "email": "helen@example.org", "role": "tutor", "organisation": admin.organisation_id}
    missing = client.post("/admin/users/new", data=data | {"first_password": "password"})
    assert "Enter an initial password" in missing.get_data(as_text=True)
    both = client.post("/admin/users/new", data=data | {"first_password": "invite", "password": NEW_PASSWORD})
    assert "Leave the password blank to send an invitation" in both.get_data(as_text=True)
    assert (
        client.post(
            "/admin/users/new", data=data | {"first_password": "password", "password": NEW_PASSWORD}
        ).status_code
        == 302
    )
    helen = db.session.scalar(select(User).where(User.email == "helen@example.org"))
    assert helen.check_password(NEW_PASSWORD)
    run_jobs(app)
    assert smtp_server.messages == [] and db.session.scalar(select(func.count(AccountToken.id))) == 0


def test_an_invitation_cannot_be_sent_to_an_account_with_a_password_or_a_deactivated_one(admin, tutor):
    with pytest.raises(DomainError, match="already set a password"):
        invitations.send_invitation(tutor, by=admin)
    idris = invitations.invite_new_user(
        db.session, email="idris@example.org", name="Idris Fairweather", role=Role.TUTOR,
        organisation=admin.organisation, by=admin,
    )  # fmt: skip
    idris.active = False
    with pytest.raises(DomainError, match="reactivate it"):
        invitations.send_invitation(idris, by=admin)


def test_a_password_set_otherwise_ends_the_invitation(admin):
    from portfolio.accounts.domain import create_user, reset_password

    idris = create_user(
        db.session, email="idris@example.org", name="Idris Fairweather", role=Role.TUTOR,
        organisation=admin.organisation, password=None, by=admin,
    )  # fmt: skip
    token = links.issue(db.session, idris, TokenPurpose.INVITATION, by=admin)
    assert invitations.latest_invitation(db.session, idris) is not None
    reset_password(idris, NEW_PASSWORD, by=admin)
    db.session.commit()
    with pytest.raises(links.LinkRefused) as refusal:
        links.open_link(db.session, token, TokenPurpose.INVITATION)
    assert refusal.value.reason == "expired"
    assert invitations.latest_invitation(db.session, idris) is None


def test_the_command_line_invites_or_takes_a_password(app, runner, admin, smtp_server):
    organisation = admin.organisation.name
    base = ["user", "create", "--name", "Helen Osei", "--role", "tutor", "--organisation", organisation]
    result = runner.invoke(args=[*base, "helen@example.org", "--invite"])
    assert result.exit_code == 0, result.output
    assert "An invitation to choose a password is on its way to helen@example.org" in result.output
    [message] = mail_to(app, smtp_server, "helen@example.org")
    link_path(message, TokenPurpose.INVITATION)
    result = runner.invoke(args=[*base, "helen.two@example.org", "--password-stdin"], input=NEW_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User).where(User.email == "helen.two@example.org")).check_password(NEW_PASSWORD)
    result = runner.invoke(args=[*base, "helen.three@example.org", "--password-stdin", "--invite"], input="x\n")
    assert result.exit_code == 2 and "not both" in result.output


# Email change ---------------------------------------------------------------------------------


def change_email(client, email: str, password: str = PASSWORD):
    return client.post("/account/email", data={"email": email, "current_password": password})


def test_an_email_change_is_confirmed_at_the_new_address(app, client, tutor, smtp_server):
    old = tutor.email
    reset = links.issue(db.session, tutor, TokenPurpose.RESET_PASSWORD)  # mailed to the old address
    db.session.commit()
    sign_in(client, tutor)
    account = client.get("/account/password").get_data(as_text=True)
    assert 'href="/account/email">Change your email address</a>' in account
    asked = change_email(client, "Priya.N@Elsewhere.example")
    assert (asked.status_code, asked.headers["Location"]) == (302, "/account/password")
    account = client.get("/account/password").get_data(as_text=True)
    assert "We have sent a link to priya.n@elsewhere.example" in account
    assert "A change to priya.n@elsewhere.example is waiting" in account
    db.session.expire_all()
    assert tutor.email == old  # nothing changes until the link is followed

    [confirm] = mail_to(app, smtp_server, "priya.n@elsewhere.example")
    [notice] = smtp_server.to(old)
    assert confirm["Subject"] == "Confirm your new email address"
    assert "asked to change its email address to priya.n@elsewhere.example" in body_text(notice)
    assert "/confirm-email/" not in body_text(notice) + body_html(notice)
    path = link_path(confirm, TokenPurpose.EMAIL_CHANGE)

    client.post("/sign-out")  # the link works signed in or not: it proves the new address is theirs
    page = client.get(path).get_data(as_text=True)
    assert "Confirm your new email address" in page and "priya.n@elsewhere.example" in page
    done = client.post(path)
    assert (done.status_code, done.headers["Location"]) == (302, "/sign-in")
    assert "Your email address is now priya.n@elsewhere.example" in client.get("/sign-in").get_data(as_text=True)
    db.session.expire_all()
    assert tutor.email == "priya.n@elsewhere.example"
    assert client.post("/sign-in", data={"email": old, "password": PASSWORD}).status_code == 200
    assert sign_in(client, tutor).status_code == 302
    assert client.post(path).status_code == 410
    assert client.get(f"/reset-password/{reset}").status_code == 410  # links sent to the old address end
    [used] = events("user.email_change_link_used")
    assert '"email":"priya.n@elsewhere.example"' in used.after and f'"email":"{old}"' in used.before


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("new@example.org", "not my password", "Your current password is not correct"),
        ("not an address", PASSWORD, "Enter an email address in the correct format"),
        ("", PASSWORD, "Enter your new email address"),
        ("PRIYA@example.org", PASSWORD, "That is already your email address"),
        ("taken@example.org", PASSWORD, "There is already an account for taken@example.org"),
    ],
)
def test_an_email_change_says_what_is_wrong(app, client, world, smtp_server, email, password, message):
    tutor = world.user(Role.TUTOR, world.provider(), name="Priya Natarajan", email="priya@example.org")
    world.user(Role.TUTOR, tutor.organisation, email="taken@example.org")
    db.session.commit()
    sign_in(client, tutor)
    response = change_email(client, email, password)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    run_jobs(app)
    assert smtp_server.messages == [] and db.session.scalar(select(func.count(AccountToken.id))) == 0


def test_email_changes_are_limited_and_only_the_newest_is_confirmed(app, client, tutor):
    sign_in(client, tutor)
    for n in range(3):
        assert change_email(client, f"priya.{n}@example.org").status_code == 302
    refused = change_email(client, "priya.3@example.org")
    assert refused.status_code == 200 and "too many emails in the last hour" in refused.get_data(as_text=True)
    tokens = db.session.scalars(select(AccountToken).order_by(AccountToken.id)).all()
    assert [t.new_email for t in tokens if not t.expired(utcnow())] == ["priya.2@example.org"]


def test_an_address_taken_meanwhile_is_not_taken_over(client, tutor, world):
    ask_to_change_email(tutor, "wanted@example.org", PASSWORD, address="192.0.2.9")
    row = db.session.scalar(select(AccountToken))
    token = links.issue(db.session, tutor, TokenPurpose.EMAIL_CHANGE, by=tutor, new_email="wanted@example.org")
    world.user(Role.TUTOR, tutor.organisation, email="wanted@example.org")
    db.session.commit()
    response = client.post(f"/confirm-email/{token}")
    assert response.status_code == 409
    assert "Another account now uses wanted@example.org" in response.get_data(as_text=True)
    db.session.expire_all()
    assert tutor.email != "wanted@example.org" and row.used_at is None
    with pytest.raises(DomainError, match="Another account now uses"):
        confirm_email_change(db.session, token)
