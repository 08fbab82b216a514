"""The demo as a real day: every role's home page has notifications and work to do, a witness with
no account has a request waiting, and the mail commands, pointed at a real SMTP server, write only
to the demo's own people."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portfolio.demo.build import OUTSIDE_WITNESS, USERS, build_demo
from portfolio.extensions import db
from portfolio.home.todo import todo_list
from portfolio.models import MailStatus, Notification, OutboxMessage, SigningRequest, SigningStatus, User

from ...helpers import run_jobs
from ..conftest import sign_in

PASSWORD = "demo password 123"


@pytest.fixture
def app_config(mail_config):
    return mail_config


def _unread(user: User) -> int:
    return db.session.scalar(
        select(func.count(Notification.id)).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


def test_every_demo_role_has_notifications_and_the_witness_request_waits(app, client):
    demo = build_demo(PASSWORD)
    db.session.commit()
    users = demo.users
    # Rosa, the administrator, is told nothing: she sets up people and apprenticeships.
    for user in [u for u in users if u.email != "admin@northgate-arts.example"]:
        assert _unread(user) > 0, user.email
    for email in ("priya.natarajan@northgate-arts.example", "gareth.lloyd@larkfield-playhouse.example",
                  "marion.adebayo@crescent-assessment.example", "callum.reid@larkfield-playhouse.example"):  # fmt: skip
        user = db.session.scalar(select(User).where(User.email == email))
        assert not todo_list(db.session, user).empty, email
        sign_in(client, user, PASSWORD)
        page = client.get("/").get_data(as_text=True)
        assert re.search(r'app-count-badge">\d+<span class="govuk-visually-hidden"> unread', page), email
        client.post("/sign-out", data={"csrf_token": ""})
        client.delete_cookie("session")

    [request] = db.session.scalars(select(SigningRequest)).all()
    assert (request.witness_email, request.witness_name_given) == OUTSIDE_WITNESS
    assert request.status is SigningStatus.PENDING and request.enrolment.apprentice.name == "Callum Reid"
    witness_page = app.test_client().get(f"/sign/{demo.witness_token}").get_data(as_text=True)
    assert "Callum Reid" in witness_page and "youth theatre taster session" in witness_page

    notified = db.session.scalar(select(func.count(Notification.id)))
    again = build_demo(PASSWORD)  # again: nothing is told twice, no second request
    db.session.commit()
    assert again.witness_token is None
    assert db.session.scalar(select(func.count(Notification.id))) == notified
    assert db.session.scalar(select(func.count(SigningRequest.id))) == 1


def test_the_mail_commands_on_the_demo_write_to_the_demo_people_only(app, runner, smtp_server):
    build_demo(PASSWORD)
    db.session.commit()
    sent = runner.invoke(args=["mail", "send"])
    assert sent.exit_code == 0, sent.output
    reminded = runner.invoke(args=["reminders", "send"])  # the demo already told what was due
    assert reminded.exit_code == 0 and reminded.output.splitlines()[-1] == "0 reminders sent"
    run_jobs(app)  # on SQLite the web process's runner may have taken some of the mail itself
    again = runner.invoke(args=["mail", "send"])
    assert again.exit_code == 0 and again.output.startswith("Sent 0,")

    statuses = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count(OutboxMessage.id)).group_by(OutboxMessage.status)
        ).all()
    )
    assert set(statuses) == {MailStatus.SENT}, statuses
    arrived = smtp_server.wait_for(statuses[MailStatus.SENT])
    assert len(arrived) == statuses[MailStatus.SENT]  # each once
    recipients = {message["To"].addresses[0].addr_spec for message in arrived}
    demo_people = {email for email, *_ in USERS} | {OUTSIDE_WITNESS[0]}
    assert recipients <= demo_people
    assert OUTSIDE_WITNESS[0] in recipients  # the witness's request went
    assert all(address.endswith(".example") for address in recipients)  # reserved: nobody real
