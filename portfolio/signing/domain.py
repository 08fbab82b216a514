"""Signing requests: asking someone without an account to sign, by email.

A tutor or an employer of the apprenticeship asks a witness (a venue manager, a visiting artist, a
teacher at a partner school) to confirm or write a witness testimony; a tutor asks the employer's
contact to sign a progress review. The request is emailed with a single-use link; the person who
opens it asks for a six-digit code, emailed separately to the same address, which proves that the
address is theirs; then they give their name, job title and relationship to the apprentice, type
their name as a signature and sign. Only hashes of the link's token and of the code are stored.

Nothing here looks at who is signed in: the link and the code are the witness's, whoever's browser
opens them. Every change locks its rows first (the enrolment, the item or review, then the request),
so that two tabs signing at once sign once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from standard import Signer

from ..accounts.domain import normalise_email
from ..core import audit
from ..core.access import is_employer_of, is_tutor_of
from ..core.clock import day_of
from ..core.domain import DomainError, lock_and_reload, lock_enrolment_for, required_text
from ..core.text import clean_line, clean_text
from ..core.wording import long_date
from ..evidence.items import MAX_TEXT, OPEN_FOR_EVIDENCE, audited_values, lock_item_for_change
from ..models import (
    Enrolment,
    EvidenceItem,
    EvidenceStatus,
    EvidenceStatusChange,
    ProgressReview,
    Role,
    SigningPurpose,
    SigningRequest,
    SigningStatus,
    User,
)
from ..models.types import as_utc, utcnow
from ..notifications import mail
from ..notifications.domain import notify
from ..notifications.kinds import Kind
from ..progress_reviews.domain import lock_review_for_change, recorded_texts, sign_review_as_employer_contact
from ..review.domain import (
    WitnessTestimony,
    apply_testimony_details,
    checked_testimony_text,
    sign_testimony_as_witness,
)

CODE_DIGITS = 6
MAX_CODE_TRIES = 5  # wrong tries of one code, after which it no longer works
MAX_CODES = 5  # codes sent for one request
CODE_INTERVAL = timedelta(minutes=1)  # at most one code a minute
CODE_VALID_FOR = timedelta(minutes=30)
VERIFIED_FOR = timedelta(hours=1)  # from entering the code to signing
MAX_NAME = 200
MAX_JOB_TITLE = 200
MAX_RELATIONSHIP = 200
MAX_REASON = 2_000
LINK_PATH = "/sign/{token}"  # the witness's page (signing.views.start)


@dataclass(frozen=True)
class Closed:
    """Why a request's link no longer works, in words for whoever opens it (nothing of the portfolio)."""

    title: str
    message: str


class RequestClosed(DomainError):
    """The request cannot be acted on any more; `closed` says why."""

    def __init__(self, closed: Closed) -> None:
        super().__init__(f"{closed.title}. {closed.message}")
        self.closed = closed


class NotVerified(DomainError):
    """This browser has not entered the request's code (or did so too long ago)."""


@dataclass(frozen=True)
class WitnessDetails:
    """What the witness gives when they sign: `text` only when they write the testimony themselves."""

    name: str
    job_title: str
    relationship: str
    signature: str  # their full name typed again
    confirmed: bool
    text: str = ""


# Who may ask ------------------------------------------------------------------------------------


def may_request_testimony(user: User, enrolment: Enrolment) -> bool:
    """A tutor or an employer of the apprenticeship, while it takes evidence."""
    return (is_tutor_of(user, enrolment) or is_employer_of(user, enrolment)) and enrolment.status in OPEN_FOR_EVIDENCE


def may_ask_employer(user: User, review: ProgressReview, *, now: datetime | None = None) -> bool:
    """A tutor of the provider, while the employer has not signed and nobody is asked already."""
    now = now or utcnow()
    return (
        is_tutor_of(user, review.enrolment)
        and not _employer_signed(review)
        and not any(request.is_open(now) for request in review.signing_requests)
    )


def may_manage(user: User, request: SigningRequest) -> bool:
    """Who sees a request's progress and withdraws it or sends it again: its requester; for a progress
    review, any tutor of the provider (the review is the provider's record)."""
    enrolment = request.enrolment
    if request.purpose is SigningPurpose.PROGRESS_REVIEW and is_tutor_of(user, enrolment):
        return True
    return request.requested_by_id == user.id and (is_tutor_of(user, enrolment) or is_employer_of(user, enrolment))


