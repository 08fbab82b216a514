"""The assessor's form for recording an attempt at the apprenticeship assessment."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..core.access import get_enrolment_or_404
from ..core.web import attempt
from ..extensions import db
from ..gateway.domain import is_assessor_of
from .domain import assessment_overview, may_record, record_result
from .forms import result_form

bp = Blueprint("assessment", __name__, template_folder="templates", url_prefix="/enrolments/<int:enrolment_id>")


@bp.route("/assessment/result", methods=["GET", "POST"])
@login_required
def record(enrolment_id: int):
    # Only the assessment organisation's assessors have the form: to anyone else it does not exist.
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id, may=is_assessor_of)
    result_page = url_for("gateway.gateway", enrolment_id=enrolment_id, _anchor="assessment-result")
    overview = assessment_overview(db.session, enrolment)
    plan, number = overview.plan, overview.next_number
    # A form sent for an attempt recorded meanwhile (by a colleague at the same moment) is read as
    # that attempt's form, so that the domain refuses it saying who recorded it.
    posted = request.form.get("attempt", "") if request.method == "POST" else ""
    stale = posted.isascii() and posted.isdigit() and len(posted) <= 6 and 1 <= int(posted) < number
    if plan is None or not (stale or may_record(current_user, enrolment)):
        flash(
            "No result can be recorded for this apprenticeship: "
            + (
                "its standard holds no assessment plan yet"
                if plan is None
                else f"it is {enrolment.status.label.lower()}, not in assessment"
            ),
            "error",
        )
        return redirect(result_page)
    if stale:
        form = result_form(plan, int(posted), {})
    else:
        initial = {"attempt": str(number)} if request.method == "GET" else None
        form = result_form(plan, number, overview.carried, data=initial)
    if form.validate_on_submit():
        recorded = attempt(
            lambda: record_result(
                db.session,
                enrolment,
                by=current_user,
                attempt=form.attempt_number,
                kind=form.kind_chosen,
                methods=form.outcomes,
                grade=form.grade.data,
                note=form.note.data or "",
            ),
            lambda done: (
                f"Attempt {done.number} recorded: {done.grade}"
                + (f". {enrolment.apprentice.name} has completed the apprenticeship" if done.passed else "")
            ),
            form=form,
        )
        if recorded or recorded.flashed:  # recorded, or refused for what the form cannot show (recorded meanwhile)
            return redirect(result_page)
    return render_template("assessment/record.html", enrolment=enrolment, overview=overview, plan=plan, form=form)
