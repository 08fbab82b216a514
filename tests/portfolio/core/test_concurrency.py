"""Requests at once: a change that feeds the portfolio's fingerprint or the gateway checks runs
wholly before or wholly after a gateway submission, and each state change happens once however
many times it is sent.

Concurrent transactions wait for one another on PostgreSQL's row locks; SQLite runs one writer
at a time whatever the code does, so these run on PostgreSQL only.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from portfolio.core import audit
from portfolio.core.domain import DomainError, lock_enrolment_for_change
from portfolio.core.fingerprint import portfolio_fingerprint
from portfolio.core.storage import evidence_store, max_upload_bytes
from portfolio.evidence.items import EvidenceDetails, Upload, create_item, remove_file, submit, update_item, withdraw
from portfolio.extensions import db
from portfolio.gateway.domain import submit_to_epao
from portfolio.models import (
    AuditEvent,
    Enrolment,
    EnrolmentStatus,
    EnrolmentStatusChange,
    EvidenceFile,
    EvidenceItem,
    EvidenceKind,
    EvidenceStatus,
    EvidenceStatusChange,
    GatewayDeclaration,
    GatewaySubmission,
    Notification,
    OtjEntry,
    OtjStatus,
    ProgressReview,
    ReviewSignature,
    Role,
    User,
    WitnessSignature,
)
from portfolio.otj.domain import approve_entry
from portfolio.review.domain import (
    Decision,
    WitnessTestimony,
    create_testimony,
    decide,
    record_judgement,
    sign_testimony,
    start_review,
)
from standard import Signer
from tests.helpers import PDF_BYTES, PNG_BYTES
from tests.portfolio.conftest import sign_in
from tests.portfolio.gateway_world import TODAY, approved_hours, ready_enrolment, review, sign_all

RACERS = 8  # requests sent at once; the pool holds 15 connections
WAIT = 0.5  # seconds a blocked transaction is given to show that it waits


@pytest.fixture(autouse=True)
def postgresql(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks make transactions wait only on PostgreSQL; SQLite runs one writer at a time")


def actions(name: str) -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == name)) or 0


def in_own_session(app, work: Callable[[Session], None]) -> tuple[threading.Thread, dict]:
    """Start `work` in a thread with a session of its own; it commits, or rolls back on DomainError.
    The dict gets "done" (an Event) and "error" (the DomainError, if any)."""
    outcome: dict = {"done": threading.Event(), "error": None}

    def run():
        with app.app_context(), Session(db.engine) as session:
            try:
                work(session)
                session.commit()
            except DomainError as error:
                session.rollback()
                outcome["error"] = error
            finally:
                outcome["done"].set()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


# ---------------------------------------------------------------------------------------------
# Point 5: a change racing the gateway submission


@pytest.fixture
def ids(world) -> Ids:
    """A ready gateway with all three declarations signed, and something of every kind to change:
    a referred item with a file, a witness's unsigned testimony and a logged off-the-job entry."""
    gateway = ready_enrolment(world)
    enrolment = gateway.enrolment
    referred = world.evidence(enrolment, title="Volunteer briefing", files={"briefing.png": PNG_BYTES})
    start_review(db.session, referred, by=gateway.tutor)
    decide(db.session, referred, by=gateway.tutor, decision=Decision.REFER, feedback="Add the running order.")
    testimony = WitnessTestimony(
        "Family workshop", enrolment.start_date, "Ran the workshop calmly.", {"B6": "Worked well with the team."}
    )
    create_testimony(db.session, enrolment=enrolment, author=gateway.mentor, testimony=testimony)
    approved_hours(enrolment, "3", OtjStatus.LOGGED)
    db.session.flush()
    sign_all(gateway)
    db.session.commit()
    # Plain ids: the threads read everything through sessions of their own.
    return Ids(enrolment.id, enrolment.apprentice_id, gateway.tutor.id, gateway.mentor.id)


