"""Display names: what people called their files, made safe to show and to offer for download."""

from __future__ import annotations

import pytest

from filestore import MAX_NAME_LENGTH, UploadRejected, display_name, split_extension


@pytest.mark.parametrize(
    ("declared", "shown"),
    [
        ("Risk assessment v2.docx", "Risk assessment v2.docx"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\system.ini", "system.ini"),
        ("C:\\Users\\Ada\\Desktop\\plan.pdf", "plan.pdf"),
        ("/abs/path/photo.JPG", "photo.JPG"),
        ("a\x00b.txt", "ab.txt"),
        ("tab\tand\nnewline   and  spaces.txt", "tab and newline and spaces.txt"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # a right-to-left override would show "invoiceexe.pdf"
        ("zero\u200bwidth.pdf", "zerowidth.pdf"),
        (".pdf", "file.pdf"),
        ("  ...hidden.txt. ", "hidden.txt"),
        ("...  .png", "file.png"),
        ("café ✓ notes.txt", "café ✓ notes.txt"),
        ("no extension", "no extension"),
        ("report.final version", "report.final version"),
        ("archive.tar.gz", "archive.tar.gz"),
    ],
)
def test_display_name(declared, shown):
    assert display_name(declared) == shown


def test_a_long_name_is_cut_keeping_its_extension():
    shown = display_name("x" * 300 + ".pdf")
    assert len(shown) == MAX_NAME_LENGTH
    assert shown == "x" * 146 + ".pdf"
    assert len(display_name("y" * 300)) == MAX_NAME_LENGTH


def test_a_cut_does_not_end_in_a_space_or_dot():
    shown = display_name("a" * 144 + " . b" + ".txt")
    assert shown == "a" * 144 + ".txt"


@pytest.mark.parametrize("declared", ["", " ", "/", "a/", "..", "\x00", "\u202e", "C:\\"])
def test_nothing_usable_is_refused(declared):
    with pytest.raises(UploadRejected) as caught:
        display_name(declared)
    assert caught.value.reason == "bad_name"


def test_split_extension():
    assert split_extension("a.b.PDF") == ("a.b", "PDF")
    assert split_extension("a.") == ("a.", "")
    assert split_extension("a.toolongextension") == ("a.toolongextension", "")
    assert split_extension("plain") == ("plain", "")
