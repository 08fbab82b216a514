"""The gateway page of an enrolment, the declarations, the submission and the assessor's decision."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from standard import Signer

from ..assessment.domain import AFTER_GATEWAY, assessment_overview, may_record
from ..core.access import get_enrolment_or_404, signing_party
from ..core.forms import ConfirmForm
from ..core.web import attempt
from ..extensions import db
from ..models import Enrolment, GatewayOutcome
from .behaviours import (
    CONFIRMED,
    NOT_YET,
    may_verify_behaviours,
    sign_behaviour_verification,
    verification_state,
)
from .domain import (
    ITEM_TITLES,
    SIGNER_LABELS,
    decide_gateway,
    gateway_items,
    gateway_overview,
    is_assessor_of,
    may_decide,
    may_submit,
    sign_declaration,
    submit_to_epao,
)
from .forms import DeclarationForm, behaviour_verification_form, decision_form

bp = Blueprint("gateway", __name__, template_folder="templates", url_prefix="/enrolments/<int:enrolment_id>")


@bp.route("/gateway")
@login_required
def gateway(enrolment_id: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id)
    return _gateway_page(enrolment, DeclarationForm(formdata=None))


@bp.post("/gateway/declaration")
@login_required
def declaration(enrolment_id: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id)
    form = DeclarationForm()
    if not form.validate_on_submit():
        return _gateway_page(enrolment, form)
    signer = Signer(form.signer.data)
    attempt(
        lambda: sign_declaration(db.session, enrolment, by=current_user, signer=signer),
        f"Declaration signed for {SIGNER_LABELS[signer]}",
    )
    return redirect(url_for(".gateway", enrolment_id=enrolment_id))


@bp.post("/gateway/submit")
@login_required
def submit(enrolment_id: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id)
    if not ConfirmForm().validate_on_submit():
        flash("The gateway to completion could not be submitted. Try again.", "error")
        return redirect(url_for(".gateway", enrolment_id=enrolment_id))
    attempt(
        lambda: submit_to_epao(db.session, enrolment, by=current_user),
        lambda submission: f"Submitted to {submission.epao.name}: the portfolio is now read-only until they decide",
    )
    return redirect(url_for(".gateway", enrolment_id=enrolment_id))


@bp.route("/gateway/decision", methods=["GET", "POST"])
@login_required
def decision(enrolment_id: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id, may=is_assessor_of)
    overview = gateway_overview(db.session, enrolment)
    submission = overview.pending
    if submission is None or not may_decide(current_user, submission):
        flash("No gateway submission is waiting for your decision", "error")
        return redirect(url_for(".gateway", enrolment_id=enrolment_id))
    items = gateway_items(enrolment.standard_version.standard)
    # Items an earlier attempt accepted stay accepted: offer them as accepted.
    initial = {f"decision_{code}": "accept" for code in overview.accepted_earlier if code in items}
    form = decision_form(items)(data=initial if request.method == "GET" else None)
    if form.validate_on_submit():
        decided = attempt(
            lambda: decide_gateway(
                db.session, submission, by=current_user, decisions=form.decisions, note=form.note.data or ""
            ),
            form=form,
        )
        if decided:
            if submission.outcome is GatewayOutcome.SIGNED_OFF:
                flash(
                    f"Gateway to completion signed off: {enrolment.apprentice.name} is now in apprenticeship "
                    "assessment",
                    "success",
                )
                return redirect(url_for(".gateway", enrolment_id=enrolment_id))
            # Back on programme, the apprenticeship is no longer the EPAO's to see.
            flash(
                f"Gateway to completion referred back to {enrolment.provider.name}: "
                f"{enrolment.apprentice.name}'s attempt {submission.number + 1} will need fresh declarations",
                "success",
            )
            return redirect(url_for("home.index"))
        if decided.flashed:  # not about one of the form's fields: the gateway page shows where things stand
            return redirect(url_for(".gateway", enrolment_id=enrolment_id))
    return render_template(
        "gateway/decision.html",
        enrolment=enrolment,
        overview=overview,
        submission=submission,
        checks={check.code: check for check in overview.readiness},
        items=items,
        item_titles=ITEM_TITLES,
        form=form,
    )


@bp.route("/gateway/behaviours", methods=["GET", "POST"])
@login_required
def behaviours(enrolment_id: int):
    """The employer's verification of each behaviour: only for the employer's people, where the
    standard asks for it; to anyone else the page does not exist."""
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id, may=may_verify_behaviours)
    state = verification_state(db.session, enrolment)
    assert state is not None  # may_verify_behaviours: the standard asks for it
    codes = tuple(b.code for b in state.behaviours)
    # The newest verification's decisions and notes, to start from.
    initial = {}
    for code, decision in state.decisions.items():
        initial[f"decision_{code}"] = CONFIRMED if decision.confirmed else NOT_YET
        initial[f"note_{code}"] = decision.note
    form = behaviour_verification_form(codes)(data=initial if request.method == "GET" else None)
    if form.validate_on_submit():
        signed = attempt(
            lambda: sign_behaviour_verification(db.session, enrolment, by=current_user, decisions=form.decisions),
            lambda verification: (
                "Behaviours verified: all confirmed"
                if not verification.not_yet
                else f"Behaviours verified: not yet confirmed {', '.join(verification.not_yet)}"
            ),
            form=form,
        )
        if signed:
            return redirect(url_for(".gateway", enrolment_id=enrolment_id, _anchor="behaviour-verification"))
        if signed.flashed:  # not about one of the form's fields: the gateway page shows where things stand
            return redirect(url_for(".gateway", enrolment_id=enrolment_id))
    return render_template("gateway/behaviours.html", enrolment=enrolment, state=state, form=form)


def _gateway_page(enrolment: Enrolment, form: DeclarationForm):
    overview = gateway_overview(db.session, enrolment)
    return render_template(
        "gateway/gateway.html",
        enrolment=enrolment,
        overview=overview,
        behaviours=verification_state(db.session, enrolment),
        may_verify_behaviours=may_verify_behaviours(current_user, enrolment),
        item_titles=ITEM_TITLES,
        my_signer=signing_party(current_user, enrolment),
        may_submit=may_submit(current_user, enrolment),
        may_decide=overview.pending is not None and may_decide(current_user, overview.pending),
        form=form,
        submit_form=ConfirmForm(formdata=None),
        assessment=assessment_overview(db.session, enrolment) if enrolment.status in AFTER_GATEWAY else None,
        may_record=may_record(current_user, enrolment),
    )