@dataclass(frozen=True)
class Ids:
    enrolment: int
    apprentice: int
    tutor: int
    mentor: int


def _item(session: Session, enrolment_id: int, **where) -> EvidenceItem:
    return session.scalars(select(EvidenceItem).filter_by(enrolment_id=enrolment_id, **where)).one()


def _withdraw_accepted(session, ids):
    item = _item(session, ids.enrolment, status=EvidenceStatus.ACCEPTED)
    withdraw(item, by=session.get(User, ids.apprentice), reason="Wrong apprenticeship.")


def _judge_not_yet(session, ids):
    enrolment = session.get(Enrolment, ids.enrolment)
    record_judgement(session, enrolment, by=session.get(User, ids.tutor), code="K1", level_code="not_yet")


def _edit_referred(session, ids):
    item = _item(session, ids.enrolment, status=EvidenceStatus.REFERRED)
    details = EvidenceDetails(
        title="Volunteer briefing, revised", kind=item.kind, activity_date=item.activity_date, links={"K2": "Briefing."}
    )
    update_item(
        session, evidence_store(), item, by=item.enrolment.apprentice, details=details, max_bytes=max_upload_bytes()
    )


def _remove_referred_file(session, ids):
    item = _item(session, ids.enrolment, status=EvidenceStatus.REFERRED)
    remove_file(session, item, item.files[0], by=item.enrolment.apprentice)


def _resubmit_referred(session, ids):
    item = _item(session, ids.enrolment, status=EvidenceStatus.REFERRED)
    submit(item, by=item.enrolment.apprentice)


def _sign_testimony(session, ids):
    item = _item(session, ids.enrolment, status=EvidenceStatus.DRAFT)
    sign_testimony(session, item, by=session.get(User, ids.mentor), signed_name="Ana Silva", job_title="Mentor")


def _approve_logged_hours(session, ids):
    entry = session.scalars(select(OtjEntry).filter_by(status=OtjStatus.LOGGED)).one()
    approve_entry(session, entry, by=session.get(User, ids.tutor))


def _add_draft(session, ids):
    enrolment = session.get(Enrolment, ids.enrolment)
    details = EvidenceDetails(title="Late addition", kind=EvidenceKind.REFLECTIVE_ACCOUNT, activity_date=TODAY)
    create_item(
        session, evidence_store(), enrolment=enrolment, author=enrolment.apprentice, details=details,
        uploads=[Upload(io.BytesIO(PNG_BYTES), "late.png")], max_bytes=max_upload_bytes(),
    )  # fmt: skip


