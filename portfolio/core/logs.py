"""Logs: one line per record (JSON in production), each carrying the id of its request or job.

The ids live in a context variable, set when a request or a queue job starts and reset when it
ends; a filter on the app's handler copies them onto every record, whichever logger made it. Each
request also gets one access line, so that gunicorn's access log can stay off.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask, Response, g, request
from flask.logging import default_handler
from sqlalchemy import inspect

from ..models import User
from . import metrics

ACCESS_LOGGER = "portfolio.access"
REQUEST_ID_HEADER = "X-Request-ID"
# What a balancer or a calling service may send as the request's id: a short token of characters
# that can break neither a log line nor a header. Anything else is replaced.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+=/-]{1,128}")
# The attributes every LogRecord has; the others were given by `extra=` (or by the filter below).
# An argument of a route's pattern, `<string(maxlength=128):token>`, to be logged as `<token>`.
_ROUTE_ARGUMENT = re.compile(r"<(?:[^<>:]*:)?(\w+)>")
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


@dataclass(frozen=True)
class LogContext:
    """The ids the lines of the current request or job carry."""

    request_id: str | None = None
    job_id: str | None = None
    task: str | None = None


_context: ContextVar[LogContext] = ContextVar("portfolio_log_context")
_NO_IDS = LogContext()  # outside any request or job


def current_request_id() -> str | None:
    """The id of the request being served (for a job it enqueues to carry on), if any."""
    return _context.get(_NO_IDS).request_id


@contextmanager
def job_context(job_id: str | int, task_name: str, request_id: str | None = None) -> Iterator[None]:
    """Run a queue job's code with its id (and the id of the request that asked for it, if the
    queue kept it) on every log line."""
    token = _context.set(LogContext(request_id=request_id, job_id=str(job_id), task=task_name))
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Copies the current request's or job's ids onto each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get(_NO_IDS)
        record.request_id = context.request_id
        if context.job_id is not None:
            record.job_id = context.job_id
            record.task = context.task
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (ISO, UTC), level, logger, message, request_id, then any
    fields given with `extra=`, and the traceback if there is one."""

    def format(self, record: logging.LogRecord) -> str:
        created = datetime.fromtimestamp(record.created, UTC)
        entry = {
            "time": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        entry |= {key: value for key, value in vars(record).items() if key not in _RECORD_ATTRIBUTES | entry.keys()}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """A line for a person at a console: time, level, logger, the ids in brackets, message."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        ids = " ".join(f"{name}={value}" for name in ("request_id", "job_id") if (value := getattr(record, name, None)))
        where = f" [{ids}]" if ids else ""
        return f"{self.formatTime(record)} {record.levelname} {record.name}{where}: {record.message}"


class _AppHandler(logging.StreamHandler):
    """The app's handler on the root logger. It writes to whatever sys.stderr is when a record
    comes (a test's capture, a command runner's), as logging's own last-resort handler does."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass  # StreamHandler sets it when made; sys.stderr is looked up at each write instead


def configure_logging(log_format: str, level: str | int) -> None:
    """Put one handler of the app on the root logger, so that libraries' lines come out alike;
    the app's own loggers (`portfolio.*`) log from `level`."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _AppHandler)]:
        root.removeHandler(handler)  # the app made again (tests, the command line): one handler still
    handler = _AppHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(ContextFilter())
    root.addHandler(handler)
    logging.getLogger("portfolio").setLevel(level)


def configured() -> bool:
    """Whether the app's handler is on the root logger, as `init_app` puts it."""
    return any(isinstance(handler, _AppHandler) for handler in logging.getLogger().handlers)


def init_app(app: Flask) -> None:
    """Log as configured, and give every request an id. Call it first, so that the id is set
    before any other hook runs and may log."""
    configure_logging(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    app.logger.removeHandler(default_handler)  # the root handler writes the app's lines too
    app.before_request(start_request)
    app.after_request(note_response)
    app.teardown_request(end_request)


@dataclass
class _RequestLog:
    request_id: str
    started: float
    token: Token[LogContext]
    status: int = 500  # what the client gets if no response is made
    user_id: int | None = None


def sane_request_id(header: str | None) -> str | None:
    """The request id a client or balancer sent, if it is one we can log and echo as it is."""
    return header if header and _SANE_REQUEST_ID.fullmatch(header) else None


def start_request() -> None:
    request_id = sane_request_id(request.headers.get(REQUEST_ID_HEADER)) or uuid.uuid4().hex
    token = _context.set(LogContext(request_id=request_id))
    g.request_log = _RequestLog(request_id, time.perf_counter(), token)


def note_response(response: Response) -> Response:
    """Echo the request's id, and note what the access line will say."""
    state: _RequestLog | None = g.get("request_log")
    if state is not None:
        response.headers[REQUEST_ID_HEADER] = state.request_id
        state.status = response.status_code
        state.user_id = _signed_in_user_id()
    return response


def keep_path_out_of_logs() -> None:
    """For a view whose address holds a secret (a calendar link): its access line gives the
    route's pattern, such as `/calendar/<token>.ics`, instead of the path."""
    if request.url_rule is not None:
        g.logged_path = _ROUTE_ARGUMENT.sub(r"<\1>", request.url_rule.rule)


def end_request(error: BaseException | None) -> None:
    """As the request's context ends (for a response streamed with `stream_with_context`, after
    its last byte): the access line and the request's metrics, then the id leaves this thread."""
    state: _RequestLog | None = g.pop("request_log", None)
    if state is None:
        return
    try:
        seconds = time.perf_counter() - state.started
        path = g.get("logged_path") or logged_path()
        fields = {
            "method": request.method,
            "path": path,  # never the query string, which may carry a token
            "endpoint": request.endpoint,
            "status": state.status,
            "duration_ms": round(seconds * 1000, 1),
            "user_id": state.user_id,
        }
        logging.getLogger(ACCESS_LOGGER).info(
            "%s %s %s %.1f ms", request.method, _one_line(path), state.status, seconds * 1000, extra=fields
        )
        metrics.observe_request(request.endpoint, state.status, seconds)
    finally:
        _context.reset(state.token)


def _signed_in_user_id() -> int | None:
    """The signed-in user's database id, if Flask-Login loaded one for this request.

    Read from what Flask-Login keeps in `g` rather than `current_user`, which would load the user
    for a static file or a probe (a query, failing while the database is down), and from the row's
    identity, which no expired attribute can turn into a query. Never `get_id()`: that is the
    session's token."""
    user = g.get("_login_user")
    if not isinstance(user, User):
        return None
    identity: tuple | None = inspect(user).identity
    return identity[0] if identity else None


def logged_path() -> str:
    """The request's path as the access line shows it: a URL argument named `token` (an emailed
    link's secret) is a secret, and is left out."""
    path = request.path
    token = (request.view_args or {}).get("token")
    if not isinstance(token, str) or not token or token not in path:
        return path
    before, _, after = path.rpartition(token)
    return f"{before}[token]{after}"


def _one_line(text: str) -> str:
    """A path as it may stand in a text line: a decoded %0A must not start a forged line."""
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)