# Asking ----------------------------------------------------------------------------------------


def create_testimony_request(
    session: Session,
    *,
    enrolment: Enrolment,
    by: User,
    witness_email: str,
    witness_name: str,
    testimony: WitnessTestimony,
    now: datetime | None = None,
) -> tuple[SigningRequest, str]:
    """A draft witness testimony (the activity, its date, the criteria asked about and the text to
    confirm, which may be left for the witness to write) and the request emailed to its witness.
    Returns the request and its link's token (which only the email carries)."""
    now = now or utcnow()
    lock_enrolment_for(
        session, enrolment, by, may_request_testimony, "You cannot ask for a witness testimony for this apprentice now"
    )
    email, name = _witness(enrolment, by, witness_email, witness_name)
    text = clean_text(testimony.text)
    if len(text) > MAX_TEXT:
        raise DomainError(f"The testimony must be {MAX_TEXT:,} characters or fewer", "text")
    item = EvidenceItem(enrolment=enrolment, created_by=by, status=EvidenceStatus.DRAFT)
    apply_testimony_details(item, testimony, day_of(now), text=text)
    if not item.links:
        raise DomainError("Choose at least one criterion to ask the witness about", "links")
    session.add(item)
    session.add(EvidenceStatusChange(item=item, from_status=None, to_status=EvidenceStatus.DRAFT, changed_by=by))
    audit.record_change("testimony.created", item, actor=by, after=audited_values(item))
    request = SigningRequest(
        purpose=SigningPurpose.WITNESS_TESTIMONY,
        enrolment=enrolment,
        item=item,
        witness_email=email,
        witness_name_given=name,
        text_to_confirm=text,
    )
    return request, _send(session, request, by=by, now=now)


def create_review_request(
    session: Session,
    review: ProgressReview,
    *,
    by: User,
    witness_email: str,
    witness_name: str,
    now: datetime | None = None,
) -> tuple[SigningRequest, str]:
    """Ask the employer's contact by email to sign the review for the employer; the review as it is
    now is the text they sign. Returns the request and its link's token."""
    now = now or utcnow()
    lock_review_for_change(session, review)
    if not is_tutor_of(by, review.enrolment):
        raise DomainError("Only a tutor of the training provider can ask the employer to sign this review")
    if _employer_signed(review):
        raise DomainError("This review has already been signed for the employer")
    if any(request.is_open(now) for request in review.signing_requests):
        raise DomainError("Someone is already asked by email to sign this review for the employer")
    email, name = _witness(review.enrolment, by, witness_email, witness_name)
    request = SigningRequest(
        purpose=SigningPurpose.PROGRESS_REVIEW,
        enrolment=review.enrolment,
        review=review,
        witness_email=email,
        witness_name_given=name,
        text_to_confirm=review_text(review),
    )
    return request, _send(session, request, by=by, now=now)


def withdraw(session: Session, request: SigningRequest, *, by: User, now: datetime | None = None) -> None:
    """Take the request back: its link stops working."""
    now = now or utcnow()
    _lock(session, request)
    if not may_manage(by, request):
        raise DomainError("You cannot withdraw this request")
    if request.status is not SigningStatus.PENDING:
        raise DomainError(f"This request cannot be withdrawn: it is {request.status.label.lower()}")
    _close(request, SigningStatus.WITHDRAWN, by, now, reason="Withdrawn by the requester")


def send_again(
    session: Session, request: SigningRequest, *, by: User, now: datetime | None = None
) -> tuple[SigningRequest, str]:
    """A new request with the same details and a new link, for a lost, expired, declined or withdrawn
    one; the old link stops working. Returns the new request and its token."""
    now = now or utcnow()
    _lock(session, request)
    if not may_manage(by, request):
        raise DomainError("You cannot send this request again")
    if request.status is SigningStatus.SIGNED:
        raise DomainError("This request has been signed: there is nothing to send again")
    if _target_closed(request):
        raise DomainError("What this request asked for no longer needs signing")
    siblings = request.item.signing_requests if request.item else request.review.signing_requests
    if any(other.id > request.id for other in siblings):
        raise DomainError("A newer request has been sent since: send that one again instead")
    if request.status is SigningStatus.PENDING:
        _close(request, SigningStatus.WITHDRAWN, by, now, reason="Sent again with a new link")
    again = SigningRequest(
        purpose=request.purpose,
        enrolment=request.enrolment,
        item=request.item,
        review=request.review,
        witness_email=request.witness_email,
        witness_name_given=request.witness_name_given,
        # A review may have changed while nobody was asked: they sign it as it is now.
        text_to_confirm=review_text(request.review) if request.review else request.text_to_confirm,
    )
    return again, _send(session, again, by=by, now=now, replaces=request)


