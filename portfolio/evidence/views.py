"""The apprentice's evidence pages: library, add, view, edit, submit, withdraw, files, criteria tree."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, session, url_for
from flask_login import current_user, login_required

from standard import roll_up

from ..core.access import (
    files_withheld,
    get_enrolment_or_404,
    get_evidence_file_or_404,
    get_evidence_or_404,
    get_reviewable_evidence_or_404,
    is_tutor_of,
    may_comment_on_evidence,
    may_judge_criteria,
    may_see_files,
)
from ..core.error_pages import render_error
from ..core.forms import ConfirmForm
from ..core.listing import paginate, search_text
from ..core.storage import evidence_store, max_image_pixels, max_upload_bytes, plays_inline, shows_inline
from ..core.web import attempt, criteria_error
from ..extensions import db
from ..models.evidence import EvidenceItem, EvidenceKind, EvidenceStatus
from ..review.domain import (
    Decision,
    add_comment,
    comments_on,
    decide,
    latest_decision,
    may_write_testimony,
    reassign_review,
    referred_count,
    reviewers_to_give,
    signature_of,
)
from ..review.queue import QueueFilters, neighbours
from ..signing.domain import may_manage, may_request_testimony, progress_of
from .forms import CommentForm, DecisionForm, EvidenceForm, ReassignForm, WithdrawForm, item_decision_form
from .items import (
    EDITABLE,
    SUBMITTABLE,
    WITHDRAWABLE,
    EvidenceDetails,
    Upload,
    create_item,
    criterion_statuses,
    delete_draft,
    is_author,
    is_witness_testimony,
    may_add_evidence,
    may_change,
    remove_file,
    submit,
    update_item,
    withdraw,
)
from .queries import latest_items_by_criterion, library_items
from .readings import drawn_page, has_reading, readings_of
from .staged_uploads import Attached, attach_for_form

bp = Blueprint("evidence", __name__, template_folder="templates", url_prefix="/enrolments/<int:enrolment_id>")

SHOWN_PER_CRITERION = 5  # the criteria tree lists the latest few; the library filter shows them all
# Nothing a user uploaded may run as a page: downloads carry their own, stricter policy.
DOWNLOAD_POLICY = "default-src 'none'; img-src 'self'; sandbox"
BROWSER_KEY = "upload_key"  # the session's key of the browser's staged uploads


@bp.route("/evidence")
@login_required
def library(enrolment_id: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id)
    standard = enrolment.standard_version.standard
    filters = {
        "q": search_text(),
        "kind": request.args.get("kind", "") if request.args.get("kind") in {k.value for k in EvidenceKind} else "",
        "status": request.args.get("status", "")
        if request.args.get("status") in {s.value for s in EvidenceStatus}
        else "",
        "criterion": request.args.get("criterion", "") if request.args.get("criterion") in standard else "",
    }
    page = paginate(
        library_items(
            current_user,
            enrolment.id,
            text=filters["q"],
            kind=EvidenceKind(filters["kind"]) if filters["kind"] else None,
            status=EvidenceStatus(filters["status"]) if filters["status"] else None,
            criterion=filters["criterion"],
        )
    )
    return render_template(
        "evidence/library.html",
        enrolment=enrolment,
        standard=standard,
        page=page,
        filters=filters,
        kinds=list(EvidenceKind),
        statuses=list(EvidenceStatus),
        may_add=may_add_evidence(current_user, enrolment),
        may_write_testimony=may_write_testimony(current_user, enrolment),
        may_ask_witness=may_request_testimony(current_user, enrolment),
        referred=referred_count(db.session, current_user, enrolment=enrolment)
        if current_user.id == enrolment.apprentice_id
        else 0,
    )


@bp.route("/evidence/new", methods=["GET", "POST"])
@login_required
def new(enrolment_id: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id, may=may_add_evidence)
    form = _evidence_form(enrolment)
    attached = _attached_files()
    if form.validate_on_submit() and not attached.problems:
        item = _saved(
            lambda **written: create_item(
                db.session, evidence_store(), enrolment=enrolment, author=current_user, **written
            ),
            form,
            attached,
            "Evidence saved as a draft. Submit it when it is ready for review.",
        )
        if item:
            return redirect(url_for(".view", enrolment_id=enrolment.id, item_id=item.id))
    return _form_page(form, enrolment, None, attached)


def _saved(write, form: EvidenceForm, attached, message: str):
    """Run `write` (create_item or update_item with the rest of its arguments given) on the form's
    details and the files kept, as `attempt` does."""
    return attempt(
        lambda: write(details=_details(form), staged=attached.files, max_bytes=max_upload_bytes()),
        message,
        form=form,
        default="title",
        part=criteria_error,
    )


@bp.route("/evidence/<int:item_id>")
@login_required
def view(enrolment_id: int, item_id: int):
    item = get_evidence_or_404(db.session, current_user, enrolment_id, item_id)
    return item_page(item)


def item_page(
    item: EvidenceItem, *, decision_form: DecisionForm | None = None, comment_form: CommentForm | None = None
):
    """The item page with its review panel and comments; the review views show it again with
    their form's errors (that form is `form`, for the error summary)."""
    enrolment = item.enrolment
    testimony = is_witness_testimony(item)
    may_review = is_tutor_of(current_user, enrolment) and not is_author(current_user, item)
    files_visible = may_see_files(current_user, item)
    # The requests emailed to a witness without an account, for whoever manages them, the newest first.
    asked = list(reversed(item.signing_requests)) if testimony else []
    return render_template(
        "evidence/view.html",
        item=item,
        enrolment=enrolment,
        standard=enrolment.standard_version.standard,
        may_change=may_change(current_user, item),
        editable=item.status in EDITABLE,
        submittable=item.status in SUBMITTABLE,
        withdrawable=item.status in WITHDRAWABLE,
        shown_inline={f.id for f in item.files if shows_inline(f.sha256, f.media_type, f.pixels)},
        played_inline={f.id for f in item.files if plays_inline(f.media_type)},
        read_inline={f.id for f in item.files if has_reading(f.media_type)},
        readings=readings_of(db.session, item.files) if files_visible else {},
        files_withheld=files_withheld(item),
        files_visible=files_visible,
        workspace=may_review and item.status is EvidenceStatus.SUBMITTED,
        queue_neighbours=_queue_neighbours(item) if may_review and item.submitted_at else None,
        form=decision_form or comment_form or ConfirmForm(),
        testimony=testimony,
        signature=signature_of(db.session, item),
        asked_of=asked[0] if asked else None,
        signing_requests=[(r, progress_of(r)) for r in asked] if asked and may_manage(current_user, asked[0]) else [],
        feedback=latest_decision(item),
        may_review=may_review,
        reassign_form=_reassign_form(item) if may_review and item.status is EvidenceStatus.SUBMITTED else None,
        may_judge=may_judge_criteria(current_user, enrolment),
        decision_form=decision_form or item_decision_form(item, formdata=None),
        comments=comments_on(db.session, item),
        may_comment=may_comment_on_evidence(current_user, enrolment),
        comment_form=comment_form or CommentForm(formdata=None),
    )


