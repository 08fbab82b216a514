"""The evidence store's jobs: the nightly sweep of files nothing refers to, and of stale temporary
files; reading files for the review workspace, and the catch-up of files without a reading."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app

from ..core.jobs import JobList
from ..core.storage import evidence_store
from ..extensions import db
from .file_sweep import StoreBusy, sweep
from .readings import CATCH_UP_BATCH, READ_JOB, ask_for_reading, files_without_reading, make_reading

jobs = JobList()
logger = logging.getLogger(__name__)


@jobs.job("evidence.sweep", cron="23 3 * * *")
def sweep_store() -> None:
    grace = timedelta(hours=float(current_app.config["SWEEP_GRACE_HOURS"]))
    try:
        report = sweep(db.session(), evidence_store(), grace=grace)
    except StoreBusy as busy:  # a backup or another sweep holds the store: tomorrow's sweep catches up
        logger.info("Evidence sweep skipped: %s", busy.message)
        return
    logger.info("Evidence sweep: %s", report)


@jobs.job(READ_JOB, attempts=2)
def read_file(sha256: str, media_type: str) -> None:
    make_reading(db.session(), evidence_store(), sha256, media_type)
    db.session.commit()


@jobs.job("evidence.read_files", cron="*/15 * * * *")
def read_files_without_reading() -> None:
    """Ask for the readings of files that have none: stored before readings were made, or lost."""
    if not current_app.config["FILE_READINGS"]:
        return
    waiting = files_without_reading(db.session(), CATCH_UP_BATCH)
    for sha256, media_type in waiting:
        ask_for_reading(sha256, media_type)
    db.session.commit()
    if waiting:
        logger.info("Asked for the readings of %d stored files", len(waiting))
