"""What a reviewer reads of a file without downloading it: a PDF's pages drawn as images with
their text, an office document's or a text file's text.

Nothing here runs what a file carries: PDFium draws the pages and never runs a PDF's scripts,
and office files are read as data (python-docx, openpyxl, python-pptx). Each reading is bounded
(pages, characters, spreadsheet rows), so a huge file costs no more than a big one.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

MAX_PAGES = 30  # drawn of a PDF; the rest are for downloading the file
PAGE_WIDTH = 1000  # pixels each page is drawn at
MAX_PAGE_PIXELS = 3_000_000  # and no more, however tall a page is
MAX_TEXT = 200_000  # characters of text kept of a document
MAX_ROWS = 2_000  # of each worksheet

# The kinds (filestore.types keys) read for their text, and how.
TEXT_KINDS = ("txt", "csv")
OFFICE_KINDS = ("docx", "xlsx", "pptx")


@dataclass(frozen=True)
class DrawnPage:
    number: int  # from 1
    png: bytes
    width: int
    height: int
    text: str


@dataclass
class Reading:
    """A file's reading: its pages (for a PDF), its text, and what was left out."""

    page_count: int = 0
    pages: list[DrawnPage] = field(default_factory=list)
    text: str = ""
    text_cut: bool = False  # the text was longer than MAX_TEXT, or a sheet than MAX_ROWS


class Unreadable(Exception):
    """The file could not be read (damaged, or encrypted): it is offered as a download only."""


def readable(kind: str) -> bool:
    return kind == "pdf" or kind in TEXT_KINDS or kind in OFFICE_KINDS


def read(path: Path, kind: str) -> Reading:
    """The reading of the file at `path`, of the filestore kind `kind`; Unreadable if it cannot be read."""
    try:
        if kind == "pdf":
            return _read_pdf(path)
        if kind in TEXT_KINDS:
            with path.open("rb") as stream:
                data = stream.read(MAX_TEXT * 4 + 1)  # UTF-8 takes at most 4 bytes a character
            return _bounded(_decoded(data), cut=len(data) > MAX_TEXT * 4)
        if kind in OFFICE_KINDS:
            return _bounded_lines(_OFFICE_READERS[kind](path))
    except Unreadable:
        raise
    except Exception as error:  # a damaged file fails inside the libraries in any of many ways
        raise Unreadable(f"{type(error).__name__}: {error}") from error
    raise Unreadable(f"A {kind} file has no reading")


def _read_pdf(path: Path) -> Reading:
    import pypdfium2

    document = pypdfium2.PdfDocument(str(path))
    try:
        reading = Reading(page_count=len(document))
        texts: list[str] = []
        for index in range(min(len(document), MAX_PAGES)):
            page = document[index]
            try:
                width, height = max(page.get_width(), 1), max(page.get_height(), 1)
                # (a hair under the bound: PDFium rounds each side up)
                scale = min(PAGE_WIDTH / width, 0.99 * (MAX_PAGE_PIXELS / (width * height)) ** 0.5)
                image = page.render(scale=scale, may_draw_forms=False).to_pil()
                out = io.BytesIO()
                image.save(out, format="PNG", optimize=False)
                text_page = page.get_textpage()
                text = text_page.get_text_range().replace("\r\n", "\n").strip()
                text_page.close()
            finally:
                page.close()
            reading.pages.append(DrawnPage(index + 1, out.getvalue(), image.width, image.height, text))
            texts.append(text)
        bounded = _bounded("\n\n".join(texts))
        reading.text, reading.text_cut = bounded.text, bounded.text_cut
        return reading
    finally:
        document.close()


def _decoded(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def _bounded(text: str, *, cut: bool = False) -> Reading:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    if len(text) > MAX_TEXT:
        return Reading(text=text[:MAX_TEXT], text_cut=True)
    return Reading(text=text, text_cut=cut)


def _bounded_lines(lines: Iterator[str]) -> Reading:
    kept: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) > MAX_TEXT:
            return Reading(text="\n".join(kept), text_cut=True)
        kept.append(line)
        size += len(line) + 1
    return _bounded("\n".join(kept))


def _docx_lines(path: Path) -> Iterator[str]:
    import docx

    document = docx.Document(str(path))
    for paragraph in document.paragraphs:
        yield paragraph.text
    for table in document.tables:
        for row in table.rows:
            yield "\t".join(cell.text for cell in row.cells)


def _xlsx_lines(path: Path) -> Iterator[str]:
    import openpyxl

    workbook = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
    try:
        for sheet in workbook.worksheets:
            yield f"# {sheet.title}"
            for number, row in enumerate(sheet.iter_rows(values_only=True)):
                if number >= MAX_ROWS:
                    yield f"(only the first {MAX_ROWS:,} rows are shown)"
                    break
                yield "\t".join("" if value is None else str(value) for value in row).rstrip("\t")
    finally:
        workbook.close()


def _pptx_lines(path: Path) -> Iterator[str]:
    import pptx

    presentation = pptx.Presentation(str(path))
    for number, slide in enumerate(presentation.slides, start=1):
        yield f"# Slide {number}"
        for shape in slide.shapes:
            if shape.has_text_frame:
                yield from (paragraph.text for paragraph in shape.text_frame.paragraphs)


_OFFICE_READERS = {"docx": _docx_lines, "xlsx": _xlsx_lines, "pptx": _pptx_lines}
