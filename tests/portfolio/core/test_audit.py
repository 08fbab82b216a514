"""The audit trail: the keyed hash chain and its keys, anchors, `portfolio audit verify` and
`anchor`, an event for each change, and the trail pages."""

from __future__ import annotations

import http.server
import io
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from portfolio.accounts.domain import (
    change_password,
    create_organisation,
    rename_organisation,
    reset_password,
    set_active,
)
from portfolio.core import audit
from portfolio.core.storage import evidence_store, max_upload_bytes
from portfolio.demo.build import build_demo
from portfolio.enrolments.domain import change_status, update_terms
from portfolio.enrolments.standard_versions import store_standard
from portfolio.evidence.items import Upload, delete_draft, remove_file, submit, update_item, withdraw
from portfolio.extensions import db
from portfolio.models import (
    AuditEvent,
    EnrolmentStatus,
    EvidenceKind,
    OrganisationKind,
    OtjActivity,
    Rag,
    Role,
    User,
)
from portfolio.otj.domain import (
    OtjDetails,
    approve_entries,
    approve_entry,
    delete_entry,
    log_entry,
    query_entry,
    update_entry,
)
from portfolio.progress_reviews.domain import ReviewDetails, create_review, sign_review, update_review
from portfolio.review.domain import (
    Decision,
    WitnessTestimony,
    add_comment,
    create_testimony,
    decide,
    record_judgement,
    sign_testimony,
    start_review,
    update_testimony,
)
from standard import Signer, shipped_path

from ...helpers import PASSWORD, PNG_BYTES
from ..conftest import counting_queries, finish_jobs, sign_in
from ..unkeyed_chain import rechain_unkeyed, unkeyed_hash

OLD_KEY = "an old audit key, rotated out last spring, 0123456789"
NEW_KEY = "the current audit key, in the secrets store, 9876543210"


def _events() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def _newest() -> AuditEvent:
    return db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def _tamper(sql: str, **values) -> None:
    db.session.execute(text(sql), values)
    db.session.commit()


@pytest.fixture
def museum(two_employers):
    return two_employers["museum_enrolment"]


@pytest.fixture
def logged(app, world, two_employers):
    """A few events of every kind of subject, committed."""
    admin = world.user(Role.ADMIN, two_employers["provider"])
    create_organisation(db.session, "Seaview Gallery", OrganisationKind.EMPLOYER, by=admin)
    world.evidence(two_employers["museum_enrolment"])
    db.session.commit()
    finish_jobs(app)  # the tutor's mail is sent now, not into the output of a command under test
    return _events()


# The chain -------------------------------------------------------------------------------------


def test_each_event_links_to_the_one_before_from_the_genesis(logged):
    assert len(logged) > 5
    assert logged[0].previous_hash == audit.GENESIS
    for before, event in zip(logged, logged[1:], strict=False):
        assert event.previous_hash == before.hash
    keyring = audit.current_keyring()
    assert all(audit.event_hash(event, keyring.current_secret) == event.hash for event in logged)
    assert {event.key_id for event in logged} == {keyring.current_id}
    assert len({event.hash for event in logged}) == len(logged)


def test_verify_passes_on_an_untouched_log(logged):
    result = audit.verify(db.session)
    assert result.ok and result.events == len(logged)
    assert (result.newest_id, result.newest_hash) == (logged[-1].id, logged[-1].hash)


def test_verify_reports_an_edited_value(logged):
    edited = logged[3]
    _tamper("UPDATE audit_events SET after = '{}' WHERE id = :id", id=edited.id)
    result = audit.verify(db.session)
    assert [(p.event_id, p.message) for p in result.problems] == [
        (edited.id, "does not match its hash (the event was edited or forged)")
    ]


def test_verify_reports_an_edit_whose_hash_was_recomputed_with_the_key(logged):
    """Even whoever holds the key and recomputes an edited event's hash breaks the next event's link."""
    edited, following = logged[2], logged[3]
    db.session.expunge_all()
    row = db.session.get(AuditEvent, edited.id)
    row.actor_name = "Someone else"
    row.hash = audit.event_hash(row, audit.current_keyring().current_secret)
    db.session.commit()
    result = audit.verify(db.session)
    assert [p.event_id for p in result.problems] == [following.id]
    assert "does not follow the event before it" in result.problems[0].message


def test_verify_reports_a_deleted_event(logged):
    _tamper("DELETE FROM audit_events WHERE id = :id", id=logged[4].id)
    result = audit.verify(db.session)
    assert [p.event_id for p in result.problems] == [logged[5].id]


def test_verify_reports_an_edited_previous_hash(logged):
    """Pointing an event at another predecessor (as reordering events would) breaks its hash and link."""
    _tamper("UPDATE audit_events SET previous_hash = :other WHERE id = :id", other=logged[0].hash, id=logged[5].id)
    problems = audit.verify(db.session).problems
    assert {p.event_id for p in problems} == {logged[5].id} and len(problems) == 2


def test_verify_reports_the_first_event_deleted(logged):
    _tamper("DELETE FROM audit_events WHERE id = :id", id=logged[0].id)
    assert [p.event_id for p in audit.verify(db.session).problems] == [logged[1].id]


# Attacks by whoever can write to the database but lacks the key --------------------------------


