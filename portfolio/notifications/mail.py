"""Email through an outbox: written with the change, sent by a job, retried until the server takes it.

A message is claimed before it is sent (its next attempt moved a lease ahead, in a transaction of
its own), so two senders on two hosts never send the same message; one that dies while sending
leaves the message to be sent again once the lease runs out. With no SMTP server set (the demo),
a message is written to the log and kept on the administrators' mail page instead.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from flask import current_app, render_template
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from ..core import jobs
from ..models import User
from ..models.notifications import MailStatus, OutboxMessage
from ..models.types import as_utc, utcnow
from .kinds import Kind

logger = logging.getLogger(__name__)

SEND_JOB = "mail.send"
CLAIM_LEASE = timedelta(minutes=5)  # a sender that dies mid-batch leaves its messages for this long
BATCH = 50
MAX_BACKOFF = timedelta(hours=1)
MAX_ERROR = 500


@dataclass(frozen=True)
class MailSettings:
    server: str
    port: int
    username: str
    password: str
    use_tls: bool
    sender: str
    timeout: float = 30.0

    @classmethod
    def from_config(cls, config: Mapping) -> MailSettings:
        use_tls = config.get("MAIL_USE_TLS", False)
        if isinstance(use_tls, str):
            use_tls = use_tls.strip().lower() in ("1", "true", "yes", "on")
        return cls(
            server=str(config.get("MAIL_SERVER") or ""),
            port=int(config.get("MAIL_PORT") or (587 if use_tls else 25)),
            username=str(config.get("MAIL_USERNAME") or ""),
            password=str(config.get("MAIL_PASSWORD") or ""),
            use_tls=bool(use_tls),
            sender=str(config.get("MAIL_SENDER") or "portfolio@localhost"),
        )


def link_to(path: str) -> str:
    """An absolute link to a page of the service, for an email (which no request is behind)."""
    return current_app.config["BASE_URL"].rstrip("/") + path


# Writing messages, in the caller's transaction


def queue_email(
    session: Session,
    to_address: str,
    subject: str,
    template: str,
    *,
    user: User | None = None,
    holds_secret: bool = False,
    headers: Mapping[str, str] | None = None,
    **context,
) -> OutboxMessage:
    """Write one message (bodies from `template`.txt and .html) and ask for it to be sent once the
    transaction commits."""
    message = OutboxMessage(
        **_message(to_address, subject, template, user=user, holds_secret=holds_secret, headers=headers, **context)
    )
    session.add(message)
    jobs.queue().defer(session, SEND_JOB, {})
    return message


def queue_notification_emails(session: Session, kind: Kind, recipients: Sequence[tuple[User, str]]) -> None:
    """The email of each notification, to (person, link): what kind of thing happened and where
    to see it, no more. Written in one statement, with one send job asked for, however many."""
    if not recipients:
        return
    about = kind.about
    rows = [
        _message(user.email, about.email_subject, "notification", user=user, line=about.email_line, link=link_to(link))
        for user, link in recipients
    ]
    session.execute(insert(OutboxMessage), rows)
    jobs.queue().defer(session, SEND_JOB, {})


def _message(
    to_address: str,
    subject: str,
    template: str,
    *,
    user: User | None = None,
    holds_secret: bool = False,
    headers: Mapping[str, str] | None = None,
    **context,
) -> dict:
    """The values of a message's row, its bodies rendered."""
    context = {"subject": subject, "recipient": user, "settings_link": link_to("/notifications/settings"), **context}
    return {
        "to_address": to_address,
        "user_id": user.id if user is not None else None,
        "subject": subject,
        "text_body": render_template(f"mail/{template}.txt", **context),
        "html_body": render_template(f"mail/{template}.html", **context),
        "headers": "".join(f"{name}: {value}\n" for name, value in (headers or {}).items()),
        "holds_secret": holds_secret,
    }


# Sending


@dataclass(frozen=True)
class Sent:
    sent: int = 0
    logged: int = 0
    failed: int = 0


