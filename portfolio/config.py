"""Settings: defaults here, overridden by PORTFOLIO_* environment variables, then by tests."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

FILES_PER_REQUEST = 5

DEFAULTS: dict[str, Any] = {
    "MAX_UPLOAD_MB": 50,
    "SESSION_COOKIE_SECURE": False,
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_MAX_HOURS": 12,
    "SIGN_IN_ATTEMPTS_PER_ACCOUNT": 5,
    "SIGN_IN_FIRST_DELAY_SECONDS": 5,
    "SIGN_IN_MAX_DELAY_MINUTES": 15,
    "SIGN_IN_ACCOUNTS_PER_ADDRESS": 20,
    "SIGN_IN_WINDOW_MINUTES": 15,
    "PAGE_SIZE": 25,
    "PROXY_FIX": False,
}


def configure(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Load settings and derive the ones Flask and its extensions read."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("PORTFOLIO")
    if test_config:
        app.config.update(test_config)

    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(instance / "secret-key")
    url = app.config.get("DATABASE_URL") or f"sqlite:///{instance / 'portfolio.db'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url(url)
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


def _instance_secret(path: Path) -> str:
    """A random key kept in the instance folder, so sessions survive restarts without a default key."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_hex(32)
        path.write_text(key)
        path.chmod(0o600)
        return key
