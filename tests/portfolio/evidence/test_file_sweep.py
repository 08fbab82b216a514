"""Stored files are deleted only by the sweep: never in a request, never while anything refers to
them, never while an upload of the same bytes is on its way, whatever the interleaving."""

from __future__ import annotations

import io
import os
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from portfolio.core.storage import evidence_store
from portfolio.evidence.file_sweep import StoreBusy, sweep, sweep_lock
from portfolio.evidence.items import EvidenceDetails, Upload, create_item, delete_draft
from portfolio.extensions import db
from portfolio.models import Enrolment, EvidenceFile, EvidenceItem, EvidenceKind, StagedUpload, UnreferencedFile, User
from portfolio.models.types import utcnow

from ...helpers import PDF_BYTES
from ..conftest import sign_in

GRACE = timedelta(hours=24)


@pytest.fixture
def draft(world, enrolment):
    item = world.evidence(enrolment, title="Draft plan", files={"plan.pdf": PDF_BYTES}, submitted=False)
    db.session.commit()
    return item


def _stored(app) -> list[str]:
    return list(evidence_store().iter_hashes())


def _age_file(sha256: str, hours: float) -> None:
    path = Path(evidence_store().root) / sha256[:2] / sha256[2:4] / sha256
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def _later(hours: float):
    return utcnow() + timedelta(hours=hours)


def test_deleting_a_draft_leaves_its_file_for_the_sweep(app, apprentice_client_for, draft):
    sha256 = draft.files[0].sha256
    response = apprentice_client_for(draft).post(f"/enrolments/{draft.enrolment_id}/evidence/{draft.id}/delete")
    assert response.status_code == 302
    assert _stored(app) == [sha256]  # a request never deletes a stored file
    first = sweep(db.session, evidence_store(), grace=GRACE)
    assert (first.newly_marked, first.deleted) == (1, 0) and _stored(app) == [sha256]
    assert sweep(db.session, evidence_store(), grace=GRACE, now=_later(23)).deleted == 0  # still in its grace
    last = sweep(db.session, evidence_store(), grace=GRACE, now=_later(25))
    assert (last.deleted, last.bytes_freed) == (1, len(PDF_BYTES)) and _stored(app) == []
    assert db.session.scalars(select(UnreferencedFile)).all() == []


def test_removing_a_file_from_an_item_leaves_it_for_the_sweep(app, apprentice_client_for, draft):
    sha256, file_id = draft.files[0].sha256, draft.files[0].id
    client = apprentice_client_for(draft)
    response = client.post(f"/enrolments/{draft.enrolment_id}/evidence/{draft.id}/files/{file_id}/remove")
    assert response.status_code == 302
    assert db.session.get(EvidenceFile, file_id) is None and _stored(app) == [sha256]


def test_a_file_referred_to_again_is_unmarked_and_kept(app, world, enrolment, draft):
    sha256 = draft.files[0].sha256
    delete_draft(db.session, draft, by=enrolment.apprentice)
    db.session.commit()
    sweep(db.session, evidence_store(), grace=GRACE)
    _age_file(sha256, 48)  # and no upload has refreshed it
    world.evidence(enrolment, title="Same bytes again", files={"again.pdf": PDF_BYTES})
    db.session.commit()
    _age_file(sha256, 48)
    report = sweep(db.session, evidence_store(), grace=GRACE, now=_later(25))
    assert report.deleted == 0 and _stored(app) == [sha256]
    assert db.session.scalars(select(UnreferencedFile)).all() == []


def test_a_file_still_used_by_another_item_is_never_marked(app, world, enrolment, draft):
    world.evidence(enrolment, title="Kept", files={"same.pdf": PDF_BYTES})
    delete_draft(db.session, draft, by=enrolment.apprentice)
    db.session.commit()
    report = sweep(db.session, evidence_store(), grace=GRACE, now=_later(100))
    assert (report.newly_marked, report.deleted) == (0, 0) and len(_stored(app)) == 1


