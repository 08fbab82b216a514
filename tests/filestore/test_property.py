"""For any bytes under any name, put keeps an intact file or refuses, and never leaves a temporary file."""

from __future__ import annotations

import hashlib
import io
import tempfile
from pathlib import Path
from typing import get_args

from hypothesis import event, given, settings
from hypothesis import strategies as st

from filestore import FileSystemStore, Reason, UploadRejected

from .samples import files_under

PREFIXES = [b"", b"%PDF-1.7\n", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"\xff\xd8\xff\xe0", b"ID3\x03\x00", b"PK\x03\x04"]
EXTENSIONS = ["", ".pdf", ".png", ".gif", ".jpg", ".mp3", ".txt", ".csv", ".docx", ".exe", ".PDF"]


@settings(max_examples=300, deadline=None)
@given(
    prefix=st.sampled_from(PREFIXES),
    body=st.binary(max_size=3000) | st.text(max_size=1000).map(str.encode),
    stem=st.text(max_size=40),
    extension=st.sampled_from(EXTENSIONS),
    max_bytes=st.integers(min_value=1, max_value=4000),
)
def test_put_keeps_an_intact_file_or_refuses(prefix, body, stem, extension, max_bytes):
    data = prefix + body
    with tempfile.TemporaryDirectory() as directory:
        store = FileSystemStore(Path(directory))
        try:
            kept = store.put(io.BytesIO(data), stem + extension, max_bytes)
        except UploadRejected as rejected:
            event(f"refused: {rejected.reason}")
            assert rejected.reason in get_args(Reason)
            assert rejected.message
            assert files_under(store.root) == []
        else:
            event(f"kept: {kept.extension}")
            assert len(data) <= max_bytes
            with store.open(kept.sha256) as f:
                assert hashlib.sha256(f.read()).hexdigest() == kept.sha256 == hashlib.sha256(data).hexdigest()
            assert files_under(store.root) == [store.root / kept.sha256[:2] / kept.sha256[2:4] / kept.sha256]