def test_rehashing_the_whole_chain_with_sha256_after_an_edit_fails_verification(logged):
    """Attack 1: edit an event, then re-link and re-hash every event with plain SHA-256."""
    logged[2].actor_name = "Someone else"
    rechain_unkeyed(logged)
    db.session.commit()
    assert db.session.scalar(select(AuditEvent.actor_name).where(AuditEvent.id == logged[2].id)) == "Someone else"
    result = audit.verify(db.session)
    assert not result.ok
    assert {p.event_id for p in result.problems} == {event.id for event in logged}
    assert all(p.message == "does not match its hash (the event was edited or forged)" for p in result.problems)


def test_deleting_the_newest_events_fails_verification_against_the_anchor(runner, logged, tmp_path):
    """Attack 2: the newest events deleted leave no gap, but the anchor kept elsewhere names them."""
    anchors = tmp_path / "anchors.txt"
    newest, kept_newest = logged[-1].id, logged[-3].id
    assert runner.invoke(args=["audit", "anchor", "--to", str(anchors)]).exit_code == 0
    _tamper("DELETE FROM audit_events WHERE id >= :id", id=newest - 1)

    assert runner.invoke(args=["audit", "verify"]).exit_code == 0  # the chain alone cannot tell
    result = runner.invoke(args=["audit", "verify", "--anchor", str(anchors)])
    assert result.exit_code == 1
    assert (
        f"Event {newest}: is anchored (anchors.txt line 1) but missing: "
        f"the trail now ends at event {kept_newest}: the newest events were deleted"
    ) in result.output
    assert "1 problem. The audit trail has been altered." in result.output


def test_a_forged_gateway_decision_appended_with_a_sha256_chained_hash_fails_verification(logged, museum):
    """Attack 3: append a sign-off that never happened, linked to the newest event and hashed as before."""
    newest = logged[-1]
    forged = dict(
        occurred_at=datetime.now(UTC),
        actor_id=None,
        actor_name="Assessor",
        action="gateway.signed_off",
        subject_type="gateway_submission",
        subject_id=1,
        enrolment_id=museum.id,
        before=audit.canonical_json({"outcome": "pending"}),
        after=audit.canonical_json({"outcome": "signed_off", "status": "in_epa"}),
        previous_hash=newest.hash,
        key_id=getattr(newest, "key_id", None),  # the newest event's key id, copied
    )
    forged["hash"] = unkeyed_hash(SimpleNamespace(**forged))
    columns = AuditEvent.__table__.columns.keys()
    db.session.execute(AuditEvent.__table__.insert().values({k: v for k, v in forged.items() if k in columns}))
    db.session.commit()
    forged_id = _newest().id
    result = audit.verify(db.session)
    assert [(p.event_id, p.message) for p in result.problems] == [
        (forged_id, "does not match its hash (the event was edited or forged)")
    ]


def test_an_event_naming_a_key_that_is_not_configured_fails_verification(logged):
    _tamper("UPDATE audit_events SET key_id = 'feedfacefeedface' WHERE id = :id", id=logged[1].id)
    assert [(p.event_id, p.message) for p in audit.verify(db.session).problems] == [
        (logged[1].id, "was made with audit key feedfacefeedface, which is not configured")
    ]


# Keys and their rotation -----------------------------------------------------------------------


def test_events_of_a_rotated_key_verify_only_while_it_is_configured_as_old(app, logged):
    rotated_out = app.config["AUDIT_KEY"]  # the key that made the logged events
    rotated_id = audit.key_id(rotated_out.encode())
    app.config.update(AUDIT_KEY=NEW_KEY, AUDIT_KEYS_OLD=[rotated_out])
    made_after = audit.record(db.session, "test.after_rotation", actor=None, subject_type="test")
    db.session.commit()
    assert made_after.key_id == audit.key_id(NEW_KEY.encode()) != rotated_id
    assert made_after.previous_hash == logged[-1].hash
    assert audit.verify(db.session).ok

    app.config["AUDIT_KEYS_OLD"] = []  # the old key dropped too soon
    problems = audit.verify(db.session).problems
    assert [(p.event_id, p.message) for p in problems] == [
        (event.id, f"was made with audit key {rotated_id}, which is not configured") for event in logged
    ]


def test_the_default_key_is_kept_in_the_instance_folder_apart_from_the_session_key(app, logged):
    kept = (app.instance_path + "/audit-key", app.config["AUDIT_KEY"])
    with open(kept[0]) as file:
        assert file.read().strip() == kept[1]
    assert kept[1] != app.config["SECRET_KEY"] and len(kept[1]) >= 32
    stored = " ".join(
        " ".join(str(value) for value in row) for row in db.session.execute(text("SELECT * FROM audit_events"))
    )
    assert kept[1] not in stored


