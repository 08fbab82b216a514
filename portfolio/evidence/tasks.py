"""The evidence store's job: the nightly sweep of files nothing refers to, and of stale temporary files."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app

from ..core.jobs import JobList
from ..core.storage import evidence_store
from ..extensions import db
from .file_sweep import StoreBusy, sweep

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
