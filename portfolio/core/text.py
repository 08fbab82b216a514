"""The one rule for text that people type and the database stores.

Control characters are never typed on purpose: they arrive pasted from word processors and
terminals, or from someone probing (PostgreSQL cannot store NUL at all). So they are dropped,
not refused with a message about a character nobody can see. Multi-line texts keep tabs and
line breaks; one-line texts (names, titles, emails) also lose the invisible characters that
make one name look like another or reorder what is shown after it (bidi controls, zero-width
characters), and their runs of blank space become one space.
"""

from __future__ import annotations

import re

# Line breaks other than LF: CR LF and CR (old Macs), Word's manual line break (VT), form feed,
# NEL and the Unicode line and paragraph separators.
_LINE_BREAKS = re.compile("\r\n?|[\x0b\x0c\x85\u2028\u2029]")
# What no text keeps: C0 and C1 controls other than tab, LF and CR, DEL, and lone surrogates
# (Python lets them into a str, e.g. from a command line that is not UTF-8).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# What the database cannot take at all: PostgreSQL refuses NUL, and a lone surrogate cannot be
# encoded to send it.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Invisible format characters: bidi marks, embeddings, overrides and isolates; zero-width
# space, non-joiner and joiner; word joiner and invisible operators; the byte order mark.
_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def storable(value: str) -> str:
    """`value` without what the database cannot store; nothing else changes.

    The models' safety net, for what the domain did not clean (see clean_text and clean_line).
    It is kept this narrow so that it never changes a text the domain wrote on purpose, such as
    the audit trail's JSON, whose hash covers it as written."""
    return _UNSTORABLE.sub("", value)


def clean_text(value: str) -> str:
    """A multi-line text: line breaks as LF, no control characters but tab and LF, no blank
    space around it."""
    return _CONTROL.sub("", _LINE_BREAKS.sub("\n", value)).strip()


def clean_line(value: str) -> str:
    """A one-line text: no control or invisible format characters, blank space collapsed to one
    space and none around it."""
    return " ".join(_INVISIBLE.sub("", clean_text(value)).split())
