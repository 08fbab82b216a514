"""The portfolio PDF: what an assessor opens first."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date

import jsonschema
import pypdf
import pypdfium2
import pytest
from markupsafe import escape
from PIL import ImageFile
from sqlalchemy import select

from portfolio.core.storage import evidence_store, max_image_pixels
from portfolio.evidence.items import Upload, attach_files
from portfolio.exports import EvidenceFileProblem, UnprintableText, export_pdf
from portfolio.exports.gather import gather
from portfolio.exports.manifest import Document, manifest, schema
from portfolio.exports.pdf import PREVIEW_BOX, Preview, previews
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
                    "Off-the-job training and progress reviews", "Gateway to completion record"):  # fmt: skip
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
        assert f"Evidence {number} of 3" in reader.pages[page].extract_text().splitlines()[:2]
    assert "Private draft" not in "".join(page.extract_text() for page in reader.pages)


def test_every_page_is_numbered_page_n_of_m(portfolio):
    reader = _pdf(portfolio)
    total = len(reader.pages)
    for number, page in enumerate(reader.pages, start=1):
        assert f"Page {number} of {total}" in page.extract_text()


def _contents(data: bytes) -> list[tuple[str, list[str], int]]:
    """(title, what is printed at the end of each of its lines, page its link goes to) for each
    entry the PDF links from, in order; an entry over two lines is a link per line."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    document = pypdfium2.PdfDocument(data)
    numbers = {page.indirect_reference.idnum: n for n, page in enumerate(reader.pages, start=1)}
    entries: list[tuple[str, list[str], int]] = []
    last = None
    for page, drawn in zip(reader.pages, document, strict=True):
        text = drawn.get_textpage()
        for annotation in page.get("/Annots") or ():
            link = annotation.get_object()
            left, bottom, right, top = (float(n) for n in link["/Rect"])
            title = " ".join(text.get_text_bounded(left, bottom, right, top).split())
            printed = text.get_text_bounded(right, bottom, float(page.mediabox.width), top).strip()
            destination = (link["/Dest"][0].idnum, *(float(n) for n in link["/Dest"][2:4]))
            target = numbers[destination[0]]
            if destination == last:
                entries[-1] = (f"{entries[-1][0]} {title}", [*entries[-1][1], printed], target)
            else:
                entries.append((title, [printed], target))
            last = destination
    return entries


def test_the_contents_lists_every_section_and_item_with_the_page_it_starts_on(portfolio):
    _, data = export_pdf(db.session, evidence_store(), portfolio.enrolment, actor=portfolio.tutor)
    reader = pypdf.PdfReader(io.BytesIO(data))
    bookmarks = [
        (title, reader.get_destination_page_number(entry) + 1) for title, _, entry in _bookmarks(reader.outline)
    ]
    assert len(bookmarks) == 17  # the cover, 6 parts, 3 kinds of criteria, 3 items, 2 + 2 sections of two parts
    entries = _contents(data)
    assert [(title, target) for title, _, target in entries] == bookmarks  # in order, each to its page
    for title, printed, target in entries:
        assert printed == [str(target)], title
    contents_page = reader.pages[1].extract_text()
    assert contents_page.startswith("Contents")
    for title, _ in bookmarks:
        assert title in contents_page


def test_a_contents_entry_over_two_lines_has_its_page_number_on_the_last(portfolio):
    portfolio.plan.title = "Community workshop plan for the half-term lantern parade, with the risk assessment, " * 2
    db.session.commit()
    _, data = export_pdf(db.session, evidence_store(), portfolio.enrolment, actor=portfolio.tutor)
    entries = _contents(data)
    long_entry = next(entry for entry in entries if entry[0].startswith("1. Community workshop plan"))
    first_lines, last_line = long_entry[1][:-1], long_entry[1][-1]
    assert first_lines and all(printed == "" for printed in first_lines)
    assert last_line == str(long_entry[2])
    assert all(printed[-1] == str(target) for _, printed, target in entries)


def _matrix_row(pages, code: str):
    """The landscape page with the matrix's row for a criterion, the row's text, and the box of
    each of its characters (left, bottom, right, top)."""
    for page in pages:
        text = page.get_textpage()
        found = text.search(code, match_case=True, match_whole_word=True).get_next()
        if found:
            _, bottom, _, top = text.get_charbox(found[0])
            middle = (bottom + top) / 2
            boxes = [text.get_charbox(n) for n in range(text.count_chars())]
            on_row = sorted(box for box in boxes if box[1] <= middle <= box[3])
            return page, " ".join(text.get_text_bounded(0, middle - 1, page.get_width(), middle + 1).split()), on_row
    raise AssertionError(f"no row for {code}")


