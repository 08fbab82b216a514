"""Walk every POST route of the URL map with hostile values: never a 5xx, and a refusal writes nothing.

Each route is posted to by someone who may use it, on records it can act on; its fields are read
from the form on its page. Each hostile kind fills every field: NUL and other control characters
(in a form otherwise filled in as it would be, so that they reach the database), 10,000
characters, markup, several values for one field, negative and huge numbers, and malformed and
huge dates. A new POST route must be given an entry in ROUTES, or this test fails.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from portfolio.auth import links
from portfolio.auth.invitations import invite_new_user
from portfolio.calendar.domain import make_link
from portfolio.enrolments.breaks import start_break
from portfolio.extensions import Base, db
from portfolio.gateway.domain import decide_gateway, gateway_items, submit_to_epao
from portfolio.models import OtjActivity, OtjEntry, ProgressReview, Role, ScanRating, TokenPurpose
from portfolio.models.types import StorableString
from portfolio.notifications.domain import notify
from portfolio.notifications.kinds import Kind
from portfolio.review.domain import WitnessTestimony, create_testimony, start_review
from portfolio.signing.domain import create_testimony_request, send_code, verify_code
from portfolio.signing.views import remember_verified
from portfolio.training_plan.plan import ActivityDetails, add_activity
from portfolio.training_plan.skills_scan import PriorLearningDetails, confirm, rate, record_prior_learning

from ...helpers import PASSWORD, PDF_BYTES, PNG_BYTES, run_jobs
from ..conftest import sign_in
from ..gateway_world import TODAY, ready_enrolment, sign_all


@dataclass(frozen=True)
class Route:
    actor: str  # a key of the world's people, or "" for nobody signed in
    values: dict  # the URL's arguments: keys of the world's ids
    page: tuple[str, dict] | None = None  # (endpoint, arguments) of the page holding the form, if not its own
    prepare: Callable[[object, dict], None] | None = None  # (client, ids): once signed in (or not), before the page


def _verified_for(key: str) -> Callable[[object, dict], None]:
    """The witness's browser has entered the code of the request `key` names, as signing.verify notes."""

    def prepare(client, ids: dict) -> None:
        with client.session_transaction() as session:
            remember_verified(session, ids[f"{key}_id"], ids[f"{key}_verified_at"])

    return prepare


