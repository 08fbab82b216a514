"""The fonts of the portfolio PDF: DejaVu Sans and DejaVu Sans Mono, shipped in `fonts/` beside
this module under their licence (`fonts/LICENSE`) and embedded in every PDF.

They cover the Latin alphabets (Polish, Welsh, Romanian, Czech, Vietnamese...), Greek and
Cyrillic. A character they lack would be drawn as nothing, with no error from the renderer, so
`unprintable_characters` finds any such character before the PDF is made.
"""

from __future__ import annotations

import functools
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

from reportlab import rl_config
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import tables

FONT_DIR = Path(__file__).parent / "fonts"
# The faces the stylesheet sets text in (regular, bold, oblique, bold oblique); the monospaced
# face shows only the hashes the export writes itself, which are hexadecimal.
SANS_FACES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf")
MONO_FACE = "DejaVuSansMono.ttf"
# Our name for DejaVu Sans in reportlab, for what reportlab draws outside the stylesheet.
BASE_FONT = "PortfolioDejaVuSans"
# Characters that draw nothing whatever the font: controls, format characters (soft hyphen,
# zero-width space, direction marks) and spaces, which the PDF lays out as space.
_INVISIBLE = {"Cc", "Cf", "Zs", "Zl", "Zp"}


@functools.cache
def printable() -> frozenset[int]:
    """The code points that every face the text may be set in has a glyph for."""
    faces = [TTFont(f"check-{name}", str(FONT_DIR / name)).face for name in SANS_FACES]
    return frozenset.intersection(*(frozenset(face.charToGlyph) for face in faces))


def unprintable_characters(html: str) -> list[str]:
    """The characters of the document's text that the fonts have no glyph for, in code point order."""
    parser = _TextCollector()
    parser.feed(html)
    parser.close()
    glyphs = printable()
    return sorted(
        ch for ch in set("".join(parser.text)) if ord(ch) not in glyphs and unicodedata.category(ch) not in _INVISIBLE
    )


def describe(character: str) -> str:
    """“ẞ” (U+1E9E LATIN CAPITAL LETTER SHARP S): how a message names a character."""
    name = unicodedata.name(character, "")
    return f"“{character}” (U+{ord(character):04X}{' ' + name if name else ''})"


@functools.cache
def embed_fonts_everywhere() -> None:
    """Make DejaVu Sans reportlab's own default, so that no page refers to a base-14 font.

    xhtml2pdf sets all the text in the stylesheet's fonts, but reportlab starts each page and
    each table cell in its default font, Helvetica, which would then be listed in the PDF without
    being embedded. A TrueType font is embedded only where it draws something, so this adds
    nothing to the file.
    """
    pdfmetrics.registerFont(TTFont(BASE_FONT, str(FONT_DIR / SANS_FACES[0])))
    # Read when each canvas is made. Changing it before reportlab.lib.styles is imported would
    # also change the styles' bold and italic names, which xhtml2pdf relies on: it was imported
    # above, by reportlab.platypus.
    rl_config.canvas_basefontname = BASE_FONT
    tables.CellStyle.fontname = BASE_FONT


class _TextCollector(HTMLParser):
    """The text of an HTML document, without its stylesheet."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs) -> None:
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if not self._in_style:
            self.text.append(data)
