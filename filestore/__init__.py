"""Evidence files: streamed in, hashed, checked by content, stored once by hash. Pure Python: no Flask, no database.

`FileSystemStore(root).put(stream, declared_name, max_bytes, max_pixels)` keeps an upload or raises
`UploadRejected` with a message fit for the person who sent it; the allow-list of kinds is
`ALLOWED`. Anything that stores files for the application implements `EvidenceStore`.
"""

from .errors import Reason, UploadRejected
from .images import DEFAULT_MAX_PIXELS, image_size, megapixels
from .store import (
    CHUNK_SIZE,
    MAX_NAME_LENGTH,
    EvidenceStore,
    FileProblem,
    FileSystemStore,
    StoredFile,
    check_export_name,
    check_store,
    display_name,
    is_sha256,
    split_extension,
)
from .types import ALLOWED, FileType, accept_attribute, accepted_summary, detect, file_type

__all__ = [
    "ALLOWED",
    "CHUNK_SIZE",
    "DEFAULT_MAX_PIXELS",
    "MAX_NAME_LENGTH",
    "EvidenceStore",
    "FileProblem",
    "FileSystemStore",
    "FileType",
    "Reason",
    "StoredFile",
    "UploadRejected",
    "accept_attribute",
    "accepted_summary",
    "check_export_name",
    "check_store",
    "detect",
    "display_name",
    "file_type",
    "image_size",
    "is_sha256",
    "megapixels",
    "split_extension",
]