# Every POST route: who posts, to which records, and where its form is shown.
ROUTES = {
    "auth.sign_in": Route("", {}),
    "auth.sign_out": Route("apprentice", {}, ("home.index", {})),
    "auth.change_password": Route("apprentice", {}),
    "auth.change_email": Route("apprentice", {}),
    "auth.forgotten_password": Route("", {}),
    "auth.reset_password": Route("", {"token": "reset_token"}),
    "auth.accept_invitation": Route("", {"token": "invitation_token"}),
    "auth.confirm_email": Route("", {"token": "email_change_token"}),
    "admin.new_organisation": Route("admin", {}),
    "admin.organisation": Route("admin", {"organisation_id": "employer"}),
    "admin.new_user": Route("admin", {}),
    "admin.reset_user_password": Route("admin", {"user_id": "spare_user"}),
    "admin.deactivate_user": Route("admin", {"user_id": "spare_user"}, ("admin.user", {"user_id": "spare_user"})),
    "admin.reactivate_user": Route("admin", {"user_id": "inactive_user"}, ("admin.user", {"user_id": "inactive_user"})),
    "admin.resend_invitation": Route("admin", {"user_id": "invited_user"}, ("admin.user", {"user_id": "invited_user"})),
    "admin.new_enrolment": Route("admin", {}),
    "admin.edit_enrolment": Route("admin", {"enrolment_id": "spare_enrolment"}),
    "admin.change_enrolment_status": Route(
        "admin", {"enrolment_id": "spare_enrolment"}, ("admin.enrolment", {"enrolment_id": "spare_enrolment"})
    ),
    "admin.start_learning_break": Route(
        "admin", {"enrolment_id": "enrolment_to_pause"}, ("admin.enrolment", {"enrolment_id": "enrolment_to_pause"})
    ),
    "admin.end_learning_break": Route(
        "admin", {"enrolment_id": "paused_enrolment"}, ("admin.enrolment", {"enrolment_id": "paused_enrolment"})
    ),
    "admin.new_standard": Route("admin", {}),
    "evidence.new": Route("apprentice", {"enrolment_id": "enrolment"}),
    "evidence.edit": Route("apprentice", {"enrolment_id": "enrolment", "item_id": "draft"}),
    "evidence.remove": Route(
        "apprentice",
        {"enrolment_id": "enrolment", "item_id": "draft", "file_id": "draft_file"},
        ("evidence.view", {"enrolment_id": "enrolment", "item_id": "draft"}),
    ),
    "evidence.submit_item": Route(
        "apprentice",
        {"enrolment_id": "enrolment", "item_id": "draft_to_submit"},
        ("evidence.view", {"enrolment_id": "enrolment", "item_id": "draft_to_submit"}),
    ),
    "evidence.delete": Route("apprentice", {"enrolment_id": "enrolment", "item_id": "draft_to_delete"}),
    "evidence.withdraw_item": Route("apprentice", {"enrolment_id": "enrolment", "item_id": "to_withdraw"}),
    "review.start": Route(
        "tutor",
        {"enrolment_id": "enrolment", "item_id": "submitted"},
        ("evidence.view", {"enrolment_id": "enrolment", "item_id": "submitted"}),
    ),
    "evidence.reassign": Route(
        "tutor",
        {"enrolment_id": "enrolment", "item_id": "submitted"},
        ("evidence.view", {"enrolment_id": "enrolment", "item_id": "submitted"}),
    ),
    "evidence.decide_item": Route(
        "tutor",
        {"enrolment_id": "enrolment", "item_id": "in_review"},
        ("evidence.view", {"enrolment_id": "enrolment", "item_id": "in_review"}),
    ),
    "evidence.comment": Route(
        "apprentice",
        {"enrolment_id": "enrolment", "item_id": "submitted"},
        ("evidence.view", {"enrolment_id": "enrolment", "item_id": "submitted"}),
    ),
    "review.judgement": Route("tutor", {"enrolment_id": "enrolment", "code": "code"}),
    "review.several_judgements": Route("tutor", {"enrolment_id": "enrolment"}),
    "review.new_testimony": Route("mentor", {"enrolment_id": "enrolment"}),
    "review.edit_testimony": Route("mentor", {"enrolment_id": "enrolment", "item_id": "testimony"}),
    "review.sign_testimony": Route("mentor", {"enrolment_id": "enrolment", "item_id": "testimony_to_sign"}),
    "otj.new_entry": Route("apprentice", {"enrolment_id": "enrolment"}),
    "otj.edit_entry": Route("apprentice", {"enrolment_id": "enrolment", "entry_id": "entry"}),
    "otj.delete_entry_page": Route("apprentice", {"enrolment_id": "enrolment", "entry_id": "entry_to_delete"}),
    "otj.approve": Route(
        "tutor",
        {"enrolment_id": "enrolment", "entry_id": "entry_to_decide"},
        ("otj.entry", {"enrolment_id": "enrolment", "entry_id": "entry_to_decide"}),
    ),
    "otj.query": Route(
        "tutor",
        {"enrolment_id": "enrolment", "entry_id": "entry_to_query"},
        ("otj.entry", {"enrolment_id": "enrolment", "entry_id": "entry_to_query"}),
    ),
    "otj.approve_selected": Route("tutor", {"enrolment_id": "enrolment"}, ("otj.otj", {"enrolment_id": "enrolment"})),
    "progress_reviews.new_review": Route("tutor", {"enrolment_id": "enrolment"}),
    "progress_reviews.edit_review": Route("tutor", {"enrolment_id": "enrolment", "review_id": "review"}),
    "progress_reviews.sign": Route(
        "apprentice",
        {"enrolment_id": "enrolment", "review_id": "review"},
        ("progress_reviews.review", {"enrolment_id": "enrolment", "review_id": "review"}),
    ),
    "gateway.declaration": Route(
        "ready_apprentice", {"enrolment_id": "ready"}, ("gateway.gateway", {"enrolment_id": "ready"})
    ),
    "gateway.submit": Route(
        "signed_tutor", {"enrolment_id": "signed"}, ("gateway.gateway", {"enrolment_id": "signed"})
    ),
    "gateway.decision": Route("assessor", {"enrolment_id": "at_gateway"}),
    "gateway.behaviours": Route("mentor", {"enrolment_id": "enrolment"}),
    "assessment.record": Route("epa_assessor", {"enrolment_id": "in_epa"}),
    "training_plan.rate_skills": Route("apprentice", {"enrolment_id": "enrolment"}),
    "training_plan.confirm_skills": Route("mentor", {"enrolment_id": "enrolment"}),
    "training_plan.prior_learning": Route("tutor", {"enrolment_id": "scan_confirmed"}),
    "training_plan.sign_skills_scan": Route(
        "tutor",
        {"enrolment_id": "ready_scan", "number": "first"},
        ("training_plan.skills_scan", {"enrolment_id": "ready_scan"}),
    ),
    "training_plan.new_activity": Route("tutor", {"enrolment_id": "enrolment"}),
    "training_plan.edit_activity": Route("tutor", {"enrolment_id": "enrolment", "activity_id": "activity"}),
    "training_plan.remove_activity": Route(
        "tutor",
        {"enrolment_id": "enrolment", "activity_id": "activity_to_remove"},
    ),
    "training_plan.english_maths": Route("tutor", {"enrolment_id": "enrolment"}),
    "training_plan.sign_plan": Route(
        "tutor",
        {"enrolment_id": "enrolment", "number": "first"},
        ("training_plan.plan", {"enrolment_id": "enrolment"}),
    ),
    "notifications.mark_read": Route("apprentice", {}, ("notifications.index", {})),
    "notifications.settings": Route("apprentice", {}),
    "calendar.link": Route("apprentice", {}, ("calendar.index", {})),
    "calendar.turn_off_link": Route("apprentice", {}, ("calendar.index", {})),
    "signing.ask_witness": Route("mentor", {"enrolment_id": "enrolment"}),
    "signing.ask_employer": Route("tutor", {"enrolment_id": "enrolment", "review_id": "review"}),
    "signing.withdraw": Route(
        "tutor",
        {"enrolment_id": "enrolment", "request_id": "request_to_withdraw"},
        ("evidence.view", {"enrolment_id": "enrolment", "item_id": "item_to_withdraw"}),
    ),
    "signing.send_again": Route(
        "tutor",
        {"enrolment_id": "enrolment", "request_id": "request_to_send_again"},
        ("evidence.view", {"enrolment_id": "enrolment", "item_id": "item_to_send_again"}),
    ),
    "signing.send_code": Route("", {"token": "code_token"}, ("signing.start", {"token": "code_token"})),
    "signing.verify": Route("", {"token": "verify_token"}),
    "signing.sign": Route("", {"token": "sign_token"}, prepare=_verified_for("sign")),
    "signing.decline": Route("", {"token": "decline_token"}, prepare=_verified_for("decline")),
    "exports.ask": Route(
        "tutor",
        {"enrolment_id": "enrolment", "export_format": "pdf"},
        ("home.enrolment", {"enrolment_id": "enrolment"}),
    ),
}