def review_text(review: ProgressReview) -> str:
    """The review's record as plain text: what the employer's contact is shown and signs."""
    standard = review.enrolment.standard_version.standard
    lines = [f"Progress review of {long_date(review.review_date)}", ""]
    for label, text in recorded_texts(review):
        lines += [f"{label}:", text, ""]
    lines.append("Criteria discussed:")
    order = {code: n for n, code in enumerate(standard.codes)}
    for row in sorted(review.criteria, key=lambda c: order.get(c.criterion_code, len(order))):
        criterion = standard.criterion(row.criterion_code)
        statement = f": {criterion.text}" if criterion else ""
        note = f" Note: {row.note}" if row.note else ""
        lines.append(f"{row.criterion_code} ({row.rag.label}){statement}{note}")
    if not review.criteria:
        lines.append("None recorded")
    return "\n".join(lines)


# The witness's steps ---------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def request_by_token(session: Session, token: str) -> SigningRequest | None:
    """The request whose link carries `token`, with what its pages show (one query, then the item's
    or the review's details)."""
    return session.scalar(
        select(SigningRequest)
        .where(SigningRequest.token_hash == token_hash(token))
        .options(
            joinedload(SigningRequest.requested_by),
            joinedload(SigningRequest.enrolment).joinedload(Enrolment.apprentice),
            joinedload(SigningRequest.item).selectinload(EvidenceItem.links),
            joinedload(SigningRequest.review).selectinload(ProgressReview.signatures),
        )
    )


def closed(request: SigningRequest, now: datetime | None = None) -> Closed | None:
    """Why the request's link no longer works, or None while it does."""
    now = now or utcnow()
    organisation = request.requested_by.organisation.name
    match request.status:
        case SigningStatus.SIGNED:
            when = _on(request.signed_at)
            return Closed("This link has already been used", f"It was used to sign on {when}. Each link works once.")
        case SigningStatus.REFUSED:
            when = _on(request.closed_at)
            return Closed("This link has already been used", f"It was used to decline on {when}. Each link works once.")
        case SigningStatus.WITHDRAWN:
            return Closed(
                "This link has been withdrawn",
                f"{organisation} withdrew it on {_on(request.closed_at)}, or sent a new link in its place. "
                f"Ask {organisation} if you still need to sign.",
            )
    if request.status is SigningStatus.EXPIRED or as_utc(request.expires_at) <= now:
        return Closed(
            "This link has expired",
            f"This link expired on {_on(request.expires_at)}; ask {organisation} for a new one.",
        )
    if _target_closed(request):
        return Closed(
            "This request can no longer be signed",
            f"What it asked you to sign has changed since it was sent. Ask {organisation} if you still need to sign.",
        )
    return None


def verification_problem(
    request: SigningRequest, verified_at: datetime | None, now: datetime | None = None
) -> str | None:
    """Why a browser that entered the request's code at `verified_at` (None: it has not) may not sign
    now, or None if it may: the code it entered must be the request's latest verification, within the hour."""
    now = now or utcnow()
    if request.email_verified_at is None or verified_at is None or verified_at != as_utc(request.email_verified_at):
        return "Enter the code we email you before you sign"
    if now - verified_at > VERIFIED_FOR:
        return "It is more than an hour since you entered your code: send yourself a new one to sign"
    return None


@dataclass(frozen=True)
class Progress:
    """How far a request has got, as its requester's page shows it."""

    label: str
    colour: str  # a GOV.UK tag colour
    detail: str
    sent_on: str
    may_withdraw: bool
    may_send_again: bool


