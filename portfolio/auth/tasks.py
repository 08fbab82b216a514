"""The sign-in area's job: sending a password reset link once the answer to the request has gone."""

from __future__ import annotations

from ..core.jobs import JobList
from ..extensions import db
from . import password_reset

jobs = JobList()


@jobs.job(password_reset.SEND_JOB, attempts=3)
def send_password_reset(request_id: int, address: str) -> None:
    password_reset.send_reset_link(db.session(), request_id, address)
    db.session.commit()
