"""The signing requests' job: recording, every hour, the requests whose links have expired."""

from __future__ import annotations

import logging

from ..core.jobs import JobList
from ..extensions import db
from .domain import expire_requests

jobs = JobList()
logger = logging.getLogger(__name__)


@jobs.job("signing.expire", cron="17 * * * *")
def expire() -> None:
    if expired := expire_requests(db.session()):
        logger.info("Signing requests expired: %d", expired)