def test_keys_from_the_environment_are_taken_as_typed(monkeypatch, tmp_path):
    from portfolio import create_app

    digits, number_like = "1" * 40, "2e" + "5" * 38  # both would read as numbers as JSON
    monkeypatch.setenv("PORTFOLIO_AUDIT_KEY", digits)
    monkeypatch.setenv("PORTFOLIO_AUDIT_KEYS_OLD", f"{number_like}, {'ab' * 20}")
    app = create_app({"SECRET_KEY": "test"}, instance_path=str(tmp_path))
    assert app.config["AUDIT_KEY"] == digits
    assert app.config["AUDIT_KEYS_OLD"] == [number_like, "ab" * 20]
    monkeypatch.setenv("PORTFOLIO_AUDIT_KEYS_OLD", json.dumps([OLD_KEY]))  # keys with spaces: a JSON list
    assert create_app({"SECRET_KEY": "test"}, instance_path=str(tmp_path)).config["AUDIT_KEYS_OLD"] == [OLD_KEY]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"AUDIT_KEY": "short"}, "PORTFOLIO_AUDIT_KEY must be at least 32 characters long"),
        ({"AUDIT_KEY": NEW_KEY, "SECRET_KEY": NEW_KEY}, "PORTFOLIO_AUDIT_KEY must differ from PORTFOLIO_SECRET_KEY"),
    ],
)
def test_a_weak_key_stops_the_app_from_starting(tmp_path, settings, message):
    from portfolio import create_app

    with pytest.raises(ValueError, match=message):
        create_app({"SECRET_KEY": "test"} | settings, instance_path=str(tmp_path))


# Anchors ---------------------------------------------------------------------------------------


def test_the_anchor_command_prints_and_appends_the_newest_event(runner, logged, tmp_path):
    anchors = tmp_path / "anchors.txt"
    first = runner.invoke(args=["audit", "anchor", "--to", str(anchors)])
    assert first.exit_code == 0, first.output
    newest = logged[-1]
    expected = f"{newest.id} {newest.hash} {newest.occurred_at.astimezone(UTC).isoformat(timespec='microseconds')}"
    assert first.output == expected + "\n"
    audit.record(db.session, "test.later", actor=None, subject_type="test")
    db.session.commit()
    assert runner.invoke(args=["audit", "anchor", "--to", str(anchors)]).exit_code == 0
    lines = anchors.read_text().splitlines()
    assert lines[0] == expected and lines[1].split()[:2] == [str(_newest().id), _newest().hash]

    result = runner.invoke(args=["audit", "verify", "--anchor", str(anchors)])
    assert result.exit_code == 0, result.output
    assert f"Checked {len(logged) + 1} events and 2 anchors: the audit trail is intact." in result.output


def test_the_anchor_catches_an_anchored_event_rewritten_by_someone_holding_the_key(runner, logged, tmp_path):
    anchors = tmp_path / "anchors.txt"
    runner.invoke(args=["audit", "anchor", "--to", str(anchors)])
    secret = audit.current_keyring().current_secret
    db.session.expunge_all()
    events = _events()
    events[1].actor_name = "Someone else"
    previous = audit.GENESIS
    for event in events:
        event.previous_hash = previous
        event.hash = previous = audit.event_hash(event, secret)
    db.session.commit()
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    result = runner.invoke(args=["audit", "verify", "--anchor", str(anchors)])
    assert result.exit_code == 1
    assert f"Event {logged[-1].id}: differs from its anchor (anchors.txt line 1): the trail was rewritten" in (
        result.output
    )


class _AnchorServer(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes]] = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args):  # quiet
        pass


def test_the_anchor_command_posts_the_line_to_a_url(runner, logged):
    server = http.server.HTTPServer(("127.0.0.1", 0), _AnchorServer)
    _AnchorServer.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        result = runner.invoke(args=["audit", "anchor", "--to", f"http://127.0.0.1:{server.server_port}/anchors"])
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 0, result.output
    assert _AnchorServer.received == [("/anchors", "text/plain", result.output.encode())]


def test_the_anchor_command_fails_clearly_when_the_url_does_not_answer(runner, logged):
    server = http.server.HTTPServer(("127.0.0.1", 0), _AnchorServer)
    port = server.server_port
    server.server_close()  # nothing listens there now
    result = runner.invoke(args=["audit", "anchor", "--to", f"http://127.0.0.1:{port}/anchors"])
    assert result.exit_code == 1
    assert f"Error: the anchor was not kept at http://127.0.0.1:{port}/anchors" in result.output


def test_the_anchor_command_fails_clearly_for_a_malformed_url(runner, logged):
    result = runner.invoke(args=["audit", "anchor", "--to", "http://[::1/anchors"])
    assert result.exit_code == 1 and "Error: the anchor was not kept at http://[::1/anchors" in result.output


def test_verify_names_an_anchored_event_deleted_from_the_middle(logged):
    anchors = [audit.Anchor(event.id, event.hash, f"anchors.txt line {n}") for n, event in enumerate(logged, 1)]
    missing, following = logged[3].id, logged[4].id
    _tamper("DELETE FROM audit_events WHERE id = :id", id=missing)
    assert [(p.event_id, p.message) for p in audit.verify(db.session, anchors=anchors).problems] == [
        (following, "does not follow the event before it (an event was deleted or edited)"),
        (missing, "is anchored (anchors.txt line 4) but missing: it was deleted"),
    ]


def test_an_empty_trail_has_nothing_to_anchor(runner, app):
    result = runner.invoke(args=["audit", "anchor"])
    assert result.exit_code == 1 and "the audit trail is empty; there is nothing to anchor" in result.output


@pytest.mark.parametrize("line", ["12", "twelve " + "a" * 64, "\u00b2 " + "a" * 64, "12 " + "A" * 64, "12 not-a-hash"])
def test_verify_refuses_a_file_that_holds_no_anchors(runner, logged, tmp_path, line):
    anchors = tmp_path / "anchors.txt"
    anchors.write_text(f"# kept by the operator\n\n{line}\n")
    result = runner.invoke(args=["audit", "verify", "--anchor", str(anchors)])
    assert result.exit_code == 1
    assert "Error: anchors.txt line 3 is not an anchor (event id, hash, time)" in result.output


