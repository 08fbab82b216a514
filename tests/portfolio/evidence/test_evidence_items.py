"""The evidence domain functions, called directly with a session and plain values."""

from __future__ import annotations

import hashlib
import io
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portfolio.core.domain import DomainError, Gone
from portfolio.core.storage import evidence_store
from portfolio.enrolments.domain import change_status
from portfolio.evidence.items import (
    EvidenceDetails,
    Upload,
    create_item,
    criterion_statuses,
    delete_draft,
    remove_file,
    submit,
    update_item,
    withdraw,
)
from portfolio.extensions import db
from portfolio.models import AuditEvent, EnrolmentStatus, EvidenceFile, EvidenceItem, EvidenceKind, EvidenceStatus, Role
from standard import Status

from ...helpers import PDF_BYTES

pytestmark = pytest.mark.one_transaction  # stays on db.session: rolled back, not emptied


@pytest.fixture
def enrolment(world):
    return world.enrolment(start=date(2025, 9, 1))


def details(**overrides) -> EvidenceDetails:
    values = dict(
        title="Risk assessment for the museum late",
        kind=EvidenceKind.RISK_ASSESSMENT,
        activity_date=date(2025, 11, 5),
        links={"S4": "I wrote and briefed the risk assessment."},
    )
    values.update(overrides)
    return EvidenceDetails(**values)


def create(enrolment, author=None, uploads=(), **overrides):
    return create_item(
        db.session,
        evidence_store(),
        enrolment=enrolment,
        author=author or enrolment.apprentice,
        details=details(**overrides),
        uploads=uploads,
        max_bytes=10_000,
        today=date(2026, 1, 1),
    )


def test_only_the_apprentice_adds_evidence_while_on_programme(world, enrolment):
    mentor = world.user(Role.EMPLOYER, enrolment.employer)
    with pytest.raises(DomainError, match="cannot add evidence"):
        create(enrolment, author=mentor)
    change_status(db.session, enrolment, EnrolmentStatus.AT_GATEWAY, None)
    with pytest.raises(DomainError, match="cannot add evidence"):
        create(enrolment)


def test_submit_needs_links_with_justifications(enrolment):
    item = create(enrolment, links={})
    with pytest.raises(DomainError, match="at least one criterion"):
        submit(item, by=enrolment.apprentice)
    update_item(
        db.session, evidence_store(), item, by=enrolment.apprentice, details=details(), max_bytes=10_000,
        today=date(2026, 1, 1),
    )  # fmt: skip
    submit(item, by=enrolment.apprentice)
    assert item.status is EvidenceStatus.SUBMITTED and item.submitted_at is not None
    with pytest.raises(DomainError, match="cannot be changed"):
        update_item(db.session, evidence_store(), item, by=enrolment.apprentice, details=details(), max_bytes=1)
    with pytest.raises(DomainError, match="cannot be submitted"):
        submit(item, by=enrolment.apprentice)


def test_withdraw_keeps_the_item_and_its_history(enrolment):
    item = create(enrolment)
    with pytest.raises(DomainError, match="cannot be withdrawn"):
        withdraw(item, by=enrolment.apprentice, reason="Draft")
    submit(item, by=enrolment.apprentice)
    with pytest.raises(DomainError, match="Say why"):
        withdraw(item, by=enrolment.apprentice, reason="  ")
    withdraw(item, by=enrolment.apprentice, reason="Duplicate of another item")
    assert [h.to_status for h in item.history] == [
        EvidenceStatus.DRAFT,
        EvidenceStatus.SUBMITTED,
        EvidenceStatus.WITHDRAWN,
    ]


def test_coverage_statuses_come_from_submitted_and_accepted_evidence(enrolment):
    draft = create(enrolment, links={"K1": "draft only"})
    submitted = create(enrolment, links={"K2": "a", "S4": "b"})
    accepted = create(enrolment, links={"S4": "c"})
    withdrawn = create(enrolment, links={"B1": "d"})
    for item in (submitted, accepted, withdrawn):
        submit(item, by=enrolment.apprentice)
    accepted.status = EvidenceStatus.ACCEPTED  # review decisions come with the review pages
    withdraw(withdrawn, by=enrolment.apprentice, reason="Wrong apprentice")
    db.session.flush()
    assert draft.status is EvidenceStatus.DRAFT
    assert criterion_statuses(db.session, enrolment) == {"K2": Status.EVIDENCED, "S4": Status.ACCEPTED}


