"""Notifications and their email: written with the change, sent by the job, never lost, sent once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import func, select

from portfolio.extensions import db
from portfolio.models import MailStatus, Notification, OutboxMessage, Role
from portfolio.models.notifications import Delivery
from portfolio.models.types import utcnow
from portfolio.notifications import domain, mail
from portfolio.notifications.kinds import Kind
from tests.helpers import run_jobs
from tests.smtp_server import body_html, body_text


@pytest.fixture
def app_config(mail_config):
    return mail_config


def settings() -> mail.MailSettings:
    return mail.MailSettings.from_config(current_app.config)


def tell(people, kind=Kind.EVIDENCE_SUBMITTED, **kwargs):
    return domain.notify(db.session, people, kind, title="Evidence from Ada Lovelace", link="/enrolments/1", **kwargs)


def test_a_notification_and_its_email_are_written_with_the_change_and_sent_by_the_job(app, world, smtp_server):
    provider = world.provider()
    tutor = world.user(Role.TUTOR, provider, name="Tamsin Tutor", email="tamsin@provider.test")
    tell([tutor])
    db.session.commit()
    run_jobs(app)

    [message] = smtp_server.wait_for(1)
    assert message["To"] == "tamsin@provider.test"
    assert message["Subject"] == "Evidence is waiting for your review"
    text = body_text(message)
    assert "Hello Tamsin Tutor" in text
    assert "https://portfolio.example.test/enrolments/1" in text
    assert "Ada Lovelace" not in text + body_html(message)  # nobody else's name leaves the service
    assert message["Message-ID"].startswith("<outbox-")
    [notification] = db.session.scalars(select(Notification)).all()
    assert (notification.user_id, notification.title, notification.read_at) == (
        tutor.id,
        "Evidence from Ada Lovelace",
        None,
    )
    assert db.session.scalar(select(OutboxMessage.status)) is MailStatus.SENT


def test_a_change_rolled_back_takes_its_notifications_and_mail_with_it(app, world, smtp_server):
    tutor = world.user(Role.TUTOR, world.provider())
    db.session.commit()
    tell([tutor])
    db.session.rollback()
    run_jobs(app)
    assert db.session.scalar(select(func.count(Notification.id))) == 0
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
    assert smtp_server.messages == []


def test_the_actor_and_inactive_people_are_not_told(app, world):
    provider = world.provider()
    actor = world.user(Role.TUTOR, provider)
    gone = world.user(Role.TUTOR, provider)
    gone.active = False
    other = world.user(Role.TUTOR, provider)
    told = tell([actor, gone, other, other], actor=actor)
    assert [n.user_id for n in told] == [other.id]


def test_an_occasion_is_told_once_however_often_it_is_found(app, world):
    tutor = world.user(Role.TUTOR, world.provider())
    first = tell([tutor], kind=Kind.REVIEW_DUE, occasion="review-due:1:2026-12-10")
    again = tell([tutor], kind=Kind.REVIEW_DUE, occasion="review-due:1:2026-12-10")
    db.session.commit()
    assert len(first) == 1 and again == []
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1


def test_with_the_server_down_changes_succeed_and_the_outbox_drains_once_it_returns(app, world, smtp_server):
    provider = world.provider()
    tutors = [world.user(Role.TUTOR, provider, email=f"tutor{n}@provider.test") for n in range(3)]
    db.session.commit()
    smtp_server.stop()
    for tutor in tutors:
        tell([tutor])
        db.session.commit()
    run_jobs(app)
    waiting = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [m.status for m in waiting] == [MailStatus.WAITING] * 3
    assert all(m.attempts >= 1 and "Connection" in m.last_error for m in waiting)

    smtp_server.start()
    sent = mail.send_waiting(db.session, settings(), now=utcnow() + timedelta(hours=2))
    again = mail.send_waiting(db.session, settings(), now=utcnow() + timedelta(hours=3))
    assert (sent.sent, again.sent) == (3, 0)
    assert sorted(m["To"] for m in smtp_server.messages) == [f"tutor{n}@provider.test" for n in range(3)]


def test_a_failed_attempt_waits_longer_each_time_up_to_an_hour():
    assert [mail.backoff(n) for n in (1, 2, 3)] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert mail.backoff(50) == timedelta(hours=1)


def test_a_message_claimed_by_one_sender_is_not_sent_by_another(app, world, smtp_server):
    # Written straight into the outbox, with no job asked for: this test is the only sender.
    db.session.add(
        OutboxMessage(to_address="tutor@provider.test", subject="Hello", text_body="Hi", html_body="<p>Hi</p>")
    )
    db.session.commit()
    now = utcnow()
    claimed = mail._claim(db.session, now)
    assert len(claimed) == 1
    assert mail._claim(db.session, now) == []  # the second sender finds nothing due
    # A sender that died holding it: the message goes once its lease has run out.
    assert mail.send_waiting(db.session, settings(), now=now + mail.CLAIM_LEASE + timedelta(seconds=1)).sent == 1
    assert len(smtp_server.messages) == 1


def test_a_secret_is_blanked_once_sent(app, world, smtp_server):
    mail.queue_email(
        db.session, "witness@venue.test", "Your code", "notification", holds_secret=True, line="Code 123456", link="x"
    )
    db.session.commit()
    mail.send_waiting(db.session, settings())
    assert "123456" in body_text(smtp_server.wait_for(1)[0])
    message = db.session.scalar(select(OutboxMessage))
    assert (message.status, message.text_body, message.html_body) == (MailStatus.SENT, "", "")


def test_without_a_mail_server_mail_is_logged_and_kept(app, world, caplog):
    current_app.config["MAIL_SERVER"] = ""
    tell([world.user(Role.TUTOR, world.provider(), email="tam@provider.test")])
    with caplog.at_level("INFO", logger="portfolio.notifications.mail"):
        db.session.commit()
        run_jobs(app)
    assert "tam@provider.test" in caplog.text and "Evidence is waiting for your review" in caplog.text
    assert db.session.scalar(select(OutboxMessage.status)) is MailStatus.LOGGED


def test_the_daily_digest_gathers_each_persons_waiting_notifications_once(app, world, smtp_server):
    provider = world.provider()
    tutor = world.user(Role.TUTOR, provider, email="digest@provider.test")
    other = world.user(Role.TUTOR, provider, email="now@provider.test")
    domain.set_preferences(db.session, tutor, {Kind.EVIDENCE_SUBMITTED: Delivery.DAILY_DIGEST})
    tell([tutor, other])
    tell([tutor, other])
    db.session.commit()
    assert domain.send_digests(db.session) == 1
    assert domain.send_digests(db.session) == 0
    run_jobs(app)  # the send jobs these commits asked for (a message claimed by one is not sent by another)
    mail.send_waiting(db.session, settings())
    smtp_server.wait_for(3)
    [digest] = smtp_server.to("digest@provider.test")
    assert digest["List-Unsubscribe"] == "<https://portfolio.example.test/notifications/settings>"
    assert "Evidence is waiting for your review (2)" in body_text(digest)
    assert len(smtp_server.to("now@provider.test")) == 2


def test_a_kind_the_role_cannot_receive_is_refused(app, world):
    from portfolio.core.domain import DomainError

    apprentice = world.user(Role.APPRENTICE, world.employer())
    with pytest.raises(DomainError, match="not sent to you"):
        domain.set_preferences(db.session, apprentice, {Kind.EVIDENCE_SUBMITTED: Delivery.IN_APP})


def test_people_of_an_enrolment_follow_its_relationships(app, world):
    employer, provider, epao = world.employer(), world.provider(), world.epao()
    mentor = world.user(Role.EMPLOYER, employer)
    world.user(Role.EMPLOYER, employer)  # not the mentor: not told while there is one
    tutors = [world.user(Role.TUTOR, provider) for _ in range(2)]
    world.user(Role.TUTOR, world.provider())  # another provider's
    assessor = world.user(Role.ASSESSOR, epao)
    enrolment = world.enrolment(employer=employer, provider=provider, epao=epao, mentor=mentor)
    people = domain.people_of(db.session, enrolment, Role.APPRENTICE, Role.EMPLOYER, Role.TUTOR, Role.ASSESSOR)
    assert {p.id for p in people} == {enrolment.apprentice_id, mentor.id, assessor.id, *(t.id for t in tutors)}


def test_people_of_many_enrolments_come_in_one_query(app, world):
    from sqlalchemy.orm import joinedload

    from portfolio.models import Enrolment

    from ..conftest import counting_queries

    employer, provider = world.employer(), world.provider()
    mentor, colleague = world.user(Role.EMPLOYER, employer), world.user(Role.EMPLOYER, employer)
    tutor, other_tutor = world.user(Role.TUTOR, provider), world.user(Role.TUTOR, provider)
    admin = world.user(Role.ADMIN, provider)
    world.user(Role.ADMIN, world.provider())  # another provider's
    mentored = world.enrolment(employer=employer, provider=provider, mentor=mentor)  # no tutor: every tutor
    tutored = world.enrolment(employer=employer, provider=provider, tutor=tutor)  # no mentor: every employer
    db.session.commit()
    enrolments = db.session.scalars(
        select(Enrolment)
        .options(*(joinedload(p) for p in (Enrolment.apprentice, Enrolment.mentor, Enrolment.tutor)))
        .order_by(Enrolment.id)
    ).all()
    with counting_queries() as count:
        people = domain.people_of_each(db.session, enrolments, Role.APPRENTICE, Role.EMPLOYER, Role.TUTOR, Role.ADMIN)
    assert count() == 1
    assert {p.id for p in people[mentored.id]} == {
        mentored.apprentice_id,
        mentor.id,
        tutor.id,
        other_tutor.id,
        admin.id,
    }
    assert {p.id for p in people[tutored.id]} == {tutored.apprentice_id, mentor.id, colleague.id, tutor.id, admin.id}
    assert domain.people_of(db.session, tutored, Role.TUTOR) == [tutor]


def test_many_notices_are_written_together_each_person_once_per_occasion(app, world):
    provider = world.provider()
    tutor, other = world.user(Role.TUTOR, provider), world.user(Role.TUTOR, provider)
    notices = [
        domain.Notice([tutor, other], "Evidence waiting", "/review", occasion="waiting:1"),
        domain.Notice([tutor, tutor], "Evidence waiting", "/review", occasion="waiting:1"),  # the same occasion
        domain.Notice([tutor], "Another item", "/review"),
        domain.Notice([tutor], "Another item", "/review"),  # no occasion: told each time
    ]
    told = domain.notify_all(db.session, Kind.EVIDENCE_WAITING, notices, actor=other)
    db.session.commit()
    assert sorted((n.user_id, n.occasion or "") for n in told) == [
        (tutor.id, ""),
        (tutor.id, ""),
        (tutor.id, "waiting:1"),
    ]
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 3
    # Found again with no actor: only the one not told of the occasion yet is told.
    [again] = domain.notify_all(db.session, Kind.EVIDENCE_WAITING, notices[:2])
    assert (again.user_id, again.occasion) == (other.id, "waiting:1")
    assert domain.notify_all(db.session, Kind.EVIDENCE_WAITING, []) == []
