"""Health probes for load balancers and orchestrators, and metrics for Prometheus: no sign-in,
and no detail an outsider could use (which part failed goes to the log, not to the answer)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..core.jobs import queue
from ..core.metrics import exposition
from ..core.storage import evidence_store
from ..extensions import db
from .scraping import may_scrape

bp = Blueprint("operations", __name__)


@bp.get("/healthz")
def healthz():
    """The process answers: restart it if not. Touches nothing else, so a database outage does
    not make every host look dead at once."""
    return _plain("ok", 200)


@bp.get("/readyz")
def readyz():
    """The process can serve: send it traffic if so. The database, the evidence store and the job queue answer."""
    checks = (("database", _database_ready), ("evidence store", _store_ready), ("job queue", _queue_ready))
    failing = [name for name, ready in checks if not ready()]
    if failing:
        current_app.logger.warning("not ready: %s unreachable", ", ".join(failing))
        return _plain("not ready", 503)
    return _plain("ready", 200)


@bp.get("/metrics")
def metrics():
    """Prometheus's scrape, for the token or networks configured; otherwise it is not there."""
    config = current_app.config
    if not may_scrape(
        config["METRICS_TOKEN"], config["METRICS_ALLOW"], request.headers.get("Authorization"), request.remote_addr
    ):
        abort(404)  # off, or not this scraper: the same answer as any unknown address
    body, content_type = exposition()
    return body, 200, {"Content-Type": content_type, "Cache-Control": "no-store"}


def _database_ready() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError:
        return False
    finally:
        db.session.remove()


def _queue_ready() -> bool:
    try:
        queue().depth()  # on PostgreSQL, reads procrastinate's table: its schema is there
        return True
    except SQLAlchemyError:
        return False


def _store_ready() -> bool:
    try:
        return evidence_store().is_ready()
    except OSError:
        return False


def _plain(body: str, status: int):
    return body, status, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}
