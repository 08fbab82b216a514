"""Signing in and out, and changing one's own password."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from .. import audit
from ..accounts import change_password
from ..domain import DomainError
from ..extensions import db
from ..models import User
from ..text import clean_line
from . import throttle
from .forms import ChangePasswordForm, SignInForm

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
        if throttle.too_many_failures(db.session, email, address):
            minutes = current_app.config["SIGN_IN_WINDOW_MINUTES"]
            form.email.errors.append(f"Too many failed attempts to sign in. Wait {minutes} minutes, then try again.")
            status = 429
        else:
            user = db.session.scalar(select(User).where(User.email == email))
            if user is not None:
                correct = user.check_password(form.password.data) and user.active
            else:
                check_password_hash(_DUMMY_HASH, form.password.data)
                correct = False
            throttle.record_attempt(db.session, email, address, succeeded=correct)
            audit.record(
                db.session,
                "auth.signed_in" if correct else "auth.sign_in_failed",
                actor=user if correct else None,  # a failure is by whoever typed the email, not its owner
                subject_type="user",
                subject_id=user.id if user else None,
                after={"email": email, "address": address},  # never the password
            )
            db.session.commit()
            if correct:
                login_user(user)
                return redirect(_safe_next(request.args.get("next")))
            form.email.errors.append(WRONG_DETAILS)
            status = 200
    return render_template("auth/sign_in.html", form=form), status


@bp.post("/sign-out")
def sign_out():
    if current_user.is_authenticated:
        audit.record(db.session, "auth.signed_out", actor=current_user, subject_type="user", subject_id=current_user.id)
        db.session.commit()
    logout_user()
    flash("You have signed out", "success")
    return redirect(url_for("auth.sign_in"))


@bp.route("/account/password", endpoint="change_password", methods=["GET", "POST"])
@login_required
def change_password_view():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            change_password(current_user, form.current_password.data, form.new_password.data)
        except DomainError as error:
            getattr(form, error.field if error.field != "password" else "new_password").errors.append(error.message)
        else:
            db.session.commit()
            # The session version changed: sign this session in again, so only the others end.
            login_user(current_user._get_current_object())
            flash("Your password has been changed", "success")
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
