"""The portfolio PDF: what an assessor opens first."""

from __future__ import annotations

import io
import re
import zipfile

import pypdf
import pypdfium2
import pytest
from PIL import ImageFile

from portfolio.evidence_items import Upload, attach_files
from portfolio.exports import EvidenceFileProblem, export_pdf
from portfolio.exports.gather import gather
from portfolio.extensions import db
from portfolio.models import EnrolmentStatus, Role
from portfolio.storage import evidence_store

from ..evidence.samples import huge_png
from .conftest import counting_queries
from .export_world import build, photo


@pytest.fixture
def portfolio(world):
    return build(world)


def _pdf(portfolio) -> pypdf.PdfReader:
    _, data = export_pdf(db.session, evidence_store(), portfolio.enrolment, actor=portfolio.tutor)
    return pypdf.PdfReader(io.BytesIO(data))


def _text(reader: pypdf.PdfReader) -> str:
    """The text of every page, with runs of white space as one space."""
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def _bookmarks(outline, depth=0):
    """(title, depth, destination) for every bookmark, in order."""
    for entry in outline:
        if isinstance(entry, list):
            yield from _bookmarks(entry, depth + 1)
        else:
            yield entry.title, depth, entry


def test_the_pdf_lists_every_criterion_of_the_pinned_standard(portfolio):
    text = _text(_pdf(portfolio))
    standard = portfolio.enrolment.standard_version.standard
    for code in standard.codes:
        assert re.search(rf"\b{code}\b", text), code
    assert "ST0396" in text and "Harbourside Museum" in text and "Crescent Assessment" in text


def test_each_evidence_item_starts_a_page_of_its_own_with_a_bookmark(portfolio):
    reader = _pdf(portfolio)
    bookmarks = list(_bookmarks(reader.outline))
    titles = [title for title, _, _ in bookmarks]
    for section in ("Apprenticeship portfolio", "Criteria and evidence", "Mapping matrix", "Evidence index",
                    "Off-the-job training and progress reviews", "Gateway record"):  # fmt: skip
        assert section in titles
    items = [(title, entry) for title, depth, entry in bookmarks if depth == 1 and re.match(r"\d+\. ", title)]
    assert [title for title, _ in items] == [
        "1. Community workshop plan: “Lanterns & Light”",
        "2. Photos of the lantern parade",
        "3. Workshop budget",
    ]
    pages = [reader.get_destination_page_number(entry) for _, entry in items]
    assert len(set(pages)) == 3
    for number, page in enumerate(pages, start=1):
        assert f"Evidence {number} of 3" in reader.pages[page].extract_text().splitlines()[:2]  # after the footer
    assert "Private draft" not in "".join(page.extract_text() for page in reader.pages)


def test_every_page_is_numbered_page_n_of_m(portfolio):
    reader = _pdf(portfolio)
    total = len(reader.pages)
    for number, page in enumerate(reader.pages, start=1):
        assert f"Page {number} of {total}" in page.extract_text()


def test_the_cover_shows_who_what_and_the_fingerprint(portfolio):
    from portfolio.fingerprint import portfolio_fingerprint

    cover = _pdf(portfolio).pages[0].extract_text()
    enrolment = portfolio.enrolment
    for fact in ("Zoë O’Brien-Łukasz", "Level 3, version 1.0", enrolment.standard_version.content_hash,
                 "Northgate Arts Training", "2 September 2024", "28 September 2025",
                 portfolio_fingerprint(db.session, enrolment)):  # fmt: skip
        assert fact in cover


def test_images_are_shown_but_not_those_of_third_party_data_without_consent(portfolio):
    reader = _pdf(portfolio)
    text = _text(reader)
    assert "no consent is on record, so its files are not included" in text
    assert "parade.jpg" in text  # listed, with its hash, but not shown
    images_by_page = [len(page.images) for page in reader.pages]
    assert sum(images_by_page) == 1  # stall.png of item 1; parade.jpg of item 2 is withheld


