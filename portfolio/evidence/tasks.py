"""The evidence store's job: the nightly sweep of files nothing refers to, and of stale temporary files."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app

from ..core.jobs import JobList
from ..core.storage import evidence_store
from ..extensions import db
from .file_sweep import sweep

jobs = JobList()
logger = logging.getLogger(__name__)


@jobs.job("evidence.sweep", cron="23 3 * * *")
def sweep_store() -> None:
    report = sweep(
        db.session(), evidence_store(), grace=timedelta(hours=float(current_app.config["SWEEP_GRACE_HOURS"]))
    )
    logger.info("Evidence sweep: %s", report)