def test_links_are_kept_in_the_standards_order_and_updated(enrolment):
    item = create(enrolment, links={"S4": "s", "K1": "k", "B4": "b"})
    assert item.codes == ["K1", "S4", "B4"]
    update_item(
        db.session, evidence_store(), item, by=enrolment.apprentice, max_bytes=10_000, today=date(2026, 1, 1),
        details=details(links={"K1": "changed", "K2": "new"}),
    )  # fmt: skip
    db.session.flush()
    assert sorted(item.codes) == ["K1", "K2"] and item.links[0].justification == "changed"


def test_a_rejected_upload_leaves_no_file(app, enrolment):
    uploads = [Upload(io.BytesIO(PDF_BYTES), "ok.pdf"), Upload(io.BytesIO(b"MZ" + b"\0" * 100), "setup.pdf")]
    with pytest.raises(DomainError, match="setup.pdf"):
        create(enrolment, uploads=uploads)
    db.session.rollback()
    assert db.session.scalars(select(EvidenceFile)).all() == []
    # The refused file leaves nothing; the accepted one waits for the sweep (its bytes may be another's).
    stored = [p for p in Path(app.config["EVIDENCE_DIR"]).rglob("*") if p.is_file()]
    assert [p.name for p in stored] == [hashlib.sha256(PDF_BYTES).hexdigest()]


def test_consent_reference_is_kept_only_with_the_flag(enrolment):
    item = create(enrolment, contains_third_party_data=False, consent_reference="CF-12")
    assert item.consent_reference == ""
    item = create(enrolment, contains_third_party_data=True, consent_reference="  CF-12 ")
    assert item.consent_reference == "CF-12"


def test_evidence_verify_command(app, runner, world, enrolment):
    item = world.evidence(enrolment, files={"plan.pdf": PDF_BYTES})
    db.session.commit()
    result = runner.invoke(args=["evidence", "verify"])
    assert result.exit_code == 0 and "0 problems" in result.output
    root = Path(app.config["EVIDENCE_DIR"])
    stored = root / item.files[0].sha256[:2] / item.files[0].sha256[2:4] / item.files[0].sha256
    stored.write_bytes(PDF_BYTES.replace(b"Catalog", b"Katalog"))
    result = runner.invoke(args=["evidence", "verify"])
    assert result.exit_code == 1
    assert f"ALTERED: {item.files[0].sha256} used by plan.pdf (evidence item {item.id})" in result.output
    stored.unlink()
    result = runner.invoke(args=["evidence", "verify"])
    assert result.exit_code == 1 and "MISSING" in result.output


def test_referred_evidence_can_be_edited_and_resubmitted_but_accepted_cannot(enrolment):
    item = create(enrolment)
    submit(item, by=enrolment.apprentice)
    item.status = EvidenceStatus.REFERRED  # a tutor's decision; the review pages come next
    update_item(
        db.session, evidence_store(), item, by=enrolment.apprentice, max_bytes=10_000, today=date(2026, 1, 1),
        details=details(title="Risk assessment, revised after feedback"),
    )  # fmt: skip
    submit(item, by=enrolment.apprentice)
    assert item.status is EvidenceStatus.SUBMITTED and item.title == "Risk assessment, revised after feedback"
    item.status = EvidenceStatus.ACCEPTED
    with pytest.raises(DomainError, match="cannot be changed"):
        update_item(db.session, evidence_store(), item, by=enrolment.apprentice, details=details(), max_bytes=1)
    with pytest.raises(DomainError, match="cannot be submitted"):
        submit(item, by=enrolment.apprentice)


@pytest.mark.one_transaction(enabled=False)  # a second session plays the other request
def test_a_draft_deleted_meanwhile_by_another_request_is_not_deleted_again(enrolment):
    item = create(enrolment)
    db.session.commit()
    assert item.title  # read, as the second request had
    with Session(db.engine) as first:
        copy = first.get(EvidenceItem, item.id)
        delete_draft(first, copy, by=copy.enrolment.apprentice)
        first.commit()
    with pytest.raises(Gone, match="already been deleted"):
        delete_draft(db.session, item, by=enrolment.apprentice)
    db.session.rollback()
    assert _events("evidence.deleted") == 1


@pytest.mark.one_transaction(enabled=False)  # a second session plays the other request
def test_a_file_removed_meanwhile_by_another_request_is_not_removed_again(enrolment):
    item = create(enrolment, uploads=[Upload(io.BytesIO(PDF_BYTES), "plan.pdf")])
    db.session.commit()
    file = item.files[0]
    with Session(db.engine) as first:
        copy = first.get(EvidenceItem, item.id)
        remove_file(first, copy, copy.files[0], by=copy.enrolment.apprentice)
        first.commit()
    with pytest.raises(Gone, match="already been removed"):
        remove_file(db.session, item, file, by=enrolment.apprentice)
    db.session.rollback()
    assert _events("evidence.file_removed") == 1


def _events(action: str) -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == action))