# A refused sign-in or current password is recorded on purpose: it counts towards the pause (and
# the audit trail keeps a refused sign-in, and a refused emailed link).
THROTTLE = {"sign_in_throttles", "sign_in_address_accounts"}
RECORDS_REFUSALS = {
    "auth.sign_in": THROTTLE | {"audit_events"},
    "auth.change_password": THROTTLE,
    "auth.change_email": THROTTLE,
    **dict.fromkeys(["auth.reset_password", "auth.accept_invitation", "auth.confirm_email"], {"audit_events"}),
    # A wrong code counts towards its five tries (and the audit trail keeps each).
    "signing.verify": {"signing_requests", "audit_events"},
}
# Signed in afresh before each post: a changed password ends the other sessions, and a wrong current
# password counts towards the pause on signing in that only a success clears.
SIGNS_IN_AGAIN = {"auth.sign_out", "auth.change_password", "auth.change_email"}
TEXT = "Hostile\x00 text\x07 with\x1b controls\x7f\u202e and a bidi override"
HOSTILE = {
    "nul": None,  # a form filled in as shown, control characters added to every text (see _filled)
    "null byte": "12\x00",
    "long": "x" * 10_000,
    "long digits": "9" * 10_000,
    "markup": '"><script>alert(1)</script>',
    "several values": ["1", "2", "3", "4"],
    "negative": "-1",
    "huge": str(10**30),
    "malformed date": ("30", "2", "2026"),
    "huge date": ("1", "1", "99999"),
}
MARKUP = "<script>alert(1)</script>"
DATE_PARTS = ("-day", "-month", "-year")
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Routes whose form, filled in with control characters in every text, is accepted (and cleaned):
# all but a standard's YAML (the loader refuses a control character), a sign-in, a new user or
# anything else given an email address (it is not one) and enrolments (a start and planned end on
# the same day).
ACCEPT_CONTROL_CHARACTERS = set(ROUTES) - {
    "admin.new_standard",
    "auth.sign_in",
    "auth.forgotten_password",
    "auth.change_email",
    "admin.new_user",
    "admin.new_enrolment",
    "admin.edit_enrolment",
    "admin.start_learning_break",  # its first day and expected return on the same day
    "signing.ask_witness",  # the witness's email address is not one
    "signing.ask_employer",
    "signing.verify",  # nor is the code a code
    "training_plan.new_activity",  # its hours box, a text input, is filled with words
}


