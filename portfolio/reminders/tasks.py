"""The reminders' job: every hour, at a minute of its own, whatever is due then."""

from __future__ import annotations

from flask import current_app

from ..core import clock
from ..core.jobs import JobList
from ..extensions import db
from ..models.types import utcnow
from . import domain

jobs = JobList()
SEND_JOB = "reminders.send"


@jobs.job(SEND_JOB, cron="17 * * * *")
def send_reminders() -> None:
    domain.send_reminders(
        db.session(), domain.ReminderSettings.from_config(current_app.config), today=clock.today(), now=utcnow()
    )
