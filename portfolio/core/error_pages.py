"""Error pages in the service's own design; no page shows a traceback."""

from __future__ import annotations

from flask import Flask, current_app, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..config import FILES_PER_REQUEST
from ..extensions import db

MESSAGES = {
    400: ("There is a problem with your request", "Go back, check what you entered and try again."),
    403: ("You cannot do that", "Go back and try something else."),
    404: (
        "Page not found",
        "If you typed the web address, check it is correct. If you followed a link, "
        "the page may have moved or you may not have access to it.",
    ),
    405: ("Page not found", "That page cannot be reached this way."),
    413: ("The upload is too large", ""),
    429: ("Too many attempts", "Wait a few minutes and try again."),
    500: ("Sorry, there is a problem with the service", "Try again later. Nothing you entered has been saved."),
}


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(InternalServerError, server_error)


def render_error(status: int, title: str | None = None, message: str | None = None):
    default_title, default_message = MESSAGES.get(status, MESSAGES[400])
    if status == 413:
        limit = current_app.config["MAX_UPLOAD_MB"]
        default_message = (
            f"Each file must be smaller than {limit} MB, and one upload can carry up to "
            f"{FILES_PER_REQUEST} such files. Nothing has been saved."
        )
    return render_template(
        "error.html", status=status, title=title or default_title, message=message or default_message
    ), status


def csrf_error(error: CSRFError):
    return render_error(
        400,
        "Your form could not be sent",
        "The page was open too long or was sent from somewhere else, so nothing has been saved. "
        "Go back, reload the page and try again.",
    )


def http_error(error: HTTPException):
    if error.code is None or error.code < 400:
        return error
    return render_error(error.code if error.code in MESSAGES else 400)


def server_error(error: Exception):
    db.session.rollback()
    return render_error(500)