class _Forms(HTMLParser):
    """The forms of a page: their action and fields (name, type, value, and whether chosen)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._textarea: dict | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action") or "", "method": attrs.get("method", "get"), "fields": []})
            return
        if not self.forms:
            return
        fields = self.forms[-1]["fields"]
        if tag == "input" and attrs.get("name"):
            chosen = attrs.get("type") not in ("checkbox", "radio") or "checked" in attrs
            kind = attrs.get("type", "text")
            if attrs.get("id", "").endswith(DATE_PARTS):
                kind = attrs["id"][attrs["id"].rindex("-") :]  # "-day", "-month" or "-year"
            elif attrs.get("inputmode") in ("numeric", "decimal"):
                kind = "number"
            fields.append([attrs["name"], kind, attrs.get("value") or "", chosen])
        elif tag == "textarea" and attrs.get("name"):
            self._textarea = [attrs["name"], "textarea", "", True]
            fields.append(self._textarea)
        elif tag == "select" and attrs.get("name"):
            self._select = attrs["name"]
        elif tag == "option" and self._select:
            fields.append([self._select, "option", attrs.get("value") or "", "selected" in attrs])

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[2] += data


def _form_fields(html: str, action: str, page_url: str) -> list[list]:
    """The fields of the page's POST form that posts to `action` (a form without one posts to the page)."""
    parser = _Forms()
    parser.feed(html)
    for form in parser.forms:
        target = urlsplit(form["action"]).path or urlsplit(page_url).path
        if form["method"].lower() == "post" and target == action:
            return [field for field in form["fields"] if field[0] != "csrf_token" and field[1] != "submit"]
    raise AssertionError(f"no form posting to {action} on {page_url}")


