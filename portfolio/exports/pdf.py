"""The portfolio as one PDF for an assessor, rendered from Jinja templates by xhtml2pdf.

The document may read nothing but the fonts: images go in as `data:` URIs of previews made
here, handed over by name, so no text anyone typed can make the renderer fetch a file or a URL.

Every text is set in DejaVu Sans (and hashes in DejaVu Sans Mono), shipped in `fonts/` and
embedded, which cover the Latin alphabets, Greek and Cyrillic. A character those fonts do not
have would come out as nothing, so the export refuses, naming it, before it renders anything.
"""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import groupby

from flask import render_template
from PIL import Image, ImageOps
from reportlab import rl_config
from xhtml2pdf import pisa
from xhtml2pdf.config.resources import ResourceAccessPolicy

from filestore import CHUNK_SIZE, EvidenceStore, file_type, image_size, megapixels

from ..core.storage import max_image_pixels
from ..core.wording import long_date
from ..otj.domain import pace_text
from .errors import EvidenceFileProblem, UnprintableText
from .gather import ExportFile, ExportItem, Portfolio
from .pages import LANDSCAPE, PORTRAIT, number_pages
from .typefaces import FONT_DIR, embed_fonts_everywhere, unprintable_characters

# Longest side of a preview: about 160 dpi at the largest size shown, and small enough that a
# phone photo's JPEG decodes straight at a quarter of its size (see Image.draft): 1008 pixels,
# kept as they are, since resampling them to 1000 takes a fifth as long as decoding them did.
PREVIEW_PIXELS = 1000
PREVIEW_SLACK = 1.1  # an image decoded at up to a tenth over PREVIEW_PIXELS is not resampled
PREVIEW_BOX = (453.0, 340.0)  # largest size shown, in points (16 cm by 12 cm)
MATRIX_COLUMNS = 25  # evidence items per table of the mapping matrix (a landscape page wide)
# Only the decoder of the file's own type may read it: a file stored as a PNG is never parsed as anything else.
PILLOW_FORMATS = {"png": "PNG", "jpeg": "JPEG", "gif": "GIF", "webp": "WEBP"}

# Streams as binary rather than ASCII85 text, which only makes the file a fifth larger (3.90 MB
# against 3.16 MB for the benchmark portfolio). reportlab reads this setting as it writes.
rl_config.useA85 = 0


@dataclass(frozen=True)
class Preview:
    """A scaled JPEG of an image file, ready for an <img> tag."""

    uri: str
    width: float  # points
    height: float


@dataclass(frozen=True)
class NoPreview:
    """Why an image is listed without a preview, completing "no preview, as ..."."""

    why: str


UNREADABLE = NoPreview("the image could not be read")


@dataclass(frozen=True)
class MatrixCell:
    """A cell of a criterion's row in the mapping matrix: an item mapped to it, or a run of items that are not."""

    number: int | None  # the item's, if it is mapped
    span: int = 1


@dataclass(frozen=True)
class MatrixTable:
    """One table of the mapping matrix: its items' columns, and each criterion's row."""

    items: tuple[ExportItem, ...]
    rows: dict[str, tuple[MatrixCell, ...]]


def render_pdf(portfolio: Portfolio, store: EvidenceStore) -> bytes:
    """The PDF's bytes; EvidenceFileProblem if an image shown in it is missing or altered,
    UnprintableText if some text has a character the fonts cannot show."""
    return render_document(portfolio, previews(portfolio, store, max_image_pixels()))


def render_document(portfolio: Portfolio, shown: Mapping[str, Preview | NoPreview]) -> bytes:
    """The PDF's bytes, with the image previews already made (by `previews`)."""
    contents: list[tuple[int, str, str]] = []  # the template notes each heading it lists here
    html = render_template(
        "exports/portfolio.html",
        portfolio=portfolio,
        previews=shown,
        matrix=matrix_tables(portfolio),
        otj_pace=pace_text(portfolio.otj),
        font_dir=FONT_DIR,
        portrait=PORTRAIT,
        landscape=LANDSCAPE,
        contents=contents,
    )
    if missing := unprintable_characters(html):
        raise unprintable_text(portfolio, missing)
    embed_fonts_everywhere()
    # The template names each image "preview:<SHA-256>" and xhtml2pdf asks for it by that name:
    # three megabytes of base64 in the markup would be read by its HTML parser character by character.
    images = {f"preview:{sha256}": preview.uri for sha256, preview in shown.items() if isinstance(preview, Preview)}
    out = io.BytesIO()
    policy = ResourceAccessPolicy(allow_remote=False, base_dir=FONT_DIR)
    result = pisa.CreatePDF(
        html, dest=out, encoding="utf-8", resource_policy=policy, link_callback=lambda uri, _: images.get(uri)
    )
    if result.err:
        raise RuntimeError(f"the portfolio PDF could not be rendered ({result.err} errors)")
    exported = long_date(portfolio.exported_at, portfolio.time_zone)
    footer = f"{portfolio.apprentice} · {portfolio.standard.reference} portfolio exported {exported}"
    return number_pages(out.getvalue(), footer, len(contents))


def matrix_tables(portfolio: Portfolio) -> list[MatrixTable]:
    """The mapping matrix, MATRIX_COLUMNS items to a table."""
    tables = []
    for start in range(0, len(portfolio.items), MATRIX_COLUMNS):
        items = portfolio.items[start : start + MATRIX_COLUMNS]
        rows = {code: _matrix_row(code, items) for code in portfolio.standard.codes}
        tables.append(MatrixTable(items, rows))
    return tables


