"""The off-the-job training log: the pages."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..core import clock
from ..core.access import get_enrolment_or_404, get_otj_entry_or_404
from ..core.forms import ConfirmForm
from ..core.listing import paginate
from ..core.web import attempt
from ..core.wording import hours_text
from ..extensions import db
from ..models import OtjActivity, OtjEntry, OtjStatus
from ..training_plan.plan import planned_hours_by
from ..training_plan.queries import agreed_plan_activities
from .chart import otj_chart
from .domain import (
    OtjDetails,
    approve_entries,
    approve_entry,
    delete_entry,
    enrolment_otj_summary,
    log_entry,
    may_approve,
    may_change_entry,
    may_log,
    pace_text,
    query_entries,
    query_entry,
    update_entry,
)
from .forms import OtjEntryForm, QueryForm
from .queries import log_entries

bp = Blueprint("otj", __name__, template_folder="templates", url_prefix="/enrolments/<int:enrolment_id>")


@bp.route("/otj")
@login_required
def otj(enrolment_id: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id)
    summary = enrolment_otj_summary(db.session, enrolment)
    status = request.args.get("status", "")
    status = status if status in {s.value for s in OtjStatus} else ""
    page = paginate(log_entries(enrolment.id, OtjStatus(status) if status else None))
    agreed = agreed_plan_activities(db.session, enrolment.id)
    return render_template(
        "otj/otj.html",
        enrolment=enrolment,
        summary=summary,
        agreed_plan=agreed,
        planned_to_date=planned_hours_by(agreed.activities, summary.today) if agreed else None,
        pace=pace_text(summary),
        chart=otj_chart(summary),
        page=page,
        status=status,
        statuses=list(OtjStatus),
        may_log=may_log(current_user, enrolment),
        may_approve=may_approve(current_user, enrolment),
        form=ConfirmForm(),
    )


@bp.route("/otj/new", methods=["GET", "POST"])
@login_required
def new_entry(enrolment_id: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id, may=may_log)
    today = clock.today()
    form = OtjEntryForm(enrolment=enrolment, today=today)
    if form.validate_on_submit() and attempt(
        lambda: log_entry(db.session, enrolment=enrolment, by=current_user, details=_otj_details(form), today=today),
        lambda entry: f"{hours_text(entry.hours).capitalize()} of training logged for your tutor to approve",
        form=form,
    ):
        return redirect(url_for(".otj", enrolment_id=enrolment.id))
    return render_template("otj/entry_form.html", form=form, enrolment=enrolment, entry=None)


@bp.route("/otj/<int:entry_id>")
@login_required
def entry(enrolment_id: int, entry_id: int):
    entry = get_otj_entry_or_404(db.session, current_user, enrolment_id, entry_id)
    return _entry_page(entry, QueryForm(formdata=None))


@bp.route("/otj/<int:entry_id>/edit", methods=["GET", "POST"])
@login_required
def edit_entry(enrolment_id: int, entry_id: int):
    entry = _changeable_entry(enrolment_id, entry_id)
    if entry is None:
        return redirect(url_for(".entry", enrolment_id=enrolment_id, entry_id=entry_id))
    today = clock.today()
    form = OtjEntryForm(obj=entry, enrolment=entry.enrolment, today=today)
    if request.method == "GET":
        form.activity.data = entry.activity.value
        form.criteria.data = entry.codes
    if form.validate_on_submit() and attempt(
        lambda: update_entry(db.session, entry, by=current_user, details=_otj_details(form), today=today),
        "Your changes have been saved and the entry is awaiting approval",
        form=form,
    ):
        return redirect(url_for(".entry", enrolment_id=enrolment_id, entry_id=entry_id))
    return render_template("otj/entry_form.html", form=form, enrolment=entry.enrolment, entry=entry)


@bp.route("/otj/<int:entry_id>/delete", methods=["GET", "POST"])
@login_required
def delete_entry_page(enrolment_id: int, entry_id: int):
    entry = _changeable_entry(enrolment_id, entry_id)
    if entry is None:
        return redirect(url_for(".entry", enrolment_id=enrolment_id, entry_id=entry_id))
    form = ConfirmForm()
    if form.validate_on_submit():
        if attempt(lambda: delete_entry(db.session, entry, by=current_user), "Entry deleted"):
            return redirect(url_for(".otj", enrolment_id=enrolment_id))
        return redirect(url_for(".entry", enrolment_id=enrolment_id, entry_id=entry_id))
    return render_template("otj/entry_delete.html", form=form, entry=entry, enrolment=entry.enrolment)


@bp.post("/otj/<int:entry_id>/approve")
@login_required
def approve(enrolment_id: int, entry_id: int):
    entry = _entry_for_tutor(enrolment_id, entry_id)
    attempt(lambda: approve_entry(db.session, entry, by=current_user), "Entry approved")
    return redirect(url_for(".entry", enrolment_id=enrolment_id, entry_id=entry_id))


@bp.post("/otj/<int:entry_id>/query")
@login_required
def query(enrolment_id: int, entry_id: int):
    entry = _entry_for_tutor(enrolment_id, entry_id)
    if entry.status is not OtjStatus.LOGGED:
        flash(f"Only entries awaiting approval can be queried; this one is {entry.status.label.lower()}", "error")
        return redirect(url_for(".entry", enrolment_id=enrolment_id, entry_id=entry_id))
    form = QueryForm()
    if form.validate_on_submit():
        queried = attempt(
            lambda: query_entry(db.session, entry, by=current_user, note=form.note.data),
            "Entry queried: the apprentice can now change it",
            form=form,
        )
        if queried or queried.flashed:  # only the note is the tutor's to correct on this page
            return redirect(url_for(".entry", enrolment_id=enrolment_id, entry_id=entry_id))
    return _entry_page(entry, form)


@bp.post("/otj/approve")
@login_required
def approve_selected(enrolment_id: int):
    """Approve the ticked entries, or query them with one question ("action" is "query")."""
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id, may=may_approve)
    form = ConfirmForm()
    if form.validate_on_submit():
        ids = [int(v) for v in request.form.getlist("entry") if v.isascii() and v.isdigit() and len(v) < 10]
        if request.form.get("action") == "query":
            attempt(
                lambda: query_entries(db.session, enrolment, ids, by=current_user, note=request.form.get("note", "")),
                lambda count: (
                    f"{count} entr{'y' if count == 1 else 'ies'} queried: the apprentice can now change "
                    + ("it" if count == 1 else "them")
                ),
            )
        else:
            attempt(
                lambda: approve_entries(db.session, enrolment, ids, by=current_user),
                lambda count: f"{count} entr{'y' if count == 1 else 'ies'} approved",
            )
    return redirect(url_for(".otj", enrolment_id=enrolment_id, status=request.args.get("status", "")))


def _entry_page(entry: OtjEntry, query_form: QueryForm):
    enrolment = entry.enrolment
    return render_template(
        "otj/entry.html",
        entry=entry,
        enrolment=enrolment,
        standard=enrolment.standard_version.standard,
        may_change=may_change_entry(current_user, entry),
        may_decide=may_approve(current_user, enrolment) and entry.status is not OtjStatus.APPROVED,
        may_query=may_approve(current_user, enrolment) and entry.status is OtjStatus.LOGGED,
        form=query_form,
        confirm=ConfirmForm(formdata=None),
    )


def _changeable_entry(enrolment_id: int, entry_id: int) -> OtjEntry | None:
    """The entry if the current user may change it; None (with a message) if it is approved; else 404."""
    entry = get_otj_entry_or_404(db.session, current_user, enrolment_id, entry_id)
    if entry.status is OtjStatus.APPROVED and entry.created_by_id == current_user.id:
        flash("Approved training cannot be changed", "error")
        return None
    if not may_change_entry(current_user, entry):
        abort(404)
    return entry


def _entry_for_tutor(enrolment_id: int, entry_id: int) -> OtjEntry:
    entry = get_otj_entry_or_404(db.session, current_user, enrolment_id, entry_id)
    if not may_approve(current_user, entry.enrolment):
        abort(404)
    return entry


def _otj_details(form: OtjEntryForm) -> OtjDetails:
    return OtjDetails(
        activity_date=form.activity_date.data,
        hours=form.hours.data,
        activity=OtjActivity(form.activity.data),
        learning=form.learning.data or "",
        criteria=form.criteria.data,
    )
