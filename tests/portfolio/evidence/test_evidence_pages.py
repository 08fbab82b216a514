"""The apprentice's evidence journey through the pages, and every bad input refused cleanly."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portfolio.core.storage import evidence_store
from portfolio.evidence.items import Upload, attach_files
from portfolio.extensions import db
from portfolio.models import EvidenceFile, EvidenceItem, EvidenceStatus, Role, StagedUpload

from ...filestore.samples import huge_png
from ...helpers import PDF_BYTES, PNG_BYTES
from ..conftest import counting_queries, sign_in


@pytest.fixture
def apprentice_client(client, enrolment):
    sign_in(client, enrolment.apprentice)
    return client


def _form(**overrides):
    data = {
        "title": "Half-term family workshop",
        "kind": "event_plan",
        "activity_date": ["14", "10", "2025"],
        "description": "A clay workshop for families.",
        "reflection": "I learnt to plan for late arrivals.",
        "criteria": ["K1", "S4", "B4"],
        "justification-K1": "Audience research for local families.",
        "justification-S4": "The risk assessment I wrote.",
        "justification-B4": "Made the session welcoming for everyone.",
    }
    data.update(overrides)
    return data


def _files(*pairs):
    return [(io.BytesIO(data), name) for name, data in pairs]


def _stored_files(app) -> list[Path]:
    root = Path(app.config["EVIDENCE_DIR"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_add_submit_and_see_coverage_change(app, apprentice_client, enrolment):
    url = f"/enrolments/{enrolment.id}/evidence"
    assert "No evidence yet" in apprentice_client.get(url).get_data(as_text=True)
    data = _form(files=_files(("plan.pdf", PDF_BYTES), ("workshop.png", PNG_BYTES)))
    response = apprentice_client.post(f"{url}/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    item = db.session.scalar(select(EvidenceItem))
    assert item.status is EvidenceStatus.DRAFT and item.codes == ["K1", "S4", "B4"]
    assert sorted(f.display_name for f in item.files) == ["plan.pdf", "workshop.png"]
    assert {f.media_type for f in item.files} == {"application/pdf", "image/png"}

    criteria = apprentice_client.get(f"/enrolments/{enrolment.id}/criteria").get_data(as_text=True)
    assert "0 have submitted evidence" in criteria.replace("49 criteria, 0", "0")  # drafts do not count
    response = apprentice_client.post(f"{url}/{item.id}/submit")
    assert response.status_code == 302
    db.session.refresh(item)
    assert item.status is EvidenceStatus.SUBMITTED
    assert [h.to_status for h in item.history] == [EvidenceStatus.DRAFT, EvidenceStatus.SUBMITTED]
    criteria = apprentice_client.get(f"/enrolments/{enrolment.id}/criteria").get_data(as_text=True)
    assert "Of 49 criteria, 3 have submitted evidence" in criteria
    assert criteria.count("app-criterion--bare") == 46
    assert "Half-term family workshop" in criteria
    home = apprentice_client.get("/").get_data(as_text=True)
    assert "Of 49 criteria, 3 have submitted evidence" in home
    assert home.count("app-criterion--bare") == 46


def test_view_and_download_files_safely(apprentice_client, enrolment, world):
    item = world.evidence(enrolment, files={"plan.pdf": PDF_BYTES, "photo.png": PNG_BYTES})
    db.session.commit()
    base = f"/enrolments/{enrolment.id}/evidence/{item.id}"
    page = apprentice_client.get(base).get_data(as_text=True)
    assert "plan.pdf" in page and f"{base}/files/{item.files[1].id}/preview" in page
    download = apprentice_client.get(f"{base}/files/{item.files[0].id}")
    assert download.status_code == 200 and download.data == PDF_BYTES
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download.headers["Content-Security-Policy"]
    preview = apprentice_client.get(f"{base}/files/{item.files[1].id}/preview")
    assert preview.status_code == 200 and preview.headers["Content-Disposition"].startswith("inline")
    assert apprentice_client.get(f"{base}/files/{item.files[0].id}/preview").status_code == 404  # PDFs never inline


def test_edit_referred_and_withdraw_and_delete(apprentice_client, enrolment, world):
    draft = world.evidence(enrolment, title="Draft budget", submitted=False)
    submitted = world.evidence(enrolment, title="Submitted plan")
    db.session.commit()
    base = f"/enrolments/{enrolment.id}/evidence"
    response = apprentice_client.post(f"{base}/{draft.id}/edit", data=_form(title="Budget for the spring festival"))
    assert response.status_code == 302
    db.session.refresh(draft)
    assert draft.title == "Budget for the spring festival" and draft.codes == ["K1", "S4", "B4"]
    # submitted evidence cannot be edited or deleted, only withdrawn
    assert apprentice_client.get(f"{base}/{submitted.id}/edit").status_code == 404
    assert apprentice_client.post(f"{base}/{submitted.id}/delete").status_code == 404
    response = apprentice_client.post(f"{base}/{submitted.id}/withdraw", data={"reason": ""})
    assert "Say why you are withdrawing" in response.get_data(as_text=True)
    response = apprentice_client.post(f"{base}/{submitted.id}/withdraw", data={"reason": "Wrong event."})
    assert response.status_code == 302
    db.session.refresh(submitted)
    assert submitted.status is EvidenceStatus.WITHDRAWN and submitted.history[-1].note == "Wrong event."
    # a draft can be deleted, and its file with it
    draft_id = draft.id
    response = apprentice_client.post(f"{base}/{draft_id}/delete")
    assert response.status_code == 302
    assert db.session.get(EvidenceItem, draft_id) is None


def test_deleting_a_draft_keeps_bytes_another_item_uses(app, apprentice_client, enrolment, world):
    kept = world.evidence(enrolment, title="Kept", files={"same.pdf": PDF_BYTES})
    draft = world.evidence(enrolment, title="Draft", files={"copy.pdf": PDF_BYTES}, submitted=False)
    db.session.commit()
    assert len(_stored_files(app)) == 1  # same bytes stored once
    apprentice_client.post(f"/enrolments/{enrolment.id}/evidence/{draft.id}/delete")
    assert len(_stored_files(app)) == 1
    assert (
        apprentice_client.get(f"/enrolments/{enrolment.id}/evidence/{kept.id}/files/{kept.files[0].id}").data
        == PDF_BYTES
    )


ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 200
HTML = b"<!DOCTYPE html><html><script>alert(1)</script></html>"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"files": [("report.pdf", ELF)]}, "contents are not"),
        ({"files": [("photo.jpg", HTML)]}, "contents are not"),
        ({"files": [("empty.pdf", b"")]}, "The file is empty"),
        ({"files": [("../../etc/passwd.pdf", ELF)]}, "passwd.pdf"),
        ({"files": [("a\x00b.pdf", ELF)]}, "contents are not"),
        ({"files": [("x" * 300 + ".pdf", ELF)]}, "contents are not"),
        ({"criteria": ["K1", "K99"]}, "K99 is not a criterion of ST0396"),
        ({"justification-K1": "x" * 50_000}, "must be 2,000 characters or fewer"),
        ({"justification-S4": "   "}, "Explain how this evidence shows S4"),
        ({"title": ""}, "Enter a title"),
        ({"title": "t" * 5000}, "The title must be 200 characters or fewer"),
        ({"kind": "malware"}, "Not a valid choice"),
        ({"activity_date": ["31", "2", "2025"]}, "must be a real date"),
        ({"activity_date": ["1"]}, "must include a month and a year"),
        ({"activity_date": ["1", "1", "2099"]}, "must be today or in the past"),
        ({"activity_date": ["1", "1", "2001"]}, "on or after the start of the apprenticeship"),
        ({"description": "d" * 20_000}, "10,000 characters or fewer"),
    ],
)
def test_bad_input_is_refused_and_leaves_nothing(app, apprentice_client, enrolment, overrides, message):
    data = _form(**overrides)
    data["files"] = _files(*overrides.get("files", [("plan.pdf", PDF_BYTES)]))
    response = apprentice_client.post(
        f"/enrolments/{enrolment.id}/evidence/new", data=data, content_type="multipart/form-data"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert message in html
    assert "There is a problem" in html
    assert db.session.scalar(select(func.count()).select_from(EvidenceItem)) == 0
    assert db.session.scalar(select(func.count()).select_from(EvidenceFile)) == 0
    # A refused file leaves nothing; a good one on a form refused for another reason is kept for the next try.
    good_file = "files" not in overrides
    assert len(_stored_files(app)) == db.session.scalar(select(func.count()).select_from(StagedUpload)) == good_file
    assert ("Your files are kept" in html) is good_file


def test_a_good_file_then_a_bad_one_keeps_only_the_good_one(app, apprentice_client, enrolment):
    data = _form(files=_files(("plan.pdf", PDF_BYTES), ("virus.pdf", ELF)))
    response = apprentice_client.post(
        f"/enrolments/{enrolment.id}/evidence/new", data=data, content_type="multipart/form-data"
    )
    html = response.get_data(as_text=True)
    assert "virus.pdf: " in html and "Your files are kept, so you do not need to choose them again: plan.pdf" in html
    assert db.session.scalar(select(func.count()).select_from(EvidenceItem)) == 0
    assert [s.display_name for s in db.session.scalars(select(StagedUpload))] == ["plan.pdf"]
    assert len(_stored_files(app)) == 1


def test_too_large_a_file(app, apprentice_client, enrolment):
    app.config["MAX_UPLOAD_MB"] = 0.001  # about a kilobyte
    data = _form(files=_files(("big.pdf", PDF_BYTES + b"0" * 4000)))
    response = apprentice_client.post(
        f"/enrolments/{enrolment.id}/evidence/new", data=data, content_type="multipart/form-data"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "The file is too large" in html
    assert _stored_files(app) == []


def test_an_image_over_the_pixel_limit_is_refused_with_the_limit(app, apprentice_client, enrolment):
    url = f"/enrolments/{enrolment.id}/evidence/new"
    assert "each image at most 50 megapixels" in apprentice_client.get(url).get_data(as_text=True)
    data = _form(files=_files(("poster.png", huge_png())))
    html = apprentice_client.post(url, data=data, content_type="multipart/form-data").get_data(as_text=True)
    assert "poster.png: The image is 12,000 by 12,000 pixels (144 megapixels). The limit is 50 megapixels" in html
    assert _stored_files(app) == []
    app.config["MAX_IMAGE_MEGAPIXELS"] = 200  # the setting decides
    response = apprentice_client.post(url, data=_form(files=_files(("poster.png", huge_png()))))
    assert response.status_code == 302


def test_an_image_stored_over_the_pixel_limit_is_offered_only_as_a_download(apprentice_client, enrolment, world):
    item = world.evidence(enrolment, files={"photo.png": PNG_BYTES})
    # Stored before the limit existed: no browser is asked to decode its 144 megapixels.
    attach_files(
        db.session, evidence_store(), item, [Upload(io.BytesIO(huge_png()), "poster.png")],
        by=enrolment.apprentice, max_bytes=1 << 20, max_pixels=200_000_000,
    )  # fmt: skip
    db.session.commit()
    photo, poster = item.files
    base = f"/enrolments/{enrolment.id}/evidence/{item.id}"
    page = apprentice_client.get(base).get_data(as_text=True)
    assert f"{base}/files/{photo.id}/preview" in page and f"{base}/files/{poster.id}/preview" not in page
    assert f"{base}/files/{poster.id}" in page
    assert apprentice_client.get(f"{base}/files/{poster.id}/preview").status_code == 404
    assert apprentice_client.get(f"{base}/files/{poster.id}").data == huge_png()


def test_without_csrf_token_nothing_is_saved(database_url, tmp_path, world, enrolment):
    from portfolio import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "t"}, instance_path=str(tmp_path))
    client = app.test_client()
    db.session.commit()
    response = client.post(f"/enrolments/{enrolment.id}/evidence/new", data=_form())
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(EvidenceItem)) == 0


def test_other_peoples_evidence_is_404(client, world, enrolment):
    other = world.enrolment()
    item = world.evidence(other)
    draft = world.evidence(enrolment, submitted=False)
    mentor = world.user(Role.EMPLOYER, enrolment.employer)
    db.session.commit()
    sign_in(client, enrolment.apprentice)
    assert client.get(f"/enrolments/{other.id}/evidence/{item.id}").status_code == 404
    assert client.get(f"/enrolments/{enrolment.id}/evidence/{item.id}").status_code == 404  # wrong enrolment
    assert client.get(f"/enrolments/{other.id}/evidence/{item.id}/files/{item.files[0].id}").status_code == 404
    client.post("/sign-out")
    # The employer sees submitted evidence read-only, but not drafts, and cannot add any.
    sign_in(client, mentor)
    assert client.get(f"/enrolments/{enrolment.id}/evidence/{draft.id}").status_code == 404
    assert client.get(f"/enrolments/{enrolment.id}/evidence/new").status_code == 404
    submitted = world.evidence(enrolment, title="Visible to the employer")
    db.session.commit()
    page = client.get(f"/enrolments/{enrolment.id}/evidence/{submitted.id}")
    assert page.status_code == 200 and "Submit for review" not in page.get_data(as_text=True)


def test_library_filters_and_search(apprentice_client, enrolment, world):
    world.evidence(enrolment, title="Audience survey results", links={"K5": "Survey design."})
    world.evidence(enrolment, title="Festival budget", links={"S3": "Worked within budget."}, submitted=False)
    db.session.commit()
    url = f"/enrolments/{enrolment.id}/evidence"
    assert "2 items" in apprentice_client.get(url).get_data(as_text=True)
    html = apprentice_client.get(url, query_string={"q": "survey"}).get_data(as_text=True)
    assert "Audience survey results" in html and "Festival budget" not in html
    html = apprentice_client.get(url, query_string={"criterion": "S3"}).get_data(as_text=True)
    assert "Festival budget" in html and "Audience survey" not in html
    html = apprentice_client.get(url, query_string={"status": "draft"}).get_data(as_text=True)
    assert "1 item" in html
    for hostile in ({"criterion": "K999"}, {"kind": "%00"}, {"q": "\x00"}, {"page": "-1"}):
        assert apprentice_client.get(url, query_string=hostile).status_code == 200


def test_criteria_and_library_queries_do_not_grow_with_evidence(apprentice_client, enrolment, world):
    counts = []
    for size in (5, 495):  # 5, then 500 in all
        for n in range(size):
            world.evidence(enrolment, title=f"Item {n}", files={}, links={"K1": "x", "S4": "y"})
        db.session.commit()
        # Making the items can take over a minute: the sign-in session's last-seen time is brought
        # up to date by this request, not by one of those counted.
        apprentice_client.get("/")
        row = []
        for url in (f"/enrolments/{enrolment.id}/criteria", f"/enrolments/{enrolment.id}/evidence", "/"):
            with counting_queries() as count:
                assert apprentice_client.get(url).status_code == 200
            row.append(count())
        counts.append(row)
    assert counts[0] == counts[1], counts


def test_the_form_labels_each_criterion_with_its_code(apprentice_client, enrolment):
    html = apprentice_client.get(f"/enrolments/{enrolment.id}/evidence/new").get_data(as_text=True)
    assert "<strong>K1</strong> The typical and specific needs" in html
    assert "&lt;strong&gt;" not in html


def _staged_ids(html: str) -> list[str]:
    return re.findall(r'name="staged_shown" value="(\d+)"', html)


def test_chosen_files_are_kept_across_a_failed_submit(app, apprentice_client, enrolment):
    """The issue's journey: a PDF, a criterion without its justification; then the fix saves the PDF."""
    url = f"/enrolments/{enrolment.id}/evidence/new"
    data = _form(**{"justification-S4": "", "files": _files(("plan.pdf", PDF_BYTES))})
    html = apprentice_client.post(url, data=data, content_type="multipart/form-data").get_data(as_text=True)
    assert "Explain how this evidence shows S4" in html
    assert "Your files are kept, so you do not need to choose them again: plan.pdf." in html
    (staged,) = _staged_ids(html)
    assert f'name="staged" type="checkbox" value="{staged}" checked' in html
    response = apprentice_client.post(url, data=_form(staged=[staged], staged_shown=[staged]))
    assert response.status_code == 302, response.get_data(as_text=True)
    item = db.session.scalar(select(EvidenceItem))
    assert [(f.display_name, f.size) for f in item.files] == [("plan.pdf", len(PDF_BYTES))]
    assert db.session.scalars(select(StagedUpload)).all() == []
    download = apprentice_client.get(f"/enrolments/{enrolment.id}/evidence/{item.id}/files/{item.files[0].id}")
    assert download.data == PDF_BYTES