def test_an_appender_waits_for_another_so_the_chain_never_forks(app, logged):
    """Two transactions appending at once: the second reads the first's hash once it commits."""
    first, second = Session(db.engine), Session(db.engine)
    audit.record(first, "test.first", actor=None, subject_type="test")
    finished = threading.Event()

    def append_second():
        with app.app_context():
            audit.record(second, "test.second", actor=None, subject_type="test")
            second.commit()
            finished.set()

    thread = threading.Thread(target=append_second)
    thread.start()
    assert not finished.wait(0.5), "the second appender did not wait for the first to commit"
    first.commit()
    thread.join(10)
    assert finished.is_set()
    first.close()
    second.close()
    newest = _events()[-2:]
    assert [e.action for e in newest] == ["test.first", "test.second"]
    assert newest[1].previous_hash == newest[0].hash and audit.verify(db.session).ok


def test_only_changed_fields_are_kept_and_values_are_plain(museum):
    item = db.session.get(type(museum), museum.id)
    event = audit.record_change(
        "test.changed",
        item,
        actor=None,
        before={"same": 1, "hours": Decimal("1.50"), "day": date(2025, 9, 1), "status": EnrolmentStatus.ON_PROGRAMME},
        after={"same": 1, "hours": Decimal("2.00"), "day": date(2025, 9, 2), "status": EnrolmentStatus.AT_GATEWAY},
    )
    assert (event.subject_type, event.subject_id, event.enrolment_id) == ("enrolment", museum.id, museum.id)
    assert json.loads(event.before) == {"hours": "1.50", "day": "2025-09-01", "status": "on_programme"}
    assert json.loads(event.after) == {"hours": "2.00", "day": "2025-09-02", "status": "at_gateway"}


# The command line ------------------------------------------------------------------------------


def test_the_verify_command_passes_then_fails_after_an_edit(runner, logged):
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"Checked {len(logged)} events: the audit trail is intact." in result.output
    assert logged[-1].hash in result.output

    _tamper("UPDATE audit_events SET after = '{}' WHERE id = :id", id=logged[2].id)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"Event {logged[2].id}: does not match its hash (the event was edited or forged)" in result.output
    assert "1 problem. The audit trail has been altered." in result.output


def test_the_show_command_prints_an_enrolments_trail(runner, museum, logged):
    result = runner.invoke(args=["audit", "show", "--enrolment", str(museum.id)])
    assert result.exit_code == 0, result.output
    assert "Evidence submitted for review" in result.output
    assert "Status: Draft -> Submitted for review" in result.output
    assert "Organisation created" not in result.output  # not this enrolment's
    assert runner.invoke(args=["audit", "show", "--enrolment", "99999999999"]).exit_code == 2


def test_the_demo_verifies_and_stops_verifying_once_a_row_is_edited(runner, app):
    build_demo("demo password 123")
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "the audit trail is intact" in result.output
    actions = set(db.session.scalars(select(AuditEvent.action).distinct()))
    assert {"evidence.accepted", "judgement.recorded", "otj.approved", "progress_review.signed"} <= actions
    _tamper("UPDATE audit_events SET after = '{}' WHERE id = 3")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "Event 3:" in result.output


# An event for each change ----------------------------------------------------------------------


@dataclass
class Scene:
    """The museum's apprenticeship and its people, for the domain actions below."""

    world: Any
    enrolment: Any
    apprentice: User
    tutor: User
    mentor: User
    admin: User


SCENE = object()  # the event belongs to the scene's enrolment


@dataclass
class Expected:
    action: str
    actor: User | None
    subject: Any  # a model instance, or (subject type, id) for one since deleted
    before: dict = field(default_factory=dict)  # keys the event's before must hold, with these values
    after: dict = field(default_factory=dict)
    enrolment: Any = SCENE  # the enrolment the event belongs to: the scene's, another, or None


def _details(**overrides):
    from portfolio.evidence.items import EvidenceDetails

    values = dict(
        title="Community workshop plan",
        kind=EvidenceKind.EVENT_PLAN,
        activity_date=date(2025, 9, 1),
        description="Plan for a half-term family workshop.",
        reflection="Booking the room early helped.",
        links={"K1": "Shows the audience research.", "S4": "Risk assessment."},
    )
    return EvidenceDetails(**(values | overrides))


def _testimony(s: Scene):
    testimony = WitnessTestimony(
        "Lantern parade", date(2025, 9, 1), "Led the parade safely.", {"S5": "Briefed stewards."}
    )
    return create_testimony(db.session, enrolment=s.enrolment, author=s.mentor, testimony=testimony)


def _otj(s: Scene, hours: str = "3.5"):
    details = OtjDetails(date(2025, 9, 2), Decimal(hours), OtjActivity.WORKSHOP, "Safeguarding refresher.")
    return log_entry(db.session, enrolment=s.enrolment, by=s.apprentice, details=details)


