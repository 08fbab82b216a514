"""Signing in and out, and changing one's own password."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from ..accounts.domain import change_password
from ..core import audit, security, sign_in_sessions
from ..core.text import clean_line
from ..core.web import attempt
from ..extensions import db
from . import throttle
from .forms import ChangePasswordForm, SignInForm
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
            if user is not None:
                correct = user.check_password(form.password.data) and user.active
            else:
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
    return render_template("auth/change_password.html", form=form)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never another host (open redirect), never a line break (a
    split header) or a backslash (which browsers read as a slash: `/\\host`)."""
    if target and target.isprintable() and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("home.index")