def test_an_unticked_staged_file_is_left_out_and_forgotten(app, apprentice_client, enrolment):
    url = f"/enrolments/{enrolment.id}/evidence/new"
    data = _form(title="", files=_files(("plan.pdf", PDF_BYTES), ("photo.png", PNG_BYTES)))
    html = apprentice_client.post(url, data=data, content_type="multipart/form-data").get_data(as_text=True)
    plan, photo = _staged_ids(html)
    response = apprentice_client.post(url, data=_form(staged=[photo], staged_shown=[plan, photo]))
    assert response.status_code == 302
    item = db.session.scalar(select(EvidenceItem))
    assert [f.display_name for f in item.files] == ["photo.png"]
    assert db.session.scalars(select(StagedUpload)).all() == []


def test_staged_files_belong_to_one_user_in_one_browser_session(app, client, world, enrolment):
    sign_in(client, enrolment.apprentice)
    url = f"/enrolments/{enrolment.id}/evidence/new"
    data = _form(title="", files=_files(("plan.pdf", PDF_BYTES)))
    (staged,) = _staged_ids(client.post(url, data=data, content_type="multipart/form-data").get_data(as_text=True))
    other = app.test_client()  # the same apprentice in another browser
    sign_in(other, enrolment.apprentice)
    html = other.post(url, data=_form(staged=[staged], staged_shown=[staged])).get_data(as_text=True)
    assert "A file you chose earlier is no longer kept. Choose it again." in html
    second = world.enrolment()
    db.session.commit()
    stranger = app.test_client()  # another apprentice
    sign_in(stranger, second.apprentice)
    response = stranger.post(f"/enrolments/{second.id}/evidence/new", data=_form(staged=[staged]))
    assert "no longer kept" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(EvidenceItem)) == 0
    assert db.session.scalar(select(func.count()).select_from(StagedUpload)) == 1
    for hostile in (["-1"], ["99999999999999999999"], ["9" * 5000], ["x"], ["0"], ["\u0663"]):
        assert client.post(url, data=_form(staged=hostile)).status_code == 302  # ignored, never a 500