@bp.route("/evidence/<int:item_id>/edit", methods=["GET", "POST"])
@login_required
def edit(enrolment_id: int, item_id: int):
    item = _changeable_item(enrolment_id, item_id, EDITABLE)
    if is_witness_testimony(item):
        return redirect(url_for("review.edit_testimony", enrolment_id=enrolment_id, item_id=item_id))
    form = _evidence_form(item.enrolment, item)
    attached = _attached_files()
    if (
        form.validate_on_submit()
        and not attached.problems
        and _saved(
            lambda **written: update_item(db.session, evidence_store(), item, by=current_user, **written),
            form,
            attached,
            "Your changes have been saved",
        )
    ):
        return redirect(url_for(".view", enrolment_id=enrolment_id, item_id=item.id))
    return _form_page(form, item.enrolment, item, attached)


@bp.post("/evidence/<int:item_id>/submit")
@login_required
def submit_item(enrolment_id: int, item_id: int):
    item = _changeable_item(enrolment_id, item_id, SUBMITTABLE)
    attempt(lambda: submit(item, by=current_user), "Evidence submitted for review")
    return redirect(url_for(".view", enrolment_id=enrolment_id, item_id=item_id))


@bp.route("/evidence/<int:item_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw_item(enrolment_id: int, item_id: int):
    item = _changeable_item(enrolment_id, item_id, WITHDRAWABLE)
    form = WithdrawForm()
    if form.validate_on_submit() and attempt(
        lambda: withdraw(item, by=current_user, reason=form.reason.data),
        "Evidence withdrawn. It stays in your records but no longer counts.",
        form=form,
        default="reason",
    ):
        return redirect(url_for(".view", enrolment_id=enrolment_id, item_id=item_id))
    return render_template("evidence/withdraw.html", form=form, item=item, enrolment=item.enrolment)


@bp.route("/evidence/<int:item_id>/delete", methods=["GET", "POST"])
@login_required
def delete(enrolment_id: int, item_id: int):
    item = _changeable_item(enrolment_id, item_id, (EvidenceStatus.DRAFT,))
    form = ConfirmForm()
    if form.validate_on_submit():
        # It may be gone meanwhile, deleted by the same request sent twice: that is flashed.
        attempt(lambda: delete_draft(db.session, item, by=current_user), "Draft deleted")
        return redirect(url_for(".library", enrolment_id=enrolment_id))
    return render_template("evidence/delete.html", form=form, item=item, enrolment=item.enrolment)


@bp.post("/evidence/<int:item_id>/files/<int:file_id>/remove")
@login_required
def remove(enrolment_id: int, item_id: int, file_id: int):
    item = _changeable_item(enrolment_id, item_id, EDITABLE)
    evidence_file = get_evidence_file_or_404(db.session, current_user, enrolment_id, item_id, file_id)
    attempt(
        lambda: remove_file(db.session, item, evidence_file, by=current_user),
        lambda _: f"{evidence_file.display_name} removed",
    )
    return redirect(url_for(".edit", enrolment_id=enrolment_id, item_id=item_id))


@bp.route("/evidence/<int:item_id>/files/<int:file_id>")
@login_required
def download(enrolment_id: int, item_id: int, file_id: int):
    evidence_file = get_evidence_file_or_404(db.session, current_user, enrolment_id, item_id, file_id)
    return _send(evidence_file, as_attachment=True)


@bp.route("/evidence/<int:item_id>/files/<int:file_id>/preview")
@login_required
def preview(enrolment_id: int, item_id: int, file_id: int):
    evidence_file = get_evidence_file_or_404(db.session, current_user, enrolment_id, item_id, file_id)
    return _send(evidence_file, as_attachment=False)


@bp.route("/evidence/<int:item_id>/files/<int:file_id>/pages/<int:number>")
@login_required
def page_image(enrolment_id: int, item_id: int, file_id: int, number: int):
    """A PDF file's page as drawn for reading (a PNG in the store), sent as the files are."""
    evidence_file = get_evidence_file_or_404(db.session, current_user, enrolment_id, item_id, file_id)
    page = drawn_page(db.session, evidence_file.sha256, number)
    if page is None:
        abort(404)
    return _send_stored(page.image_sha256, "image/png", f"page-{number}.png", as_attachment=False)


@bp.route("/criteria")
@login_required
def criteria(enrolment_id: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id)
    standard = enrolment.standard_version.standard
    items_by_code = latest_items_by_criterion(db.session, current_user, enrolment.id, SHOWN_PER_CRITERION)
    coverage = roll_up(standard, criterion_statuses(db.session, enrolment))
    return render_template(
        "evidence/criteria.html",
        enrolment=enrolment,
        standard=standard,
        coverage=coverage,
        items_by_code=items_by_code,
        shown=SHOWN_PER_CRITERION,
    )


def _changeable_item(enrolment_id: int, item_id: int, statuses) -> EvidenceItem:
    """The item, if the current user may change it and it is in one of `statuses`; else 404."""
    item = get_evidence_or_404(db.session, current_user, enrolment_id, item_id)
    if not may_change(current_user, item) or item.status not in statuses:
        abort(404)
    return item


def _evidence_form(enrolment, item: EvidenceItem | None = None) -> EvidenceForm:
    form = EvidenceForm(obj=item) if item is not None else EvidenceForm()
    form.criteria.standard = enrolment.standard_version.standard
    if item is not None and request.method == "GET":
        form.kind.data = item.kind.value
        form.criteria.data = {link.criterion_code: link.justification for link in item.links}
    return form


def _details(form: EvidenceForm) -> EvidenceDetails:
    return EvidenceDetails(
        title=form.title.data or "",
        kind=EvidenceKind(form.kind.data),
        activity_date=form.activity_date.data,
        description=form.description.data or "",
        reflection=form.reflection.data or "",
        contains_third_party_data=bool(form.contains_third_party_data.data),
        consent_reference=form.consent_reference.data or "",
        links=form.criteria.data,
    )


def _attached_files() -> Attached:
    """On a submitted form: stage the new files that pass their checks and keep the ticked staged
    ones, committed at once, so that whatever else is wrong with the form does not lose them."""
    if request.method != "POST":
        return Attached()
    attached = attach_for_form(
        db.session,
        evidence_store(),
        user=current_user,
        browser_key=_browser_key(),
        kept_ids=_ids("staged"),
        shown_ids=_ids("staged_shown"),
        uploads=[Upload(f.stream, f.filename or "") for f in request.files.getlist("files") if f.filename],
        max_bytes=max_upload_bytes(),
        max_pixels=max_image_pixels(),
        expire_after=timedelta(hours=float(current_app.config["SWEEP_GRACE_HOURS"])),
    )
    db.session.commit()
    return attached


def _browser_key() -> str:
    """A random key of this browser session, to which its staged uploads belong."""
    if not isinstance(session.get(BROWSER_KEY), str):
        session[BROWSER_KEY] = secrets.token_urlsafe(24)
    return session[BROWSER_KEY]


def _ids(name: str) -> list[int]:
    """The database ids posted under `name`; anything else is ignored."""
    digits = [value for value in request.form.getlist(name) if value.isascii() and value.isdigit() and len(value) <= 10]
    return [int(value) for value in digits if 0 < int(value) < 2**31]


def _form_page(form: EvidenceForm, enrolment, item: EvidenceItem | None, attached: Attached):
    if attached.problems:  # one message, so that the summary shows every refused file
        form.files.errors = [*form.files.errors, " ".join(attached.problems)]
    kept_note = None
    if attached.files and form.errors:
        names = ", ".join(staged.display_name for staged in attached.files)
        kept_note = f"Your files are kept, so you do not need to choose them again: {names}."
    return render_template(
        "evidence/form.html",
        form=form,
        enrolment=enrolment,
        item=item,
        staged=attached.files,
        error_summary={"descriptionText": kept_note} if kept_note else None,
    )


def _send(evidence_file, *, as_attachment: bool):
    try:
        problem = "damaged" if evidence_store().size(evidence_file.sha256) != evidence_file.size else None
    except KeyError:
        problem = "missing"
    if problem:
        return _stored_file_problem(evidence_file, problem)
    if not as_attachment and not (
        shows_inline(evidence_file.sha256, evidence_file.media_type, evidence_file.pixels)
        or plays_inline(evidence_file.media_type)
    ):
        abort(404)
    return _send_stored(
        evidence_file.sha256,
        evidence_file.media_type,
        evidence_file.display_name,
        as_attachment=as_attachment,
        on_problem=lambda problem: _stored_file_problem(evidence_file, problem),
    )


def _send_stored(sha256: str, media_type: str, name: str, *, as_attachment: bool, on_problem=None):
    """Stream a stored file under the download policy, which runs nothing it holds; a missing or
    damaged one is `on_problem`'s page (else a 404)."""
    try:
        stream = evidence_store().open(sha256)
    except KeyError:
        if on_problem is None:
            abort(404)
        return on_problem("missing")
    response = send_file(
        stream,
        mimetype=media_type,
        as_attachment=as_attachment,
        download_name=name,
        etag=sha256,
        conditional=True,
        max_age=0,
    )
    response.headers["Content-Security-Policy"] = DOWNLOAD_POLICY
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _stored_file_problem(evidence_file, problem: str):
    """A clear page, and a log line for whoever looks after the store, instead of a server error."""
    current_app.logger.error(
        "Evidence item %s: file %s (%s, SHA-256 %s, %s bytes on record) is %s in the evidence store",
        evidence_file.item_id,
        evidence_file.id,
        evidence_file.display_name,
        evidence_file.sha256,
        evidence_file.size,
        problem,
    )
    return render_error(
        409,
        "The file cannot be downloaded",
        f"The file {evidence_file.display_name} of this evidence is {problem} in the evidence store, so it "
        "cannot be sent. Nothing has changed. Tell an administrator, who can check the store with "
        "`portfolio evidence verify`.",
    )


# The review forms on the item page: on an error the page is shown again with them.


@bp.post("/evidence/<int:item_id>/review/decide")
@login_required
def decide_item(enrolment_id: int, item_id: int):
    item = get_reviewable_evidence_or_404(db.session, current_user, enrolment_id, item_id)
    form = item_decision_form(item)
    if form.validate_on_submit():
        criteria = form.criteria_decided(item.codes)
        overall = None if criteria is not None else Decision(form.decision.data)
        decided = attempt(
            lambda: decide(
                db.session,
                item,
                by=current_user,
                decision=overall,
                feedback=form.feedback.data or "",
                criteria=criteria,
            ),
            lambda _: (
                "Evidence accepted"
                if item.status is EvidenceStatus.ACCEPTED
                else f"Evidence referred back to {item.enrolment.apprentice.name} with your feedback"
            ),
            form=form,
        )
        # Only the feedback and the criteria's decisions are the reviewer's to correct here;
        # anything else is shown on the item.
        if decided or decided.flashed:
            return redirect(url_for("evidence.view", enrolment_id=enrolment_id, item_id=item_id))
    return item_page(item, decision_form=form)


@bp.post("/evidence/<int:item_id>/review/reassign")
@login_required
def reassign(enrolment_id: int, item_id: int):
    item = get_reviewable_evidence_or_404(db.session, current_user, enrolment_id, item_id)
    form = _reassign_form(item, formdata=request.form)
    if form is None or not form.validate_on_submit():
        flash("Choose a tutor of the apprentice's provider to give the review to", "error")
    else:
        to = next(tutor for tutor in form.tutors if tutor.id == form.reviewer.data)
        attempt(
            lambda: reassign_review(db.session, item, by=current_user, to=to), f"{to.name} will review this evidence"
        )
    return redirect(url_for("evidence.view", enrolment_id=enrolment_id, item_id=item_id, _anchor="review"))


def _queue_neighbours(item: EvidenceItem) -> dict:
    """The items before and after this one in the tutor's review queue, as the queue's filters in
    the address (or the tutor's own apprentices) have it, with those filters to link them with."""
    filters = QueueFilters.from_args(request.args, current_user)
    previous, following = neighbours(db.session, current_user, item, filters)
    return {"previous": previous, "next": following, "args": filters.args()}


def _reassign_form(item: EvidenceItem, formdata=None) -> ReassignForm | None:
    """The form that gives the item's review to another tutor, None if there is nobody to give it to."""
    tutors = reviewers_to_give(db.session, item, by=current_user)
    if not tutors:
        return None
    form = ReassignForm(formdata=formdata)
    form.reviewer.choices = [(tutor.id, tutor.name) for tutor in tutors]
    form.tutors = tutors
    return form


@bp.post("/evidence/<int:item_id>/comments")
@login_required
def comment(enrolment_id: int, item_id: int):
    item = get_evidence_or_404(db.session, current_user, enrolment_id, item_id)
    if not may_comment_on_evidence(current_user, item.enrolment):
        abort(404)
    form = CommentForm()
    if form.validate_on_submit() and attempt(
        lambda: add_comment(db.session, item, by=current_user, body=form.comment.data or ""),
        "Comment posted",
        form=form,
        default="comment",
    ):
        return redirect(url_for("evidence.view", enrolment_id=enrolment_id, item_id=item_id, _anchor="comments"))
    return item_page(item, comment_form=form)
