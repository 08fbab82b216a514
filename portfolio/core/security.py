"""Sign-in plumbing and the security headers on every response."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Response, current_app, g, request, session
from flask_login import current_user, login_user

from ..extensions import db, login_manager
from ..models import User
from . import sign_in_sessions

# Only the app's own origin; no inline script or style, no framing.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Sign in to see that page"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
    app.before_request(keep_session_alive)
    app.after_request(set_security_headers)


def session_lifetime() -> timedelta:
    return timedelta(hours=float(current_app.config["SESSION_MAX_HOURS"]))


def start_session(user: User) -> None:
    """Sign this browser in to a new server-side session, with a new CSRF token; the caller commits."""
    # A fresh cookie session: nothing from before signing in carries over (session fixation), and
    # flask_wtf makes a new CSRF token (it caches the old one for this request in `g`).
    session.clear()
    g.pop("csrf_token", None)
    sign_in_sessions.start(db.session, user)
    sign_in_sessions.prune(db.session, lifetime=session_lifetime())
    login_user(user)


def load_user(token: str) -> User | None:
    """The cookie holds a session's token: its user, if the session is open, recent and young enough."""
    row = sign_in_sessions.load(
        db.session,
        token,
        idle=timedelta(minutes=float(current_app.config["SESSION_IDLE_MINUTES"])),
        lifetime=session_lifetime(),
    )
    if row is None:
        return None
    g.sign_in_session = row
    return row.user


def keep_session_alive() -> None:
    """Before a request: note that its session is in use (at most once a minute), before the view
    has changed anything, so that committing here commits nothing else."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return
    row = g.get("sign_in_session")
    if row is not None and sign_in_sessions.needs_touch(row):
        sign_in_sessions.touch(db.session, row)
        db.session.commit()


def set_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    # A view may send less: a calendar feed, a page with a secret in its address, send none.
    headers.setdefault("Referrer-Policy", "same-origin")
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    personal = current_user and current_user.is_authenticated and not request.path.startswith("/static/")
    # Personal pages stay out of shared caches (a view's own no-store, "private, no-store", stands).
    if personal and "no-store" not in headers.get("Cache-Control", ""):
        headers["Cache-Control"] = "no-store"
    return response