def test_the_gateway_record_shows_declarations_and_decisions(portfolio):
    text = _text(_pdf(portfolio))
    assert "Not current: the portfolio has changed since this was signed." in text
    assert "Current: the portfolio has not changed since." in text
    assert "English and maths Not accepted No certificate uploaded." in text
    assert "Referred back: Helen Okafor" in text


def test_a_page_draws_as_a_picture_that_is_not_blank(portfolio, tmp_path):
    _, data = export_pdf(db.session, evidence_store(), portfolio.enrolment, actor=portfolio.tutor)
    document = pypdfium2.PdfDocument(data)
    image = document[0].render(scale=1).to_pil().convert("L")
    image.save(tmp_path / "cover.png")
    assert abs(image.width - 595) <= 1 and abs(image.height - 842) <= 1  # A4 portrait, in points
    darkest, lightest = image.getextrema()
    assert lightest == 255 and darkest < 60  # white paper with dark text on it


def test_gathering_takes_the_same_queries_for_three_items_or_twelve(world):
    portfolio = build(world, status=EnrolmentStatus.ON_PROGRAMME)  # so that evidence can be added

    def count() -> int:
        db.session.expire_all()
        with counting_queries() as queries:
            gather(db.session, portfolio.enrolment)
        return queries()

    few = count()
    for n in range(9):
        world.evidence(
            portfolio.enrolment,
            title=f"Extra item {n}",
            links={"K2": "Reach.", "S1": "Plan.", "B1": "Attitude."},
            files={f"photo-{n}.png": photo(40 + n, 30), "notes.pdf": b"%PDF-1.4\n%" + bytes([n]) + b"\n%%EOF\n"},
        )
    db.session.commit()
    assert count() == few
    assert few <= 25


def test_a_portfolio_with_nothing_in_it_yet_exports_too(world, signed_in, tmp_path):
    tutor = world.user(Role.TUTOR, world.provider())
    enrolment = world.enrolment(tutor=tutor)
    db.session.commit()
    client = signed_in(tutor)
    pdf = client.get(f"/enrolments/{enrolment.id}/export/portfolio.pdf")
    assert pdf.status_code == 200
    text = _text(pypdf.PdfReader(io.BytesIO(pdf.get_data())))
    assert "No evidence has been put forward for review yet." in text
    assert "The portfolio has not been submitted at gateway." in text
    archive = client.get(f"/enrolments/{enrolment.id}/export/portfolio.zip").get_data()
    names = [name.split("/", 1)[1] for name in zipfile.ZipFile(io.BytesIO(archive)).namelist()]
    assert names == ["manifest.json", "portfolio.pdf", "mapping.csv", "SHA256SUMS"]


def test_an_altered_image_stops_the_pdf(portfolio):
    stall = next(f for f in portfolio.plan.files if f.display_name == "stall.png")
    path = evidence_store()._path(stall.sha256)
    path.write_bytes(photo(kind="PNG", colour=(0, 0, 0)))
    with pytest.raises(EvidenceFileProblem, match="stall.png is altered"):
        export_pdf(db.session, evidence_store(), portfolio.enrolment, actor=portfolio.tutor)


def test_an_image_over_the_pixel_limit_is_listed_without_a_preview_and_never_decoded(portfolio, monkeypatch):
    # Stored before the limit existed (or under a higher one): a 144-megapixel PNG of 18 KB.
    attach_files(
        db.session, evidence_store(), portfolio.plan, [Upload(io.BytesIO(huge_png()), "poster.png")],
        by=portfolio.apprentice, max_bytes=1 << 20, max_pixels=200_000_000,
    )  # fmt: skip
    db.session.commit()
    decoded = []
    real_load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda image: decoded.append(image.size) or real_load(image))
    reader = _pdf(portfolio)
    assert set(decoded) == {(640, 480)}  # stall.png only: the poster's pixels were never decoded
    assert (
        "poster.png: no preview, as the image is 12,000 by 12,000 pixels (144 megapixels), "
        "over the limit of 50 megapixels."
    ) in _text(reader)
    assert sum(len(page.images) for page in reader.pages) == 1
