"""The portfolio PDF: what an assessor opens first."""

from __future__ import annotations

import io
import re
import zipfile

import pypdf
import pypdfium2
import pytest
from markupsafe import escape
from PIL import ImageFile
from sqlalchemy import select

from portfolio.core.storage import evidence_store
from portfolio.evidence.items import Upload, attach_files
from portfolio.exports import EvidenceFileProblem, UnprintableText, export_pdf
from portfolio.exports.gather import gather
from portfolio.extensions import db
from portfolio.models import EnrolmentStatus, ProgressReview, Role
from tests.helpers import export_through_web

from ...filestore.samples import huge_png
from ..conftest import counting_queries
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
    from portfolio.core.fingerprint import portfolio_fingerprint

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
    pdf = export_through_web(client, enrolment.id, "pdf")
    assert pdf.status_code == 200
    text = _text(pypdf.PdfReader(io.BytesIO(pdf.get_data())))
    assert "No evidence has been put forward for review yet." in text
    assert "The portfolio has not been submitted at gateway." in text
    archive = export_through_web(client, enrolment.id, "zip").get_data()
    names = [name.split("/", 1)[1] for name in zipfile.ZipFile(io.BytesIO(archive)).namelist()]
    assert names == ["manifest.json", "portfolio.pdf", "mapping.csv", "SHA256SUMS"]


def test_an_altered_image_stops_the_pdf(portfolio):
    stall = next(f for f in portfolio.plan.files if f.display_name == "stall.png")
    path = evidence_store()._path(stall.sha256)
    path.write_bytes(photo(kind="PNG", colour=(0, 0, 0)))
    with pytest.raises(EvidenceFileProblem, match="stall.png is altered"):
        export_pdf(db.session, evidence_store(), portfolio.enrolment, actor=portfolio.tutor)


# Text in the alphabets an English provider's apprentices and staff write in.
POLISH_VIETNAMESE = "Łukasz Żółć Nguyễn Thị"
WELSH = "Gŵyl y Llŷn: dŵr a thŷ"
ROMANIAN = "Atelier în școală, țesături și poveşti"
CZECH = "Příliš žluťoučký kůň: ěščřžýáíé ůú"
VIETNAMESE = "Hội thảo cộng đồng ở bảo tàng, người tham gia rất vui"
GREEK = "Ελένη Παπαδοπούλου"
CYRILLIC = "Олена Коваленко: щоденник проєкту"
LONG_URL = "https://example.org/" + "lantern-parade-photos-" * 8 + "x" * 4  # 200 characters, no space
LONG_HASH = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def _multilingual(world):
    portfolio = build(world)
    portfolio.apprentice.name = POLISH_VIETNAMESE
    portfolio.tutor.name = GREEK
    portfolio.mentor.name = CYRILLIC
    plan = portfolio.plan
    plan.title = WELSH
    plan.description = f"{ROMANIAN}\n\nThe photos are at {LONG_URL} for the families."
    plan.reflection = CZECH
    plan.links[0].justification = f"{VIETNAMESE} ({LONG_HASH}{LONG_HASH})"
    plan.links[1].justification = CYRILLIC
    db.session.commit()
    return portfolio


def _normalised(text: str) -> str:
    return " ".join(text.split())


def test_text_in_every_latin_alphabet_greek_and_cyrillic_comes_out_as_typed(world):
    portfolio = _multilingual(world)
    reader = _pdf(portfolio)
    text = _text(reader)
    for typed in (POLISH_VIETNAMESE, WELSH, ROMANIAN, CZECH, VIETNAMESE, GREEK, CYRILLIC):
        assert _normalised(typed) in text, typed
    assert f"Portfolio of {POLISH_VIETNAMESE}: ST0396" in reader.metadata.title
    assert reader.metadata.author == POLISH_VIETNAMESE
    assert f"1. {WELSH}" in [title for title, _, _ in _bookmarks(reader.outline)]


def _font_descriptor(font):
    if "/DescendantFonts" in font:
        font = font["/DescendantFonts"][0].get_object()
    return font.get("/FontDescriptor", {})