def _review_details(**overrides):
    values = dict(
        review_date=date(2025, 11, 3),
        attendees="Apprentice, mentor, tutor",
        progress="On track.",
        actions="Two more items.",
        otj_and_slippage="On pace with the plan.",
        training_plan_changes="None.",
        concerns_and_changes="None raised.",
        actions_since_last="All done.",
        late_reason="Moved for the apprentice's leave.",
        criteria={"K1": (Rag.GREEN, "Well evidenced.")},
    )
    return ReviewDetails(**(values | overrides))


def _review(s: Scene):
    return create_review(db.session, enrolment=s.enrolment, author=s.tutor, details=_review_details())


def organisation_created(s):
    organisation = create_organisation(db.session, "Seaview Gallery", OrganisationKind.EMPLOYER, by=s.admin)
    return Expected(
        "organisation.created",
        s.admin,
        organisation,
        after={"name": "Seaview Gallery", "kind": "employer"},
        enrolment=None,
    )


def organisation_renamed(s):
    organisation = s.enrolment.employer
    rename_organisation(db.session, organisation, "Harbourside Maritime Museum", by=s.admin)
    return Expected(
        "organisation.renamed",
        s.admin,
        organisation,
        before={"name": "Harbourside Museum"},
        after={"name": "Harbourside Maritime Museum"},
        enrolment=None,
    )


def user_created(s):
    user = s.world.user(Role.TUTOR, s.enrolment.provider, name="Tom Whitlock", email="tom@example.org")
    return Expected(
        "user.created",
        None,
        user,
        after={"email": "tom@example.org", "role": "tutor", "name": "Tom Whitlock"},
        enrolment=None,
    )


def password_changed(s):
    change_password(s.apprentice, PASSWORD, "a new long password", address="192.0.2.1")
    return Expected("user.password_changed", s.apprentice, s.apprentice, enrolment=None)


def password_reset(s):
    reset_password(s.apprentice, "a new long password", by=s.admin)
    return Expected("user.password_reset", s.admin, s.apprentice, enrolment=None)


def user_deactivated(s):
    set_active(s.mentor, False, by=s.admin)
    return Expected(
        "user.deactivated", s.admin, s.mentor, before={"active": True}, after={"active": False}, enrolment=False
    )


def user_reactivated(s):
    set_active(s.mentor, False, by=s.admin)
    set_active(s.mentor, True, by=s.admin)
    return Expected(
        "user.reactivated", s.admin, s.mentor, before={"active": False}, after={"active": True}, enrolment=False
    )


def standard_loaded(s):
    changed = shipped_path("ST0396").read_text(encoding="utf-8") + "# a later edit\n"
    version, _ = store_standard(db.session, changed, by=s.admin)
    return Expected(
        "standard.loaded", s.admin, version, after={"reference": "ST0396", "version": "1.0"}, enrolment=False
    )


def enrolment_created(s):
    enrolment = s.world.enrolment(employer=s.enrolment.employer, provider=s.enrolment.provider, tutor=s.tutor)
    return Expected(
        "enrolment.created",
        None,
        enrolment,
        after={"apprentice": enrolment.apprentice.name, "tutor": s.tutor.name, "planned_otj_hours": 375},
        enrolment=enrolment,
    )


def enrolment_updated(s):
    update_terms(s.enrolment, _terms_of(s.enrolment, planned_otj_hours=400, tutor=None), by=s.admin)
    return Expected(
        "enrolment.updated",
        s.admin,
        s.enrolment,
        before={"planned_otj_hours": 375, "tutor": s.tutor.name},
        after={"planned_otj_hours": 400, "tutor": None},
    )


def enrolment_status_changed(s):
    change_status(db.session, s.enrolment, EnrolmentStatus.BREAK_IN_LEARNING, s.admin, "Illness")
    return Expected(
        "enrolment.status_changed",
        s.admin,
        s.enrolment,
        before={"status": "on_programme"},
        after={"status": "break_in_learning", "note": "Illness"},
    )


def evidence_created(s):
    item = s.world.evidence(s.enrolment, submitted=False)
    return Expected(
        "evidence.created",
        s.apprentice,
        item,
        after={
            "title": "Community workshop plan",
            "kind": "event_plan",
            "activity_date": "2025-09-01",
            "links": {"K1": "Shows the audience research.", "S4": "Risk assessment."},
        },
    )


def evidence_updated(s):
    item = s.world.evidence(s.enrolment, submitted=False)
    update_item(
        db.session,
        evidence_store(),
        item,
        by=s.apprentice,
        details=_details(title="Family workshop plan", links={"K1": "Shows the audience research."}),
        uploads=[Upload(io.BytesIO(PNG_BYTES), "photo.png")],
        max_bytes=max_upload_bytes(),
    )
    return Expected(
        "evidence.updated",
        s.apprentice,
        item,
        before={"title": "Community workshop plan"},
        after={"title": "Family workshop plan", "links": {"K1": "Shows the audience research."}},
    )


def evidence_file_removed(s):
    item = s.world.evidence(s.enrolment, submitted=False)
    remove_file(db.session, item, item.files[0], by=s.apprentice)
    return Expected("evidence.file_removed", s.apprentice, item, after={"files": []})


def evidence_deleted(s):
    item = s.world.evidence(s.enrolment, submitted=False)
    subject = (audit.subject_type(item), item.id)
    expected = Expected("evidence.deleted", s.apprentice, subject, before={"title": "Community workshop plan"})
    delete_draft(db.session, item, by=s.apprentice)
    return expected