def _filled(fields: list[list]) -> dict[str, list[str]]:
    """The form as someone would send it (the first choice where none is made), with control
    characters added to every text: the values reach the domain and the database."""
    data: dict[str, list[str]] = {}
    for name, kind, value, chosen in fields:
        if kind in ("checkbox", "radio", "option"):
            if chosen or not data.get(name):
                data[name] = [value] if value else []
            continue
        if kind in ("text", "textarea", "email"):
            value = f"{value} {TEXT}" if value else TEXT
        elif kind == "password":
            value = PASSWORD
        elif kind in DATE_PARTS:  # the three boxes of a date share its name
            value = value or str(getattr(TODAY, kind[1:]))
            data[name] = [*data.get(name, []), value]
            continue
        elif kind == "number":
            value = value or "2"
        data[name] = [value]
    return data


def _hostile(fields: list[list], kind: str) -> dict[str, list[str]]:
    if HOSTILE[kind] is None:
        return _filled(fields)
    names = {field[0] for field in fields} | {"unexpected"}
    value = HOSTILE[kind]
    if isinstance(value, tuple):  # a date: its three boxes where the form has them, else as text
        dates = {name for name, field_kind, *_ in fields if field_kind in DATE_PARTS}
        return {name: list(value) if name in dates else ["-".join(value)] for name in names}
    return {name: value if isinstance(value, list) else [value] for name in names}


def database_state(endpoint: str) -> dict[str, list]:
    """Every row of every table that a refused post to `endpoint` must leave as it was."""
    db.session.expire_all()
    return {
        table.name: db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
        for table in Base.metadata.sorted_tables
        if table.name not in RECORDS_REFUSALS.get(endpoint, ())
    }


