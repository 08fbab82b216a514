"""The exports' jobs: making one that was asked for, and expiring old ones every hour."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from ..core.jobs import JobList
from ..core.storage import evidence_store
from ..extensions import db
from .requests import MAKE_EXPORT, expire_exports, make_export

jobs = JobList()


@jobs.job(MAKE_EXPORT, attempts=2)
def make(export_id: int) -> None:
    make_export(db.session(), evidence_store(), export_id)


@jobs.job("exports.expire", cron="7 * * * *")
def expire() -> None:
    config = current_app.config
    expire_exports(
        db.session(),
        evidence_store(),
        keep=timedelta(hours=float(config["EXPORT_KEEP_HOURS"])),
        unfinished_after=timedelta(minutes=float(config["EXPORT_UNFINISHED_MINUTES"])),
    )