def evidence_submitted(s):
    item = s.world.evidence(s.enrolment, submitted=False)
    submit(item, by=s.apprentice)
    return Expected("evidence.submitted", s.apprentice, item, before={"status": "draft"}, after={"status": "submitted"})


def evidence_withdrawn(s):
    item = s.world.evidence(s.enrolment)
    withdraw(item, by=s.apprentice, reason="Wrong file")
    return Expected(
        "evidence.withdrawn",
        s.apprentice,
        item,
        before={"status": "submitted"},
        after={"status": "withdrawn", "note": "Wrong file"},
    )


def review_started(s):
    item = s.world.evidence(s.enrolment)
    start_review(db.session, item, by=s.tutor)
    return Expected(
        "evidence.review_started", s.tutor, item, before={"reviewer": None}, after={"reviewer": s.tutor.name}
    )


def evidence_accepted(s):
    item = s.world.evidence(s.enrolment)
    start_review(db.session, item, by=s.tutor)
    decide(db.session, item, by=s.tutor, decision=Decision.ACCEPT)
    return Expected("evidence.accepted", s.tutor, item, before={"status": "submitted"}, after={"status": "accepted"})


def evidence_referred(s):
    item = s.world.evidence(s.enrolment)
    start_review(db.session, item, by=s.tutor)
    decide(db.session, item, by=s.tutor, decision=Decision.REFER, feedback="Add the budget.")
    return Expected(
        "evidence.referred",
        s.tutor,
        item,
        before={"status": "submitted"},
        after={"status": "referred", "note": "Add the budget."},
    )


def evidence_commented(s):
    item = s.world.evidence(s.enrolment)
    add_comment(db.session, item, by=s.mentor, body="Lovely photos.")
    return Expected("evidence.commented", s.mentor, item, after={"comment": "Lovely photos."})


def judgement_recorded(s):
    judgement = record_judgement(db.session, s.enrolment, by=s.tutor, code="K1", level_code="met", note="Clear.")
    return Expected(
        "judgement.recorded",
        s.tutor,
        judgement,
        after={"criterion_code": "K1", "level_code": "met", "met": True, "note": "Clear."},
    )


def witness_testimony_created(s):
    item = _testimony(s)
    return Expected("testimony.created", s.mentor, item, after={"title": "Lantern parade", "kind": "witness_testimony"})


def witness_testimony_updated(s):
    item = _testimony(s)
    changed = WitnessTestimony("Lantern parade", date(2025, 9, 1), "Led it calmly.", {"S5": "Briefed stewards."})
    update_testimony(db.session, item, by=s.mentor, testimony=changed)
    return Expected(
        "testimony.updated",
        s.mentor,
        item,
        before={"description": "Led the parade safely."},
        after={"description": "Led it calmly."},
    )


def witness_testimony_signed(s):
    item = _testimony(s)
    sign_testimony(db.session, item, by=s.mentor, signed_name="Helen Osei", job_title="Head of Learning")
    return Expected(
        "testimony.signed", s.mentor, item, after={"signed_name": "Helen Osei", "job_title": "Head of Learning"}
    )


def otj_logged(s):
    entry = _otj(s)
    return Expected(
        "otj.logged", s.apprentice, entry, after={"hours": "3.50", "activity": "workshop", "status": "logged"}
    )


def otj_updated(s):
    entry = _otj(s)
    details = OtjDetails(date(2025, 9, 2), Decimal("4"), OtjActivity.WORKSHOP, "Safeguarding refresher.")
    update_entry(db.session, entry, by=s.apprentice, details=details)
    return Expected("otj.updated", s.apprentice, entry, before={"hours": "3.50"}, after={"hours": "4.00"})


def otj_deleted(s):
    entry = _otj(s)
    expected = Expected("otj.deleted", s.apprentice, (audit.subject_type(entry), entry.id), before={"hours": "3.50"})
    delete_entry(db.session, entry, by=s.apprentice)
    return expected


def otj_approved(s):
    entry = _otj(s)
    approve_entry(db.session, entry, by=s.tutor)
    return Expected("otj.approved", s.tutor, entry, before={"status": "logged"}, after={"status": "approved"})


def otj_approved_in_bulk(s):
    entries = [_otj(s, hours) for hours in ("1", "2")]
    approve_entries(db.session, s.enrolment, [e.id for e in entries], by=s.tutor)
    assert [e.action for e in _events()[-2:]] == ["otj.approved", "otj.approved"]
    return Expected("otj.approved", s.tutor, entries[-1], before={"status": "logged"}, after={"status": "approved"})


def otj_queried(s):
    entry = _otj(s)
    query_entry(db.session, entry, by=s.tutor, note="Which session?")
    return Expected(
        "otj.queried",
        s.tutor,
        entry,
        before={"status": "logged"},
        after={"status": "queried", "query_note": "Which session?"},
    )


def review_created(s):
    review = _review(s)
    return Expected(
        "progress_review.created",
        s.tutor,
        review,
        after={"progress": "On track.", "criteria": {"K1": ["green", "Well evidenced."]}},
    )


def review_updated(s):
    review = _review(s)
    update_review(db.session, review, by=s.tutor, details=_review_details(progress="Slightly behind."))
    return Expected(
        "progress_review.updated",
        s.tutor,
        review,
        before={"progress": "On track."},
        after={"progress": "Slightly behind."},
    )


