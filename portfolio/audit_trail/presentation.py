"""How audit events read on the trail pages and in `portfolio audit show`: labels and changes.

Events hold plain values (enum values, ISO dates, UTC moments); this module turns them into
words, and moments into the service's time zone, named (BST, GMT), as a record should. An
action, field or subject without a label here still reads sensibly ("gateway.item_accepted"
becomes "Gateway: item accepted"), so a new kind of event needs no change here to be shown.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from standard import Signer

from ..core.access import visible_evidence_clause
from ..core.clock import local
from ..core.wording import long_date
from ..models import (
    AgeBand,
    AuditEvent,
    EnrolmentStatus,
    EvidenceItem,
    EvidenceKind,
    EvidenceStatus,
    OrganisationKind,
    OtjActivity,
    OtjStatus,
    Role,
    SigningPurpose,
    SigningStatus,
    User,
)
from ..progress_reviews.domain import TEXT_FIELDS

ACTION_LABELS = {
    "auth.signed_in": "Signed in",
    "auth.sign_in_failed": "Sign-in refused",
    "auth.signed_out": "Signed out",
    "user.created": "Account created",
    "user.password_changed": "Password changed",
    "user.password_reset": "Password reset",
    "user.reset_password_link_sent": "Password reset link emailed",
    "user.reset_password_link_used": "Password reset with an emailed link",
    "user.reset_password_link_refused": "Password reset link refused",
    "user.invitation_link_sent": "Invitation emailed",
    "user.invitation_link_used": "Invitation accepted",
    "user.invitation_link_refused": "Invitation link refused",
    "user.email_change_link_sent": "Email address change: link emailed to the new address",
    "user.email_change_link_used": "Email address changed, confirmed at the new address",
    "user.email_change_link_refused": "Email address change link refused",
    "user.deactivated": "Account deactivated",
    "user.reactivated": "Account reactivated",
    "calendar.link_created": "Calendar link created",
    "calendar.link_replaced": "Calendar link replaced",
    "calendar.link_turned_off": "Calendar link turned off",
    "organisation.created": "Organisation created",
    "organisation.renamed": "Organisation renamed",
    "standard.loaded": "Standard loaded",
    "enrolment.created": "Apprentice enrolled",
    "enrolment.updated": "Enrolment terms changed",
    "enrolment.status_changed": "Enrolment status changed",
    "evidence.created": "Evidence added as a draft",
    "evidence.updated": "Evidence changed",
    "evidence.file_removed": "File removed from evidence",
    "evidence.deleted": "Draft evidence deleted",
    "evidence.submitted": "Evidence submitted for review",
    "evidence.withdrawn": "Evidence withdrawn",
    "evidence.review_started": "Review of evidence started",
    "evidence.review_reassigned": "Review of evidence given to another tutor",
    "evidence.accepted": "Evidence accepted",
    "evidence.referred": "Evidence referred back",
    "evidence.commented": "Comment on evidence",
    "judgement.recorded": "Criterion judged",
    "testimony.created": "Witness testimony written",
    "testimony.updated": "Witness testimony changed",
    "testimony.signed": "Witness testimony signed",
    "signing_request.sent": "Asked by email to sign",
    "signing_request.code_sent": "Code emailed to the witness",
    "signing_request.code_refused": "Wrong code entered",
    "signing_request.email_verified": "Witness's email address verified",
    "signing_request.withdrawn": "Request to sign withdrawn",
    "signing_request.refused": "Request to sign declined by the witness",
    "signing_request.expired": "Request to sign expired",
    "otj.logged": "Off-the-job training logged",
    "otj.updated": "Off-the-job training changed",
    "otj.deleted": "Off-the-job training deleted",
    "otj.approved": "Off-the-job training approved",
    "otj.queried": "Off-the-job training queried",
    "progress_review.created": "Progress review recorded",
    "progress_review.updated": "Progress review changed",
    "progress_review.signed": "Progress review signed",
    "gateway.declaration_signed": "Gateway declaration signed",
    "gateway.behaviours_verified": "Behaviours verified by the employer",
    "gateway.submitted": "Gateway submitted to the EPAO",
    "gateway.signed_off": "Gateway to completion signed off by the assessor",
    "gateway.referred": "Gateway referred back by the assessor",
    "export.requested": "Portfolio export asked for",
    "export.made": "Portfolio export made",
    "export.failed": "Portfolio export could not be made",
    "export.pdf": "Portfolio exported as a PDF",
    "export.zip": "Portfolio exported as a ZIP",
}

SUBJECT_LABELS = {
    "evidence_item": "Evidence",
    "criterion_judgement": "Judgement",
    "otj_entry": "Off-the-job training entry",
    "progress_review": "Progress review",
    "enrolment": "Enrolment",
    "user": "User",
    "organisation": "Organisation",
    "standard_version": "Standard version",
    "gateway_declaration": "Gateway declaration",
    "gateway_submission": "Gateway submission",
    "behaviour_verification": "Employer's verification of behaviours",
    "signing_request": "Request to sign by email",
}

FIELD_LABELS = {
    "activity_date": "Date of the activity",
    "contains_third_party_data": "Shows other people's personal data",
    "consent_reference": "Consent or permission reference",
    "links": "Criteria, each with how it is shown",
    "criterion_code": "Criterion",
    "level_code": "Level",
    "query_note": "Query",
    "activity": "Kind of training",
    "learning": "What was learnt",
    "review_date": "Date of the review",
    "signer": "Signed for",
    "complete": "Signed by all three",
    "email": "Email address",
    "address": "Network address",
    "expires_at": "Link works until",
    "new_email": "New email address",
    "reason": "Why it was refused",
    "used_for": "Used as a link to",
    "witness": "Witness (no account)",
    "name_given": "Name given by the requester",
    "codes_sent": "Codes sent",
    "tries": "Wrong tries",
    "content_hash": "Content (SHA-256)",
    "epao": "Assessment organisation (EPAO)",
    "provider": "Training provider",
    "planned_otj_hours": "Planned off-the-job hours",
    "age_band": "Age at the start",
    "english_maths_route": "English and maths",
    "english_maths_decided_on": "English and maths decided on",
    "minimum_months_override": "Minimum months on programme (for this enrolment)",
    "calendar_link": "Calendar link (number)",
    "replaces": "Replaces calendar link (number)",
    "not_yet": "Behaviours not yet confirmed",
    **TEXT_FIELDS,
}

# Fields holding an enum's value, by subject type: shown by the enum's label.
VALUE_ENUMS: dict[tuple[str, str], type[enum.Enum]] = {
    ("evidence_item", "status"): EvidenceStatus,
    ("evidence_item", "kind"): EvidenceKind,
    ("otj_entry", "status"): OtjStatus,
    ("otj_entry", "activity"): OtjActivity,
    ("enrolment", "status"): EnrolmentStatus,
    ("enrolment", "age_band"): AgeBand,
    ("user", "role"): Role,
    ("organisation", "kind"): OrganisationKind,
    ("progress_review", "signer"): Signer,
    ("signing_request", "status"): SigningStatus,
    ("signing_request", "purpose"): SigningPurpose,
}
NOT_SET = "Not set"
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")  # how a date is recorded
_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")  # and a moment
HIDDEN_DRAFT = "Not shown: the evidence is a draft, which only its author sees, or a draft since deleted."


@dataclass(frozen=True)
class Change:
    """One field of an event: its value before and after, as lines of text (None: not recorded)."""

    field: str
    label: str
    before: list[str] | None
    after: list[str] | None


@dataclass(frozen=True)
class ShownEvent:
    """An event as a reader sees it; `hidden` when its values are withheld from that reader."""

    event: AuditEvent
    action: str
    actor: str
    subject: str
    subject_url: str | None
    changes: list[Change]
    hidden: bool = False

    @property
    def hidden_text(self) -> str:
        return HIDDEN_DRAFT if self.hidden else ""

    @property
    def when(self) -> str:
        return moment_text(self.event.occurred_at)


def moment_text(moment: datetime) -> str:
    """1 July 2026 at 12:30:00 BST: in the service's zone, named, to the second."""
    shown = local(moment)
    return f"{long_date(shown)} at {shown:%H:%M:%S} {shown:%Z}"