def _matrix_row(code: str, items: tuple[ExportItem, ...]) -> tuple[MatrixCell, ...]:
    cells: list[MatrixCell] = []
    for mapped, run in groupby(items, key=lambda item: code in item.codes):
        if mapped:
            cells += [MatrixCell(item.number) for item in run]
        else:
            cells.append(MatrixCell(None, len(list(run))))
    return tuple(cells)


def unprintable_text(portfolio: Portfolio, characters: list[str]) -> UnprintableText:
    """The refusal for the first unprintable character, naming the evidence item and the text it is in."""
    names = [("the apprentice's name", portfolio.apprentice), ("the employer's name", portfolio.employer),
             ("the training provider's name", portfolio.provider),
             ("the assessment organisation's name", portfolio.epao),
             ("the tutor's name", portfolio.tutor), ("the mentor's name", portfolio.mentor)]  # fmt: skip
    for character in characters:
        for what, text in names:
            if text and character in text:
                return UnprintableText(f"The portfolio: {what}", character)
        for item in portfolio.items:
            for what, text in _item_texts(item):
                if character in text:
                    return UnprintableText(f"Evidence {item.number} ({item.title}): {what}", character)
    # Somewhere else: a person's name in the review history, a progress review, the gateway to completion record.
    return UnprintableText(
        "The portfolio (a progress review, a name or the gateway to completion record)", characters[0]
    )


def _item_texts(item: ExportItem) -> list[tuple[str, str]]:
    texts = [("the title", item.title), ("the description", item.description), ("the reflection", item.reflection),
             ("the consent reference", item.consent_reference)]  # fmt: skip
    texts += [(f"the name of the file {f.name}", f.name) for f in item.files]
    texts += [(f"the justification for {link.code}", link.justification) for link in item.links]
    texts += [("the review history", change.note) for change in item.history]
    if item.witness:
        texts.append(("the witness", f"{item.witness.name} {item.witness.job_title}"))
    return texts


def previews(portfolio: Portfolio, store: EvidenceStore, max_pixels: int) -> dict[str, Preview | NoPreview]:
    """A preview per image file of the exported items, or why there is none.

    Withheld items get none. Each image is read once, however many items share it, and its
    bytes are checked against the hash on record before anything is shown. An image of more
    than `max_pixels` (stored before the upload limit, or under a higher one) is not decoded.
    """
    shown: dict[str, Preview | NoPreview] = {}
    for item, evidence_file in portfolio.files:
        if evidence_file.is_image and not item.withheld and evidence_file.sha256 not in shown:
            data = read_verified(store, item, evidence_file)
            shown[evidence_file.sha256] = _preview(data, file_type(evidence_file.media_type).key, max_pixels)
    return shown


def read_verified(store: EvidenceStore, item: ExportItem, evidence_file: ExportFile) -> bytes:
    """The whole file, after checking that it is there and still has the hash on record."""
    digest = hashlib.sha256()
    data = io.BytesIO()
    try:
        with store.open(evidence_file.sha256) as stream:
            while chunk := stream.read(CHUNK_SIZE):
                digest.update(chunk)
                data.write(chunk)
    except KeyError:
        raise EvidenceFileProblem(item, evidence_file, "missing") from None
    if digest.hexdigest() != evidence_file.sha256:
        raise EvidenceFileProblem(item, evidence_file, "altered")
    return data.getvalue()


def _preview(data: bytes, key: str, max_pixels: int) -> Preview | NoPreview:
    """A scaled JPEG of the image, decoding only what is within `max_pixels`: memory is by the pixel."""
    size = image_size(io.BytesIO(data), key)
    if size is None:
        return UNREADABLE
    if size[0] * size[1] > max_pixels:
        return _too_many_pixels(size, max_pixels)
    try:
        with Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[key]]) as image:
            if image.width * image.height > max_pixels:  # Pillow read a larger size than the header did
                return _too_many_pixels(image.size, max_pixels)
            # A JPEG decodes straight at a reduced size, no smaller than asked for: asked for a square,
            # a 4:3 photo would decode at half its size rather than a quarter.
            image.draft("RGB", _fitted(image.size, PREVIEW_PIXELS))
            picture = ImageOps.exif_transpose(image)  # phone photos are stored on their side
            if max(picture.size) > PREVIEW_PIXELS * PREVIEW_SLACK:
                picture.thumbnail((PREVIEW_PIXELS, PREVIEW_PIXELS))
            if picture.mode != "RGB":
                # Transparent parts on white, as a browser would show them on this page.
                background = Image.new("RGB", picture.size, "white")
                rgba = picture.convert("RGBA")
                background.paste(rgba, mask=rgba.getchannel("A"))
                picture = background
            out = io.BytesIO()
            picture.save(out, "JPEG", quality=80, optimize=True)
    except (OSError, ValueError, Image.DecompressionBombError):
        return UNREADABLE
    scale = min(PREVIEW_BOX[0] / picture.width, PREVIEW_BOX[1] / picture.height, 1.0)
    uri = "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")
    return Preview(uri, round(picture.width * scale, 1), round(picture.height * scale, 1))


def _fitted(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """The size of a preview of an image of `size`: its longest side at most `longest` pixels."""
    scale = min(longest / max(size), 1.0)
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _too_many_pixels(size: tuple[int, int], max_pixels: int) -> NoPreview:
    width, height = size
    return NoPreview(
        f"the image is {width:,} by {height:,} pixels ({megapixels(width * height)} megapixels), "
        f"over the limit of {megapixels(max_pixels)} megapixels"
    )