@pytest.fixture
def hostile_world(world):
    """Records for every POST route to act on, and the people who may act on them."""
    provider, employer, epao = world.provider(), world.employer(), world.epao()
    tutor = world.user(Role.TUTOR, provider)
    world.user(Role.TUTOR, provider, name="Rhys Morgan")  # to give a review to
    mentor = world.user(Role.EMPLOYER, employer)
    enrolment = world.enrolment(employer=employer, provider=provider, tutor=tutor, mentor=mentor, epao=epao)
    spare_enrolment = world.enrolment(provider=provider)
    enrolment_to_pause, paused_enrolment = world.enrolment(provider=provider), world.enrolment(provider=provider)
    start_break(
        db.session, paused_enrolment, by=None, starts_on=TODAY - timedelta(days=10),
        expected_return_on=TODAY + timedelta(days=30), reason="Family leave.", today=TODAY,
    )  # fmt: skip
    apprentice = enrolment.apprentice
    admin = world.user(Role.ADMIN, provider)
    inactive_user = world.user(Role.APPRENTICE, employer)
    inactive_user.active = False
    invitees = [
        invite_new_user(db.session, email=f"invitee.{n}@example.org", name=f"Invitee {n}", role=Role.APPRENTICE,
                        organisation=employer, by=admin)
        for n in range(2)
    ]  # fmt: skip
    invitation_token = links.issue(db.session, invitees[1], TokenPurpose.INVITATION, by=admin)
    reset_token = links.issue(db.session, world.user(Role.APPRENTICE, employer), TokenPurpose.RESET_PASSWORD)
    mover = world.user(Role.APPRENTICE, employer)
    email_change_token = links.issue(db.session, mover, TokenPurpose.EMAIL_CHANGE, new_email="moved@example.org")
    files = {"plan.pdf": PDF_BYTES, "photo.png": PNG_BYTES}
    draft = world.evidence(enrolment, files=files, submitted=False)
    in_review = world.evidence(enrolment, title="Gallery tour feedback")
    start_review(db.session, in_review, by=tutor)
    testimony = WitnessTestimony(
        title="Witnessed workshop", activity_date=enrolment.start_date, text="Led the workshop.", links={"K1": "Yes."}
    )
    entries = {}
    for name in ("entry", "entry_to_delete", "entry_to_decide", "entry_to_query"):
        entries[name] = OtjEntry(
            enrolment=enrolment, activity_date=enrolment.start_date, hours=Decimal("2"), activity=OtjActivity.WORKSHOP,
            learning="Safeguarding refresher.", created_by=apprentice,
        )  # fmt: skip
    review = ProgressReview(
        enrolment=enrolment, review_date=enrolment.start_date, attendees="Apprentice, mentor, tutor",
        progress="On track.", created_by=tutor,
    )  # fmt: skip
    db.session.add_all([*entries.values(), review])
    notify(db.session, [apprentice], Kind.EVIDENCE_DECIDED, title="Your plan was accepted", link="/")
    requests = {
        name: _witness_request(enrolment, tutor)
        for name in ("withdraw", "send_again", "code", "verify", "sign", "decline")
    }
    for name in ("verify", "sign", "decline"):
        code = send_code(db.session, requests[name][0], address="192.0.2.1")
        if name != "verify":
            requests[name] += (verify_code(db.session, requests[name][0], code, address="192.0.2.1"),)
    ready, signed, at_gateway = (ready_enrolment(world) for _ in range(3))
    sign_all(signed)
    sign_all(at_gateway)
    submit_to_epao(db.session, at_gateway.enrolment, by=at_gateway.tutor, today=TODAY)
    in_epa = ready_enrolment(world)
    sign_all(in_epa)
    accepted = submit_to_epao(db.session, in_epa.enrolment, by=in_epa.tutor, today=TODAY)
    items = gateway_items(in_epa.enrolment.standard_version.standard)
    decide_gateway(db.session, accepted, by=in_epa.assessor, decisions={code: (True, "") for code in items})
    # The start's agreements: a scan rated on the enrolment, one ready to sign elsewhere, and a plan.
    standard = enrolment.standard_version.standard
    ratings = {c.code: (ScanRating.SOME, "") for c in standard}
    rate(db.session, enrolment, by=apprentice, ratings=ratings)
    scan_ready = world.enrolment(employer=employer, provider=provider, tutor=tutor, mentor=mentor, epao=epao)
    rate(db.session, scan_ready, by=scan_ready.apprentice, ratings=ratings)
    confirm(db.session, scan_ready, by=mentor, ratings=ratings)
    record_prior_learning(db.session, scan_ready, by=tutor, details=PriorLearningDetails(hours=0, months=0))
    scan_confirmed = world.enrolment(employer=employer, provider=provider, tutor=tutor, mentor=mentor, epao=epao)
    rate(db.session, scan_confirmed, by=scan_confirmed.apprentice, ratings=ratings)
    confirm(db.session, scan_confirmed, by=mentor, ratings=ratings)
    planned = [
        add_activity(
            db.session,
            enrolment,
            by=tutor,
            details=ActivityDetails(
                f"Workshop {n}",
                enrolment.start_date,
                enrolment.start_date + timedelta(days=30),
                Decimal("10"),
                ["K1"],
            ),
        )  # fmt: skip
        for n in range(2)
    ]
    make_link(db.session, apprentice)  # so that the calendar page offers to turn it off
    db.session.flush()
    ids = {
        "employer": employer.id,
        "enrolment": enrolment.id,
        "spare_enrolment": spare_enrolment.id,
        "enrolment_to_pause": enrolment_to_pause.id,
        "paused_enrolment": paused_enrolment.id,
        "spare_user": world.user(Role.APPRENTICE, employer).id,
        "inactive_user": inactive_user.id,
        "invited_user": invitees[0].id,
        "invitation_token": invitation_token,
        "reset_token": reset_token,
        "email_change_token": email_change_token,
        "draft": draft.id,
        "draft_file": draft.files[0].id,
        "draft_to_submit": world.evidence(enrolment, submitted=False).id,
        "draft_to_delete": world.evidence(enrolment, submitted=False).id,
        "to_withdraw": world.evidence(enrolment).id,
        "submitted": world.evidence(enrolment).id,
        "in_review": in_review.id,
        "testimony": create_testimony(db.session, enrolment=enrolment, author=mentor, testimony=testimony).id,
        "testimony_to_sign": create_testimony(db.session, enrolment=enrolment, author=mentor, testimony=testimony).id,
        "code": "K1",
        "pdf": "pdf",
        "review": review.id,
        "ready": ready.enrolment.id,
        "signed": signed.enrolment.id,
        "at_gateway": at_gateway.enrolment.id,
        "in_epa": in_epa.enrolment.id,
        "ready_scan": scan_ready.id,
        "scan_confirmed": scan_confirmed.id,
        "first": 1,
        "activity": planned[0].id,
        "activity_to_remove": planned[1].id,
        **{name: entry.id for name, entry in entries.items()},
        **{f"request_to_{name}": requests[name][0].id for name in ("withdraw", "send_again")},
        **{f"item_to_{name}": requests[name][0].item_id for name in ("withdraw", "send_again")},
        **{f"{name}_token": requests[name][1] for name in ("code", "verify", "sign", "decline")},
        **{f"{name}_id": requests[name][0].id for name in ("sign", "decline")},
        **{f"{name}_verified_at": requests[name][2] for name in ("sign", "decline")},
    }
    people = {
        "apprentice": apprentice,
        "tutor": tutor,
        "mentor": mentor,
        "admin": admin,
        "ready_apprentice": ready.apprentice,
        "signed_tutor": signed.tutor,
        "assessor": at_gateway.assessor,
        "epa_assessor": in_epa.assessor,
    }
    db.session.commit()
    return ids, people


