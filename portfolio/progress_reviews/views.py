"""Three-way progress reviews: the pages."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from standard import Signer

from ..core import clock
from ..core.access import get_enrolment_or_404, get_progress_review_or_404, is_tutor_of, signing_party
from ..core.domain import DomainError
from ..core.web import attempt
from ..extensions import db
from ..models.types import utcnow
from ..otj.domain import (
    enrolment_otj_summary,
    summary_text,
)
from ..signing.domain import may_ask_employer, may_manage, progress_of
from .domain import (
    SIGNER_LABELS,
    SIGNERS,
    ReviewDetails,
    awaiting_signers,
    create_review,
    last_complete_review_dates,
    may_edit_review,
    may_record_review,
    review_due,
    schedule_start,
    sign_review,
    update_review,
)
from .forms import ReviewForm, SignForm
from .queries import review_record, reviews_with_signatures

bp = Blueprint("progress_reviews", __name__, template_folder="templates", url_prefix="/enrolments/<int:enrolment_id>")


@bp.route("/reviews")
@login_required
def reviews(enrolment_id: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id)
    rows = reviews_with_signatures(db.session, enrolment.id)
    last_complete = last_complete_review_dates(db.session, [enrolment.id]).get(enrolment.id)
    return render_template(
        "progress_reviews/reviews.html",
        enrolment=enrolment,
        reviews=[(review, awaiting_signers(review)) for review in rows],
        last_complete=last_complete,
        due=review_due(
            enrolment.status, schedule_start(enrolment), last_complete, enrolment.review_interval, clock.today()
        ),
        signer_labels=SIGNER_LABELS,
        my_signer=signing_party(current_user, enrolment),
        may_record=may_record_review(current_user, enrolment),
    )


@bp.route("/reviews/new", methods=["GET", "POST"])
@login_required
def new_review(enrolment_id: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id, may=may_record_review)
    today = clock.today()
    form = ReviewForm(enrolment=enrolment, today=today)
    if request.method == "GET":
        form.review_date.data = today
        form.attendees.data = _attendees(enrolment)
        form.otj_and_slippage.data = summary_text(enrolment_otj_summary(db.session, enrolment, today))
    if form.validate_on_submit():
        review = attempt(
            lambda: create_review(
                db.session, enrolment=enrolment, author=current_user, details=_review_details(form), today=today
            ),
            "Review recorded. The apprentice, the employer and you can now sign it.",
            form=form,
            part=_rating_error,
        )
        if review:
            return redirect(url_for(".review", enrolment_id=enrolment.id, review_id=review.id))
    return render_template("progress_reviews/review_form.html", form=form, enrolment=enrolment, review=None)


@bp.route("/reviews/<int:review_id>")
@login_required
def review(enrolment_id: int, review_id: int):
    review = get_progress_review_or_404(db.session, current_user, enrolment_id, review_id)
    review = review_record(db.session, review.id)  # everything the record shows, in a fixed number of queries
    enrolment = review.enrolment
    standard = enrolment.standard_version.standard
    order = {code: n for n, code in enumerate(standard.codes)}
    asked = list(reversed(review.signing_requests))  # the employer's requests by email, the newest first
    return render_template(
        "progress_reviews/review.html",
        review=review,
        enrolment=enrolment,
        standard=standard,
        criteria=sorted(review.criteria, key=lambda c: order.get(c.criterion_code, len(order))),
        signatures={s.signer: s for s in review.signatures},
        signers=SIGNERS,
        signer_labels=SIGNER_LABELS,
        my_signer=signing_party(current_user, enrolment),
        may_edit=may_edit_review(current_user, review),
        form=SignForm(formdata=None),
        employer=Signer.EMPLOYER,
        asked_of=next((r for r in reversed(review.signing_requests) if r.is_open(utcnow())), None),
        may_ask_employer=may_ask_employer(current_user, review),
        signing_requests=[(r, progress_of(r)) for r in asked] if asked and may_manage(current_user, asked[0]) else [],
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
        updated = attempt(
            lambda: update_review(db.session, review, by=current_user, details=_review_details(form), today=today),
            "Your changes have been saved",
            form=form,
            part=_rating_error,
        )
        if updated or updated.flashed:  # no field's error (signed meanwhile): the record shows it
            return redirect(url_for(".review", enrolment_id=enrolment_id, review_id=review_id))
    return render_template("progress_reviews/review_form.html", form=form, enrolment=enrolment, review=review)


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
    attempt(
        lambda: sign_review(db.session, review, by=current_user, signer=signer),
        lambda _: (
            "Review signed. All three have signed: the review is complete."
            if review.completed_at is not None
            else f"Review signed for {SIGNER_LABELS[signer]}"
        ),
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
        actions_since_last=form.actions_since_last.data or "",
        training_plan_changes=form.training_plan_changes.data or "",
        concerns_and_changes=form.concerns_and_changes.data or "",
        late_reason=form.late_reason.data or "",
        criteria=form.criteria.ratings,
    )


def _rating_error(form: ReviewForm, error: DomainError) -> bool:
    """A criterion's rating or note (`rag-K1`, `note-K1`) is shown beside it, in the criteria field."""
    name = error.field or ""
    if not name.startswith(("rag-", "note-")):
        return False
    form.criteria.error_for(name, error.message)
    return True
