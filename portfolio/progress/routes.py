"""Off-the-job training log and three-way progress reviews."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..access import get_enrolment_or_404, get_otj_entry_or_404, get_progress_review_or_404, is_tutor_of
from ..core import clock
from ..domain import DomainError
from ..extensions import db
from ..listing import paginate
from ..models import Enrolment, OtjActivity, OtjEntry, OtjStatus, ProgressReview, ReviewSignature
from ..otj import (
    OtjDetails,
    approve_entries,
    approve_entry,
    delete_entry,
    enrolment_otj_summary,
    hours_text,
    log_entry,
    may_approve,
    may_change_entry,
    may_log,
    pace_text,
    query_entry,
    summary_text,
    update_entry,
)
from ..progress_reviews import (
    SIGNER_LABELS,
    SIGNERS,
    ReviewDetails,
    awaiting_signers,
    create_review,
    last_complete_review_dates,
    may_edit_review,
    may_record_review,
    review_due,
    sign_review,
    signer_for,
    update_review,
)
from .chart import otj_chart
from .forms import ConfirmForm, OtjEntryForm, QueryForm, ReviewForm, SignForm

bp = Blueprint("progress", __name__, template_folder="templates", url_prefix="/enrolments/<int:enrolment_id>")


@bp.app_template_filter()
def hours(value) -> str:
    return hours_text(value)


# ---------------------------------------------------------------------------------------------
# Off-the-job training


@bp.route("/otj")
@login_required
def otj(enrolment_id: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id)
    summary = enrolment_otj_summary(db.session, enrolment)
    status = request.args.get("status", "")
    status = status if status in {s.value for s in OtjStatus} else ""
    statement = select(OtjEntry).where(OtjEntry.enrolment_id == enrolment.id)
    if status:
        statement = statement.where(OtjEntry.status == OtjStatus(status))
    page = paginate(statement.order_by(OtjEntry.activity_date.desc(), OtjEntry.id.desc()))
    return render_template(
        "progress/otj.html",
        enrolment=enrolment,
        summary=summary,
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
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id)
    if not may_log(current_user, enrolment):
        abort(404)
    today = clock.today()
    form = OtjEntryForm(enrolment=enrolment, today=today)
    if form.validate_on_submit():
        try:
            entry = log_entry(db.session, enrolment=enrolment, by=current_user, details=_otj_details(form), today=today)
        except DomainError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            db.session.commit()
            flash(f"{hours_text(entry.hours).capitalize()} of training logged for your tutor to approve", "success")
            return redirect(url_for(".otj", enrolment_id=enrolment.id))
    return render_template("progress/entry_form.html", form=form, enrolment=enrolment, entry=None)


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
    if form.validate_on_submit():
        try:
            update_entry(db.session, entry, by=current_user, details=_otj_details(form), today=today)
        except DomainError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            db.session.commit()
            flash("Your changes have been saved and the entry is awaiting approval", "success")
            return redirect(url_for(".entry", enrolment_id=enrolment_id, entry_id=entry_id))
    return render_template("progress/entry_form.html", form=form, enrolment=entry.enrolment, entry=entry)


@bp.route("/otj/<int:entry_id>/delete", methods=["GET", "POST"])
@login_required
def delete_entry_page(enrolment_id: int, entry_id: int):
    entry = _changeable_entry(enrolment_id, entry_id)
    if entry is None:
        return redirect(url_for(".entry", enrolment_id=enrolment_id, entry_id=entry_id))
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            delete_entry(db.session, entry, by=current_user)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
            return redirect(url_for(".entry", enrolment_id=enrolment_id, entry_id=entry_id))
        db.session.commit()
        flash("Entry deleted", "success")
        return redirect(url_for(".otj", enrolment_id=enrolment_id))
    return render_template("progress/entry_delete.html", form=form, entry=entry, enrolment=entry.enrolment)


@bp.post("/otj/<int:entry_id>/approve")
@login_required
def approve(enrolment_id: int, entry_id: int):
    entry = _entry_for_tutor(enrolment_id, entry_id)
    try:
        approve_entry(db.session, entry, by=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash("Entry approved", "success")
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
        try:
            query_entry(db.session, entry, by=current_user, note=form.note.data)
        except DomainError as error:
            db.session.rollback()
            if error.field != "note":
                flash(error.message, "error")
                return redirect(url_for(".entry", enrolment_id=enrolment_id, entry_id=entry_id))
            form.note.errors.append(error.message)
        else:
            db.session.commit()
            flash("Entry queried: the apprentice can now change it", "success")
            return redirect(url_for(".entry", enrolment_id=enrolment_id, entry_id=entry_id))
    return _entry_page(entry, form)


@bp.post("/otj/approve")
@login_required
def approve_selected(enrolment_id: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id)
    if not may_approve(current_user, enrolment):
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        ids = [int(v) for v in request.form.getlist("entry") if v.isascii() and v.isdigit() and len(v) < 10]
        try:
            count = approve_entries(db.session, enrolment, ids, by=current_user)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(f"{count} entr{'y' if count == 1 else 'ies'} approved", "success")
    return redirect(url_for(".otj", enrolment_id=enrolment_id, status=request.args.get("status", "")))


def _entry_page(entry: OtjEntry, query_form: QueryForm):
    enrolment = entry.enrolment
    return render_template(
        "progress/entry.html",
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


def _show_error(form, error: DomainError) -> None:
    field = getattr(form, error.field or "", None)
    if field is None:
        flash(error.message, "error")
    else:
        field.errors = [*field.errors, error.message]


# ---------------------------------------------------------------------------------------------
# Progress reviews


@bp.route("/reviews")
@login_required
def reviews(enrolment_id: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id)
    rows = (
        db.session.scalars(
            select(ProgressReview)
            .where(ProgressReview.enrolment_id == enrolment.id)
            .options(joinedload(ProgressReview.signatures))
            .order_by(ProgressReview.review_date.desc(), ProgressReview.id.desc())
        )
        .unique()
        .all()
    )
    last_complete = last_complete_review_dates(db.session, [enrolment.id]).get(enrolment.id)
    return render_template(
        "progress/reviews.html",
        enrolment=enrolment,
        reviews=[(review, awaiting_signers(review)) for review in rows],
        last_complete=last_complete,
        due=review_due(enrolment.status, enrolment.start_date, last_complete, enrolment.review_interval, clock.today()),
        signer_labels=SIGNER_LABELS,
        my_signer=signer_for(current_user, enrolment),
        may_record=may_record_review(current_user, enrolment),
    )


@bp.route("/reviews/new", methods=["GET", "POST"])
@login_required
def new_review(enrolment_id: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id)
    if not may_record_review(current_user, enrolment):
        abort(404)
    today = clock.today()
    form = ReviewForm(enrolment=enrolment, today=today)
    if request.method == "GET":
        form.review_date.data = today
        form.attendees.data = _attendees(enrolment)
        form.otj_and_slippage.data = summary_text(enrolment_otj_summary(db.session, enrolment, today))
    if form.validate_on_submit():
        try:
            review = create_review(
                db.session, enrolment=enrolment, author=current_user, details=_review_details(form), today=today
            )
        except DomainError as error:
            db.session.rollback()
            _show_review_error(form, error)
        else:
            db.session.commit()
            flash("Review recorded. The apprentice, the employer and you can now sign it.", "success")
            return redirect(url_for(".review", enrolment_id=enrolment.id, review_id=review.id))
    return render_template("progress/review_form.html", form=form, enrolment=enrolment, review=None)


@bp.route("/reviews/<int:review_id>")
@login_required
def review(enrolment_id: int, review_id: int):
    review = get_progress_review_or_404(db.session, current_user, enrolment_id, review_id)
    # Everything the record shows, in a fixed number of queries.
    review = db.session.scalars(
        select(ProgressReview)
        .where(ProgressReview.id == review.id)
        .options(
            joinedload(ProgressReview.enrolment).joinedload(Enrolment.apprentice),
            joinedload(ProgressReview.enrolment).joinedload(Enrolment.standard_version),
            joinedload(ProgressReview.created_by),
            selectinload(ProgressReview.criteria),
            selectinload(ProgressReview.signatures).joinedload(ReviewSignature.user),
        )
        .execution_options(populate_existing=True)
    ).one()
    enrolment = review.enrolment
    standard = enrolment.standard_version.standard
    order = {code: n for n, code in enumerate(standard.codes)}
    return render_template(
        "progress/review.html",
        review=review,
        enrolment=enrolment,
        standard=standard,
        criteria=sorted(review.criteria, key=lambda c: order.get(c.criterion_code, len(order))),
        signatures={s.signer: s for s in review.signatures},
        signers=SIGNERS,
        signer_labels=SIGNER_LABELS,
        my_signer=signer_for(current_user, enrolment),
        may_edit=may_edit_review(current_user, review),
        form=SignForm(formdata=None),
    )


@bp.route("/reviews/<int:review_id>/edit", methods=["GET", "POST"])
@login_required
def edit_review(enrolment_id: int, review_id: int):
    review = get_progress_review_or_404(db.session, current_user, enrolment_id, review_id)
    enrolment = review.enrolment
    if not is_tutor_of(current_user, enrolment):
        abort(404)
    if not may_edit_review(current_user, review):
        flash("This review has been signed, so it can no longer be changed", "error")
        return redirect(url_for(".review", enrolment_id=enrolment_id, review_id=review_id))
    today = clock.today()
    form = ReviewForm(obj=review, enrolment=enrolment, today=today)
    if request.method == "GET":
        form.criteria.data = {c.criterion_code: (c.rag.value, c.note) for c in review.criteria}
    if form.validate_on_submit():
        try:
            update_review(db.session, review, by=current_user, details=_review_details(form), today=today)
        except DomainError as error:
            db.session.rollback()
            if error.field is None:
                flash(error.message, "error")
                return redirect(url_for(".review", enrolment_id=enrolment_id, review_id=review_id))
            _show_review_error(form, error)
        else:
            db.session.commit()
            flash("Your changes have been saved", "success")
            return redirect(url_for(".review", enrolment_id=enrolment_id, review_id=review_id))
    return render_template("progress/review_form.html", form=form, enrolment=enrolment, review=review)


@bp.post("/reviews/<int:review_id>/sign")
@login_required
def sign(enrolment_id: int, review_id: int):
    review = get_progress_review_or_404(db.session, current_user, enrolment_id, review_id)
    form = SignForm()
    back = redirect(url_for(".review", enrolment_id=enrolment_id, review_id=review_id))
    if not form.validate_on_submit():
        flash("Your signature could not be recorded. Try again.", "error")
        return back
    signer = next((s for s in SIGNERS if s.value == form.signer.data), None)
    if signer is None:
        flash("Choose whom you are signing for", "error")
        return back
    try:
        sign_review(db.session, review, by=current_user, signer=signer)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        complete = review.completed_at is not None
        db.session.commit()
        flash(
            "Review signed. All three have signed: the review is complete."
            if complete
            else f"Review signed for {SIGNER_LABELS[signer]}",
            "success",
        )
    return back


def _attendees(enrolment) -> str:
    people = [f"{enrolment.apprentice.name} (apprentice)"]
    if enrolment.mentor:
        people.append(f"{enrolment.mentor.name} ({enrolment.employer.name})")
    people.append(f"{current_user.name} (tutor, {enrolment.provider.name})")
    return "\n".join(people)


def _review_details(form: ReviewForm) -> ReviewDetails:
    return ReviewDetails(
        review_date=form.review_date.data,
        attendees=form.attendees.data or "",
        progress=form.progress.data or "",
        otj_and_slippage=form.otj_and_slippage.data or "",
        wellbeing_and_support=form.wellbeing_and_support.data or "",
        actions=form.actions.data or "",
        criteria=form.criteria.ratings,
    )


def _show_review_error(form: ReviewForm, error: DomainError) -> None:
    name = error.field or ""
    if name.startswith(("rag-", "note-")):
        form.criteria.error_for(name, error.message)
    else:
        _show_error(form, error)