def test_the_mapping_matrix_shades_the_cell_of_each_item_in_the_rows_of_its_criteria(portfolio):
    _, data = export_pdf(db.session, evidence_store(), portfolio.enrolment, actor=portfolio.tutor)
    landscape = [page for page in pypdfium2.PdfDocument(data) if page.get_width() > page.get_height()]
    assert landscape[0].get_textpage().get_text_range().startswith("Mapping matrix")
    assert "Items 1 to 3" in landscape[0].get_textpage().get_text_range()
    # Item 1 shows K1 and S4, item 2 S5, item 3 S11 and K1: each row holds its items' numbers, then how many.
    rows = {code: _matrix_row(landscape, code)[1] for code in ("K1", "K2", "S4", "S5", "S11", "B1")}
    assert rows == {"K1": "K1 1 3 2", "K2": "K2 0", "S4": "S4 1 1", "S5": "S5 2 1", "S11": "S11 3 1", "B1": "B1 0"}
    page, _, k1 = _matrix_row(landscape, "K1")
    _, _, k2 = _matrix_row(landscape, "K2")
    picture, height = page.render(scale=2).to_pil().convert("RGB"), page.get_height()
    one = k1[2]  # K, 1, then item 1's number in its cell
    beside = ((one[0] - 3) * 2, (height - (one[1] + one[3]) / 2) * 2)  # in that cell, left of the number
    below = (beside[0], (height - (k2[0][1] + k2[0][3]) / 2) * 2)  # the same column in K2's row
    assert picture.getpixel(beside) == (0x85, 0xC7, 0xAB)
    assert picture.getpixel(below) == (255, 255, 255)


def test_a_photo_prints_at_its_size_in_points(portfolio):
    # xhtml2pdf reads an <img> width as pixels, three quarters of a point: stall.png once printed at 340 points.
    _, data = export_pdf(db.session, evidence_store(), portfolio.enrolment, actor=portfolio.tutor)
    shown = previews(gather(db.session, portfolio.enrolment), evidence_store(), max_image_pixels())
    preview = next(p for p in shown.values() if isinstance(p, Preview))
    assert (preview.width, preview.height) == (PREVIEW_BOX[0], 339.8)  # 640 by 480 pixels, 16 cm wide
    document = pypdfium2.PdfDocument(data)
    drawn = [image.get_bounds() for page in document for image in page.get_objects([pypdfium2.raw.FPDF_PAGEOBJ_IMAGE])]
    assert len(drawn) == 1
    left, bottom, right, top = drawn[0]
    assert right - left == pytest.approx(preview.width, abs=0.05)
    assert top - bottom == pytest.approx(preview.height, abs=0.05)


def decoded_sizes(monkeypatch) -> list[tuple[int, int]]:
    """The size of every image decoded from here on, as it is decoded."""
    decoded: list[tuple[int, int]] = []
    real_load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda image: decoded.append(image.size) or real_load(image))
    return decoded


def test_a_phone_photo_is_decoded_at_a_quarter_of_its_size(portfolio, monkeypatch):
    attach_files(
        db.session, evidence_store(), portfolio.budget, [Upload(io.BytesIO(photo(4032, 3024, "JPEG")), "stage.jpg")],
        by=portfolio.apprentice, max_bytes=20 << 20, max_pixels=50_000_000,
    )  # fmt: skip
    db.session.commit()
    decoded = decoded_sizes(monkeypatch)
    reader = _pdf(portfolio)
    assert set(decoded) == {(640, 480), (1008, 756)}  # stall.png, and the photo at a quarter
    assert sum(len(page.images) for page in reader.pages) == 2


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
    assert "The portfolio has not been submitted at the gateway to completion." in text
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
        ("progress review", "ก", "The portfolio (a progress review, a name or the gateway to completion record) has the character “ก” (U+0E01 THAI CHARACTER KO KAI)"),
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
    decoded = decoded_sizes(monkeypatch)
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


def test_breaks_in_learning_are_listed_with_how_they_moved_the_planned_end(world):
    from portfolio.enrolments.breaks import end_break, start_break
    from portfolio.models import EnrolmentStatus

    portfolio = build(world, status=EnrolmentStatus.ON_PROGRAMME)
    enrolment = portfolio.enrolment
    start_break(db.session, enrolment, by=None, starts_on=date(2025, 1, 6), expected_return_on=date(2025, 3, 1),
                reason="Caring for a parent.", today=date(2025, 1, 6))  # fmt: skip
    end_break(db.session, enrolment, by=None, returned_on=date(2025, 3, 3), today=date(2025, 3, 3))
    db.session.commit()
    text = _text(_pdf(portfolio))
    # 6 January to 3 March 2025 is 56 days: 28 September 2025 + 56 days = 23 November 2025.
    assert "Breaks in learning" in text and "Caring for a parent." in text
    assert "28 September 2025 to 23 November 2025 (56 days)" in text
    # The manifest holds the same record, as its schema describes it.
    made = Document("portfolio.pdf", "0" * 64, 1)  # stands for the documents the export job makes
    described = manifest(gather(db.session, enrolment), {"pdf": made, "mapping_csv": made})
    jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker()).validate(described)
    assert described["enrolment"]["breaks_in_learning"] == [
        {
            "starts_on": "2025-01-06",
            "expected_return_on": "2025-03-01",
            "returned_on": "2025-03-03",
            "reason": "Caring for a parent.",
            "planned_end_before": "2025-09-28",
            "planned_end_after": "2025-11-23",
        }
    ]
