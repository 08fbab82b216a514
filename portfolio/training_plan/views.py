"""The skills scan and the training plan: the pages."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..core import clock
from ..core.access import SIGNER_LABELS, get_enrolment_or_404, signing_party
from ..core.forms import ConfirmForm
from ..core.web import attempt
from ..extensions import db
from ..models import Enrolment, PlannedActivity
from ..progress_reviews.domain import last_complete_review_dates
from . import agreements
from . import plan as training_plan
from .agreements import SIGNERS, awaiting_signers, content_fingerprint, fingerprint_checks, signatures_by_signer
from .forms import (
    ActivityForm,
    ConfirmRatingsForm,
    EnglishMathsPlanForm,
    PriorLearningForm,
    RatingsForm,
    SignForm,
)
from .pdf import render_plan_pdf
from .plan import TRAINING_PLAN, ActivityDetails, may_plan
from .queries import plan_versions, scan_versions
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
        checks=fingerprint_checks(scan) if scan else {},
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


# ---------------------------------------------------------------------------------------------
# The training plan


@bp.route("/training-plan")
@login_required
def plan(enrolment_id: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id)
    return render_template("training_plan/plan.html", **_plan_context(enrolment, None))


@bp.route("/training-plan/versions/<int:number>")
@login_required
def plan_version(enrolment_id: int, number: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id)
    return render_template("training_plan/plan.html", **_plan_context(enrolment, number))


@bp.route("/training-plan/pdf")
@login_required
def plan_pdf(enrolment_id: int):
    return _pdf(enrolment_id, None)


@bp.route("/training-plan/versions/<int:number>/pdf")
@login_required
def plan_version_pdf(enrolment_id: int, number: int):
    return _pdf(enrolment_id, number)


def _pdf(enrolment_id: int, number: int | None):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id)
    context = _plan_context(enrolment, number)
    if context["plan"] is None:
        abort(404)
    # One plan is small: rendered in the request. A character the fonts lack is refused, named.
    pdf = attempt(lambda: render_plan_pdf(context))
    if not pdf:
        return redirect(url_for(".plan", enrolment_id=enrolment.id))
    name = f"training-plan-{enrolment.id}-version-{context['plan'].number}.pdf"
    return Response(pdf, mimetype="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _plan_context(enrolment: Enrolment, number: int | None) -> dict:
    """What the plan's page and its PDF show, in a fixed number of queries."""
    versions = plan_versions(db.session, enrolment.id)
    current = versions[0] if versions else None
    shown = current if number is None else next((v for v in versions if v.number == number), None)
    if number is not None and shown is None:
        abort(404)
    last_review = last_complete_review_dates(db.session, [enrolment.id]).get(enrolment.id)
    my_signer = signing_party(current_user, enrolment)
    is_current = shown is not None and shown is current
    refusal = TRAINING_PLAN.not_ready(shown) if shown is not None else None
    # An agreed version shows the enrolment's parts as signed; any other, as the record holds them now.
    facts = training_plan.shown_facts(shown, enrolment, training_plan.prior_learning_result(db.session, enrolment.id))
    return {
        "enrolment": enrolment,
        "standard": enrolment.standard_version.standard,
        "plan": shown,
        "current": current,
        "is_current": is_current,
        "versions": versions,
        "status": training_plan.status_text(shown),
        "total_hours": training_plan.total_hours(shown) if shown else Decimal("0.00"),
        "hours_warning": training_plan.hours_warning(shown, facts.planned_otj_hours) if shown else None,
        "facts": facts,
        "epao_needed_by": training_plan.epao_needed_by(enrolment),
        "refusal": refusal if shown is not None and shown.activities else None,
        "review_dates": training_plan.review_dates(enrolment, last_review),
        "today": clock.today(),
        "signatures": signatures_by_signer(shown) if shown else {},
        "checks": fingerprint_checks(shown) if shown else {},
        "signers": SIGNERS,
        "signer_labels": SIGNER_LABELS,
        "my_signer": my_signer,
        "may_sign": is_current and my_signer in awaiting_signers(shown) and refusal is None,
        "fingerprint": content_fingerprint(TRAINING_PLAN, shown) if shown else None,
        "may_plan": may_plan(current_user, enrolment) and (shown is None or is_current),
        "form": SignForm(formdata=None),
    }


def _current_activity(enrolment: Enrolment, activity_id: int) -> PlannedActivity:
    """An activity of the plan's current version, or 404."""
    current = agreements.current_version(db.session, TRAINING_PLAN, enrolment.id)
    activity = next((a for a in current.activities if a.id == activity_id), None) if current else None
    if activity is None:
        abort(404)
    return activity


