"""Office files are told from their whole ZIP directory, and any macro part, wherever it lies, refuses the file."""

from __future__ import annotations

import io
import struct
import warnings
import zipfile

import pytest

from filestore import UploadRejected, detect

from . import samples

MB = 1 << 20
DOCUMENT = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
MACRO_DOCUMENT = "application/vnd.ms-word.document.macroEnabled.main+xml"
VBA_PROJECT = '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'


def content_types(main: str = DOCUMENT, *, before: str = "", extra: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'{before}<Default Extension="xml" ContentType="application/xml"/>{extra}'
        f'<Override PartName="/word/document.xml" ContentType="{main}"/></Types>'
    )


def docx(types: str | None = None, *, parts: dict[str, bytes] | None = None, comment: bytes = b"") -> bytes:
    """A Word document: its content types, a document part, then `parts` (stored, in order)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", types or content_types())
        z.writestr("word/document.xml", '<?xml version="1.0" encoding="UTF-8"?><root/>')
        for name, data in (parts or {}).items():
            z.writestr(name, data, compress_type=zipfile.ZIP_STORED)
        z.comment = comment
    return out.getvalue()


def kind(tmp_path, data: bytes) -> str | None:
    """What type detection makes of the file: an office kind's key, or None."""
    path = tmp_path / "upload"
    path.write_bytes(data)
    found = detect(data[:4096], path)
    return found[0].key if found else None


def padding(size: int = 2 * MB) -> dict[str, bytes]:
    """A stored part big enough to push what follows it past the first megabytes of the file."""
    return {"word/media/image1.png": samples.png() + bytes(size)}


def test_plain_office_files_are_told_apart(tmp_path):
    assert [kind(tmp_path, samples.ooxml(k)) for k in ("docx", "xlsx", "pptx")] == ["docx", "xlsx", "pptx"]
    assert [kind(tmp_path, samples.odf(k)) for k in ("odt", "ods", "odp")] == ["odt", "ods", "odp"]
    assert kind(tmp_path, docx(parts=padding())) == "docx"
    assert kind(tmp_path, samples.plain_zip()) is None


def test_a_macro_declaration_past_the_first_megabyte_is_found(tmp_path, store, raw):
    # An XML comment is as good as any padding: the declaration sits 2 MB into the part.
    data = docx(content_types(MACRO_DOCUMENT, before="<!--" + " " * (2 * MB) + "-->"))
    assert kind(tmp_path, data) is None
    with pytest.raises(UploadRejected, match="not a Word document"):
        store.put(io.BytesIO(data), "report.docx", 10 * MB)
    assert raw.contents() == []


def test_a_vba_project_past_the_first_megabyte_is_found(tmp_path, store, raw):
    data = docx(content_types(extra=VBA_PROJECT), parts={**padding(), "word/vbaProject.bin": b"\xcc" * 512})
    assert data.index(b"word/vbaProject.bin") > MB
    assert kind(tmp_path, data) is None
    with pytest.raises(UploadRejected, match="not a Word document"):
        store.put(io.BytesIO(data), "report.docx", 10 * MB)
    assert raw.contents() == []


@pytest.mark.parametrize(
    "name",
    [
        "word/vbaProject.bin",
        "Word/VBAPROJECT.BIN",
        "xl/vbaProject.bin",
        "ppt/vbaProject.bin",
        "word/vbaData.xml",
        "customUI/vbaProjectSignature.bin",
        "word/activeX/activeX1.xml",
        "xl/macrosheets/sheet1.xml",
    ],
)
def test_a_code_part_is_refused_whatever_the_content_types_say(tmp_path, name):
    assert kind(tmp_path, docx(parts={name: b"\x00" * 64})) is None


@pytest.mark.parametrize(
    "declaration",
    [
        f'<Override PartName="/word/x.xml" ContentType="{MACRO_DOCUMENT}"/>',
        VBA_PROJECT,
        '<Default Extension="bin" ContentType="application/vnd.ms-office.activeX"/>',
        '<Override PartName="/xl/m.xml" ContentType="application/vnd.ms-excel.macrosheet+xml"/>',
        # A character reference spells the marker without its bytes.
        '<Override PartName="/word/x.xml" ContentType="application/vnd.ms-word.document.macro&#69;nabled.main+xml"/>',
    ],
)
def test_a_macro_content_type_is_refused(tmp_path, declaration):
    assert kind(tmp_path, docx(content_types(extra=declaration))) is None


def test_opendocument_basic_macros_are_refused(tmp_path):
    out = io.BytesIO(samples.odf("odt"))
    with zipfile.ZipFile(out, "a") as z:
        z.writestr("Basic/Standard/Module1.xml", "<script:module/>")
    assert kind(tmp_path, out.getvalue()) is None


def test_a_zip_comment_is_no_hiding_place(tmp_path):
    assert kind(tmp_path, docx(comment=b"Saved by a word processor")) == "docx"
    # A second end record in the comment could point a reader at another directory.
    bait = b"PK\x05\x06" + bytes(18)
    assert kind(tmp_path, docx(parts={"word/vbaProject.bin": b"x"}, comment=bait)) is None
    assert kind(tmp_path, docx(comment=bait)) is None  # two readings of one file: refused
    assert kind(tmp_path, docx() + b"trailing bytes") is None


def test_many_entries_are_all_read(tmp_path):
    many = {f"word/media/image{n}.png": b"" for n in range(5_000)}
    assert kind(tmp_path, docx(parts=many)) == "docx"
    assert kind(tmp_path, docx(parts={**many, "word/vbaProject.bin": b"x"})) is None


def test_too_many_entries_are_not_listed(tmp_path):
    assert kind(tmp_path, docx(parts={f"word/{n}": b"" for n in range(20_001)})) is None


def test_zip64_end_records_are_followed(tmp_path):
    assert kind(tmp_path, zip64(docx())) == "docx"
    assert kind(tmp_path, zip64(docx(parts={"word/vbaProject.bin": b"x"}))) is None
    assert kind(tmp_path, zip64(docx(content_types(MACRO_DOCUMENT)))) is None


def test_a_part_named_twice_is_refused(tmp_path):
    out = io.BytesIO(docx())
    with warnings.catch_warnings(), zipfile.ZipFile(out, "a") as z:
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name, which is the point
        z.writestr("[content_types].xml", content_types(MACRO_DOCUMENT))
    assert kind(tmp_path, out.getvalue()) is None


def test_a_broken_directory_is_refused(tmp_path):
    data = bytearray(docx())
    directory = data.rindex(b"PK\x01\x02")
    data[directory + 28 : directory + 30] = struct.pack("<H", 0xFFF0)  # a name running past the directory
    assert kind(tmp_path, bytes(data)) is None


def zip64(data: bytes) -> bytes:
    """The same ZIP with a ZIP64 end record and locator before an end record that defers to them."""
    entries, size, offset = struct.unpack_from("<HII", data, len(data) - 12)
    record_at = offset + size
    record = struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, entries, entries, size, offset)
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, record_at, 1)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    zipped = data[:record_at] + record + locator + end
    assert zipfile.ZipFile(io.BytesIO(zipped)).testzip() is None  # zipfile reads it too
    return zipped
