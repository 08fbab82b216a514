"""Signing requests: the pages of the requester (ask, withdraw, send again) and of the witness, who
has no account (the emailed link, the code, the signature).

The witness's pages work signed out and ignore whoever is signed in: the link and the code are what
let them in. Between entering the code and signing, this browser's session remembers which request
it verified and when (`VERIFIED`), so that the code proves control of the email address to this
browser only; the domain checks that moment against the request's own record of its verification.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ..core.access import get_enrolment_or_404, get_progress_review_or_404
from ..core.forms import ConfirmForm
from ..core.web import attempt, criteria_error, show_error
from ..extensions import db
from ..models import SigningPurpose, SigningRequest, SigningStatus
from ..review.domain import WitnessTestimony
from . import domain
from .forms import CodeForm, DeclineForm, EmployerRequestForm, SignForm, WitnessRequestForm

bp = Blueprint("signing", __name__, template_folder="templates")

VERIFIED = "signing_verified"  # {"request": id, "at": ISO time}: this browser entered that request's code
FINISHED = "signing_finished"  # the id of the request this browser signed or declined: it is thanked
ENROLMENT = "/enrolments/<int:enrolment_id>"
CONFIRMATIONS = {
    SigningPurpose.WITNESS_TESTIMONY: "I confirm that this testimony is a true account of the apprentice's work, "
    "which I saw myself",
    SigningPurpose.PROGRESS_REVIEW: "I confirm that this is a true record of the progress review, "
    "and that I sign it for the apprentice's employer",
}


@bp.after_request
def keep_out_of_caches(response):
    """Every page here shows a request's details, signed in or not: never kept by a shared cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


# The requester's pages -------------------------------------------------------------------------


@bp.route(f"{ENROLMENT}/witness-testimony/ask", methods=["GET", "POST"])
@login_required
def ask_witness(enrolment_id: int):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id, may=domain.may_request_testimony)
    form = WitnessRequestForm()
    form.criteria.standard = enrolment.standard_version.standard
    if form.validate_on_submit():
        made = attempt(
            lambda: domain.create_testimony_request(
                db.session,
                enrolment=enrolment,
                by=current_user,
                witness_email=form.witness_email.data or "",
                witness_name=form.witness_name.data or "",
                testimony=WitnessTestimony(
                    title=form.title.data or "",
                    activity_date=form.activity_date.data,
                    text=form.text.data or "",
                    links=form.criteria.data,
                ),
            ),
            lambda made: f"Request sent to {made[0].witness_email}. Their link works until {_until(made[0])}.",
            form=form,
            default="title",
            part=criteria_error,
        )
        if made:
            return redirect(url_for("evidence.view", enrolment_id=enrolment.id, item_id=made[0].item_id))
    return render_template("signing/ask_witness.html", form=form, enrolment=enrolment)


@bp.route(f"{ENROLMENT}/reviews/<int:review_id>/ask-employer", methods=["GET", "POST"])
@login_required
def ask_employer(enrolment_id: int, review_id: int):
    review = get_progress_review_or_404(db.session, current_user, enrolment_id, review_id)
    if not domain.may_ask_employer(current_user, review):
        abort(404)
    form = EmployerRequestForm()
    mentor = review.enrolment.mentor
    if request.method == "GET" and mentor is not None:
        form.witness_email.data, form.witness_name.data = mentor.email, mentor.name
    if form.validate_on_submit():
        made = attempt(
            lambda: domain.create_review_request(
                db.session,
                review,
                by=current_user,
                witness_email=form.witness_email.data or "",
                witness_name=form.witness_name.data or "",
            ),
            lambda made: f"Request sent to {made[0].witness_email}. Their link works until {_until(made[0])}.",
            form=form,
            default="witness_email",
        )
        if made:
            return redirect(url_for("progress_reviews.review", enrolment_id=enrolment_id, review_id=review_id))
    return render_template(
        "signing/ask_employer.html",
        form=form,
        enrolment=review.enrolment,
        review=review,
        text=domain.review_text(review),
    )


