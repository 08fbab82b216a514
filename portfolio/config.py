"""Settings: defaults here, overridden by PORTFOLIO_* environment variables, then by tests."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask

from filestore import DEFAULT_MAX_PIXELS

FILES_PER_REQUEST = 5
MIN_AUDIT_KEY_LENGTH = 32  # a short key could be guessed from the hashes it made

DEFAULTS: dict[str, Any] = {
    "MAX_UPLOAD_MB": 50,
    "MAX_IMAGE_MEGAPIXELS": DEFAULT_MAX_PIXELS // 1_000_000,  # why 50: see filestore/images.py
    "SESSION_COOKIE_SECURE": False,
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_MAX_HOURS": 12,
    "SIGN_IN_ATTEMPTS_PER_ACCOUNT": 5,
    "SIGN_IN_FIRST_DELAY_SECONDS": 5,
    "SIGN_IN_MAX_DELAY_MINUTES": 15,
    "SIGN_IN_ACCOUNTS_PER_ADDRESS": 20,
    "SIGN_IN_WINDOW_MINUTES": 15,
    # Emailed single-use links (auth/links.py): how long each works, and how many may be asked for
    # per account and per network address in EMAILED_LINKS_WINDOW_MINUTES by people not signed in.
    "PASSWORD_RESET_MINUTES": 60,
    "INVITATION_DAYS": 7,
    "EMAIL_CHANGE_HOURS": 24,
    "EMAILED_LINKS_PER_ACCOUNT": 3,
    "EMAILED_LINKS_PER_ADDRESS": 20,
    "EMAILED_LINKS_WINDOW_MINUTES": 60,
    "PAGE_SIZE": 25,
    "SWEEP_GRACE_HOURS": 24,
    "FILE_READINGS": True,  # PDF pages drawn and documents' text read, by a job, for the review workspace
    # A finished export is kept this long for downloading again; one still pending after the
    # second limit (its worker died) is marked failed, so that it can be asked for again.
    "EXPORT_KEEP_HOURS": 24 * 7,
    "EXPORT_UNFINISHED_MINUTES": 60,
    # Evidence in an S3-compatible bucket (s3://bucket/prefix) instead of EVIDENCE_DIR; the endpoint
    # names a service other than AWS (MinIO, Ceph RGW). See core/storage.py.
    "EVIDENCE_URL": "",
    "S3_ENDPOINT_URL": "",
    "PROXY_FIX": False,
    # Database connections per process. gthread workers share one pool; the overflow covers bursts.
    "DATABASE_POOL_SIZE": 5,
    "DATABASE_MAX_OVERFLOW": 10,
    "DATABASE_POOL_RECYCLE_SECONDS": 1800,
    # Keys of the audit chain (audit.py). AUDIT_KEY makes new events; AUDIT_KEYS_OLD, keys
    # rotated out, still verify the events they made.
    "AUDIT_KEY": "",
    "AUDIT_KEYS_OLD": [],
    # Logs (core/logs.py): "json" or "text"; unset, JSON unless debugging or testing.
    "LOG_FORMAT": None,
    "LOG_LEVEL": "INFO",
    # Email (notifications/mail.py). Without a server, mail is written to the log and kept on the
    # administrators' Mail page, so that the demo needs none. BASE_URL starts the links in emails.
    "MAIL_SERVER": "",
    "MAIL_PORT": 0,  # 0: 587 with TLS, else 25
    "MAIL_USERNAME": "",
    "MAIL_PASSWORD": "",
    "MAIL_USE_TLS": False,
    "MAIL_SENDER": "Apprenticeship portfolio <portfolio@localhost>",
    "BASE_URL": "http://127.0.0.1:5000",
    # Reminders (reminders/domain.py): a signature awaited this many days, evidence waiting for review
    # this many working days, off-the-job hours behind the expected pace by more than this percentage.
    "REMINDER_SIGNATURE_DAYS": 7,
    "REMINDER_REVIEW_WORKING_DAYS": 5,
    "REMINDER_OTJ_MARGIN_PERCENT": 10,
    # How long an emailed link to sign a witness testimony or a progress review works (signing/).
    "SIGNING_REQUEST_DAYS": 14,
    # A folder of funding rule set files (YAML) replacing or adding to the shipped funding years.
    "FUNDING_RULES_DIR": "",
    # Who may read /metrics (operations/scraping.py); with neither set, /metrics is off.
    "METRICS_TOKEN": "",
    "METRICS_ALLOW": [],
    # The zone that pages, PDFs and downloads show times in (an IANA name). Times are stored in
    # UTC; the apprenticeship rules' "today" stays England's whatever this says (core/clock.py).
    "TIMEZONE": "Europe/London",
}
# Taken as typed: from_prefixed_env would read a key or token of digits as a number.
_RAW_TEXT_SETTINGS = ("AUDIT_KEY", "AUDIT_KEYS_OLD", "METRICS_TOKEN", "METRICS_ALLOW", "MAIL_USERNAME", "MAIL_PASSWORD")
LOG_FORMATS = ("json", "text")
REMINDER_LIMITS = (
    ("REMINDER_SIGNATURE_DAYS", 1, 365),
    ("REMINDER_REVIEW_WORKING_DAYS", 1, 260),
    ("REMINDER_OTJ_MARGIN_PERCENT", 0, 99),
)


class MissingSetting(RuntimeError):
    """A setting production cannot run without; the message says which and how to set it."""


class BadSetting(RuntimeError):
    """A setting whose value cannot work; the message names it and says why."""


def configure(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Load settings and derive the ones Flask and its extensions read."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("PORTFOLIO")
    for name in _RAW_TEXT_SETTINGS:
        if f"PORTFOLIO_{name}" in os.environ:
            app.config[name] = os.environ[f"PORTFOLIO_{name}"]
    if test_config:
        app.config.update(test_config)

    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    url = app.config.get("DATABASE_URL") or f"sqlite:///{instance / 'portfolio.db'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url(url)
    for name in ("SECRET_KEY", "AUDIT_KEY"):
        if app.config.get(name):
            continue
        if is_server_database(app.config["SQLALCHEMY_DATABASE_URI"]) and not (app.debug or app.testing):
            # A server database means several workers and hosts: each would make a key of its own,
            # signing users out whenever the balancer moves them (and splitting the audit chain).
            raise MissingSetting(
                f"Set PORTFOLIO_{name} (the same on every host) to run on PostgreSQL; a key made per "
                "host works only for the embedded SQLite database. See the README, Configuration."
            )
        # Never in the database: whoever can write there must not be able to re-key the audit chain.
        app.config[name] = _instance_secret(instance / name.lower().replace("_", "-"))
    app.config["AUDIT_KEYS_OLD"] = key_list(app.config["AUDIT_KEYS_OLD"])
    if len(app.config["AUDIT_KEY"]) < MIN_AUDIT_KEY_LENGTH:
        raise ValueError(f"PORTFOLIO_AUDIT_KEY must be at least {MIN_AUDIT_KEY_LENGTH} characters long")
    if app.config["AUDIT_KEY"] == app.config["SECRET_KEY"]:
        raise ValueError("PORTFOLIO_AUDIT_KEY must differ from PORTFOLIO_SECRET_KEY")
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config)
    # A person reads the console while debugging; a log collector reads production's lines.
    app.config["LOG_FORMAT"] = app.config["LOG_FORMAT"] or ("text" if app.debug or app.testing else "json")
    if app.config["LOG_FORMAT"] not in LOG_FORMATS:
        raise ValueError(f"PORTFOLIO_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}")
    for name, lowest, highest in REMINDER_LIMITS:
        app.config[name] = whole_number(name, app.config[name], lowest, highest)
    app.config["METRICS_TOKEN"] = str(app.config["METRICS_TOKEN"] or "")
    app.config["METRICS_ALLOW"] = metrics_networks(app.config["METRICS_ALLOW"])
    app.config["TIMEZONE"] = time_zone_name(app.config["TIMEZONE"])
    app.config.setdefault("EVIDENCE_DIR", str(instance / "evidence-store"))
    # Each file may be MAX_UPLOAD_MB (the evidence store checks it and says so on the form); a
    # whole request may carry a few such files before the server refuses it outright (413).
    app.config["MAX_CONTENT_LENGTH"] = int((float(app.config["MAX_UPLOAD_MB"]) * FILES_PER_REQUEST + 1) * 1024 * 1024)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=app.config["SESSION_COOKIE_SECURE"],
        SESSION_COOKIE_NAME="portfolio_session",
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        # The signed cookie itself expires with the session's absolute lifetime; the session's row
        # (portfolio.sign_in_sessions) is what decides, and signing out ends it.
        PERMANENT_SESSION_LIFETIME=timedelta(hours=float(app.config["SESSION_MAX_HOURS"])),
    )


def database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain postgresql:// URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def engine_options(config) -> dict[str, Any]:
    """How the engine keeps its connections. A connection the database (or a proxy, or a
    failover) dropped is tested and replaced before use, instead of failing the next request."""
    if not is_server_database(config["SQLALCHEMY_DATABASE_URI"]):
        return {}  # a SQLite file never drops a connection: no ping on every checkout
    return {
        "pool_pre_ping": True,
        "pool_size": int(config["DATABASE_POOL_SIZE"]),
        "max_overflow": int(config["DATABASE_MAX_OVERFLOW"]),
        "pool_recycle": int(config["DATABASE_POOL_RECYCLE_SECONDS"]),
    }


def is_server_database(uri: str) -> bool:
    """PostgreSQL, shared by every worker and host, rather than the embedded SQLite file."""
    return uri.startswith("postgresql")


def whole_number(name: str, value: Any, lowest: int, highest: int) -> int:
    """A setting that must be a whole number from `lowest` to `highest`; BadSetting, saying so, if not."""
    try:
        number = int(str(value).strip())
    except ValueError:
        number = None
    if number is None or not lowest <= number <= highest:
        raise BadSetting(f"PORTFOLIO_{name} must be a whole number from {lowest} to {highest}, not {value!r}")
    return number


def key_list(value: str | list[str]) -> list[str]:
    """Keys given as a list, a JSON list or text separated by commas or spaces."""
    if isinstance(value, str):
        text = value.strip()
        value = json.loads(text) if text.startswith("[") else re.split(r"[\s,]+", text)
    return [str(key) for key in value if str(key).strip()]


def metrics_networks(value: str | list[str]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Networks given as addresses or CIDR blocks (`10.0.0.0/8, 192.0.2.7`); a typo stops the start."""
    found = []
    for text in key_list(value):
        try:
            found.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ValueError(f"PORTFOLIO_METRICS_ALLOW: {text!r} is not a network such as 10.0.0.0/8") from None
    return tuple(found)


def time_zone_name(value: object) -> str:
    """An IANA time zone's name, checked against the zone database; a typo stops the start."""
    name = str(value).strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # a path, an empty or overlong name: no key
        raise ValueError(
            f"PORTFOLIO_TIMEZONE: {name!r} is not a time zone of the IANA database, such as Europe/London"
        ) from None
    return name


def _instance_secret(path: Path) -> str:
    """A random key kept in the instance folder, so it survives restarts without a default key.

    Workers starting at once race to make it: each writes a whole key aside and links it into
    place, so the first wins and no worker ever reads a half-written key."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    aside = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    aside.write_text(secrets.token_hex(32))
    aside.chmod(0o600)
    try:
        os.link(aside, path)
    except FileExistsError:
        pass  # another worker's key is in place: use that one
    finally:
        aside.unlink()
    return path.read_text().strip()