def _witness_request(enrolment, tutor) -> tuple:
    """A testimony the tutor asked of a witness by email: (the request, its link's token)."""
    testimony = WitnessTestimony(
        title="Witnessed parade", activity_date=enrolment.start_date, text="Led the stewards.", links={"S5": "Yes."}
    )
    return create_testimony_request(
        db.session,
        enrolment=enrolment,
        by=tutor,
        witness_email="jo@riverside.example",
        witness_name="Jo",
        testimony=testimony,
    )


def _post_routes(app) -> dict[str, object]:
    return {rule.endpoint: rule for rule in app.url_map.iter_rules() if "POST" in rule.methods}


def test_every_post_route_is_in_the_walk(app):
    assert set(_post_routes(app)) == set(ROUTES)


def test_hostile_values_in_every_post_route(app, client, hostile_world):
    ids, people = hostile_world
    rules = _post_routes(app)
    walked, stored_controls = set(), set()
    # The sign-in form last: its refusals count towards the pause on signing in from this address.
    for endpoint in sorted(ROUTES, key=lambda endpoint: endpoint == "auth.sign_in"):
        route, rule = ROUTES[endpoint], rules[endpoint]
        url = rule.build({arg: ids[key] for arg, key in route.values.items()})[1]
        page_endpoint, page_values = route.page or (endpoint, route.values)
        page_url = app.url_map.bind("localhost").build(page_endpoint, {a: ids[k] for a, k in page_values.items()})
        fields = None  # read from the page once: a post that succeeds may take the form away
        for kind in HOSTILE:
            if fields is None or endpoint in SIGNS_IN_AGAIN:
                client.post("/sign-out")
                if route.actor:
                    assert sign_in(client, people[route.actor]).status_code == 302, route.actor
                if route.prepare:
                    route.prepare(client, ids)
            if fields is None:
                page = client.get(page_url)
                assert page.status_code == 200, f"{endpoint}: {page_url} gave {page.status_code}"
                fields = _form_fields(page.get_data(as_text=True), url, page_url)
            before = database_state(endpoint)
            response = client.post(url, data=_hostile(fields, kind))
            run_jobs(app)  # what the post asked of the queue is done before the next is measured
            where = f"{endpoint} ({kind}): POST {url}"
            assert response.status_code < 500, f"{where} gave {response.status_code}"
            assert MARKUP not in response.get_data(as_text=True), where
            if response.status_code == 200 or response.status_code >= 400:
                assert database_state(endpoint) == before, f"{where} refused the post but wrote to the database"
            elif kind == "nul":
                stored_controls.add(endpoint)
            walked.add(endpoint)
    assert walked == set(rules)
    # The filled-in forms got through to the database, and what they stored is clean.
    assert stored_controls >= ACCEPT_CONTROL_CHARACTERS
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, StorableString):
                for value in db.session.scalars(select(column).where(column.is_not(None))):
                    assert not CONTROL.search(value), f"{column} holds {value!r}"


