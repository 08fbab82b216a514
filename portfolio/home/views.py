"""The home page of each role, and the overview of one enrolment."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, send_from_directory, url_for
from flask_login import current_user, login_required

from standard import roll_up

from ..assessment.domain import AFTER_GATEWAY, assessment_overview, may_record
from ..core.access import enrolments_visible_to, get_enrolment_or_404, may_read_audit_trail
from ..core.listing import choice_arg, paginate, search_text
from ..enrolments.queries import enrolments_matching, enrolments_newest_first, with_everyone_named
from ..evidence.items import criterion_statuses, may_add_evidence
from ..extensions import db
from ..gateway.behaviours import may_verify_behaviours, verification_state
from ..models import Enrolment, EnrolmentStatus, Role
from ..training_plan.summary import plan_summary, scan_summary
from .todo import todo_list

bp = Blueprint("home", __name__, template_folder="templates")

# What a list or overview of enrolments shows, fetched with the enrolments in one query.
ENROLMENT_DETAILS = with_everyone_named(yaml=False)


@bp.route("/")
@login_required
def index():
    if current_user.role is Role.ADMIN:
        return redirect(url_for("admin.index"))
    if current_user.role is Role.APPRENTICE:
        return apprentice_home()
    return enrolments_home()


def apprentice_home():
    enrolments = enrolments_newest_first(db.session, current_user)
    current = next((e for e in enrolments if e.status is not EnrolmentStatus.WITHDRAWN), None)
    current = current or (enrolments[0] if enrolments else None)
    return render_template(
        "home/apprentice.html",
        enrolment=current,
        others=[e for e in enrolments if e is not current],
        todo=todo_list(db.session, current_user) if current else None,
        **(_at_a_glance(current) if current else {}),
    )


def enrolments_home():
    query = search_text()
    status = choice_arg("status", EnrolmentStatus)
    visible = enrolments_visible_to(current_user).options(*ENROLMENT_DETAILS)
    page = paginate(enrolments_matching(visible, query, status))
    return render_template(
        "home/enrolments.html",
        page=page,
        query=query,
        status=status,
        statuses=list(EnrolmentStatus),
        todo=todo_list(db.session, current_user),
    )


@bp.route("/enrolments/<int:enrolment_id>")
@login_required
def enrolment(enrolment_id: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id)
    return render_template(
        "home/enrolment.html",
        enrolment=enrolment,
        may_read_audit_trail=may_read_audit_trail(current_user, enrolment),
        skills_scan=scan_summary(db.session, enrolment),
        training_plan=plan_summary(db.session, enrolment),
        **_at_a_glance(enrolment),
    )


def _at_a_glance(enrolment: Enrolment) -> dict:
    """What the enrolment overview shows besides the enrolment: coverage, whether one may add
    evidence, and the employer's verification of the behaviours where the standard asks for it."""
    standard = enrolment.standard_version.standard
    return {
        "standard": standard,
        "coverage": roll_up(standard, criterion_statuses(db.session, enrolment)),
        "may_add": may_add_evidence(current_user, enrolment),
        # After the gateway to completion: the assessment result (no query before).
        "assessment": assessment_overview(db.session, enrolment) if enrolment.status in AFTER_GATEWAY else None,
        "may_record": may_record(current_user, enrolment),
        "behaviours": verification_state(db.session, enrolment),
        "may_verify_behaviours": may_verify_behaviours(current_user, enrolment),
    }


@bp.route("/favicon.ico")
def favicon():
    return send_from_directory(current_app.static_folder, "images/favicon.ico", mimetype="image/vnd.microsoft.icon")