BASE_14 = {"Courier", "Helvetica", "Times", "Symbol", "ZapfDingbats"}


def test_every_font_is_embedded_and_none_is_one_of_the_base_14(world):
    reader = _pdf(_multilingual(world))
    fonts = {}
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            fonts[font["/BaseFont"]] = font
    assert fonts
    for name, font in fonts.items():
        family = name.lstrip("/").split("+")[-1].split("-")[0]
        assert family not in BASE_14 and not family.startswith("Times"), name
        assert "/FontFile2" in _font_descriptor(font), f"{name} is not embedded"
    assert {name.split("+")[-1] for name in fonts} >= {"DejaVuSans", "DejaVuSans-Bold", "DejaVuSansMono"}


def test_long_unbroken_text_wraps_within_the_page(world):
    _, data = export_pdf(db.session, evidence_store(), _multilingual(world).enrolment, actor=None)
    document = pypdfium2.PdfDocument(data)
    text = ""
    for page in document:
        width = page.get_width()
        characters = page.get_textpage()
        for n in range(characters.count_chars()):
            left, _, right, _ = characters.get_charbox(n)
            assert left >= 0 and right <= width, f"a character at {right:.0f} pt lies beyond the page's {width:.0f} pt"
        text += characters.get_text_range()
    unbroken = "".join(text.split())
    assert LONG_URL in unbroken and LONG_HASH + LONG_HASH in unbroken  # all of it, over several lines


@pytest.mark.parametrize(
    ("where", "character", "named"),
    [
        ("reflection", "🙂", "Evidence 1 (Community workshop plan: “Lanterns & Light”): the reflection has the character “🙂” (U+1F642 SLIGHTLY SMILING FACE)"),
        ("justification", "漢", "Evidence 1 (Community workshop plan: “Lanterns & Light”): the justification for K1 has the character “漢” (U+6F22 CJK UNIFIED IDEOGRAPH-6F22)"),
        ("apprentice", "क", "The portfolio: the apprentice's name has the character “क” (U+0915 DEVANAGARI LETTER KA)"),
        ("progress review", "ก", "The portfolio (a progress review, a name or the gateway record) has the character “ก” (U+0E01 THAI CHARACTER KO KAI)"),
    ],
)  # fmt: skip
def test_a_character_the_fonts_lack_refuses_the_export_naming_it(world, signed_in, where, character, named):
    portfolio = build(world)
    if where == "reflection":
        portfolio.plan.reflection = f"The families loved it {character}"
    elif where == "justification":
        portfolio.plan.links[0].justification = f"Audience research {character}"
    elif where == "apprentice":
        portfolio.apprentice.name = f"Zoë {character}"
    else:
        review = db.session.scalars(select(ProgressReview)).one()
        review.actions = f"Plan the spring workshop {character}"
    db.session.commit()
    with pytest.raises(UnprintableText, match=re.escape(named)):
        export_pdf(db.session, evidence_store(), portfolio.enrolment, actor=portfolio.tutor)
    db.session.rollback()
    client = signed_in(portfolio.tutor)
    for export_format in ("pdf", "zip"):
        page = export_through_web(client, portfolio.enrolment.id, export_format)
        assert page.status_code == 200
        assert "It could not be made." in page.get_data(as_text=True)
        assert str(escape(named)) in page.get_data(as_text=True)
    assert list(evidence_store().export_names()) == []


def test_invisible_and_space_characters_do_not_refuse_the_export(world):
    portfolio = build(world)
    portfolio.plan.reflection = "Soft\u00adhyphen, zero\u200bwidth, thin\u2009space and\u00a0no-break space."
    db.session.commit()
    assert "Soft" in _text(_pdf(portfolio))


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


def test_streams_are_stored_binary_not_as_ascii85_text(portfolio):
    # ASCII85 writes every 4 bytes as 5 characters: a fifth more file for nothing.
    _, data = export_pdf(db.session, evidence_store(), portfolio.enrolment, actor=portfolio.tutor)
    assert b"/FlateDecode" in data and b"/DCTDecode" in data  # compressed text and the photos
    assert b"/ASCII85Decode" not in data
