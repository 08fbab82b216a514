"""Signing in and out, one's own password and email address, and the pages of emailed links
(a password reset, an invitation, an email change)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Blueprint, Response, flash, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from ..accounts.domain import change_password
from ..core import audit, security, sign_in_sessions
from ..core.domain import DomainError
from ..core.forms import ConfirmForm
from ..core.text import clean_line
from ..core.web import Refused, attempt, show_error
from ..extensions import db
from ..models import TokenPurpose, User
from . import links, throttle
from .email_change import ask_to_change_email, confirm_email_change, pending_email_change
from .forms import ChangeEmailForm, ChangePasswordForm, ForgottenPasswordForm, NewPasswordForm, SignInForm
from .invitations import accept_invitation
from .links import LinkRefused
from .password_reset import ask_for_password_reset, reset_password_with_link
from .queries import user_with_email

bp = Blueprint("auth", __name__, template_folder="templates")

WRONG_DETAILS = "Enter a correct email address and password"
# Checked against when no account matches, so that both answers take as long.
_DUMMY_HASH = generate_password_hash("not a real password", method="scrypt")


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = SignInForm()
    status = 200
    if form.validate_on_submit():
        email = clean_line(form.email.data).lower()  # as accounts stores it
        address = request.remote_addr or "unknown"
        wait = throttle.claim(db.session, email, address)
        if wait is not None:
            db.session.rollback()  # nothing was checked, so nothing to keep
            form.email.errors.append(throttle.wait_message(wait))
            status = 429
        else:
            user = user_with_email(db.session, email)
            if user is not None and user.has_usable_password:
                correct = user.check_password(form.password.data) and user.active
            else:  # an invited account without a password yet takes as long as one that does not exist
                check_password_hash(_DUMMY_HASH, form.password.data)
                correct = False
            if correct:
                throttle.succeeded(db.session, email, address)
            # Never what was typed: an email box may hold a password. A known account is named by its id.
            audit.record(
                db.session,
                "auth.signed_in" if correct else "auth.sign_in_failed",
                actor=user if correct else None,  # a failure is by whoever typed the email, not its owner
                subject_type="user",
                subject_id=user.id if user else None,
                after={"address": address},
            )
            if correct:
                security.start_session(user)
            db.session.commit()
            if correct:
                return redirect(_safe_next(request.args.get("next")))
            form.email.errors.append(WRONG_DETAILS)
    return render_template("auth/sign_in.html", form=form), status


@bp.post("/sign-out")
def sign_out():
    if current_user.is_authenticated:
        sign_in_sessions.end(db.session, current_user.get_id())
        audit.record(db.session, "auth.signed_out", actor=current_user, subject_type="user", subject_id=current_user.id)
        db.session.commit()
    logout_user()
    session.clear()
    flash("You have signed out", "success")
    return redirect(url_for("auth.sign_in"))


@bp.route("/account/password", endpoint="change_password", methods=["GET", "POST"])
@login_required
def change_password_view():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()

        def change() -> None:
            change_password(
                user, form.current_password.data, form.new_password.data, address=request.remote_addr or "unknown"
            )
            security.start_session(user)  # every session of the account ended: this browser carries on in a new one

        # Kept even on an error: a wrong current password counts in the throttle, and nothing else changed.
        if attempt(
            change,
            "Your password has been changed",
            form=form,
            aliases={"password": "new_password"},
            keep_on_error=True,
        ):
            return redirect(url_for("home.index"))
    return render_template(
        "auth/change_password.html", form=form, pending_change=pending_email_change(db.session, current_user)
    )


@bp.route("/account/email", endpoint="change_email", methods=["GET", "POST"])
@login_required
def change_email_view():
    form = ChangeEmailForm()
    lasts = links.lifetime_text(TokenPurpose.EMAIL_CHANGE)
    if form.validate_on_submit():
        user = current_user._get_current_object()
        # Kept even on an error: a wrong current password counts in the throttle, and nothing else changed.
        if attempt(
            lambda: ask_to_change_email(
                user, form.email.data, form.current_password.data, address=request.remote_addr or "unknown"
            ),
            lambda email: f"We have sent a link to {email}. Follow it within {lasts} to start using that address.",
            form=form,
            keep_on_error=True,
        ):
            return redirect(url_for("auth.change_password"))
    return render_template("auth/change_email.html", form=form, lasts=lasts)


# Emailed links. The token is in the path: the access log leaves it out (core/logs.py), and these
# pages are neither cached nor named in a Referer.


@bp.route("/forgotten-password", methods=["GET", "POST"])
def forgotten_password():
    form = ForgottenPasswordForm()
    if form.validate_on_submit():
        address = request.remote_addr or "unknown"
        if attempt(lambda: ask_for_password_reset(db.session, form.email.data, address), form=form):
            return redirect(url_for("auth.reset_link_sent"), 303)
    return render_template("auth/forgotten_password.html", form=form)


@bp.get("/forgotten-password/sent")
def reset_link_sent():
    # The same page whatever was asked: whether the address has an account is never said.
    return render_template("auth/reset_link_sent.html", lasts=links.lifetime_text(TokenPurpose.RESET_PASSWORD))


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    return _choose_password(
        token,
        TokenPurpose.RESET_PASSWORD,
        lambda password: reset_password_with_link(db.session, token, password),
        "Your password has been reset. Sign in with your new password.",
        "auth.sign_in",
    )


@bp.route("/accept-invitation/<token>", endpoint="accept_invitation", methods=["GET", "POST"])
def accept_invitation_view(token: str):
    def accept(password: str) -> User:
        user = accept_invitation(db.session, token, password)
        security.start_session(user)  # they chose their password just now: they are in
        return user

    return _choose_password(
        token,
        TokenPurpose.INVITATION,
        accept,
        "Your password is set and you are signed in. Welcome to the apprenticeship portfolio.",
        "home.index",
    )


def _choose_password(token: str, purpose: TokenPurpose, act: Callable[[str], User], success: str, then: str):
    """The page of a link that sets the account's password (a reset or an invitation): `act` sets
    it, then the browser goes to the page `then`."""
    opened = _open(token, purpose)
    if isinstance(opened, Response):
        return opened
    form = NewPasswordForm()
    if form.validate_on_submit():
        # Kept on an error: a link refused while it was being used is recorded; nothing else changed.
        outcome = attempt(lambda: act(form.new_password.data), success, keep_on_error=True, quiet=True)
        if isinstance(outcome, Refused):
            if isinstance(outcome.error, LinkRefused):
                return _refused(outcome.error)
            show_error(form, outcome.error, aliases={"password": "new_password"}, default="new_password")
        else:
            return redirect(url_for(then))
    template = "auth/reset_password.html" if purpose is TokenPurpose.RESET_PASSWORD else "auth/accept_invitation.html"
    return _private(render_template(template, form=form, user=opened.user))


@bp.route("/confirm-email/<token>", methods=["GET", "POST"])
def confirm_email(token: str):
    opened = _open(token, TokenPurpose.EMAIL_CHANGE)
    if isinstance(opened, Response):
        return opened
    form = ConfirmForm()
    if form.validate_on_submit():
        outcome = attempt(lambda: confirm_email_change(db.session, token), keep_on_error=True, quiet=True)
        if isinstance(outcome, Refused):
            return _refused(outcome.error)
        flash(f"Your email address is now {outcome.email}", "success")
        return redirect(url_for("home.index" if current_user.is_authenticated else "auth.sign_in"))
    return _private(render_template("auth/confirm_email.html", form=form, link=opened))


def _open(token: str, purpose: TokenPurpose):
    """The link, or the page saying why it cannot be used."""
    try:
        return links.open_link(db.session, token, purpose)
    except LinkRefused as error:
        return _refused(error)


def _refused(error: DomainError):
    """A plain page saying why the link did not work, with the way to ask again. The refusal was
    recorded on the audit trail (if the link is ours): kept."""
    db.session.commit()
    status = 409  # the link works, but what it asks for cannot be done now
    if isinstance(error, LinkRefused):
        status = 404 if error.reason in ("unknown", "wrong_purpose") else 410
    return _private(make_response(render_template("auth/link_refused.html", error=error), status))


def _private(page) -> Response:
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never another host (open redirect), never a line break (a
    split header) or a backslash (which browsers read as a slash: `/\\host`)."""
    if target and target.isprintable() and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("home.index")
