"""Readings of files for the review workspace: a PDF's pages drawn with their text, office and
text files' text, each bounded, and a damaged file refused as unreadable."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest

from filestore import readings
from filestore.readings import Unreadable, read


def _pdf(pages: list[str], size=(595, 842)) -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    drawing = canvas.Canvas(out, pagesize=size)
    for text in pages:
        drawing.drawString(72, size[1] - 72, text)
        drawing.showPage()
    drawing.save()
    return out.getvalue()


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])


def test_a_pdf_is_drawn_page_by_page_with_its_text(tmp_path):
    path = _write(tmp_path, "plan.pdf", _pdf(["Risk assessment for the family day", "Control measures"]))
    reading = read(path, "pdf")
    assert reading.page_count == 2 and [p.number for p in reading.pages] == [1, 2]
    first = reading.pages[0]
    assert _png_size(first.png) == (first.width, first.height) == (1000, 1416)  # A4 (595 x 842 points) 1000 px wide
    assert "Risk assessment for the family day" in first.text
    assert "Control measures" in reading.pages[1].text and "Control measures" in reading.text


def test_only_the_first_pages_of_a_long_pdf_are_drawn(tmp_path, monkeypatch):
    monkeypatch.setattr(readings, "MAX_PAGES", 3)
    reading = read(_write(tmp_path, "long.pdf", _pdf([f"Page {n}" for n in range(1, 8)])), "pdf")
    assert reading.page_count == 7 and len(reading.pages) == 3


def test_a_very_tall_page_is_drawn_within_the_pixel_bound(tmp_path):
    reading = read(_write(tmp_path, "tall.pdf", _pdf(["Scroll"], size=(200, 20_000))), "pdf")
    page = reading.pages[0]
    assert page.width * page.height <= readings.MAX_PAGE_PIXELS and page.width < 1000


@pytest.mark.parametrize("data", [b"%PDF-1.4\nnot really", b"", b"PK\x03\x04 a zip, not a pdf"])
def test_a_damaged_pdf_is_unreadable(tmp_path, data):
    with pytest.raises(Unreadable):
        read(_write(tmp_path, "broken.pdf", data), "pdf")


def test_office_documents_are_read_for_their_text(tmp_path):
    import docx
    import openpyxl
    import pptx

    document = docx.Document()
    document.add_paragraph("Audience feedback from the half-term workshops")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Families", "42"
    document.save(tmp_path / "feedback.docx")
    assert (
        read(tmp_path / "feedback.docx", "docx").text == "Audience feedback from the half-term workshops\nFamilies\t42"
    )

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Bookings"
    sheet.append(["Session", "Places"])
    sheet.append(["Clay", 12])
    workbook.save(tmp_path / "bookings.xlsx")
    assert read(tmp_path / "bookings.xlsx", "xlsx").text == "# Bookings\nSession\tPlaces\nClay\t12"

    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Evaluation"
    deck.save(tmp_path / "evaluation.pptx")
    assert read(tmp_path / "evaluation.pptx", "pptx").text.startswith("# Slide 1\nEvaluation")


def test_a_long_spreadsheet_is_cut_at_its_row_bound(tmp_path, monkeypatch):
    import openpyxl

    monkeypatch.setattr(readings, "MAX_ROWS", 5)
    workbook = openpyxl.Workbook()
    for n in range(20):
        workbook.active.append([n])
    workbook.save(tmp_path / "rows.xlsx")
    lines = read(tmp_path / "rows.xlsx", "xlsx").text.splitlines()
    assert lines[1:6] == ["0", "1", "2", "3", "4"] and lines[6] == "(only the first 5 rows are shown)"


def test_text_files_are_read_in_utf_8_or_windows_1252(tmp_path):
    assert read(_write(tmp_path, "a.txt", "Café £5\r\nnext".encode()), "txt").text == "Café £5\nnext"
    assert read(_write(tmp_path, "b.csv", "Café,£5\n".encode("cp1252")), "csv").text == "Café,£5\n"
    assert read(_write(tmp_path, "c.txt", b"nul\x00dropped"), "txt").text == "nuldropped"


def test_a_long_text_is_cut(tmp_path, monkeypatch):
    monkeypatch.setattr(readings, "MAX_TEXT", 10)
    reading = read(_write(tmp_path, "long.txt", b"x" * 100), "txt")
    assert reading.text == "x" * 10 and reading.text_cut


def test_a_kind_without_a_reading_is_refused(tmp_path):
    assert not readings.readable("png") and readings.readable("pdf") and readings.readable("docx")
    with pytest.raises(Unreadable):
        read(_write(tmp_path, "a.png", b""), "png")
