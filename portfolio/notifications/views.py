"""The notifications list, following a notification, marking them read, the settings, and the
administrators' page of the mail the service has sent or is trying to send."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ..core.access import admin_required
from ..core.listing import choice_arg, paginate
from ..core.web import attempt
from ..extensions import db
from ..models.notifications import MailStatus, OutboxMessage
from . import domain
from .forms import MarkReadForm, settings_form
from .kinds import kinds_for

bp = Blueprint("notifications", __name__, template_folder="templates")


@bp.route("/notifications")
@login_required
def index():
    unread_only = request.args.get("show") == "unread"
    return render_template(
        "notifications/index.html",
        page=paginate(domain.notifications_of(current_user, unread_only=unread_only)),
        unread_only=unread_only,
        form=MarkReadForm(),
    )


@bp.route("/notifications/<int:notification_id>")
@login_required
def open_one(notification_id: int):
    notification = domain.open_notification(db.session, current_user, notification_id)
    if notification is None:
        abort(404)
    db.session.commit()
    return redirect(notification.link)


@bp.route("/notifications/read", methods=["POST"])
@login_required
def mark_read():
    form = MarkReadForm()
    if form.validate_on_submit():
        attempt(lambda: domain.mark_read(db.session, current_user), "Every notification is marked as read")
    return redirect(url_for("notifications.index"))


@bp.route("/notifications/settings", methods=["GET", "POST"])
@login_required
def settings():
    kinds = kinds_for(current_user.role)
    form = settings_form(
        kinds, domain.preferences(db.session, current_user), request.form if request.method == "POST" else None
    )
    if form.validate_on_submit():
        choices = {kind: form[kind.value].data for kind in kinds}
        if attempt(
            lambda: domain.set_preferences(db.session, current_user, choices), "Your notification settings are saved"
        ):
            return redirect(url_for("notifications.settings"))
    return render_template("notifications/settings.html", form=form, kinds=kinds)


@bp.route("/admin/mail")
@admin_required
def mail_log():
    status = choice_arg("status", MailStatus)
    statement = select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    if status is not None:
        statement = statement.where(OutboxMessage.status == status)
    return render_template(
        "notifications/mail_log.html", page=paginate(statement), status=status, statuses=list(MailStatus)
    )