def test_a_failed_commit_after_deleting_a_draft_loses_no_file(app, enrolment, draft):
    """The delete is rolled back, so the item still refers to its file: the file must be there."""
    sha256 = draft.files[0].sha256

    def fail(session):
        raise RuntimeError("the database went away")

    event.listen(db.session(), "before_commit", fail)
    try:
        delete_draft(db.session, draft, by=enrolment.apprentice)
        with pytest.raises(RuntimeError):
            db.session.commit()
    finally:
        event.remove(db.session(), "before_commit", fail)
    db.session.rollback()
    assert db.session.get(EvidenceItem, draft.id) is not None
    assert evidence_store().verify(sha256) and evidence_store().check([sha256]) == []


def _upload_same_bytes(session: Session, enrolment_id: int) -> EvidenceItem:
    """What a second request does: an apprentice's new item with the same PDF, in its own session."""
    enrolment = session.get(Enrolment, enrolment_id)
    return create_item(
        session,
        evidence_store(),
        enrolment=enrolment,
        author=session.get(User, enrolment.apprentice_id),
        details=EvidenceDetails(
            title="Same plan, uploaded again",
            kind=EvidenceKind.EVENT_PLAN,
            activity_date=enrolment.start_date,
            links={"K1": "Shows the audience research."},
        ),
        uploads=[Upload(io.BytesIO(PDF_BYTES), "again.pdf")],
        max_bytes=1 << 20,
        today=date(2100, 1, 1),
    )


def test_an_upload_of_the_same_bytes_while_a_draft_is_deleted_keeps_the_file(app, enrolment, draft, monkeypatch):
    """The interleaving of the issue, step by step: the upload stores its file (reusing the draft's),
    then the draft's deletion runs and commits, then the upload commits its row."""
    if db.engine.dialect.name == "sqlite":
        pytest.skip("two writing transactions at once need PostgreSQL")
    store, draft_id = evidence_store(), draft.id
    real_put = store.put
    deleter_done = threading.Event()

    def delete_the_draft():
        with app.app_context():
            deleter = Session(db.engine)
            item = deleter.get(EvidenceItem, draft_id)
            delete_draft(deleter, item, by=deleter.get(User, item.created_by_id))
            deleter.commit()
            deleter.close()
            deleter_done.set()

    deleter = threading.Thread(target=delete_the_draft)

    def put_then_delete_draft(*args, **kwargs):
        stored = real_put(*args, **kwargs)
        deleter.start()
        # The deletion runs now, unless a lock of the upload's transaction makes it wait; then it
        # finishes once the upload commits. Either order must keep the file.
        deleter_done.wait(3)
        return stored

    monkeypatch.setattr(store, "put", put_then_delete_draft)
    uploader = Session(db.engine)
    item = _upload_same_bytes(uploader, enrolment.id)
    uploader.commit()
    deleter.join(10)
    assert deleter_done.is_set()
    sha256 = item.files[0].sha256
    uploader.close()
    db.session.expire_all()
    assert db.session.get(EvidenceItem, draft_id) is None
    assert evidence_store().verify(sha256), "the new item's file was deleted"


def test_the_sweep_keeps_a_file_an_upload_reuses_as_it_decides(app, enrolment, draft, monkeypatch):
    """The sweep has found the file unreferenced, marked long ago and old; before it deletes, an
    upload of the same bytes stores it (not yet committed). The file must survive, and be used."""
    sha256 = draft.files[0].sha256
    delete_draft(db.session, draft, by=enrolment.apprentice)
    db.session.add(UnreferencedFile(sha256=sha256, since=utcnow() - timedelta(hours=48)))
    db.session.commit()
    _age_file(sha256, 48)
    store = evidence_store()
    real_delete = store.delete_if_unchanged_since
    uploader = Session(db.engine)
    uploads = []

    def upload_then_delete(*args):
        uploads.append(_upload_same_bytes(uploader, enrolment.id))
        uploader.flush()
        return real_delete(*args)

    monkeypatch.setattr(store, "delete_if_unchanged_since", upload_then_delete)
    report = sweep(db.session, store, grace=GRACE)
    uploader.commit()
    uploader.close()
    assert len(uploads) == 1 and report.deleted == 0
    assert store.verify(sha256)
    # Next time round, the new item's file is referenced: unmarked and kept for good.
    monkeypatch.setattr(store, "delete_if_unchanged_since", real_delete)
    assert sweep(db.session, store, grace=GRACE, now=_later(100)).deleted == 0
    assert db.session.scalars(select(UnreferencedFile)).all() == [] and store.verify(sha256)


