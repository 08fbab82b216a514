"""Exports asked for on the web are made once per portfolio state, by a job, and kept for a while."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portfolio.accounts.domain import rename_organisation
from portfolio.core.storage import evidence_store
from portfolio.exports import requests
from portfolio.exports.requests import PROBLEM_UNFINISHED, ask_for_export, expire_exports
from portfolio.extensions import db
from portfolio.models import AuditEvent, Enrolment, EvidenceItem, Export, ExportFormat, ExportStatus, Role
from portfolio.models.types import utcnow
from tests.helpers import PDF_BYTES, export_through_web, run_jobs

from ..conftest import recording_queries


@pytest.fixture
def enrolment(app, world):
    tutor = world.user(Role.TUTOR, world.provider("Riverside Arts College"), name="Ines Okoro")
    enrolment = world.enrolment(tutor=tutor)
    world.evidence(enrolment, title="Gallery tour for a primary school", files={"tour.pdf": PDF_BYTES})
    db.session.commit()
    run_jobs(app)  # the tutor's mail of the evidence: the queue then holds only what the tests ask for
    return enrolment


def _ask(enrolment, export_format=ExportFormat.PDF) -> Export:
    export = ask_for_export(db.session, enrolment, export_format, actor=enrolment.tutor)
    db.session.commit()
    return export


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _waiting_jobs(app) -> int:
    queue = app.extensions["queue"]
    return sum(queue.depth().values())


@pytest.fixture
def renders(monkeypatch):
    """The PDFs rendered, counted; and each render checks that the job holds no transaction open."""
    made = []
    render = requests.render_pdf

    def counted(portfolio, store):
        made.append(portfolio.fingerprint)
        assert not db.session().in_transaction(), "the job renders inside a database transaction"
        return render(portfolio, store)

    monkeypatch.setattr(requests, "render_pdf", counted)
    return made


def test_an_export_is_pending_until_the_job_makes_it_then_ready_in_the_store(app, enrolment, renders):
    export = _ask(enrolment)
    assert export.status is ExportStatus.PENDING and renders == []
    assert _actions()[-1] == "export.requested"
    run_jobs(app)
    db.session.refresh(export)
    assert export.status is ExportStatus.READY and len(renders) == 1
    assert export.file_name.startswith("portfolio-") and export.file_name.endswith(".pdf")
    with evidence_store().open_export(export.store_name) as stream:
        data = stream.read()
    assert data.startswith(b"%PDF") and len(data) == export.size
    assert _actions()[-1] == "export.made"


def test_asking_again_for_an_unchanged_portfolio_returns_the_made_export_with_no_render(app, enrolment, renders):
    first = _ask(enrolment)
    run_jobs(app)
    again = _ask(enrolment)
    assert again.id == first.id and again.status is ExportStatus.READY
    assert _waiting_jobs(app) == 0 and len(renders) == 1
    assert db.session.scalar(select(func.count()).select_from(Export)) == 1


def test_asking_again_in_the_same_state_reads_none_of_the_portfolio(app, enrolment, renders):
    first = _ask(enrolment)
    run_jobs(app)
    with recording_queries() as statements:
        again = _ask(enrolment)
    assert again.id == first.id
    assert not [s for s in statements if "evidence_items" in s], "the portfolio was read again"
    assert len(statements) <= 5, statements  # the enrolment, its lock, the enrolment afresh, its exports


def test_an_undone_change_is_answered_by_the_export_of_the_same_content(app, enrolment, renders):
    first = _ask(enrolment)
    run_jobs(app)
    item = db.session.scalars(select(EvidenceItem).where(EvidenceItem.enrolment_id == enrolment.id)).one()
    title = item.title
    item.title = "Gallery tour for a secondary school"
    db.session.commit()
    item.title = title
    db.session.commit()
    again = _ask(enrolment)
    assert again.id == first.id and len(renders) == 1
    assert again.portfolio_state == requests.portfolio_state(enrolment, utcnow())  # the next ask reads nothing


def test_renaming_the_employer_makes_the_export_again(app, enrolment, renders):
    first = _ask(enrolment)
    run_jobs(app)
    rename_organisation(db.session, enrolment.employer, "Harbour Lights Gallery")
    db.session.commit()
    second = _ask(enrolment)
    assert second.id != first.id and second.status is ExportStatus.PENDING
    run_jobs(app)
    assert len(renders) == 2


def test_asking_while_it_is_being_prepared_joins_the_pending_export(app, enrolment, renders):
    first, second = _ask(enrolment), _ask(enrolment)
    assert second.id == first.id
    assert _waiting_jobs(app) == 1
    run_jobs(app)
    assert len(renders) == 1


def test_a_changed_portfolio_is_made_again(app, world, enrolment, renders):
    first = _ask(enrolment)
    run_jobs(app)
    world.evidence(enrolment, title="Risk assessment for the sculpture trail", files={"risk.pdf": PDF_BYTES + b"%r"})
    db.session.commit()
    second = _ask(enrolment)
    assert second.id != first.id and second.content_key != first.content_key
    run_jobs(app)
    assert len(renders) == 2


def test_the_zip_carries_the_pdf_already_made_of_the_same_content(app, enrolment, renders):
    _ask(enrolment, ExportFormat.PDF)
    run_jobs(app)
    archive = _ask(enrolment, ExportFormat.ZIP)
    run_jobs(app)
    db.session.refresh(archive)
    assert archive.status is ExportStatus.READY
    assert len(renders) == 1  # the ZIP's PDF was read from the store, not rendered again


def test_a_finished_job_run_again_does_nothing(app, enrolment, renders):
    export = _ask(enrolment)
    run_jobs(app)
    requests.make_export(db.session, evidence_store(), export.id)
    assert len(renders) == 1 and _actions().count("export.made") == 1


def test_exports_past_their_time_expire_and_their_files_go(app, enrolment, client, signed_in):
    export = _ask(enrolment)
    run_jobs(app)
    name = export.store_name
    kept = expire_exports(db.session, evidence_store(), keep=timedelta(hours=1), unfinished_after=timedelta(hours=1))
    assert kept == 0 and list(evidence_store().export_names()) == [name]
    export.finished_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    assert (
        expire_exports(db.session, evidence_store(), keep=timedelta(hours=1), unfinished_after=timedelta(hours=1)) == 1
    )
    db.session.refresh(export)
    assert export.status is ExportStatus.EXPIRED
    assert list(evidence_store().export_names()) == []
    browser = signed_in(enrolment.tutor)
    page = browser.get(f"/enrolments/{enrolment.id}/exports/{export.id}")
    assert "removed after its time" in page.get_data(as_text=True)
    assert browser.get(f"/enrolments/{enrolment.id}/exports/{export.id}/download").status_code == 302
    assert _ask(enrolment).id != export.id  # asking again makes a new one


def test_an_export_whose_job_never_finished_fails_so_it_can_be_asked_again(app, enrolment):
    export = _ask(enrolment)
    export.requested_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    expire_exports(db.session, evidence_store(), keep=timedelta(days=7), unfinished_after=timedelta(hours=1))
    db.session.refresh(export)
    assert export.status is ExportStatus.FAILED and export.problem == PROBLEM_UNFINISHED
    run_jobs(app)  # its job, if it ever runs, leaves the failed export alone
    db.session.refresh(export)
    assert export.status is ExportStatus.FAILED
    assert _ask(enrolment).id != export.id


def test_the_page_without_javascript_offers_a_refresh_link_then_the_download(app, enrolment, signed_in):
    client = signed_in(enrolment.tutor)
    asked = client.post(f"/enrolments/{enrolment.id}/exports/pdf")
    assert asked.status_code == 303
    page = client.get(asked.headers["Location"]).get_data(as_text=True)
    assert "It is being prepared" in page and "Refresh to see if it is ready" in page
    run_jobs(app)
    page = client.get(asked.headers["Location"]).get_data(as_text=True)
    assert "It is ready" in page and "/download" in page
    again = client.post(f"/enrolments/{enrolment.id}/exports/pdf")
    assert again.status_code == 303 and again.headers["Location"].endswith("/download")  # at once


def test_the_download_is_audited_and_head_records_nothing(app, enrolment, signed_in):
    client = signed_in(enrolment.tutor)
    response = export_through_web(client, enrolment.id, "pdf")
    assert response.status_code == 200 and response.get_data().startswith(b"%PDF")
    assert _actions()[-1] == "export.pdf"
    export = db.session.scalars(select(Export)).one()
    head = client.head(f"/enrolments/{enrolment.id}/exports/{export.id}/download")
    assert head.status_code == 405
    assert _actions().count("export.pdf") == 1


def test_a_post_without_its_token_asks_for_nothing(app, enrolment, signed_in):
    client = signed_in(enrolment.tutor)
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(f"/enrolments/{enrolment.id}/exports/pdf")
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Export)) == 0


def test_an_unknown_format_is_a_404(enrolment, signed_in):
    assert signed_in(enrolment.tutor).post(f"/enrolments/{enrolment.id}/exports/docx").status_code == 404


def test_two_people_asking_at_once_make_one_export_and_one_job(app, database_url, enrolment):
    if not database_url.startswith("postgresql"):
        pytest.skip("row locks: PostgreSQL (SQLite serialises writers anyway)")
    barrier = threading.Barrier(2, timeout=30)
    enrolment_id = enrolment.id
    made: list[int] = []
    failed: list[BaseException] = []

    def ask() -> None:
        try:
            with app.app_context():
                mine = db.session.get(Enrolment, enrolment_id)
                barrier.wait()
                made.append(ask_for_export(db.session, mine, ExportFormat.PDF, actor=mine.tutor).id)
                db.session.commit()
        except BaseException as error:  # seen by the test, not lost in the thread
            failed.append(error)
            barrier.abort()

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failed, failed
    assert len(made) == 2 and made[0] == made[1]
    assert _waiting_jobs(app) == 1
    assert _actions().count("export.requested") == 1