CHANGES = {
    "withdraw accepted evidence": _withdraw_accepted,
    "record a judgement": _judge_not_yet,
    "edit referred evidence": _edit_referred,
    "remove a file": _remove_referred_file,
    "resubmit referred evidence": _resubmit_referred,
    "sign a witness testimony": _sign_testimony,
    "approve off-the-job hours": _approve_logged_hours,
    "add a draft": _add_draft,
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_a_change_waits_for_the_gateway_submission_and_is_then_refused(app, ids, change):
    """The submission holds the enrolment's lock; the change waits for it, sees the apprenticeship
    at gateway and is refused, so the fingerprint recorded is the portfolio's afterwards."""
    submitting = Session(db.engine)
    submission = submit_to_epao(
        submitting, submitting.get(Enrolment, ids.enrolment), by=submitting.get(User, ids.tutor)
    )
    thread, outcome = in_own_session(app, lambda session: change(session, ids))
    assert not outcome["done"].wait(WAIT), "the change did not wait for the gateway submission"
    recorded = submission.fingerprint
    submitting.commit()
    submitting.close()
    thread.join(30)
    assert isinstance(outcome["error"], DomainError)
    db.session.expire_all()
    enrolment = db.session.get(Enrolment, ids.enrolment)
    assert enrolment.status is EnrolmentStatus.AT_GATEWAY
    assert portfolio_fingerprint(db.session, enrolment) == recorded
    assert db.session.scalar(select(func.count(EvidenceItem.id)).filter_by(title="Late addition")) == 0


def test_a_submission_waits_for_a_change_and_then_sees_it(app, ids):
    """The other order: the withdrawal holds the lock, the submission waits for it and is refused
    because the declarations no longer match the portfolio."""
    changing = Session(db.engine)
    _withdraw_accepted(changing, ids)

    def submit_gateway(session):
        submit_to_epao(session, session.get(Enrolment, ids.enrolment), by=session.get(User, ids.tutor))

    thread, outcome = in_own_session(app, submit_gateway)
    assert not outcome["done"].wait(WAIT), "the submission did not wait for the change"
    changing.commit()
    changing.close()
    thread.join(30)
    assert isinstance(outcome["error"], DomainError)
    assert db.session.scalar(select(func.count(GatewaySubmission.id))) == 0


def test_two_changes_of_one_portfolio_queue_up_without_deadlock(app, ids):
    """Each takes the enrolment's lock first, then its own rows, the totals and the audit chain."""
    enrolment_id = ids.enrolment
    barrier = threading.Barrier(2)

    def both(change):
        def work(session):
            barrier.wait()
            change(session, ids)

        return work

    threads = [in_own_session(app, both(change)) for change in (_edit_referred, _judge_not_yet)]
    for thread, _ in threads:
        thread.join(30)
    assert [outcome["error"] for _, outcome in threads] == [None, None]
    db.session.expire_all()
    assert actions("evidence.updated") == 1 and actions("judgement.recorded") == 1
    assert audit.verify(db.session).ok
    assert db.session.get(Enrolment, enrolment_id).status is EnrolmentStatus.ON_PROGRAMME


# ---------------------------------------------------------------------------------------------
# Point 6: the same request sent many times at once, through the web pages


def race(app, user: User, url: str, data: dict | None = None, *, times: int = RACERS) -> list:
    """`times` clients, each signed in as `user`, post `data` to `url` at the same moment; returns
    the responses."""
    clients = []
    for _ in range(times):
        client = app.test_client()
        assert sign_in(client, user).status_code == 302
        clients.append(client)
    barrier = threading.Barrier(times)

    def post(client):
        with app.app_context():
            barrier.wait()
            return client.post(url, data=data or {})

    with ThreadPoolExecutor(times) as pool:
        responses = list(pool.map(post, clients))
    db.session.expire_all()
    assert [r.status_code for r in responses if r.status_code >= 500] == []
    return responses


def count(model, **where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).filter_by(**where)) or 0


@pytest.fixture
def people(world):
    provider, employer = world.provider(), world.employer()
    tutor = world.user(Role.TUTOR, provider)
    mentor = world.user(Role.EMPLOYER, employer)
    enrolment = world.enrolment(employer=employer, provider=provider, tutor=tutor, mentor=mentor)
    db.session.commit()
    return enrolment, tutor, mentor


def test_a_draft_deleted_many_times_at_once_is_deleted_once(app, world, people):
    enrolment, _, _ = people
    draft_id = world.evidence(enrolment, submitted=False).id
    db.session.commit()
    responses = race(app, enrolment.apprentice, f"/enrolments/{enrolment.id}/evidence/{draft_id}/delete")
    assert actions("evidence.deleted") == 1
    assert count(EvidenceItem, id=draft_id) == 0
    # The losers were refused by the view (404) or, once inside, told it is already deleted.
    assert all(r.status_code in (302, 404) for r in responses)


def test_a_file_removed_many_times_at_once_is_removed_once(app, world, people):
    enrolment, _, _ = people
    item = world.evidence(enrolment, submitted=False, files={"plan.pdf": PDF_BYTES, "photo.png": PNG_BYTES})
    file_id = item.files[0].id
    db.session.commit()
    url = f"/enrolments/{enrolment.id}/evidence/{item.id}/files/{file_id}/remove"
    race(app, enrolment.apprentice, url)
    assert actions("evidence.file_removed") == 1
    assert count(EvidenceFile, item_id=item.id) == 1