def action_label(action: str) -> str:
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    area, _, what = action.partition(".")
    return f"{_words(area)}: {what.replace('_', ' ')}" if what else _words(area)


def changes(event: AuditEvent) -> list[Change]:
    """The event's fields (in the order of their names, as stored), each with its before and after."""
    before, after = json.loads(event.before), json.loads(event.after)
    shown = []
    for name in dict.fromkeys([*before, *after]):
        kind = VALUE_ENUMS.get((event.subject_type, name))
        shown.append(
            Change(
                field=name,
                label=FIELD_LABELS.get(name, _words(name)),
                before=_lines(before[name], kind) if name in before else None,
                after=_lines(after[name], kind) if name in after else None,
            )
        )
    return shown


def shown_events(session: Session, events: Sequence[AuditEvent], reader: User) -> list[ShownEvent]:
    """The events as `reader` sees them on a page, with one query whatever their number.

    The trail shows no more than the portfolio does: the values of an evidence item the reader
    cannot see (another person's draft, or a draft since deleted) are withheld.
    """
    item_ids = {e.subject_id for e in events if e.subject_type == "evidence_item"}
    titles: dict[int, str] = {}
    if item_ids:
        titles = dict(
            session.execute(
                select(EvidenceItem.id, EvidenceItem.title)
                .join(EvidenceItem.enrolment)
                .where(visible_evidence_clause(reader), EvidenceItem.id.in_(item_ids))
            ).all()
        )
    shown = []
    for event in events:
        hidden = event.subject_type == "evidence_item" and event.subject_id not in titles
        event_changes = [] if hidden else changes(event)
        shown.append(
            ShownEvent(
                event=event,
                action=action_label(event.action),
                actor=actor_text(event),
                subject=subject_text(event, event_changes, titles.get(event.subject_id)),
                subject_url=None if hidden else _subject_url(event, event_changes),
                changes=event_changes,
                hidden=hidden,
            )
        )
    return shown