def test_a_staged_file_expires_with_the_sweeps_grace(app, apprentice_client, enrolment):
    url = f"/enrolments/{enrolment.id}/evidence/new"
    data = _form(title="", files=_files(("plan.pdf", PDF_BYTES)))
    (staged,) = _staged_ids(apprentice_client.post(url, data=data, content_type="multipart/form-data").get_data(True))
    db.session.get(StagedUpload, int(staged)).staged_at -= timedelta(hours=25)
    db.session.commit()
    html = apprentice_client.post(url, data=_form(staged=[staged], staged_shown=[staged])).get_data(as_text=True)
    assert "A file you chose earlier is no longer kept" in html
    assert db.session.scalar(select(func.count()).select_from(EvidenceItem)) == 0


def test_the_edit_form_keeps_chosen_files_too(app, apprentice_client, enrolment, world):
    draft = world.evidence(enrolment, title="Draft budget", submitted=False)
    db.session.commit()
    url = f"/enrolments/{enrolment.id}/evidence/{draft.id}/edit"
    data = _form(**{"justification-K1": " ", "files": _files(("photo.png", PNG_BYTES))})
    html = apprentice_client.post(url, data=data, content_type="multipart/form-data").get_data(as_text=True)
    assert "Your files are kept, so you do not need to choose them again: photo.png." in html
    (staged,) = _staged_ids(html)
    assert apprentice_client.post(url, data=_form(staged=[staged], staged_shown=[staged])).status_code == 302
    db.session.refresh(draft)
    assert [f.display_name for f in draft.files] == ["plan.pdf", "photo.png"]


