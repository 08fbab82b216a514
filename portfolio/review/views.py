"""Evidence review, comments, criterion judgements and witness testimony."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..core.access import (
    get_enrolment_or_404,
    get_evidence_or_404,
    get_reviewable_evidence_or_404,
    may_judge_criteria,
    roles_required,
)
from ..core.listing import paginate
from ..core.web import attempt, criteria_error
from ..evidence.items import criterion_statuses, is_witness_testimony, may_change
from ..extensions import db
from ..models import EvidenceItem, Role
from ..models.types import utcnow
from .domain import (
    WitnessTestimony,
    create_testimony,
    current_judgements,
    judgement_history,
    may_write_testimony,
    record_judgement,
    record_judgements,
    sign_testimony,
    start_review,
    update_testimony,
)
from .forms import (
    JudgementForm,
    SignTestimonyForm,
    WitnessTestimonyForm,
    chosen_judgements,
    several_judgements_form,
)
from .queries import evidence_for_criterion
from .queue import (
    QueueCounts,
    QueueFilters,
    QueueOptions,
    criteria_waiting,
    previous_feedback,
    queue_counts,
    queue_options,
    review_queue,
)

bp = Blueprint("review", __name__, template_folder="templates")

ITEM = "/enrolments/<int:enrolment_id>/evidence/<int:item_id>"


@bp.route("/review")
@roles_required(Role.TUTOR)
def queue():
    options = queue_options(db.session, current_user)
    filters = QueueFilters.from_args(request.args, current_user, options)
    counts = queue_counts(db.session, current_user, filters)
    page = paginate(review_queue(current_user, filters))
    return render_template(
        "review/queue.html",
        page=page,
        filters=filters,
        counts=counts,
        choices=_choices(options, counts),
        feedback=previous_feedback(db.session, page.items),
        args=filters.args(),
        sort_args=filters.args(newest_first=not filters.newest_first),
        now=utcnow(),
    )


def _choices(options: QueueOptions, counts: QueueCounts) -> dict[str, list[tuple[int | str, str]]]:
    """Each filter's choices as (value, text) pairs, the text saying how many items it shows;
    the tutor's own apprentices come first."""
    others = [t for t in options.tutors if t.id != current_user.id]
    named = {
        "tutor": [(current_user.id, "My apprentices")] + [(t.id, f"{t.name}'s apprentices") for t in others],
        "apprentice": [(a.id, a.name) for a in options.apprentices],
        "employer": [(e.id, e.name) for e in options.employers],
        "criterion": [(code, code) for code in criteria_waiting(counts)],
    }
    return {
        facet: [(value, f"{text} ({counts.of(facet, value)})") for value, text in pairs]
        for facet, pairs in named.items()
    }


@bp.post(f"{ITEM}/review/start")
@login_required
def start(enrolment_id: int, item_id: int):
    item = get_reviewable_evidence_or_404(db.session, current_user, enrolment_id, item_id)
    take_over = request.form.get("take_over") == "1"
    attempt(
        lambda: start_review(db.session, item, by=current_user, take_over=take_over),
        "You have taken over the review" if take_over else "You are reviewing this evidence",
    )
    return redirect(url_for("evidence.view", enrolment_id=enrolment_id, item_id=item_id, _anchor="review"))


@bp.route("/enrolments/<int:enrolment_id>/judgements")
@login_required
def judgements(enrolment_id: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id)
    return render_template(
        "review/judgements.html",
        enrolment=enrolment,
        standard=enrolment.standard_version.standard,
        judgements=current_judgements(db.session, enrolment),
        statuses=criterion_statuses(db.session, enrolment),
        may_judge=may_judge_criteria(current_user, enrolment),
    )


@bp.route("/enrolments/<int:enrolment_id>/judgements/several", methods=["GET", "POST"])
@login_required
def several_judgements(enrolment_id: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id, may=may_judge_criteria)
    standard = enrolment.standard_version.standard
    form = several_judgements_form(standard)
    if form.validate_on_submit():
        chosen = chosen_judgements(form, standard)
        judged = attempt(
            lambda: record_judgements(db.session, enrolment, by=current_user, judgements=chosen),
            lambda made: (
                f"{len(made)} criteri{'on' if len(made) == 1 else 'a'} judged: "
                + ", ".join(j.criterion_code for j in made)
            ),
            form=form,
        )
        if judged:
            return redirect(url_for(".judgements", enrolment_id=enrolment_id))
    return render_template(
        "review/several_judgements.html",
        enrolment=enrolment,
        standard=standard,
        form=form,
        judgements=current_judgements(db.session, enrolment),
        statuses=criterion_statuses(db.session, enrolment),
    )


