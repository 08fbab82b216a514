"""The calendar page (make, replace or turn off one's link) and the feed the link opens."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from ..core import clock, logs
from ..core.error_pages import render_error
from ..core.forms import ConfirmForm
from ..core.sign_in_sessions import token_hash
from ..core.web import attempt
from ..extensions import db
from ..models.types import utcnow
from .domain import TOKEN_BYTES, active_feed, feed_events, feed_with_token, make_link, turn_off
from .ics import calendar_file

bp = Blueprint("calendar", __name__, template_folder="templates", url_prefix="/calendar")

# The token of a link just made, kept for the page shown next (the signed session cookie already
# holds a secret worth more, the sign-in's token) and taken out as that page shows it, once.
NEW_LINK = "calendar_link"
FEED_HEADERS = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",  # the address is the secret
}
MAX_TOKEN = 4 * TOKEN_BYTES  # longer is no token of ours: 404 without hashing it


@bp.route("")
@login_required
def index():
    feed = active_feed(db.session, current_user)
    token = session.pop(NEW_LINK, None)
    shown = feed is not None and token and token_hash(token) == feed.token_hash  # not replaced meanwhile
    new_url = url_for(".feed", token=token, _external=True) if shown else None
    return render_template("calendar/index.html", feed=feed, new_url=new_url)


@bp.post("/link")
@login_required
def link():
    user = current_user._get_current_object()  # the row itself, to lock
    if ConfirmForm().validate_on_submit():
        made = attempt(
            lambda: make_link(db.session, user),
            lambda made: "Your calendar link has been replaced" if made.replaced else "Your calendar link is ready",
        )
        if made:
            session[NEW_LINK] = made.token
    return redirect(url_for(".index"), code=303)


@bp.post("/turn-off")
@login_required
def turn_off_link():
    user = current_user._get_current_object()
    if ConfirmForm().validate_on_submit():
        attempt(lambda: turn_off(db.session, user), "Your calendar link has been turned off")
    return redirect(url_for(".index"), code=303)


@bp.route(f"/<string(maxlength={MAX_TOKEN}):token>.ics")
def feed(token: str):
    logs.keep_path_out_of_logs()
    calendar_feed = feed_with_token(db.session, token)
    if calendar_feed is None:
        page, status = render_error(404)
        return Response(page, status, headers=FEED_HEADERS, mimetype="text/html")
    events = feed_events(db.session, calendar_feed.user, clock.today())
    body = calendar_file(
        events,
        name="Apprenticeship portfolio: progress reviews and deadlines",
        uid_domain=request.host,
        page_url=lambda endpoint, values: url_for(endpoint, **values, _external=True),
        now=utcnow(),
    )
    return Response(body, headers=FEED_HEADERS, content_type="text/calendar; charset=utf-8")