def test_evidence_submitted_many_times_at_once_is_submitted_once(app, world, people):
    enrolment, _, _ = people
    draft = world.evidence(enrolment, submitted=False)
    db.session.commit()
    race(app, enrolment.apprentice, f"/enrolments/{enrolment.id}/evidence/{draft.id}/submit")
    assert actions("evidence.submitted") == 1
    assert count(EvidenceStatusChange, item_id=draft.id, to_status=EvidenceStatus.SUBMITTED) == 1


def test_evidence_withdrawn_many_times_at_once_is_withdrawn_once(app, world, people):
    enrolment, _, _ = people
    item = world.evidence(enrolment)
    db.session.commit()
    url = f"/enrolments/{enrolment.id}/evidence/{item.id}/withdraw"
    race(app, enrolment.apprentice, url, {"reason": "Uploaded to the wrong item."})
    assert actions("evidence.withdrawn") == 1
    assert count(EvidenceStatusChange, item_id=item.id, to_status=EvidenceStatus.WITHDRAWN) == 1


def test_evidence_accepted_many_times_at_once_is_accepted_once(app, world, people):
    enrolment, tutor, _ = people
    item = world.evidence(enrolment)
    start_review(db.session, item, by=tutor)
    db.session.commit()
    race(app, tutor, f"/enrolments/{enrolment.id}/evidence/{item.id}/review/decide", {"decision": "accept"})
    assert actions("evidence.accepted") == 1
    assert count(EvidenceStatusChange, item_id=item.id, to_status=EvidenceStatus.ACCEPTED) == 1


def test_a_resubmission_sent_many_times_at_once_counts_one_attempt_and_keeps_its_reviewer(app, world, people):
    enrolment, tutor, _ = people
    item = world.evidence(enrolment)
    start_review(db.session, item, by=tutor)
    decide(db.session, item, by=tutor, decision=Decision.REFER, feedback="Name the venue.")
    db.session.commit()
    race(app, enrolment.apprentice, f"/enrolments/{enrolment.id}/evidence/{item.id}/submit")
    item = db.session.get(EvidenceItem, item.id)
    assert (item.status, item.attempt, item.reviewer_id) == (EvidenceStatus.SUBMITTED, 2, tutor.id)
    assert count(EvidenceStatusChange, item_id=item.id, to_status=EvidenceStatus.SUBMITTED) == 2


def test_a_review_given_to_another_tutor_many_times_at_once_is_given_once(app, world, people):
    enrolment, tutor, _ = people
    other = world.user(Role.TUTOR, enrolment.provider, name="Carys Bevan")
    item = world.evidence(enrolment)
    db.session.commit()
    url = f"/enrolments/{enrolment.id}/evidence/{item.id}/review/reassign"
    race(app, tutor, url, {"reviewer": other.id})
    assert actions("evidence.review_reassigned") == 1
    assert db.session.get(EvidenceItem, item.id).reviewer_id == other.id
    assert count(Notification, user_id=other.id) == 1


def test_a_testimony_signed_ten_times_at_once_is_signed_once(app, people):
    enrolment, _, mentor = people
    testimony = WitnessTestimony("Family workshop", enrolment.start_date, "Ran it calmly.", {"B6": "Teamwork."})
    item = create_testimony(db.session, enrolment=enrolment, author=mentor, testimony=testimony)
    db.session.commit()
    url = f"/enrolments/{enrolment.id}/witness-testimony/{item.id}/sign"
    responses = race(app, mentor, url, {"signed_name": mentor.name, "job_title": "Mentor", "confirm": "y"}, times=10)
    assert count(WitnessSignature, item_id=item.id) == 1
    assert actions("testimony.signed") == 1 and actions("evidence.submitted") == 1
    losers = [r for r in responses if r.status_code != 302]
    assert len(losers) == 9
    # Told why on the form, or (arriving after the winner committed) not shown the form at all.
    assert all(r.status_code == 404 or "This testimony has been signed" in r.get_data(as_text=True) for r in losers)