@bp.post(f"{ENROLMENT}/signing-requests/<int:request_id>/withdraw")
@login_required
def withdraw(enrolment_id: int, request_id: int):
    signing_request = _managed_or_404(enrolment_id, request_id)
    if ConfirmForm().validate_on_submit():
        attempt(
            lambda: domain.withdraw(db.session, signing_request, by=current_user),
            "Request withdrawn: its link no longer works",
        )
    return redirect(_page_of(signing_request))


@bp.post(f"{ENROLMENT}/signing-requests/<int:request_id>/send-again")
@login_required
def send_again(enrolment_id: int, request_id: int):
    signing_request = _managed_or_404(enrolment_id, request_id)
    if ConfirmForm().validate_on_submit():
        attempt(
            lambda: domain.send_again(db.session, signing_request, by=current_user),
            lambda made: (
                f"Request sent again to {made[0].witness_email} with a new link, which works until "
                f"{_until(made[0])}. The link sent before no longer works."
            ),
        )
    return redirect(_page_of(signing_request))


def _managed_or_404(enrolment_id: int, request_id: int) -> SigningRequest:
    """A request of an enrolment the user sees, if they may manage it; to anyone else it does not exist."""
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id)
    signing_request = db.session.scalar(
        select(SigningRequest).where(SigningRequest.id == request_id, SigningRequest.enrolment_id == enrolment.id)
    )
    if signing_request is None or not domain.may_manage(current_user, signing_request):
        abort(404)
    return signing_request


def _page_of(signing_request: SigningRequest) -> str:
    if signing_request.item_id is not None:
        return url_for("evidence.view", enrolment_id=signing_request.enrolment_id, item_id=signing_request.item_id)
    return url_for(
        "progress_reviews.review", enrolment_id=signing_request.enrolment_id, review_id=signing_request.review_id
    )


# The witness's pages ---------------------------------------------------------------------------


@bp.route("/sign/<token>")
def start(token: str):
    signing_request = _by_token_or_404(token)
    if (shown := _closed_page(signing_request)) is not None:
        return shown
    return render_template(
        "signing/start.html",
        signing_request=signing_request,
        form=ConfirmForm(formdata=None),
        verified=domain.verification_problem(signing_request, _verified_at(signing_request)) is None,
        expires_on=domain.day_of_expiry(signing_request),
        token=token,
    )


@bp.post("/sign/<token>/code")
def send_code(token: str):
    signing_request = _by_token_or_404(token)
    if (shown := _closed_page(signing_request)) is not None:
        return shown
    if ConfirmForm().validate_on_submit():
        sent = attempt(
            lambda: domain.send_code(db.session, signing_request, address=_address()),
            f"We have emailed a code to {signing_request.witness_email}",
            quiet=True,
        )
        if sent:
            return redirect(url_for(".verify", token=token))
        if isinstance(sent.error, domain.RequestClosed):
            return _closed_page(signing_request)
        flash(sent.error.message, "error")
    return redirect(url_for(".verify" if signing_request.code_sent_at else ".start", token=token))


@bp.route("/sign/<token>/verify", methods=["GET", "POST"])
def verify(token: str):
    signing_request = _by_token_or_404(token)
    if (shown := _closed_page(signing_request)) is not None:
        return shown
    form = CodeForm()
    if form.validate_on_submit():
        # Kept even when refused: a wrong code counts towards the five tries.
        verified = attempt(
            lambda: domain.verify_code(db.session, signing_request, form.code.data or "", address=_address()),
            form=form,
            default="code",
            keep_on_error=True,
            quiet=True,
        )
        if verified:
            remember_verified(session, signing_request.id, verified)
            return redirect(url_for(".sign", token=token))
        if isinstance(verified.error, domain.RequestClosed):
            return _closed_page(signing_request)
        show_error(form, verified.error, default="code")
    return render_template("signing/verify.html", form=form, signing_request=signing_request, token=token)