def progress_of(request: SigningRequest, now: datetime | None = None) -> Progress:
    """The request's progress, an expired one as expired whether or not the job has recorded it yet."""
    now = now or utcnow()
    status = request.status
    if status is SigningStatus.PENDING and not request.is_open(now):
        status = SigningStatus.EXPIRED
    match status:
        case SigningStatus.PENDING:
            label, colour = "Waiting", "blue"
            detail = f"The link works until {day_of_expiry(request)}."
            if request.email_verified_at is not None:
                detail += " They have entered the code we emailed them."
        case SigningStatus.SIGNED:
            label, colour = "Signed", "green"
            detail = f"Signed by {request.signer_name} on {_on(request.signed_at)}."
        case SigningStatus.REFUSED:
            label, colour = "Declined", "orange"
            detail = f"Declined on {_on(request.closed_at)}." + (
                f" Their reason: {request.refusal_reason}" if request.refusal_reason else ""
            )
        case SigningStatus.WITHDRAWN:
            label, colour = "Withdrawn", "grey"
            detail = f"Withdrawn on {_on(request.closed_at)}: its link no longer works."
        case _:
            label, colour = "Expired", "grey"
            detail = f"The link expired on {day_of_expiry(request)}."
    return Progress(
        label=label,
        colour=colour,
        detail=detail,
        sent_on=_on(request.created_at),
        may_withdraw=status is SigningStatus.PENDING,
        may_send_again=status is not SigningStatus.SIGNED and not _target_closed(request),
    )


def day_of_expiry(request: SigningRequest) -> str:
    """The last day the request's link works, in England's calendar."""
    return _on(request.expires_at)


