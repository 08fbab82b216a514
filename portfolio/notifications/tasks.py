"""The notifications' jobs: sending the outbox (asked for with each message, and every minute for
the retries), and the daily digest."""

from __future__ import annotations

from flask import current_app

from ..core.jobs import JobList
from ..extensions import db
from . import domain, mail

jobs = JobList()


@jobs.job(mail.SEND_JOB, cron="* * * * *")
def send_mail() -> None:
    mail.send_waiting(db.session(), mail.MailSettings.from_config(current_app.config))


@jobs.job("notifications.digest", cron="0 7 * * *")
def send_digests() -> None:
    domain.send_digests(db.session())
