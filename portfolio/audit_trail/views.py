"""The audit trail's pages: an enrolment's trail for its tutors and administrators, and every
event for administrators. Reading the trail records nothing: viewing is not a change."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from ..core.access import admin_required, get_enrolment_or_404, may_read_audit_trail
from ..core.listing import id_arg, paginate, search_text
from ..extensions import db
from .presentation import ACTION_LABELS, shown_events
from .queries import enrolment_events, events_matching

bp = Blueprint("audit_trail", __name__, template_folder="templates")

LARGEST_ID = 2**31 - 1  # a database integer: a larger number in a filter is no enrolment


@bp.route("/enrolments/<int:enrolment_id>/audit")
@login_required
def enrolment_trail(enrolment_id: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id, may=may_read_audit_trail)
    page = paginate(enrolment_events(enrolment.id))
    return render_template(
        "audit_trail/enrolment.html",
        enrolment=enrolment,
        page=page,
        events=shown_events(db.session, page.items, current_user),
    )


@bp.route("/admin/audit")
@admin_required
def all_events():
    action = search_text("action", max_length=60)
    enrolment_id = id_arg("enrolment")
    if enrolment_id is not None and not 1 <= enrolment_id <= LARGEST_ID:
        enrolment_id = None
    page = paginate(events_matching(action, enrolment_id))
    actions = sorted(ACTION_LABELS.items(), key=lambda pair: pair[1])
    return render_template(
        "audit_trail/all_events.html",
        page=page,
        events=shown_events(db.session, page.items, current_user),
        actions=actions,
        action=action,
        enrolment_id=enrolment_id,
    )
