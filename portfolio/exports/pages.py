"""Page numbers for the portfolio PDF, put on after its one layout pass.

"Page N of M" and the contents' page numbers are known only once every page is laid out.
xhtml2pdf's <pdf:pagecount> and <pdf:toc> find them by laying the whole document out two or
three times over, which was most of the time a portfolio took. Instead xhtml2pdf lays the
document out once, without them; then reportlab draws each page's footer, and the page number
of each contents entry, on pages of their own, and pypdf adds their drawing to the pages'.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from xml.sax.saxutils import escape

import pypdf
from pypdf.generic import ArrayObject, ContentStream, DecodedStreamObject, DictionaryObject, NameObject
from reportlab.lib.colors import HexColor
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph
from xhtml2pdf.bidi import get_display

from .typefaces import BASE_FONT

CONTENTS_FONT_SIZE = 9.5  # points: the body text's size, which the contents entries keep (see _pdf.css)
FOOTER = ParagraphStyle(
    "footer", fontName=BASE_FONT, fontSize=7.5, leading=9, alignment=TA_CENTER, textColor=HexColor("#505a5f")
)


@dataclass(frozen=True)
class Sheet:
    """Where the text of a page goes, in points: the stylesheet's @page margins (see _pdf.css),
    and the top of the footer, which sits in the bottom margin."""

    top: float
    right: float
    bottom: float
    left: float
    footer_top: float

    @property
    def margin(self) -> str:
        """The margins as the stylesheet writes them."""
        return f"{self.top:.2f}pt {self.right:.2f}pt {self.bottom:.2f}pt {self.left:.2f}pt"


PORTRAIT = Sheet(top=2 * cm, right=2 * cm, bottom=2.2 * cm, left=2 * cm, footer_top=1.7 * cm)
LANDSCAPE = Sheet(top=1.5 * cm, right=1.5 * cm, bottom=1.8 * cm, left=1.5 * cm, footer_top=1.5 * cm)


@dataclass(frozen=True)
class _Entry:
    """Where a contents entry's page number goes, and which page it is."""

    page: int  # index of the contents page
    right: float  # the right margin's edge
    baseline: float  # of the entry's last line
    number: int  # the page its link goes to, from 1


def number_pages(pdf: bytes, footer: str, contents: int) -> bytes:
    """The PDF with "footer · Page N of M" at the foot of every page, and the page number
    beside each of the first `contents` entries it links from (the contents, which comes first)."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    overlay = pypdf.PdfReader(io.BytesIO(_furniture(reader, footer, _contents_entries(reader, contents))))
    writer = pypdf.PdfWriter(clone_from=reader)
    for page, furniture in zip(writer.pages, overlay.pages, strict=True):
        _draw_over(writer, page, furniture)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _draw_over(writer: pypdf.PdfWriter, page: pypdf.PageObject, furniture: pypdf.PageObject) -> None:
    """Draw the furniture's page after the page's own drawing, which is left as it is (pypdf's
    merge_page reads it all and writes it again, taking longer than everything else here). The
    furniture's fonts join the page's under names of their own."""
    drawing = ContentStream(furniture.raw_get("/Contents"), furniture.pdf)
    their_fonts = furniture["/Resources"]["/Font"]
    fonts = page["/Resources"].setdefault(NameObject("/Font"), DictionaryObject()).get_object()
    for operands, operator in drawing.operations:
        if operator == b"Tf":
            name = NameObject(f"/PageNumbers{operands[0][1:]}")
            fonts[name] = their_fonts.raw_get(operands[0]).clone(writer)
            operands[0] = name
    before, after = DecodedStreamObject(), DecodedStreamObject()
    before.set_data(b"q\n")  # whatever state the page's drawing leaves, the furniture starts afresh
    after.set_data(b"\nQ\n" + drawing.get_data())
    contents = page.raw_get("/Contents")
    own = list(contents.get_object()) if isinstance(contents.get_object(), ArrayObject) else [contents]
    # Streams are objects of their own in a PDF, which pypdf adds with its _add_object.
    streams = [writer._add_object(before), *own, writer._add_object(after.flate_encode())]
    page[NameObject("/Contents")] = ArrayObject(streams)


def _sheet(page: pypdf.PageObject) -> Sheet:
    return LANDSCAPE if page.mediabox.width > page.mediabox.height else PORTRAIT


def _contents_entries(reader: pypdf.PdfReader, count: int) -> list[_Entry]:
    """The first `count` links within the document, in page order: an entry that wraps onto a
    second line is a link per line, to the same place, and its number goes on the last."""
    numbers = {page.indirect_reference.idnum: n for n, page in enumerate(reader.pages, start=1)}  # type: ignore[union-attr]
    entries: list[_Entry] = []
    last_destination = None
    for index, page in enumerate(reader.pages):
        for annotation in page.get("/Annots") or ():
            link = annotation.get_object()
            destination = link.get("/Dest")
            if link.get("/Subtype") != "/Link" or not isinstance(destination, ArrayObject):
                continue
            key = (destination[0].idnum, *map(float, destination[2:4]))
            # xhtml2pdf draws a link's box from an eighth of the font size below the baseline.
            baseline = float(link["/Rect"][1]) + CONTENTS_FONT_SIZE / 8
            right = float(page.mediabox.width) - _sheet(page).right
            entry = _Entry(index, right, baseline, numbers[destination[0].idnum])
            if key == last_destination:
                entries[-1] = entry
            elif len(entries) < count:
                entries.append(entry)
            else:
                return entries
            last_destination = key
    return entries


def _furniture(reader: pypdf.PdfReader, footer: str, entries: list[_Entry]) -> bytes:
    """A PDF of as many pages, of the same sizes, holding only each page's footer and numbers."""
    numbers: dict[int, list[_Entry]] = {}
    for entry in entries:
        numbers.setdefault(entry.page, []).append(entry)
    out = io.BytesIO()
    canvas = Canvas(out, pageCompression=1)
    total = len(reader.pages)
    for index, page in enumerate(reader.pages):
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        sheet = _sheet(page)
        canvas.setPageSize((width, height))
        # One line but for a very long name; handed over in display order, as xhtml2pdf does.
        text = Paragraph(escape(get_display(f"{footer} · Page {index + 1} of {total}")), FOOTER)
        _, used = text.wrap(width - sheet.left - sheet.right, sheet.footer_top)
        text.drawOn(canvas, sheet.left, sheet.footer_top - used)
        canvas.setFont(BASE_FONT, CONTENTS_FONT_SIZE)
        for entry in numbers.get(index, ()):
            canvas.drawRightString(entry.right, entry.baseline, str(entry.number))
        canvas.showPage()
    canvas.save()
    return out.getvalue()