def event_text(event: AuditEvent) -> str:
    """An event in a few lines of plain text, for the command line (which sees every value)."""
    moment = local(event.occurred_at)
    event_changes = changes(event)
    lines = [
        f"#{event.id} {moment:%Y-%m-%d %H:%M:%S %Z}  {actor_text(event)}  {action_label(event.action)}"
        f"  ({subject_text(event, event_changes)})"
    ]
    for change in event_changes:
        values = [" / ".join(text) for text in (change.before, change.after) if text is not None]
        lines.append(f"    {change.label}: {' -> '.join(values)}")
    return "\n".join(lines)


def actor_text(event: AuditEvent) -> str:
    if event.actor_name:
        return event.actor_name
    witness = json.loads(event.after).get("witness")
    if isinstance(witness, Mapping) and witness.get("name"):
        return f"{witness['name']}, a witness with no account (through an emailed link)"
    return "No signed-in user (the command line, the system, a witness's emailed link or a refused sign-in)"


def subject_text(event: AuditEvent, event_changes: Iterable[Change] = (), title: str | None = None) -> str:
    """What the event is about: "Evidence: Workshop plan", "Judgement of K1", "User 12"."""
    label = SUBJECT_LABELS.get(event.subject_type, _words(event.subject_type))
    if title:
        return f"{label}: {title}"
    code = next((c.after or c.before for c in event_changes if c.field == "criterion_code"), None)
    if code:
        return f"{label} of {code[0]}"
    return f"{label} {event.subject_id}" if event.subject_id is not None else label


def _subject_url(event: AuditEvent, event_changes: Iterable[Change]) -> str | None:
    """Where the subject is shown, for the subjects whose page outlives their changes."""
    enrolment_id, subject_id = event.enrolment_id, event.subject_id
    if subject_id is None:
        return None
    match event.subject_type:
        case "evidence_item" if enrolment_id is not None:
            return url_for("evidence.view", enrolment_id=enrolment_id, item_id=subject_id)
        case "progress_review" if enrolment_id is not None:
            return url_for("progress_reviews.review", enrolment_id=enrolment_id, review_id=subject_id)
        case "criterion_judgement" if enrolment_id is not None:
            code = next((c.after for c in event_changes if c.field == "criterion_code" and c.after), None)
            return url_for("review.judgement", enrolment_id=enrolment_id, code=code[0]) if code else None
        case "enrolment":
            return url_for("home.enrolment", enrolment_id=subject_id)
        # Events about these have no enrolment, so only administrators read them.
        case "user":
            return url_for("admin.user", user_id=subject_id)
        case "organisation":
            return url_for("admin.organisation", organisation_id=subject_id)
        case "standard_version":
            return url_for("admin.standard", version_id=subject_id)
    return None


def _lines(value: Any, kind: type[enum.Enum] | None = None) -> list[str]:
    """A recorded value as lines of text: one per item of a list or entry of a mapping."""
    if isinstance(value, Mapping):
        return [f"{key}: {_text(item)}" for key, item in value.items()] or [NOT_SET]
    if isinstance(value, list):
        return [_text(item) for item in value] or [NOT_SET]
    return [_text(value, kind)]


def _text(value: Any, kind: type[enum.Enum] | None = None) -> str:
    if value is None or value == "":
        return NOT_SET
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list | tuple):  # e.g. a progress review's rating and note for one criterion
        return " — ".join(_text(item) for item in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{key}: {_text(item)}" for key, item in value.items())
    if isinstance(value, str) and (_ISO_MOMENT.fullmatch(value) or _ISO_DATE.fullmatch(value)):
        try:
            if len(value) > len("2026-07-01"):
                return moment_text(datetime.fromisoformat(value))
            return long_date(date.fromisoformat(value))
        except ValueError:  # shaped like a date, but text someone wrote
            return value
    if kind is not None:
        member = next((m for m in kind if m.value == value), None)
        return getattr(member, "label", _words(str(value))) if member else str(value)
    return str(value)


def _words(name: str) -> str:
    return name.replace("_", " ").capitalize()