def send_code(session: Session, request: SigningRequest, *, address: str, now: datetime | None = None) -> str:
    """Email a new six-digit code to the request's address (at most one a minute, and five in all);
    the one sent before stops working. Returns the code (which only the email carries)."""
    now = now or utcnow()
    lock_and_reload(session, request)
    _check_open(request, now)
    if request.codes_sent >= MAX_CODES:
        raise DomainError(
            f"We have sent {MAX_CODES} codes for this request, the most we send. "
            f"Ask {request.requested_by.organisation.name} for a new link."
        )
    if request.code_sent_at is not None and now - as_utc(request.code_sent_at) < CODE_INTERVAL:
        raise DomainError("We sent you a code less than a minute ago. Check your email, or wait a minute to ask again.")
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    request.code_hash = _code_hash(request, code)
    request.code_attempts = 0
    request.codes_sent += 1
    request.code_sent_at = now
    mail.queue_email(
        session,
        request.witness_email,
        f"Your code to sign the {request.purpose.label.lower()}",
        "signing_code",
        holds_secret=True,
        code=code,
        minutes=int(CODE_VALID_FOR.total_seconds() // 60),
        organisation=request.requested_by.organisation.name,
    )
    audit.record_change(
        "signing_request.code_sent", request, actor=None, after={"codes_sent": request.codes_sent, "address": address}
    )
    return code


def verify_code(
    session: Session, request: SigningRequest, code: str, *, address: str, now: datetime | None = None
) -> datetime:
    """Check the code the witness typed: right, their email address is verified (returned: when);
    wrong, the try is counted (the caller keeps it), and after five the code no longer works."""
    now = now or utcnow()
    lock_and_reload(session, request)
    _check_open(request, now)
    code = "".join((code or "").split())
    if not code:
        raise DomainError(f"Enter the {CODE_DIGITS}-digit code we emailed you", "code")
    if len(code) != CODE_DIGITS or not (code.isascii() and code.isdigit()):
        raise DomainError(f"The code is {CODE_DIGITS} digits, like 123456", "code")
    if request.code_hash is None or request.code_sent_at is None:
        raise DomainError("Ask for a code first: we email it to you", "code")
    if request.code_attempts >= MAX_CODE_TRIES:
        raise DomainError(
            f"The code was entered wrongly {MAX_CODE_TRIES} times, so it no longer works. Send yourself a new code.",
            "code",
        )
    if now - as_utc(request.code_sent_at) > CODE_VALID_FOR:
        raise DomainError("This code has expired. Send yourself a new code.", "code")
    if not hmac.compare_digest(_code_hash(request, code), request.code_hash):
        request.code_attempts += 1
        audit.record_change(
            "signing_request.code_refused",
            request,
            actor=None,
            after={"tries": request.code_attempts, "address": address},
        )
        left = MAX_CODE_TRIES - request.code_attempts
        more = f"You have {left} {'try' if left == 1 else 'tries'} left." if left else "Send yourself a new code."
        raise DomainError(f"The code is not right. Check the latest email we sent you. {more}", "code")
    request.code_hash = None  # used: once only
    request.email_verified_at = now
    audit.record_change(
        "signing_request.email_verified",
        request,
        actor=None,
        after={"email": request.witness_email, "address": address},
    )
    return now


def sign(
    session: Session,
    request: SigningRequest,
    details: WitnessDetails,
    *,
    verified_at: datetime | None,
    address: str,
    now: datetime | None = None,
) -> None:
    """The witness signs: the testimony goes for review, or the review has the employer's signature.
    `verified_at` is when this browser entered the code (from its session)."""
    now = now or utcnow()
    _lock(session, request)
    _check_open(request, now)
    _check_verified(request, verified_at, now)
    line = partial(required_text, one_line=True)
    name = line(details.name, maximum=MAX_NAME, missing="Enter your full name", called="Your name", field="name")
    job_title = line(
        details.job_title, maximum=MAX_JOB_TITLE, missing="Enter your job title", called="Your job title",
        field="job_title",
    )  # fmt: skip
    relationship = line(
        details.relationship, maximum=MAX_RELATIONSHIP, missing="Say how you know the apprentice",
        called="Your relationship to the apprentice", field="relationship",
    )  # fmt: skip
    text = request.text_to_confirm or checked_testimony_text(details.text)
    signature = clean_line(details.signature)
    if not signature:
        raise DomainError("Type your full name to sign", "signature")
    if signature.casefold() != name.casefold():
        raise DomainError("Type your full name exactly as you entered it above", "signature")
    if not details.confirmed:
        raise DomainError(_confirmation_refusal(request), "confirm")
    request.status = SigningStatus.SIGNED
    request.signed_at = now
    request.signer_name, request.signer_job_title, request.signer_relationship = name, job_title, relationship
    request.signed_text = text
    request.signer_address = address
    witness = {
        "name": name,
        "job_title": job_title,
        "relationship": relationship,
        "email": request.witness_email,
        "email_verified_at": request.email_verified_at,
        "address": address,
        "signing_request": request.id,
    }
    if request.item is not None:
        sign_testimony_as_witness(
            session, request.item, request=request, signed_name=name, job_title=job_title, text=text,
            witness=witness, now=now,
        )  # fmt: skip
    else:
        sign_review_as_employer_contact(session, request.review, request=request, witness=witness, now=now)


def decline(
    session: Session,
    request: SigningRequest,
    *,
    reason: str,
    verified_at: datetime | None,
    address: str,
    now: datetime | None = None,
) -> None:
    """The witness declines to sign, perhaps saying why; the requester sees it on the item or review."""
    now = now or utcnow()
    _lock(session, request)
    _check_open(request, now)
    _check_verified(request, verified_at, now)
    reason = clean_text(reason)
    if len(reason) > MAX_REASON:
        raise DomainError(f"The reason must be {MAX_REASON:,} characters or fewer", "reason")
    request.refusal_reason = reason
    request.signer_address = address
    _close(request, SigningStatus.REFUSED, None, now, reason=reason or "No reason given")


def expire_requests(session: Session, *, now: datetime | None = None) -> int:
    """Mark the requests past their time as expired (their links stopped working then: this only
    records it); how many. Run by a periodic job."""
    now = now or utcnow()
    ids = session.scalars(
        select(SigningRequest.id)
        .where(SigningRequest.status == SigningStatus.PENDING, SigningRequest.expires_at <= now)
        .order_by(SigningRequest.id)
    ).all()
    expired = 0
    for request_id in ids:
        request = session.get(SigningRequest, request_id)
        lock_and_reload(session, request)
        if request.status is SigningStatus.PENDING and as_utc(request.expires_at) <= now:
            _close(request, SigningStatus.EXPIRED, None, now, reason="Not signed in time")
            expired += 1
        session.commit()  # one by one: no lock is held on many rows at once
    return expired


# Helpers ---------------------------------------------------------------------------------------


def _witness(enrolment: Enrolment, by: User, email: str, name: str) -> tuple[str, str]:
    """The witness's address and name as given, checked: nobody asks themselves or the apprentice."""
    try:
        email = normalise_email(email)
    except DomainError as error:
        raise DomainError(error.message, "witness_email") from None
    if email == by.email.lower():
        raise DomainError(
            "Enter the witness's email address: you cannot be the witness of your own request", "witness_email"
        )
    if email == enrolment.apprentice.email.lower():
        raise DomainError(
            "Enter the witness's email address: the apprentice cannot be their own witness", "witness_email"
        )
    name = clean_line(name)
    if len(name) > MAX_NAME:
        raise DomainError(f"The witness's name must be {MAX_NAME} characters or fewer", "witness_name")
    return email, name


def _send(
    session: Session, request: SigningRequest, *, by: User, now: datetime, replaces: SigningRequest | None = None
) -> str:
    """Give the request its token and time, email its link, and tell the address's employer user in the
    service, if there is one. Returns the token."""
    token = secrets.token_urlsafe(32)
    request.token_hash = token_hash(token)
    request.requested_by = by
    request.created_at = now
    request.expires_at = now + timedelta(days=float(current_app.config["SIGNING_REQUEST_DAYS"]))
    request.status = SigningStatus.PENDING
    session.add(request)
    enrolment = request.enrolment
    purpose = request.purpose
    mail.queue_email(
        session,
        request.witness_email,
        "Will you confirm a witness testimony?" if request.item else "Will you sign a progress review?",
        "signing_request",
        holds_secret=True,
        signing_request=request,
        apprentice=enrolment.apprentice.name,
        requester=by.name,
        organisation=by.organisation.name,
        link=mail.link_to(LINK_PATH.format(token=token)),
        expires_on=_on(request.expires_at),
    )
    after: dict = {
        "purpose": purpose,
        "email": request.witness_email,
        "name_given": request.witness_name_given,
        "expires_at": request.expires_at,
    }
    if replaces is not None:
        after["replaces"] = replaces.id
    audit.record_change("signing_request.sent", request, actor=by, after=after)
    _tell_their_account(session, request, by)
    return token


def _tell_their_account(session: Session, request: SigningRequest, by: User) -> None:
    """An employer's user with the witness's address also hears of the request in the service (its link
    opens what they can see of the apprenticeship, never the signing link)."""
    user = session.scalar(select(User).where(User.email == request.witness_email, User.role == Role.EMPLOYER))
    if user is None:
        return
    enrolment = request.enrolment
    sees = is_employer_of(user, enrolment)
    apprentice = enrolment.apprentice.name
    if request.item is not None:
        kind, what = Kind.TESTIMONY_REQUESTED, f"a witness testimony about {apprentice}"
        link = f"/enrolments/{enrolment.id}" if sees else "/"
    else:
        kind, what = Kind.SIGNATURE_AWAITED, f"a progress review of {apprentice}'s apprenticeship"
        link = f"/enrolments/{enrolment.id}/reviews/{request.review_id}" if sees else "/"
    notify(
        session,
        [user],
        kind,
        title=f"{by.name} asked you by email to sign {what}",
        body=f"The email sent to {request.witness_email} holds the link to sign it.",
        link=link,
        enrolment=enrolment,
        actor=by,
    )


def _lock(session: Session, request: SigningRequest) -> None:
    """Lock the enrolment, the item or review, then the request, each read afresh."""
    if request.item is not None:
        lock_item_for_change(session, request.item)
        session.expire(request.item, ["signing_requests"])
    else:
        lock_review_for_change(session, request.review)
    lock_and_reload(session, request)


def _check_open(request: SigningRequest, now: datetime) -> None:
    if (reason := closed(request, now)) is not None:
        raise RequestClosed(reason)


def _check_verified(request: SigningRequest, verified_at: datetime | None, now: datetime) -> None:
    if (problem := verification_problem(request, verified_at, now)) is not None:
        raise NotVerified(problem)


def _target_closed(request: SigningRequest) -> bool:
    """Whether what the request asks to sign can no longer be signed through it."""
    if request.item is not None:
        return request.item.status is not EvidenceStatus.DRAFT or request.enrolment.status not in OPEN_FOR_EVIDENCE
    return _employer_signed(request.review)


def _employer_signed(review: ProgressReview) -> bool:
    return any(signature.signer is Signer.EMPLOYER for signature in review.signatures)


def _close(request: SigningRequest, status: SigningStatus, by: User | None, now: datetime, *, reason: str) -> None:
    before = {"status": request.status}
    request.status = status
    request.closed_at = now
    audit.record_change(
        f"signing_request.{status.value}", request, actor=by, before=before, after={"status": status, "reason": reason}
    )


def _code_hash(request: SigningRequest, code: str) -> str:
    """A keyed hash: a million codes are quickly hashed, so without the key a copy of the database
    would give the code away."""
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    return hmac.new(key, f"{request.token_hash}:{code}".encode(), hashlib.sha256).hexdigest()


def _confirmation_refusal(request: SigningRequest) -> str:
    if request.item is not None:
        return "Confirm that the testimony is a true account of what you saw"
    return "Confirm that this is a true record of the review"


def _on(moment: datetime | None) -> str:
    return long_date(day_of(as_utc(moment))) if moment is not None else ""