def review_signed(s):
    review = _review(s)
    sign_review(db.session, review, by=s.apprentice, signer=Signer.APPRENTICE)
    return Expected("progress_review.signed", s.apprentice, review, after={"signer": "apprentice", "complete": False})


CASES = [
    organisation_created,
    organisation_renamed,
    user_created,
    password_changed,
    password_reset,
    user_deactivated,
    user_reactivated,
    standard_loaded,
    enrolment_created,
    enrolment_updated,
    enrolment_status_changed,
    evidence_created,
    evidence_updated,
    evidence_file_removed,
    evidence_deleted,
    evidence_submitted,
    evidence_withdrawn,
    review_started,
    evidence_accepted,
    evidence_referred,
    evidence_commented,
    judgement_recorded,
    witness_testimony_created,
    witness_testimony_updated,
    witness_testimony_signed,
    otj_logged,
    otj_updated,
    otj_deleted,
    otj_approved,
    otj_approved_in_bulk,
    otj_queried,
    review_created,
    review_updated,
    review_signed,
]


def _terms_of(enrolment, **changes):
    from portfolio.enrolments.domain import EnrolmentTerms

    terms = {
        name: getattr(enrolment, name)
        for name in (
            "provider",
            "epao",
            "mentor",
            "tutor",
            "start_date",
            "planned_end_date",
            "planned_otj_hours",
            "age_band",
            "english_maths_route",
            "english_maths_decided_on",
            "minimum_months_override",
        )
    }
    return EnrolmentTerms(**(terms | changes))


@pytest.fixture
def scene(world, two_employers):
    admin = world.user(Role.ADMIN, two_employers["provider"])
    museum = two_employers["museum_enrolment"]
    db.session.commit()
    return Scene(world, museum, museum.apprentice, two_employers["tutor"], two_employers["museum_mentor"], admin)


@pytest.mark.parametrize("case", CASES, ids=[case.__name__ for case in CASES])
def test_each_change_appends_its_event(scene, case):
    expected = case(scene)
    db.session.commit()
    event = _newest()
    subject_type, subject_id = (
        expected.subject
        if isinstance(expected.subject, tuple)
        else (audit.subject_type(expected.subject), expected.subject.id)
    )
    enrolment = scene.enrolment if expected.enrolment is SCENE else expected.enrolment
    assert event.action == expected.action
    assert (event.actor_id, event.actor_name) == (
        (expected.actor.id, expected.actor.name) if expected.actor else (None, "")
    )
    assert (event.subject_type, event.subject_id) == (subject_type, subject_id)
    assert event.enrolment_id == (enrolment.id if enrolment else None)
    before, after = json.loads(event.before), json.loads(event.after)
    assert {name: before.get(name, "missing") for name in expected.before} == expected.before
    assert {name: after.get(name, "missing") for name in expected.after} == expected.after
    assert all(before[name] != after[name] for name in before.keys() & after.keys())  # only what changed
    assert "scrypt" not in event.before + event.after  # never a password hash
    assert audit.verify(db.session).ok


def test_sign_in_sign_out_and_refused_sign_ins_are_recorded(client, scene):
    apprentice = scene.apprentice
    sign_in(client, apprentice, "not the password")
    refused = _newest()
    assert (refused.action, refused.actor_id, refused.subject_id) == ("auth.sign_in_failed", None, apprentice.id)
    assert apprentice.email not in refused.after and "not the password" not in refused.after  # the id says who

    client.post("/sign-in", data={"email": "nobody@example.org", "password": "whatever it is"})
    unknown = _newest()
    assert (unknown.action, unknown.subject_id) == ("auth.sign_in_failed", None)
    assert "nobody@example.org" not in unknown.after  # an email box may hold a password: nothing typed is kept

    sign_in(client, apprentice)
    signed_in = _newest()
    assert (signed_in.action, signed_in.actor_id, signed_in.subject_id) == (
        "auth.signed_in",
        apprentice.id,
        apprentice.id,
    )
    assert PASSWORD not in signed_in.after

    client.post("/sign-out")
    assert (_newest().action, _newest().actor_id) == ("auth.signed_out", apprentice.id)
    assert audit.verify(db.session).ok


def test_viewing_pages_records_nothing(client, scene):
    item = scene.world.evidence(scene.enrolment)
    db.session.commit()
    enrolment_id = scene.enrolment.id
    sign_in(client, scene.tutor)
    before = _count()
    for url in (
        "/",
        f"/enrolments/{enrolment_id}",
        f"/enrolments/{enrolment_id}/evidence",
        f"/enrolments/{enrolment_id}/evidence/{item.id}",
        f"/enrolments/{enrolment_id}/otj",
        f"/enrolments/{enrolment_id}/reviews",
        f"/enrolments/{enrolment_id}/audit",
        "/sign-in",
    ):
        assert client.get(url).status_code in (200, 302), url
    assert _count() == before


# The trail pages -------------------------------------------------------------------------------


