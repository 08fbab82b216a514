"""The review workspace: the job reads files once per content, the item page shows a PDF's drawn
pages with their text, a document's text, audio and video in the browser's players, beside the
decision for the reviewer, with the next and previous items of the queue; the sweep keeps the
drawn pages while their file is held and takes them after."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from portfolio.core.storage import evidence_store
from portfolio.evidence.file_sweep import sweep
from portfolio.evidence.items import delete_draft
from portfolio.evidence.readings import files_without_reading, make_reading
from portfolio.evidence.tasks import read_files_without_reading
from portfolio.evidence.views import DOWNLOAD_POLICY
from portfolio.extensions import db
from portfolio.models import FileReading, ReadingPage, ReadingState, Role
from portfolio.models.types import utcnow
from portfolio.review.domain import start_review
from tests.filestore import samples
from tests.helpers import run_jobs

from ..conftest import counting_queries, sign_in

GRACE = timedelta(hours=24)


@pytest.fixture
def app_config():
    return {"FILE_READINGS": True}


def _pdf(*pages: str) -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    drawing = canvas.Canvas(out)
    for text in pages:
        drawing.drawString(72, 700, text)
        drawing.showPage()
    drawing.save()
    return out.getvalue()


def _docx(text: str) -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.fixture
def people(world):
    provider = world.provider("Brightwater Training")
    tutor = world.user(Role.TUTOR, provider, name="Imogen Hale")
    enrolment = world.enrolment(provider=provider, tutor=tutor)
    db.session.commit()
    return enrolment, tutor


def _url(item) -> str:
    return f"/enrolments/{item.enrolment_id}/evidence/{item.id}"


def test_the_job_reads_each_content_once_and_the_page_shows_the_pages_and_text(app, client, world, people):
    enrolment, tutor = people
    files = {
        "risk-assessment.pdf": _pdf("Hazards of the clay workshop", "Control measures agreed"),
        "feedback.docx": _docx("Families loved the trail"),
        "bookings.csv": b"session,places\nClay,12\n",
        "interview.mp3": samples.mp3(),
        "photo.png": samples.png(),
    }
    item = world.evidence(enrolment, title="Family day", files=files)
    again = world.evidence(enrolment, title="Same plan again", files={"copy.pdf": files["risk-assessment.pdf"]})
    db.session.commit()
    run_jobs(app)
    # One reading per content: the PDF attached twice is read once; the MP3 and PNG have none.
    assert db.session.scalar(select(func.count()).select_from(FileReading)) == 3
    assert files_without_reading(db.session, 10) == []
    sign_in(client, tutor)
    html = client.get(_url(item)).get_data(as_text=True)
    assert 'alt="Page 1 of risk-assessment.pdf: its text follows"' in html and "Page 2 of 2" in html
    assert "Hazards of the clay workshop" in html and "Control measures agreed" in html
    assert "Families loved the trail" in html and "Clay,12" in html
    assert '<audio class="app-evidence-player" controls' in html
    assert 'class="app-workspace"' in html  # submitted, and the tutor reviews it
    # The drawn page comes from the store as a PNG, under the policy that runs nothing.
    page = db.session.scalars(select(ReadingPage).order_by(ReadingPage.number)).first()
    pdf_file = next(f for f in item.files if f.display_name == "risk-assessment.pdf")
    response = client.get(f"{_url(item)}/files/{pdf_file.id}/pages/1")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.headers["Content-Security-Policy"] == DOWNLOAD_POLICY
    assert response.data == evidence_store().open(page.image_sha256).read()
    for missing in ("3", "0", "99999999999"):
        assert client.get(f"{_url(item)}/files/{pdf_file.id}/pages/{missing}").status_code == 404
    mp3 = next(f for f in item.files if f.display_name == "interview.mp3")
    played = client.get(f"{_url(item)}/files/{mp3.id}/preview")
    assert played.status_code == 200 and played.mimetype == "audio/mpeg"
    assert played.headers["Content-Security-Policy"] == DOWNLOAD_POLICY
    assert "copy.pdf" in client.get(_url(again)).get_data(as_text=True)


def test_pages_are_for_those_who_see_the_files(app, client, world, people):
    enrolment, tutor = people
    item = world.evidence(enrolment, files={"plan.pdf": _pdf("Plan")})
    db.session.commit()
    run_jobs(app)
    pdf_file = item.files[0]
    url = f"{_url(item)}/files/{pdf_file.id}/pages/1"
    outsider = world.user(Role.TUTOR, world.provider("Far Away College"))
    employer_elsewhere = world.user(Role.EMPLOYER, world.employer("Other Gallery"))
    db.session.commit()
    for who in (outsider, employer_elsewhere):
        client.post("/sign-out")
        sign_in(client, who)
        assert client.get(url).status_code == 404
    client.post("/sign-out")
    assert client.get(url).status_code == 302  # to sign in


def test_a_file_waiting_for_its_reading_or_unreadable_says_so_and_the_catch_up_reads_it(app, client, world, people):
    enrolment, tutor = people
    item = world.evidence(enrolment, files={"plan.pdf": _pdf("Plan"), "broken.pdf": b"%PDF-1.4 broken"})
    db.session.commit()
    run_jobs(app)
    plan, broken = (next(f for f in item.files if f.display_name == name) for name in ("plan.pdf", "broken.pdf"))
    unreadable = db.session.get(FileReading, broken.sha256)
    assert unreadable.state is ReadingState.UNREADABLE and unreadable.pages == []
    sign_in(client, tutor)
    assert "This file cannot be read here" in client.get(_url(item)).get_data(as_text=True)
    # A file whose reading is lost (or stored before readings) waits for the catch-up job.
    db.session.execute(delete(ReadingPage))
    db.session.execute(delete(FileReading).where(FileReading.sha256 == plan.sha256))
    db.session.commit()
    assert "A reading of this file is being prepared" in client.get(_url(item)).get_data(as_text=True)
    assert files_without_reading(db.session, 10) == [(plan.sha256, "application/pdf")]
    with app.app_context():
        read_files_without_reading()
    run_jobs(app)
    assert db.session.get(FileReading, plan.sha256).state is ReadingState.READY
    assert "Page 1 of 1" in client.get(_url(item)).get_data(as_text=True)


def test_make_reading_keeps_one_reading_of_a_content(app, world, people):
    enrolment, _ = people
    app.config["FILE_READINGS"] = False  # so that no job reads it first
    item = world.evidence(enrolment, files={"plan.pdf": _pdf("One", "Two")})
    db.session.commit()
    sha256 = item.files[0].sha256
    made = make_reading(db.session, evidence_store(), sha256, "application/pdf")
    assert made is not None and [p.number for p in made.pages] == [1, 2]
    assert make_reading(db.session, evidence_store(), sha256, "application/pdf") is None  # already read
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(ReadingPage)) == 2


def test_the_sweep_keeps_drawn_pages_while_their_file_is_held_and_takes_them_after(app, world, people):
    enrolment, _ = people
    draft = world.evidence(enrolment, files={"plan.pdf": _pdf("One")}, submitted=False)
    db.session.commit()
    run_jobs(app)
    page_hash = db.session.scalar(select(ReadingPage.image_sha256))
    assert sweep(db.session, evidence_store(), grace=GRACE).newly_marked == 0  # the file and its page are held
    delete_draft(db.session, draft, by=enrolment.apprentice)
    db.session.commit()
    first = sweep(db.session, evidence_store(), grace=GRACE)
    assert first.newly_marked == 2  # the PDF, and its page now that its reading is forgotten
    assert db.session.scalar(select(func.count()).select_from(FileReading)) == 0
    later = sweep(db.session, evidence_store(), grace=GRACE, now=utcnow() + timedelta(hours=25))
    assert later.deleted == 2 and not evidence_store().exists(page_hash)


def test_the_workspace_links_the_next_and_previous_items_of_the_queue(app, client, world, people):
    enrolment, tutor = people
    items = [world.evidence(enrolment, title=f"Item {n}", files={}) for n in range(3)]
    db.session.commit()
    sign_in(client, tutor)
    html = client.get(_url(items[1])).get_data(as_text=True)
    assert f'href="{_url(items[0])}?tutor={tutor.id}" rel="prev"' in html
    assert f'href="{_url(items[2])}?tutor={tutor.id}" rel="next"' in html
    # Newest first, the other way round; and the filters ride along.
    html = client.get(_url(items[1]), query_string={"tutor": "", "sort": "newest"}).get_data(as_text=True)
    assert f'href="{_url(items[2])}?tutor=&amp;sort=newest" rel="prev"' in html
    html = client.get(_url(items[0])).get_data(as_text=True)
    assert 'rel="prev"' not in html and 'rel="next"' in html
    start_review(db.session, items[2], by=tutor)
    db.session.commit()
    # The apprentice sees no workspace and no queue.
    client.post("/sign-out")
    sign_in(client, enrolment.apprentice)
    html = client.get(_url(items[1])).get_data(as_text=True)
    assert "app-workspace" not in html and 'rel="next"' not in html


def test_the_item_page_reads_the_same_number_of_queries_with_one_file_or_twenty(app, client, world, people):
    enrolment, tutor = people
    sign_in(client, tutor)
    counts = []
    for n in (1, 20):
        item = world.evidence(
            enrolment, title=f"{n} files", files={f"page-{k}.pdf": _pdf(f"Page {k} of {n}") for k in range(n)}
        )
        db.session.commit()
        run_jobs(app)
        with counting_queries() as count:
            assert client.get(_url(item)).status_code == 200
        counts.append(count())
    assert counts[0] == counts[1], counts
