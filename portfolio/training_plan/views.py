"""The skills scan and the training plan: the pages."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..core.access import SIGNER_LABELS, get_enrolment_or_404, signing_party
from ..core.web import attempt
from ..extensions import db
from . import agreements
from .agreements import SIGNERS, awaiting_signers, content_fingerprint, signatures_by_signer
from .forms import ConfirmRatingsForm, PriorLearningForm, RatingsForm, SignForm
from .queries import scan_versions
from .skills_scan import (
    SKILLS_SCAN,
    PriorLearningDetails,
    confirm,
    effect_or_refusal,
    may_confirm,
    may_rate,
    may_record_prior_learning,
    rate,
    record_prior_learning,
    sign_scan,
    status_text,
    subjects,
)

bp = Blueprint("training_plan", __name__, template_folder="templates", url_prefix="/enrolments/<int:enrolment_id>")


@bp.route("/skills-scan")
@login_required
def skills_scan(enrolment_id: int):
    return _scan_page(enrolment_id, None)


@bp.route("/skills-scan/versions/<int:number>")
@login_required
def skills_scan_version(enrolment_id: int, number: int):
    return _scan_page(enrolment_id, number)


def _scan_page(enrolment_id: int, number: int | None):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id)
    versions = scan_versions(db.session, enrolment.id)
    current = versions[0] if versions else None
    scan = current if number is None else next((v for v in versions if v.number == number), None)
    if number is not None and scan is None:
        abort(404)
    effect, refusal = None, None
    if scan is not None and scan is current and scan.agreed_at is None and scan.prior_learning_at is not None:
        effect, refusal = effect_or_refusal(db.session, scan)
    standard = enrolment.standard_version.standard
    my_signer = signing_party(current_user, enrolment)
    return render_template(
        "training_plan/skills_scan.html",
        enrolment=enrolment,
        standard=standard,
        scan=scan,
        current=current,
        is_current=scan is not None and scan is current,
        versions=versions,
        status=status_text(scan),
        ratings={r.criterion_code: r for r in scan.ratings} if scan else {},
        subject_labels=dict(subjects(enrolment)),
        effect=effect,
        refusal=refusal,
        signatures=signatures_by_signer(scan) if scan else {},
        awaiting=awaiting_signers(scan) if scan else [],
        signers=SIGNERS,
        signer_labels=SIGNER_LABELS,
        my_signer=my_signer,
        may_sign=scan is not None
        and scan is current
        and my_signer in awaiting_signers(scan)
        and SKILLS_SCAN.not_ready(scan) is None,
        fingerprint=content_fingerprint(SKILLS_SCAN, scan) if scan else None,
        may_rate=may_rate(current_user, enrolment),
        may_confirm=may_confirm(current_user, enrolment) and current is not None and current.rated_at is not None,
        may_record=may_record_prior_learning(current_user, enrolment)
        and current is not None
        and current.confirmed_at is not None,
        form=SignForm(formdata=None),
    )


@bp.route("/skills-scan/ratings", methods=["GET", "POST"])
@login_required
def rate_skills(enrolment_id: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id, may=may_rate)
    current = agreements.current_version(db.session, SKILLS_SCAN, enrolment.id)
    form = RatingsForm()
    form.ratings.standard = enrolment.standard_version.standard
    if request.method == "GET":
        form.ratings.data = {r.criterion_code: (r.rating.value, r.note) for r in current.ratings} if current else {}
    if form.validate_on_submit() and attempt(
        lambda: rate(db.session, enrolment, by=current_user, ratings=form.ratings.ratings),
        "Your ratings have been saved. Your employer will confirm or adjust them.",
        form=form,
        part=_code_error("ratings"),
    ):
        return redirect(url_for(".skills_scan", enrolment_id=enrolment.id))
    return render_template(
        "training_plan/ratings_form.html",
        form=form,
        enrolment=enrolment,
        heading="Rate what you already know and can do",
        intro="For each criterion, say how much you already know or can do. Add a note where it helps, "
        "for example where you learned it.",
        existing=None,
    )


@bp.route("/skills-scan/confirm", methods=["GET", "POST"])
@login_required
def confirm_skills(enrolment_id: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id, may=may_confirm)
    current = agreements.current_version(db.session, SKILLS_SCAN, enrolment.id)
    if current is None or current.rated_at is None:
        flash("The apprentice has not rated the criteria yet", "error")
        return redirect(url_for(".skills_scan", enrolment_id=enrolment.id))
    form = ConfirmRatingsForm()
    form.ratings.standard = enrolment.standard_version.standard
    as_rated = {r.criterion_code: (r.rating.value, "") for r in current.ratings}
    if request.method == "GET":
        form.ratings.data = {
            r.criterion_code: ((r.employer_rating or r.rating).value, r.employer_note) for r in current.ratings
        }
    if request.method == "POST" and request.form.get("confirm_all"):
        form.ratings.data = as_rated  # "Confirm all as rated": the apprentice's ratings, no notes
    if form.validate_on_submit() and attempt(
        lambda: confirm(db.session, enrolment, by=current_user, ratings=form.ratings.ratings),
        "The ratings are confirmed. The tutor will now record any prior learning.",
        form=form,
        part=_code_error("ratings"),
    ):
        return redirect(url_for(".skills_scan", enrolment_id=enrolment.id))
    return render_template(
        "training_plan/ratings_form.html",
        form=form,
        enrolment=enrolment,
        heading="Confirm the apprentice's ratings",
        intro=f"{enrolment.apprentice.name} rated each criterion. Confirm each rating or change it, with a note "
        "if you like.",
        existing={r.criterion_code: r for r in current.ratings},
    )


@bp.route("/skills-scan/prior-learning", methods=["GET", "POST"])
@login_required
def prior_learning(enrolment_id: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id, may=may_record_prior_learning)
    current = agreements.current_version(db.session, SKILLS_SCAN, enrolment.id)
    if current is None or current.confirmed_at is None:
        flash("The employer has not confirmed the ratings yet", "error")
        return redirect(url_for(".skills_scan", enrolment_id=enrolment.id))
    if request.method == "GET" and current.prior_learning_at is not None:
        form = PriorLearningForm(
            data={
                "hours": current.prior_learning_hours,
                "months": current.prior_learning_months,
                "summary": current.prior_learning_summary,
                "items": [(p.subject, p.reason) for p in current.prior_learning],
            }
        )
    else:
        form = PriorLearningForm()
    if form.validate_on_submit() and attempt(
        lambda: record_prior_learning(
            db.session,
            enrolment,
            by=current_user,
            details=PriorLearningDetails(
                hours=form.hours.data,
                months=form.months.data,
                items=[(subject, reason) for subject, reason in form.items.data],
                summary=form.summary.data or "",
            ),
        ),
        "Prior learning recorded. The apprentice, the employer and you can now sign the skills scan.",
        form=form,
        part=_code_error("items"),
    ):
        return redirect(url_for(".skills_scan", enrolment_id=enrolment.id))
    return render_template(
        "training_plan/prior_learning_form.html",
        form=form,
        enrolment=enrolment,
        scan=current,
        subjects=subjects(enrolment),
    )


@bp.post("/skills-scan/versions/<int:number>/sign")
@login_required
def sign_skills_scan(enrolment_id: int, number: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id)
    if signing_party(current_user, enrolment) is None:
        abort(404)
    scan = next((v for v in scan_versions(db.session, enrolment.id) if v.number == number), None)
    if scan is None:
        abort(404)
    form = SignForm()
    if form.validate_on_submit():
        attempt(
            lambda: sign_scan(db.session, scan, by=current_user, seen=form.fingerprint.data or ""),
            lambda _: (
                "Skills scan signed. All three have signed: it is agreed."
                if scan.agreed_at is not None
                else "Skills scan signed"
            ),
        )
    else:
        flash("Your signature could not be recorded. Try again.", "error")
    return redirect(url_for(".skills_scan", enrolment_id=enrolment_id))


def _code_error(field_name: str):
    """A part hook: an error on one criterion's or row's own input goes beside it."""

    def part(form, error) -> bool:
        name = error.field or ""
        if not name.startswith(("rating-", "note-", "subject-", "reason-")):
            return False
        form[field_name].error_for(name, error.message)
        return True

    return part