def test_a_tutor_reads_the_trail_newest_first(client, scene):
    item = scene.world.evidence(scene.enrolment, title="Lantern parade risk assessment")
    start_review(db.session, item, by=scene.tutor)
    decide(db.session, item, by=scene.tutor, decision=Decision.REFER, feedback="Add the volunteer briefing.")
    db.session.commit()
    sign_in(client, scene.tutor)
    page = client.get(f"/enrolments/{scene.enrolment.id}/audit").get_data(as_text=True)
    referred, started, submitted = (
        page.index("Evidence referred back"),
        page.index("Review of evidence started"),
        page.index("Evidence submitted for review"),
    )
    assert referred < started < submitted
    assert "Add the volunteer briefing." in page and scene.tutor.name in page
    assert "Evidence: Lantern parade risk assessment" in page
    assert f'href="/enrolments/{scene.enrolment.id}/evidence/{item.id}"' in page
    assert "Apprentice enrolled" in page
    assert "Signed in" not in page  # sign-ins belong to no enrolment


def test_the_trail_withholds_the_values_of_drafts_the_reader_cannot_see(client, scene):
    scene.world.evidence(scene.enrolment, title="My private draft", submitted=False)
    db.session.commit()
    sign_in(client, scene.tutor)
    page = client.get(f"/enrolments/{scene.enrolment.id}/audit").get_data(as_text=True)
    assert "Evidence added as a draft" in page and "Not shown: the evidence is a draft" in page
    assert "My private draft" not in page


def test_the_trail_is_paginated(app, client, scene):
    app.config["PAGE_SIZE"] = 5
    for number in range(4):
        record_judgement(db.session, scene.enrolment, by=scene.tutor, code=f"K{number + 1}", level_code="met")
    db.session.commit()
    total = db.session.scalar(select(func.count()).where(AuditEvent.enrolment_id == scene.enrolment.id))
    assert total == 5  # enrolled, then four judgements
    sign_in(client, scene.tutor)
    url = f"/enrolments/{scene.enrolment.id}/audit"
    first = client.get(url).get_data(as_text=True)
    assert "Judgement of K4" in first and "Apprentice enrolled" in first
    record_judgement(db.session, scene.enrolment, by=scene.tutor, code="K5", level_code="met")
    db.session.commit()
    first, second = (client.get(f"{url}?page={n}").get_data(as_text=True) for n in (1, 2))
    assert "Judgement of K5" in first and "Apprentice enrolled" not in first
    assert "Apprentice enrolled" in second and "Judgement of K5" not in second
    assert f'href="{url}?page=2"' in first


def test_the_trail_takes_a_fixed_number_of_queries(client, scene):
    sign_in(client, scene.tutor)
    url = f"/enrolments/{scene.enrolment.id}/audit"
    counts = []
    for more in (2, 30):
        for _ in range(more):
            item = scene.world.evidence(scene.enrolment)
            add_comment(db.session, item, by=scene.tutor, body="Thanks.")
            _otj(scene)
        db.session.commit()
        with counting_queries() as count:
            assert client.get(url).status_code == 200
        counts.append(count())
    assert counts[0] == counts[1] and counts[0] <= 7, counts


@pytest.fixture
def readers(world, scene, two_employers):
    """Who may and may not read the museum's trail (the enrolment is at gateway, so its EPAO's assessor sees it)."""
    change_status(db.session, scene.enrolment, EnrolmentStatus.AT_GATEWAY, None)
    other_provider = world.provider("Elsewhere College")
    outsiders = {
        "apprentice": scene.apprentice,
        "employer": scene.mentor,
        "tutor of another provider": world.user(Role.TUTOR, other_provider),
        "assessor of its EPAO": world.user(Role.ASSESSOR, two_employers["epao"]),
        "assessor of another EPAO": world.user(Role.ASSESSOR, world.epao()),
    }
    db.session.commit()
    return {"tutor": scene.tutor, "admin": scene.admin}, outsiders


def test_only_tutors_of_the_provider_and_admins_read_the_trail(client, scene, readers):
    allowed, outsiders = readers
    url = f"/enrolments/{scene.enrolment.id}/audit"
    overview = f"/enrolments/{scene.enrolment.id}"
    for who, user in allowed.items():
        sign_in(client, user)
        assert client.get(url).status_code == 200, who
        assert url in client.get(overview).get_data(as_text=True), who
        client.post("/sign-out")
    for who, user in outsiders.items():
        sign_in(client, user)
        assert client.get(url).status_code == 404, who
        response = client.get(overview)
        assert response.status_code == 404 or url not in response.get_data(as_text=True), who
        client.post("/sign-out")


def _card_titles(client, url: str) -> list[str]:
    html = client.get(url).get_data(as_text=True)
    return [title.strip() for title in re.findall(r'class="govuk-summary-card__title">([^<]*)<', html)]


def test_admins_read_every_event_filtered_by_action_or_enrolment(client, scene):
    scene.world.evidence(scene.enrolment)
    db.session.commit()
    sign_in(client, scene.admin)
    everything = _card_titles(client, "/admin/audit")
    assert {"Account created", "Signed in", "Evidence submitted for review"} <= set(everything)
    assert _card_titles(client, "/admin/audit?action=evidence.submitted") == ["Evidence submitted for review"]
    trail = _card_titles(client, f"/admin/audit?enrolment={scene.enrolment.id}")
    assert "Apprentice enrolled" in trail and "Signed in" not in trail
    assert client.get("/admin/audit?enrolment=99999999999&action=%00").status_code == 200
    client.post("/sign-out")
    sign_in(client, scene.tutor)
    assert client.get("/admin/audit").status_code == 404
