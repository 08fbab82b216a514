"""Names inside the exported ZIP and of the downloads: readable, portable, and never a path
taken from what someone typed.

Every name is cut down to lower-case ASCII letters, digits and hyphens, so that it means the
same on Windows, macOS and Linux and cannot climb out of its folder.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date

from filestore import split_extension

_NOT_SAFE = re.compile(r"[^a-z0-9]+")
# Letters that Unicode does not decompose into an ASCII letter and a mark.
_LETTERS = str.maketrans({"Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "Đ": "D", "đ": "d", "ı": "i", "ß": "ss",
                          "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "Þ": "Th", "þ": "th"})  # fmt: skip
# Names Windows will not create, whatever the extension.
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{n}" for n in range(1, 10)), *(f"lpt{n}" for n in range(1, 10))}


def slug(text: str, max_length: int = 50, fallback: str = "file") -> str:
    """ "Café plan (v2)" -> "cafe-plan-v2": lower-case ASCII words joined by hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text.translate(_LETTERS)).encode("ascii", "ignore").decode("ascii")
    words = _NOT_SAFE.sub("-", ascii_text.lower()).strip("-")
    words = words[:max_length].rstrip("-") or fallback
    return f"{words}-file" if words in _RESERVED else words


def item_folder(number: int, title: str) -> str:
    """The folder of an evidence item's files: `evidence/007-community-workshop-plan`."""
    return f"evidence/{number:03d}-{slug(title, fallback='item')}"


def file_names(names: Iterable[str]) -> list[str]:
    """Safe names for the files of one folder, in order; repeats become plan-2.pdf, plan-3.pdf..."""
    used: set[str] = set()
    safe = []
    for name in names:
        stem, extension = split_extension(name)
        stem = slug(stem, max_length=80)
        suffix = f".{slug(extension, max_length=10, fallback='')}" if extension else ""
        candidate, repeat = f"{stem}{suffix}", 1
        while candidate in used:
            repeat += 1
            candidate = f"{stem}-{repeat}{suffix}"
        used.add(candidate)
        safe.append(candidate)
    return safe


def export_name(apprentice: str, reference: str, day: date) -> str:
    """The name of a download, without its extension: `portfolio-jo-bloggs-st0396-2026-05-01`."""
    return f"portfolio-{slug(apprentice, fallback='apprentice')}-{slug(reference)}-{day.isoformat()}"