def test_next_with_a_line_break_or_a_backslash_leads_home(client, hostile_world):
    _, people = hostile_world
    for target in ["/enrolments\r\nSet-Cookie: taken=1", "/\r\n/evil.example", "/\\evil.example", "/a\x00b"]:
        response = sign_in_to(client, people["apprentice"], target)
        assert response.status_code == 302, repr(target)
        assert response.headers["Location"] == "/" and "Set-Cookie: taken" not in str(response.headers)
        client.post("/sign-out")


def sign_in_to(client, user, target: str):
    return client.post("/sign-in", query_string={"next": target}, data={"email": user.email, "password": PASSWORD})


# Query-string values a list page reads as numbers (pages, ids to filter by) or text.
HOSTILE_QUERIES = [{"page": str(10**30)}, {"page": "-1"}, {"page": "abc"}, {"page": "9" * 10_000}] + [
    {name: value for name in ("employer", "apprentice", "tutor", "organisation", "enrolment", "status", "role", "q")}
    for value in (str(10**30), "-1", "\x00", "x" * 10_000)
]


def test_list_pages_survive_hostile_query_strings(app, client, hostile_world):
    """Every page whose only argument is the enrolment (lists, dashboards) but the exports, with
    hostile numbers and text in the query string, as the people who see them."""
    ids, people = hostile_world
    adapter = app.url_map.bind("localhost")
    pages = [
        adapter.build(rule.endpoint, {arg: ids["enrolment"] for arg in rule.arguments})
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods
        and set(rule.arguments) <= {"enrolment_id"}
        and rule.endpoint.split(".")[0] != "exports"
    ]
    assert {"/admin/users", "/cohort", "/review", f"/enrolments/{ids['enrolment']}/evidence"} <= set(pages)
    for who in ("admin", "tutor", "apprentice"):
        client.post("/sign-out")
        sign_in(client, people[who])
        for page in pages:
            for query in HOSTILE_QUERIES:
                response = client.get(page, query_string=query, buffered=True)  # the cohort CSV streams
                assert response.status_code < 500, f"{who}: GET {page} {str(query)[:80]} gave {response.status_code}"


def test_huge_ids_in_the_address_are_not_found(client, hostile_world):
    ids, people = hostile_world
    sign_in(client, people["admin"])
    for url in [f"/enrolments/{10**30}", f"/admin/users/{10**30}", f"/enrolments/{ids['enrolment']}/otj/{10**30}"]:
        assert client.get(url).status_code == 404, url


def test_pages_with_several_forms_have_no_duplicate_ids(app, client, hostile_world):
    """Each form's page in the walk, as the person who uses it, with CSRF tokens on as in
    production (the evidence item and off-the-job entry pages hold several forms)."""
    ids, people = hostile_world
    adapter = app.url_map.bind("localhost")
    pages = {}
    for endpoint, route in ROUTES.items():
        if route.actor:
            page_endpoint, values = route.page or (endpoint, route.values)
            pages[adapter.build(page_endpoint, {arg: ids[key] for arg, key in values.items()})] = route.actor
    for page, who in sorted(pages.items(), key=lambda pair: pair[1]):
        client.post("/sign-out")
        sign_in(client, people[who])  # the tests' forms take no token; the pages now render one
        app.config["WTF_CSRF_ENABLED"] = True
        try:
            response = client.get(page)
        finally:
            app.config["WTF_CSRF_ENABLED"] = False
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and 'name="csrf_token"' in html, page
        duplicates = _duplicate_ids(html)
        assert not duplicates, f"{page} as {who}: duplicate ids {duplicates}"


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.ids += [value for name, value in attrs if name == "id"]


def _duplicate_ids(html: str) -> set[str]:
    parser = _Ids()
    parser.feed(html)
    return {id_ for id_ in parser.ids if parser.ids.count(id_) > 1}