def send_waiting(session: Session, settings: MailSettings, *, now: datetime | None = None) -> Sent:
    """Send every message due now, batch by batch, until none is left or the server fails."""
    totals = Sent()
    while True:
        batch = send_batch(session, settings, now=now)
        totals = Sent(totals.sent + batch.sent, totals.logged + batch.logged, totals.failed + batch.failed)
        if batch.failed or (batch.sent + batch.logged) < BATCH:
            return totals


def send_batch(session: Session, settings: MailSettings, *, now: datetime | None = None) -> Sent:
    now = now or utcnow()
    claimed = _claim(session, now)
    if not claimed:
        return Sent()
    if not settings.server:
        for message in claimed:
            logger.info("Mail (no server set) to %s: %s\n%s", message.to_address, message.subject, message.text_body)
            _finish(session, message, MailStatus.LOGGED, now)
        return Sent(logged=len(claimed))
    sent = failed = 0
    try:
        with _connect(settings) as smtp:
            for message in claimed:
                try:
                    smtp.send_message(as_email(message, settings.sender))
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as error:
                    _back_off(session, [message], error, now)  # this message only; the others go on
                    failed += 1
                    continue
                _finish(session, message, MailStatus.SENT, now)
                sent += 1
    except (OSError, smtplib.SMTPException) as error:
        unsent = [message for message in claimed if message.status is MailStatus.WAITING]
        _back_off(session, unsent, error, now)
        failed += len(unsent)
        logger.warning("Mail server %s:%s failed (%s); %d messages wait", settings.server, settings.port, error, failed)
    return Sent(sent=sent, failed=failed)


def _claim(session: Session, now: datetime) -> list[OutboxMessage]:
    """Take up to a batch of due messages for this sender, committed, so no other sender takes them."""
    due = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == MailStatus.WAITING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    ids = list(session.scalars(due))
    if ids:
        # The condition again: on SQLite, with no row locks, another sender may have taken some.
        ids = list(
            session.scalars(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id.in_(ids),
                    OutboxMessage.status == MailStatus.WAITING,
                    OutboxMessage.next_attempt_at <= now,
                )
                .values(next_attempt_at=now + CLAIM_LEASE)
                .returning(OutboxMessage.id)
                .execution_options(synchronize_session=False)
            )
        )
    session.commit()
    if not ids:
        return []
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)))


def _finish(session: Session, message: OutboxMessage, status: MailStatus, now: datetime) -> None:
    message.status = status
    message.sent_at = now
    message.attempts += 1
    message.last_error = ""
    if message.holds_secret:
        message.text_body = message.html_body = ""
    session.commit()  # one by one: a message the server took is never sent again


def _back_off(session: Session, messages: Iterable[OutboxMessage], error: BaseException, now: datetime) -> None:
    for message in messages:
        message.attempts += 1
        message.next_attempt_at = now + backoff(message.attempts)
        message.last_error = f"{type(error).__name__}: {error}"[:MAX_ERROR]
    session.commit()


def backoff(attempts: int) -> timedelta:
    """Wait 1, 2, 4 ... minutes after each failed attempt, at most an hour: never given up."""
    return min(timedelta(minutes=2 ** min(attempts - 1, 10)), MAX_BACKOFF)


def _connect(settings: MailSettings) -> smtplib.SMTP:
    smtp = smtplib.SMTP(settings.server, settings.port, timeout=settings.timeout)
    try:
        if settings.use_tls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.username:
            smtp.login(settings.username, settings.password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def as_email(message: OutboxMessage, sender: str) -> EmailMessage:
    """The message as sent. Its Message-ID is its own, the same on every attempt, so that a server
    given it twice (a sender died between sending and recording) can tell."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Date"] = format_datetime(as_utc(message.created_at))
    domain = sender.rpartition("@")[2] or "localhost"
    email["Message-ID"] = f"<outbox-{message.id}.{int(as_utc(message.created_at).timestamp())}@{domain}>"
    email["Auto-Submitted"] = "auto-generated"
    for line in message.headers.splitlines():
        name, _, value = line.partition(": ")
        if name:
            email[name] = value
    email.set_content(message.text_body)
    email.add_alternative(message.html_body, subtype="html")
    return email