@bp.route("/sign/<token>/sign", methods=["GET", "POST"])
def sign(token: str):
    signing_request = _by_token_or_404(token)
    if (shown := _closed_page(signing_request)) is not None:
        return shown
    verified_at = _verified_at(signing_request)
    if (problem := domain.verification_problem(signing_request, verified_at)) is not None:
        flash(problem, "error")
        return redirect(url_for(".start", token=token))
    form = SignForm()
    form.confirm.label.text = CONFIRMATIONS[signing_request.purpose]
    if signing_request.text_to_confirm:
        del form.text  # they confirm the text they were asked to
    if form.validate_on_submit():
        signed = attempt(
            lambda: domain.sign(
                db.session,
                signing_request,
                domain.WitnessDetails(
                    name=form.name.data or "",
                    job_title=form.job_title.data or "",
                    relationship=form.relationship.data or "",
                    signature=form.signature.data or "",
                    confirmed=bool(form.confirm.data),
                    text=(form.text.data or "") if "text" in form else "",
                ),
                verified_at=verified_at,
                address=_address(),
            ),
            quiet=True,
        )
        if signed or isinstance(signed.error, domain.RequestClosed | domain.NotVerified):
            return _finished(signing_request, token, signed)
        show_error(form, signed.error, default="signature")
    return render_template("signing/sign.html", form=form, signing_request=signing_request, token=token)


@bp.route("/sign/<token>/decline", methods=["GET", "POST"])
def decline(token: str):
    signing_request = _by_token_or_404(token)
    if (shown := _closed_page(signing_request)) is not None:
        return shown
    verified_at = _verified_at(signing_request)
    if (problem := domain.verification_problem(signing_request, verified_at)) is not None:
        flash(problem.replace("before you sign", "before you answer"), "error")
        return redirect(url_for(".start", token=token))
    form = DeclineForm()
    if form.validate_on_submit():
        declined = attempt(
            lambda: domain.decline(
                db.session, signing_request, reason=form.reason.data or "", verified_at=verified_at, address=_address()
            ),
            quiet=True,
        )
        if declined or isinstance(declined.error, domain.RequestClosed | domain.NotVerified):
            return _finished(signing_request, token, declined)
        show_error(form, declined.error, default="reason")
    return render_template("signing/decline.html", form=form, signing_request=signing_request, token=token)


def remember_verified(store: MutableMapping, request_id: int, verified_at: datetime) -> None:
    """Note in a browser's session that it entered the request's code at `verified_at`."""
    store[VERIFIED] = {"request": request_id, "at": verified_at.isoformat()}


def _verified_at(signing_request: SigningRequest) -> datetime | None:
    marker = session.get(VERIFIED)
    if not isinstance(marker, dict) or marker.get("request") != signing_request.id:
        return None
    try:
        return datetime.fromisoformat(str(marker.get("at")))
    except ValueError:
        return None


def _finished(signing_request: SigningRequest, token: str, outcome):
    """After signing or declining (or finding it done meanwhile): the start page thanks this browser
    if it did it, or says why the link no longer works; a lapsed code sends them back to enter one."""
    if outcome:
        session.pop(VERIFIED, None)
        session[FINISHED] = signing_request.id
    elif isinstance(outcome.error, domain.NotVerified):
        flash(outcome.error.message, "error")
    return redirect(url_for(".start", token=token))


def _by_token_or_404(token: str) -> SigningRequest:
    signing_request = domain.request_by_token(db.session, token)
    if signing_request is None:
        abort(404)
    return signing_request


def _closed_page(signing_request: SigningRequest):
    """The plain page of a link that no longer works (410), or the thanks of the browser that signed
    or declined through it; None while it works."""
    closed = domain.closed(signing_request)
    if closed is None:
        return None
    finished = signing_request.status in (SigningStatus.SIGNED, SigningStatus.REFUSED)
    if finished and session.get(FINISHED) == signing_request.id:
        return render_template("signing/finished.html", signing_request=signing_request)
    return render_template("signing/closed.html", closed=closed), 410


def _address() -> str:
    """The witness's network address; behind a proxy, as PROXY_FIX reads it from the proxy's header."""
    return request.remote_addr or "unknown"


def _until(signing_request: SigningRequest) -> str:
    return domain.day_of_expiry(signing_request)