def test_off_the_job_hours_approved_many_times_at_once_are_approved_once(app, people):
    enrolment, tutor, _ = people
    entry = approved_hours(enrolment, "2.5", OtjStatus.LOGGED)
    db.session.commit()
    race(app, tutor, f"/enrolments/{enrolment.id}/otj/{entry.id}/approve")
    assert actions("otj.approved") == 1


def test_a_progress_review_signed_many_times_at_once_is_signed_once(app, people):
    enrolment, tutor, _ = people
    day = date(2026, 1, 10)
    signed = review(enrolment, tutor, day, {Signer.PROVIDER: tutor, Signer.EMPLOYER: enrolment.mentor})
    db.session.commit()
    url = f"/enrolments/{enrolment.id}/reviews/{signed.id}/sign"
    race(app, enrolment.apprentice, url, {"signer": Signer.APPRENTICE.value})
    assert count(ReviewSignature, review_id=signed.id) == 3
    assert actions("progress_review.signed") == 1
    assert db.session.get(ProgressReview, signed.id).completed_at is not None


def test_a_declaration_signed_many_times_at_once_is_signed_once(app, world):
    gateway = ready_enrolment(world)
    db.session.commit()
    url = f"/enrolments/{gateway.enrolment.id}/gateway/declaration"
    race(app, gateway.apprentice, url, {"signer": "apprentice", "confirm": "y"})
    assert count(GatewayDeclaration, enrolment_id=gateway.enrolment.id) == 1
    assert actions("gateway.declaration_signed") == 1


def test_a_gateway_submitted_many_times_at_once_is_submitted_once(app, world):
    gateway = ready_enrolment(world)
    sign_all(gateway)
    db.session.commit()
    race(app, gateway.tutor, f"/enrolments/{gateway.enrolment.id}/gateway/submit")
    assert count(GatewaySubmission, enrolment_id=gateway.enrolment.id) == 1
    assert count(EnrolmentStatusChange, enrolment_id=gateway.enrolment.id, to_status=EnrolmentStatus.AT_GATEWAY) == 1
    assert actions("gateway.submitted") == 1


def test_an_apprenticeship_withdrawn_many_times_at_once_is_withdrawn_once(app, world, people):
    enrolment, tutor, _ = people
    admin = world.user(Role.ADMIN, tutor.organisation)
    db.session.commit()
    url = f"/admin/enrolments/{enrolment.id}/status"
    race(app, admin, url, {"status": EnrolmentStatus.WITHDRAWN.value, "note": "Left the employer."})
    assert count(EnrolmentStatusChange, enrolment_id=enrolment.id, to_status=EnrolmentStatus.WITHDRAWN) == 1
    assert actions("enrolment.status_changed") == 1


def test_taking_the_enrolment_lock_does_not_wait_for_a_transaction_that_only_refers_to_it(app, world):
    """An insert referring to an enrolment holds FOR KEY SHARE on it until commit. Were the lock
    FOR UPDATE, two requests that had each inserted such a row and then locked the enrolment
    would wait for each other: the deadlock the soak (benchmarks/soak.py) met in create_item. (A
    row the portfolio's exports show raises its revision in the flush, and so takes the same lock
    as the change: an enrolment's status change is not one of them.)"""
    enrolment = world.enrolment()
    db.session.commit()
    with Session(db.engine) as referring, Session(db.engine) as locking:
        referring.add(EnrolmentStatusChange(enrolment_id=enrolment.id, to_status=EnrolmentStatus.ON_PROGRAMME))
        referring.flush()
        locking.execute(text("SET LOCAL lock_timeout = '2s'"))
        lock_enrolment_for_change(locking, locking.get(Enrolment, enrolment.id))  # neither waits nor times out
        locking.rollback()
        referring.rollback()