def test_staged_uploads_are_references_until_they_expire(app, apprentice_client_for, enrolment):
    client = apprentice_client_for(enrolment)
    data = {"title": "Workshop plan", "kind": "event_plan", "activity_date": ["1", "10", "2025"]}
    data |= {"criteria": ["K1"], "justification-K1": "", "files": [(io.BytesIO(PDF_BYTES), "plan.pdf")]}
    client.post(f"/enrolments/{enrolment.id}/evidence/new", data=data, content_type="multipart/form-data")
    assert db.session.scalars(select(StagedUpload.display_name)).all() == ["plan.pdf"]
    kept = sweep(db.session, evidence_store(), grace=GRACE, now=_later(23))
    assert (kept.staged_expired, kept.newly_marked) == (0, 0) and len(_stored(app)) == 1
    expired = sweep(db.session, evidence_store(), grace=GRACE, now=_later(25))
    assert (expired.staged_expired, expired.newly_marked, expired.deleted) == (1, 1, 0)
    assert sweep(db.session, evidence_store(), grace=GRACE, now=_later(50)).deleted == 1
    assert _stored(app) == []


def test_the_sweep_removes_temporary_files_left_by_a_killed_upload(app):
    temp = Path(evidence_store().root) / "tmp"
    temp.mkdir(parents=True, exist_ok=True)
    (temp / "upload-killed").write_bytes(b"half an upload")
    (temp / "upload-in-flight").write_bytes(b"still arriving")
    then = time.time() - 25 * 3600
    os.utime(temp / "upload-killed", (then, then))
    assert sweep(db.session, evidence_store(), grace=GRACE).temporary_removed == 1
    assert [p.name for p in temp.iterdir()] == ["upload-in-flight"]


def test_the_sweep_command_says_what_it_did(app, runner, enrolment, draft):
    delete_draft(db.session, draft, by=enrolment.apprentice)
    db.session.commit()
    app.config["SWEEP_GRACE_HOURS"] = 0.5
    result = runner.invoke(args=["evidence", "sweep"])
    assert result.exit_code == 0, result.output
    assert "Grace period 0.5 hours." in result.output
    assert "Marked 1 newly unreferenced files. Deleted 0 files" in result.output
    assert "1 unreferenced files wait for the grace period." in result.output


@pytest.fixture
def apprentice_client_for(client):
    """`apprentice_client_for(item_or_enrolment)`: the client signed in as its apprentice."""

    def signed_in(thing):
        enrolment = thing if hasattr(thing, "apprentice") else thing.enrolment
        sign_in(client, enrolment.apprentice)
        return client

    return signed_in


def test_the_sweep_does_nothing_while_a_backup_holds_its_lock(app, runner, enrolment, draft):
    """A backup or a restore holds the lock (see tests/portfolio/operations/test_backup.py); a sweep
    that finds it taken deletes nothing, says why, and is no failure: the next one catches up."""
    delete_draft(db.session, draft, by=enrolment.apprentice)
    db.session.commit()
    app.config["SWEEP_GRACE_HOURS"] = 0
    with sweep_lock(db.engine, wait=False):
        with pytest.raises(StoreBusy):
            sweep(db.session, evidence_store(), grace=timedelta(0))
        result = runner.invoke(args=["evidence", "sweep"])
    assert result.exit_code == 0 and "The evidence store is busy" in result.output, result.output
    assert len(_stored(app)) == 1 and db.session.scalars(select(UnreferencedFile)).all() == []
    assert runner.invoke(args=["evidence", "sweep"]).exit_code == 0 and _stored(app) == []
