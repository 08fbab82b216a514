"""gunicorn's settings for the portfolio: `gunicorn -c gunicorn.conf.py 'portfolio:create_app()'`.

Every value can be changed from the environment: the GUNICORN_* variables read below, or any of
gunicorn's own options in GUNICORN_CMD_ARGS (which win over this file), e.g.
GUNICORN_CMD_ARGS="--workers 3 --bind 10.0.0.5:8000". The README's Deployment says why each is so.

Nothing of the app is imported here: this file runs in gunicorn's master, and whatever the master
imports, every worker forked after a reload (HUP) would run in its old version.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import re
import shutil
import tempfile
from datetime import UTC, datetime

MAX_WORKERS = 8  # each worker holds a database pool of its own (README: Configuration)
METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def _number(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may use, in a container too
    except AttributeError:
        return os.cpu_count() or 1


wsgi_app = "portfolio:create_app()"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")  # behind the proxy only: README, Sign-in
worker_class = "gthread"
workers = _number("GUNICORN_WORKERS", min(2 * _cores() + 1, MAX_WORKERS))
threads = _number("GUNICORN_THREADS", 4)
# A gthread worker is killed when its main loop stops answering for this long, not when one request
# is slow: no request makes a PDF any more (exports are jobs), so 30 s is ample.
timeout = _number("GUNICORN_TIMEOUT", 30)
graceful_timeout = _number("GUNICORN_GRACEFUL_TIMEOUT", 30)  # for requests under way at a restart
keepalive = _number("GUNICORN_KEEPALIVE", 5)  # behind a balancer that reuses its connections
# A worker is replaced after this many requests, so that a slow leak never grows for long. The
# jitter is half of it: evenly loaded workers would otherwise reach the limit seconds apart, and
# while the new ones boot (10 s and more on a loaded host) the host answers nobody.
max_requests = _number("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _number("GUNICORN_MAX_REQUESTS_JITTER", 500)
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# The heartbeat file of each worker: in memory, where a slow or overlay disk cannot stall it.
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR") or ("/dev/shm" if os.path.isdir("/dev/shm") else None)

accesslog = None  # the app writes one access line per request, with its request id
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")


class JsonLines(logging.Formatter):
    """gunicorn's own lines (start, workers booting and exiting, timeouts) in the shape of the
    app's JSON lines, so that one collector reads both. Not the app's formatter: see above."""

    def format(self, record: logging.LogRecord) -> str:
        created = datetime.fromtimestamp(record.created, UTC)
        entry = {
            "time": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": None,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


if os.environ.get("PORTFOLIO_LOG_FORMAT", "json") == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": "WARNING", "handlers": []},  # each worker's app puts its own handler there
        "loggers": {
            "gunicorn.error": {"level": loglevel.upper(), "handlers": ["json"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
        },
        "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "formatters": {"json": {"()": JsonLines}},
    }

# Metrics: every worker is a process, so prometheus_client keeps each one's counts in files of one
# folder and a scrape adds them up. It must know the folder before the app first imports it (in
# the workers), so it is set here. Unless one is given, the folder is this master's own (a master
# started by USR2 makes another), removed when it stops.
_MADE_METRICS_DIR = os.path.join(tempfile.gettempdir(), "portfolio-metrics-")
_OWN_METRICS_DIR = f"{_MADE_METRICS_DIR}{os.getpid()}"
_given = os.environ.get(METRICS_DIR_VARIABLE)
if _given is None or re.fullmatch(re.escape(_MADE_METRICS_DIR) + r"\d+", _given):
    os.environ[METRICS_DIR_VARIABLE] = _OWN_METRICS_DIR
os.makedirs(os.environ[METRICS_DIR_VARIABLE], exist_ok=True)


def on_starting(server) -> None:
    """In the master, before the first worker: start the counts afresh, since the files of an
    earlier run's workers (whose ids may come again) would be added in."""
    for stale in glob.glob(os.path.join(os.environ[METRICS_DIR_VARIABLE], "*.db")):
        os.remove(stale)


def child_exit(server, worker) -> None:
    """In the master, when a worker has ended: its live gauges go; its counts stay in the totals."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    if os.environ.get(METRICS_DIR_VARIABLE) == _OWN_METRICS_DIR:
        shutil.rmtree(_OWN_METRICS_DIR, ignore_errors=True)