@bp.route("/enrolments/<int:enrolment_id>/judgements/<code>", methods=["GET", "POST"])
@login_required
def judgement(enrolment_id: int, code: str):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id)
    standard = enrolment.standard_version.standard
    may_judge = may_judge_criteria(current_user, enrolment)
    if code not in standard or (request.method == "POST" and not may_judge):
        abort(404)
    form = JudgementForm()
    form.level.choices = [(level.code, level.label) for level in standard.judgement_scale]
    if may_judge and form.validate_on_submit():
        judged = attempt(
            lambda: record_judgement(
                db.session, enrolment, by=current_user, code=code, level_code=form.level.data, note=form.note.data or ""
            ),
            lambda judged: f"{code} judged: {_level_label(standard, judged.level_code)}",
            form=form,
            default="level",
        )
        if judged:
            return redirect(url_for(".judgement", enrolment_id=enrolment_id, code=code))
    history = judgement_history(db.session, enrolment, code)
    evidence = evidence_for_criterion(db.session, current_user, enrolment.id, code)
    return render_template(
        "review/judgement.html",
        enrolment=enrolment,
        standard=standard,
        criterion=standard[code],
        history=history,
        levels={level.code: level for level in standard.judgement_scale},
        evidence=evidence,
        status=criterion_statuses(db.session, enrolment).get(code),
        may_judge=may_judge,
        form=form,
    )


@bp.route("/enrolments/<int:enrolment_id>/witness-testimony/new", methods=["GET", "POST"])
@login_required
def new_testimony(enrolment_id: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id, may=may_write_testimony)
    form = _testimony_form(enrolment)
    if form.validate_on_submit():
        item = attempt(
            lambda: create_testimony(db.session, enrolment=enrolment, author=current_user, testimony=_testimony(form)),
            "Testimony saved. Check it, then sign it to submit it for review.",
            form=form,
            default="title",
            part=criteria_error,
        )
        if item:
            return redirect(url_for(".sign_testimony", enrolment_id=enrolment.id, item_id=item.id))
    return render_template("review/testimony_form.html", form=form, enrolment=enrolment, item=None)


@bp.route("/enrolments/<int:enrolment_id>/witness-testimony/<int:item_id>/edit", methods=["GET", "POST"])
@login_required
def edit_testimony(enrolment_id: int, item_id: int):
    item = _unsigned_testimony(enrolment_id, item_id)
    form = _testimony_form(item.enrolment, item)
    if form.validate_on_submit() and attempt(
        lambda: update_testimony(db.session, item, by=current_user, testimony=_testimony(form)),
        "Your changes have been saved",
        form=form,
        default="title",
        part=criteria_error,
    ):
        return redirect(url_for(".sign_testimony", enrolment_id=enrolment_id, item_id=item_id))
    return render_template("review/testimony_form.html", form=form, enrolment=item.enrolment, item=item)


@bp.route(
    "/enrolments/<int:enrolment_id>/witness-testimony/<int:item_id>/sign",
    methods=["GET", "POST"],
    endpoint="sign_testimony",
)
@login_required
def sign_testimony_page(enrolment_id: int, item_id: int):
    item = _unsigned_testimony(enrolment_id, item_id)
    form = SignTestimonyForm()
    if request.method == "GET":
        form.signed_name.data = current_user.name
    if form.validate_on_submit() and attempt(
        lambda: sign_testimony(
            db.session, item, by=current_user, signed_name=form.signed_name.data, job_title=form.job_title.data
        ),
        "Testimony signed and submitted for review",
        form=form,
        default="confirm",
    ):
        return redirect(url_for("evidence.view", enrolment_id=enrolment_id, item_id=item_id))
    standard = item.enrolment.standard_version.standard
    return render_template(
        "review/sign_testimony.html", form=form, item=item, enrolment=item.enrolment, standard=standard
    )


def _unsigned_testimony(enrolment_id: int, item_id: int) -> EvidenceItem:
    """The current user's own unsigned witness testimony; else 404."""
    item = get_evidence_or_404(db.session, current_user, enrolment_id, item_id)
    if not is_witness_testimony(item) or not may_change(current_user, item):
        abort(404)
    return item


def _testimony_form(enrolment, item: EvidenceItem | None = None) -> WitnessTestimonyForm:
    form = WitnessTestimonyForm()
    form.criteria.standard = enrolment.standard_version.standard
    if item is not None and request.method == "GET":
        form.title.data = item.title
        form.activity_date.data = item.activity_date
        form.text.data = item.description
        form.criteria.data = {link.criterion_code: link.justification for link in item.links}
    return form


def _testimony(form: WitnessTestimonyForm) -> WitnessTestimony:
    return WitnessTestimony(
        title=form.title.data or "",
        activity_date=form.activity_date.data,
        text=form.text.data or "",
        links=form.criteria.data,
    )


def _level_label(standard, level_code: str) -> str:
    level = standard.judgement_level(level_code)
    return level.label if level else level_code
