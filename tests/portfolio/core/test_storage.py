"""The upload form parser reads a request's body in large blocks and still parses every body right."""

from __future__ import annotations

import hashlib
import io
import random

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.wsgi import LimitedStream

from filestore.store import IncomingFile
from portfolio.core.storage import BODY_READ_SIZE, UploadFormParser, form_block_size
from portfolio.extensions import db
from portfolio.models import EvidenceItem

from ..conftest import sign_in

BOUNDARY = b"----portfolio-block-edge"
FLASK_FORM_MEMORY = 500_000  # Flask's MAX_FORM_MEMORY_SIZE, which the app keeps
BLOCK = form_block_size(FLASK_FORM_MEMORY)
DELIMITER = b"\r\n--" + BOUNDARY + b"\r\n"


class ServerInput:
    """A server's `wsgi.input` as gunicorn's is (read only, no readinto), noting what each read asks for."""

    def __init__(self, body: bytes) -> None:
        self._body = io.BytesIO(body)
        self.asked: list[int] = []

    def read(self, size: int = -1) -> bytes:
        self.asked.append(size)
        return self._body.read(size)

    # The test client measures the body with these.
    def tell(self) -> int:
        return self._body.tell()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._body.seek(offset, whence)


def _part(name: str, value: bytes, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    kind = "Content-Type: application/pdf\r\n" if filename else ""
    return f"--{BOUNDARY.decode()}\r\nContent-Disposition: {disposition}\r\n{kind}\r\n".encode() + value + b"\r\n"


def _body(parts: list[bytes]) -> bytes:
    return b"".join(parts) + b"--" + BOUNDARY + b"--\r\n"


def _evidence_form(recording: bytes) -> bytes:
    """The add-evidence form, complete, with `recording` as its one file."""
    fields = {
        "title": "Recording of the lantern parade", "kind": "photo_or_video", "criteria": "S5",
        "justification-S5": "The recording shows me briefing the stewards.",
    }  # fmt: skip
    parts = [_part(name, value.encode()) for name, value in fields.items()]
    parts += [_part("activity_date", value) for value in (b"14", b"10", b"2025")]
    return _body([*parts, _part("files", recording, filename="parade.pdf")])


def _post(client, enrolment, body: bytes, server_input=None):
    return client.post(
        f"/enrolments/{enrolment.id}/evidence/new",
        input_stream=server_input or io.BytesIO(body),
        content_length=len(body),
        content_type=f"multipart/form-data; boundary={BOUNDARY.decode()}",
    )


def _parse(body: bytes, stream: io.RawIOBase | io.BytesIO | None = None):
    """The form and files that the app's parser makes of `body`, read from `stream` (werkzeug's own by default)."""
    parser = UploadFormParser(max_form_memory_size=FLASK_FORM_MEMORY)
    stream = stream or LimitedStream(io.BytesIO(body), len(body))
    _, form, files = parser.parse(stream, "multipart/form-data", len(body), {"boundary": BOUNDARY.decode()})
    return form, {name: upload.read() for name, upload in files.items()}


def test_an_8_mib_upload_is_read_a_megabyte_at_a_time_and_written_in_few_blocks(app, client, world, monkeypatch):
    enrolment = world.enrolment()
    sign_in(client, enrolment.apprentice)
    writes: list[int] = []
    write = IncomingFile.write

    def counted(self, chunk: bytes) -> int:
        writes.append(len(chunk))
        return write(self, chunk)

    monkeypatch.setattr(IncomingFile, "write", counted)
    recording = b"%PDF-1.7\n" + random.Random(8).randbytes(8 << 20)
    body = _evidence_form(recording)
    server_input = ServerInput(body)
    response = _post(client, enrolment, body, server_input)
    assert response.status_code == 302, response.get_data(as_text=True)
    stored = db.session.scalar(select(EvidenceItem)).files[0]
    assert stored.sha256 == hashlib.sha256(recording).hexdigest()
    # Werkzeug's own parser would read 64 KiB at a time: 130 reads, and as many writes.
    assert max(server_input.asked) == BODY_READ_SIZE and len(server_input.asked) <= len(body) // BODY_READ_SIZE + 2
    assert sum(writes) == len(recording) and len(writes) <= len(recording) // BLOCK + 2


def test_blocks_stay_under_a_lower_form_memory_limit(app, client, world):
    """The decoder refuses a block over MAX_FORM_MEMORY_SIZE: a lower limit makes smaller blocks, not a 413."""
    app.config["MAX_FORM_MEMORY_SIZE"] = 100_000
    enrolment = world.enrolment()
    sign_in(client, enrolment.apprentice)
    response = _post(client, enrolment, _evidence_form(b"%PDF-1.4\n" + bytes(300_000)))
    assert response.status_code == 302, response.get_data(as_text=True)
    long_text = _body([_part("title", b"Workshop plan"), _part("description", b"x" * 100_001)])
    response = _post(client, enrolment, long_text)
    assert response.status_code == 413  # a text field over the limit is still refused


# Ends of a file that look like the start of the delimiter after it (never the whole of one,
# which no file may hold: RFC 2046).
TAILS = [b"", b"\r", b"\n", b"\r\n", b"\r\n-", b"\r\n--", b"\r\n--" + BOUNDARY[:-1], b"--" + BOUNDARY[:-1]]


@pytest.mark.parametrize("edge", [BLOCK, 2 * BLOCK, BODY_READ_SIZE])
@pytest.mark.parametrize("tail", TAILS, ids=[repr(t) for t in TAILS])
def test_a_boundary_across_a_block_edge_parses(edge, tail):
    """The delimiter after a file starts at every offset around the edge, its bytes split every way.

    The file ends in bytes that look like the start of a delimiter, which the decoder must hold
    back at the end of a block and then give out as the file's when the next block shows otherwise.
    """
    head = _part("note", b"before")
    file_head = _part("files", b"", filename="plan.pdf")[: -len(b"\r\n")]
    for start in range(edge - len(DELIMITER) - 1, edge + 2):
        size = start - len(head) - len(file_head)
        data = random.Random(size).randbytes(size - len(tail)) + tail
        body = _body([head, file_head + data + b"\r\n", _part("after", b"the file")])
        assert body.index(DELIMITER, len(head) + len(file_head) + len(data) - len(tail)) == start
        for stream in (None, io.BytesIO(body)):  # werkzeug's stream, and a body read in full first
            form, files = _parse(body, stream)
            assert files == {"files": data}, f"delimiter at {start}"
            assert form.to_dict() == {"note": "before", "after": "the file"}


FRAGMENTS = st.sampled_from([b"\r", b"\n", b"\r\n", b"-", b"--", BOUNDARY[:5], BOUNDARY, b"\x00", b"x" * 1000])


@settings(max_examples=60, deadline=None)
@given(
    files=st.lists(
        st.tuples(
            st.sampled_from([BLOCK, 2 * BLOCK, BODY_READ_SIZE]).flatmap(lambda n: st.integers(n - 200, n + 200)),
            st.lists(FRAGMENTS, max_size=20),
            st.integers(0, 2**32),
        ),
        min_size=1,
        max_size=3,
    ),
    note=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=50),
)
def test_any_files_near_the_block_edges_parse_to_their_bytes(files, note):
    """Files of sizes about a block's, cut anywhere by fragments of line breaks and the boundary."""
    made = {}
    for number, (size, fragments, seed) in enumerate(files):
        data = bytearray(random.Random(seed).randbytes(size))
        for at, fragment in zip(random.Random(seed).sample(range(size), len(fragments)), fragments, strict=True):
            data[at : at + len(fragment)] = fragment
        made[f"file{number}"] = bytes(data[:size])
        assume(b"\n--" + BOUNDARY not in data and b"\r--" + BOUNDARY not in data)  # no file may hold a delimiter
    parts = [_part(name, data, filename=f"{name}.pdf") for name, data in made.items()]
    form, parsed = _parse(_body([*parts, _part("note", note.encode())]))
    assert parsed == made
    assert form["note"] == note