def _activity_details(form: ActivityForm) -> ActivityDetails:
    return ActivityDetails(
        description=form.description.data or "",
        starts_on=form.starts_on.data,
        ends_on=form.ends_on.data,
        hours=form.hours.data,
        criteria=list(form.criteria.data),
    )


def _changed_message(plan) -> str:
    return f"Training plan saved (version {plan.number})" if plan.number > 1 else "Training plan saved"


@bp.route("/training-plan/activities/new", methods=["GET", "POST"])
@login_required
def new_activity(enrolment_id: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id, may=may_plan)
    form = ActivityForm()
    form.criteria.standard = enrolment.standard_version.standard
    if form.validate_on_submit() and attempt(
        lambda: training_plan.add_activity(db.session, enrolment, by=current_user, details=_activity_details(form)),
        lambda activity: _changed_message(activity.plan),
        form=form,
    ):
        return redirect(url_for(".plan", enrolment_id=enrolment.id))
    return render_template("training_plan/activity_form.html", form=form, enrolment=enrolment, activity=None)


@bp.route("/training-plan/activities/<int:activity_id>/edit", methods=["GET", "POST"])
@login_required
def edit_activity(enrolment_id: int, activity_id: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id, may=may_plan)
    activity = _current_activity(enrolment, activity_id)
    form = ActivityForm(obj=activity if request.method == "GET" else None)
    form.criteria.standard = enrolment.standard_version.standard
    if form.validate_on_submit() and attempt(
        lambda: training_plan.update_activity(
            db.session, enrolment, activity_id, by=current_user, details=_activity_details(form)
        ),
        lambda changed: _changed_message(changed.plan),
        form=form,
    ):
        return redirect(url_for(".plan", enrolment_id=enrolment.id))
    return render_template("training_plan/activity_form.html", form=form, enrolment=enrolment, activity=activity)


@bp.route("/training-plan/activities/<int:activity_id>/remove", methods=["GET", "POST"])
@login_required
def remove_activity(enrolment_id: int, activity_id: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id, may=may_plan)
    activity = _current_activity(enrolment, activity_id)
    form = ConfirmForm()
    if form.validate_on_submit() and attempt(
        lambda: training_plan.remove_activity(db.session, enrolment, activity_id, by=current_user),
        lambda changed: "Activity removed. " + _changed_message(changed),
    ):
        return redirect(url_for(".plan", enrolment_id=enrolment.id))
    return render_template("training_plan/activity_remove.html", form=form, enrolment=enrolment, activity=activity)


@bp.route("/training-plan/english-and-maths", methods=["GET", "POST"])
@login_required
def english_maths(enrolment_id: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id, may=may_plan)
    current = agreements.current_version(db.session, TRAINING_PLAN, enrolment.id)
    form = EnglishMathsPlanForm(obj=current if request.method == "GET" else None)
    if form.validate_on_submit() and attempt(
        lambda: training_plan.set_english_maths_plan(
            db.session, enrolment, by=current_user, text=form.english_maths_plan.data or ""
        ),
        _changed_message,
        form=form,
    ):
        return redirect(url_for(".plan", enrolment_id=enrolment.id))
    return render_template("training_plan/english_maths_form.html", form=form, enrolment=enrolment)


@bp.post("/training-plan/versions/<int:number>/sign")
@login_required
def sign_plan(enrolment_id: int, number: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id)
    if signing_party(current_user, enrolment) is None:
        abort(404)
    shown = next((v for v in plan_versions(db.session, enrolment.id) if v.number == number), None)
    if shown is None:
        abort(404)
    form = SignForm()
    if form.validate_on_submit():
        attempt(
            lambda: training_plan.sign_plan(db.session, shown, by=current_user, seen=form.fingerprint.data or ""),
            lambda _: (
                "Training plan signed. All three have signed: it is agreed."
                if shown.agreed_at is not None
                else "Training plan signed"
            ),
        )
    else:
        flash("Your signature could not be recorded. Try again.", "error")
    return redirect(url_for(".plan", enrolment_id=enrolment_id))


def _code_error(field_name: str):
    """A part hook: an error on one criterion's or row's own input goes beside it."""

    def part(form, error) -> bool:
        name = error.field or ""
        if not name.startswith(("rating-", "note-", "subject-", "reason-")):
            return False
        form[field_name].error_for(name, error.message)
        return True

    return part