def test_a_missing_or_damaged_stored_file_gives_a_clear_page(app, apprentice_client, enrolment, world, caplog):
    item = world.evidence(enrolment, files={"plan.pdf": PDF_BYTES, "photo.png": PNG_BYTES})
    db.session.commit()
    plan, photo = item.files
    root = Path(app.config["EVIDENCE_DIR"])
    base = f"/enrolments/{enrolment.id}/evidence/{item.id}/files"
    (root / plan.sha256[:2] / plan.sha256[2:4] / plan.sha256).unlink()
    (root / photo.sha256[:2] / photo.sha256[2:4] / photo.sha256).write_bytes(PNG_BYTES[:20])
    for url, name, problem, file in [
        (f"{base}/{plan.id}", "plan.pdf", "missing", plan),
        (f"{base}/{photo.id}", "photo.png", "damaged", photo),
        (f"{base}/{photo.id}/preview", "photo.png", "damaged", photo),
    ]:
        caplog.clear()
        response = apprentice_client.get(url)
        html = response.get_data(as_text=True)
        assert response.status_code == 409, html
        assert "The file cannot be downloaded" in html
        assert f"The file {name} of this evidence is {problem} in the evidence store" in html
        assert f"Evidence item {item.id}: file {file.id} ({name}, SHA-256 {file.sha256}" in caplog.text


def test_an_items_page_decides_on_previews_from_the_pixels_recorded_at_upload(app, apprentice_client, enrolment, world):
    item = world.evidence(enrolment, files={"photo.png": PNG_BYTES, "plan.pdf": PDF_BYTES})
    db.session.commit()
    assert [f.pixels for f in item.files] == [1, None]  # a 1x1 PNG; a PDF has none
    store = evidence_store()
    opened = []
    real_open = store.open
    store.open = lambda sha256: opened.append(sha256) or real_open(sha256)  # type: ignore[method-assign]
    try:
        base = f"/enrolments/{enrolment.id}/evidence/{item.id}"
        page = apprentice_client.get(base).get_data(as_text=True)
    finally:
        del store.open
    assert f"{base}/files/{item.files[0].id}/preview" in page
    assert opened == []  # with an object store, each read would be a request to it
