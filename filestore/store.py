"""Evidence files kept by content: streamed in, hashed, checked, then renamed into place.

A file is known by the SHA-256 of its bytes and stored once, at `root/ab/cd/abcd...`. An upload
streams to a temporary file under `root/tmp/` (same filesystem, so the final rename is atomic),
is hashed, counted and type-checked on the way, and only a complete, accepted file is renamed
into place; any failure removes the temporary file. Names people give their files are shown
back to them (see `display_name`) but never become paths.

Files are never deleted on the spot, because two records may share one file: the application's
sweep calls `delete_if_unchanged_since` for files nothing has referred to for a while, and `put`
refreshes the modification time of a file it reuses, so a file just reused is never swept.

What every store does with an upload before it keeps it (`accept_upload`: stream it to a local
`IncomingFile`, check it) and with a file it writes whole (`write_through`) is here, shared by
this store and the object store of `filestore.s3`; only where the checked file goes differs.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import tempfile
import time
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal, Protocol

from .errors import UploadRejected
from .images import DEFAULT_MAX_PIXELS, check_pixels
from .types import FileType, Sniffer, choose

CHUNK_SIZE = 1 << 20
MAX_NAME_LENGTH = 150
_MIB = 1 << 20
_SHA256 = re.compile(r"[0-9a-f]{64}")
_EXTENSION = re.compile(r"[A-Za-z0-9]{1,10}")
_EXPORT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_HIDDEN = {"Cc", "Cf", "Cs"}  # control, invisible formatting (bidi overrides, zero-width) and lone surrogates


@dataclass(frozen=True, slots=True)
class StoredFile:
    """What the store kept: the key to find it again and what it is."""

    sha256: str
    size: int
    media_type: str
    extension: str  # without the dot: the name's own if it fits the contents, else the usual one
    label: str
    previewable: bool  # an image that may be shown inline; anything else is served as an attachment
    crc32: int  # the CRC-32 of the bytes, which a ZIP's headers carry before them
    pixels: int | None = None  # an image's width times height, read from its header; None for other kinds

    @property
    def content_type(self) -> str:
        """The Content-Type to serve it with (text was checked to be UTF-8, so say so)."""
        return f"{self.media_type}; charset=utf-8" if self.media_type.startswith("text/") else self.media_type


@dataclass(frozen=True, slots=True)
class FileProblem:
    """A file the records expect that is not there, or whose bytes no longer match its hash."""

    sha256: str
    kind: Literal["missing", "altered"]

    def __str__(self) -> str:
        return f"{self.sha256}: {self.kind}"


class EvidenceStore(Protocol):
    """What the application needs from a place that keeps evidence files, so an object store can stand in.

    Files are addressed by their SHA-256 hex digest. A string that is not one (64 lowercase
    hex characters) raises ValueError before any storage is touched; an unknown hash raises
    KeyError, except in `exists`, `verify` (False) and `delete_if_unchanged_since` (False).
    """

    def put(
        self, stream: BinaryIO, declared_name: str, max_bytes: int, max_pixels: int = DEFAULT_MAX_PIXELS
    ) -> StoredFile: ...

    # A local temporary file a web framework may write an upload into as it arrives, hashed on the
    # way; `put` takes it as it is, so the bytes are written once before the store keeps them.
    def incoming(self) -> IncomingFile: ...

    def open(self, sha256: str) -> BinaryIO: ...

    def exists(self, sha256: str) -> bool: ...

    def size(self, sha256: str) -> int: ...

    def verify(self, sha256: str) -> bool: ...

    def iter_hashes(self) -> Iterator[str]: ...

    def delete_if_unchanged_since(self, sha256: str, cutoff: float) -> bool: ...

    def clean_temp(self, older_than: float = 24 * 3600, now: float | None = None) -> int: ...

    def is_ready(self) -> bool: ...

    def restore_file(self, sha256: str, source: BinaryIO) -> int: ...

    # Finished exports, kept by a name the application chooses (see `check_export_name`); unlike
    # evidence they are made again from the records if lost, so they are replaced, not hashed.
    def put_export(self, name: str, source: BinaryIO) -> int: ...

    def open_export(self, name: str) -> BinaryIO: ...

    def export_names(self) -> Iterator[str]: ...

    def delete_export(self, name: str) -> bool: ...


def check_export_name(name: str) -> str:
    """`name` if it may name an export (letters, digits, ".", "_", "-"; never a path), else ValueError."""
    if not is_export_name(name):
        raise ValueError(f"not an export name: {name!r:.80}")
    return name


def is_export_name(name: str) -> bool:
    """Whether `name` may name an export (see `check_export_name`)."""
    return _EXPORT_NAME.fullmatch(name) is not None and ".." not in name


def is_sha256(text: object) -> bool:
    """Whether `text` is a SHA-256 hex digest as the store writes them (lowercase)."""
    return isinstance(text, str) and _SHA256.fullmatch(text) is not None


def check_store(store: EvidenceStore, expected: Iterable[str] | None = None) -> list[FileProblem]:
    """Rehash files and report the missing and the altered.

    With `expected` (the hashes the records refer to) each is looked for and checked; without
    it, every file the store holds is checked against its own name.
    """
    problems = []
    for sha256 in store.iter_hashes() if expected is None else dict.fromkeys(expected):
        if not is_sha256(sha256):
            problems.append(FileProblem(sha256, "missing"))
        elif not store.verify(sha256):
            problems.append(FileProblem(sha256, "missing" if not store.exists(sha256) else "altered"))
    return problems


class FileSystemStore:
    """An EvidenceStore in a directory of the local filesystem."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    @property
    def temp_dir(self) -> Path:
        """Where uploads arrive: inside the store, on its filesystem, so that keeping one is a rename."""
        return self.root / "tmp"

    def put(
        self, stream: BinaryIO, declared_name: str, max_bytes: int, max_pixels: int = DEFAULT_MAX_PIXELS
    ) -> StoredFile:
        """Keep the file `stream` yields, named `declared_name` by its sender, if it is acceptable
        (see `accept_upload`); an `IncomingFile` of this store is taken without copying it again."""
        return accept_upload(stream, declared_name, max_bytes, max_pixels, self.temp_dir, self._keep)

    def is_ready(self) -> bool:
        """Whether files can be stored now: the folder is there (made, as the first upload would
        make it) and this process may write to it."""
        return writable_folder(self.root)

    def incoming(self) -> IncomingFile:
        """A temporary file in this store that hashes what is written to it, for `put` to take."""
        return IncomingFile(self.temp_dir)

    def _keep(self, incoming: IncomingFile, sha256: str) -> None:
        """Rename a checked upload into place, durably."""
        final = self._path(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        # Same bytes, same name: keep what is there, unless its size shows it was damaged, or a
        # sweep took it away between the look and the refresh of its time (`_refresh` is False).
        if not (final.is_file() and final.stat().st_size == incoming.size and _refresh(final)):
            incoming.flush_to_disk()
            incoming.move_to(final)
            _fsync_directory(final.parent)

    def open(self, sha256: str) -> BinaryIO:
        """The stored file for reading; KeyError if there is none."""
        try:
            return self._path(sha256).open("rb")
        except FileNotFoundError:
            raise KeyError(sha256) from None

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).is_file()

    def size(self, sha256: str) -> int:
        try:
            return self._path(sha256).stat().st_size
        except FileNotFoundError:
            raise KeyError(sha256) from None

    def verify(self, sha256: str) -> bool:
        """Rehash the stored file: True if it is there and its bytes still have this hash."""
        try:
            with self._path(sha256).open("rb") as stream:
                return hashlib.file_digest(stream, "sha256").hexdigest() == sha256
        except FileNotFoundError:
            return False

    def iter_hashes(self) -> Iterator[str]:
        """Every stored file's hash, in order; temporary files and strays are not included."""
        for first in _subdirectories(self.root):
            for second in _subdirectories(first):
                for entry in sorted(second.iterdir()):
                    name = entry.name
                    if is_sha256(name) and name[:2] == first.name and name[2:4] == second.name and entry.is_file():
                        yield name

    def delete_if_unchanged_since(self, sha256: str, cutoff: float) -> bool:
        """Remove a file not stored or reused (see `put`) since `cutoff` (a POSIX time); True if removed.

        The caller has decided that nothing refers to the file. An upload of the same bytes at this
        very moment either refreshed the time before the file was moved aside (it is put back) or
        finds it gone and stores its own copy, so a file just reused is never lost.
        """
        path = self._path(sha256)
        try:
            if path.stat().st_mtime >= cutoff:
                return False
            aside = self.temp_dir / f"sweep-{sha256[:16]}-{secrets.token_hex(8)}"
            aside.parent.mkdir(parents=True, exist_ok=True)
            os.rename(path, aside)
        except FileNotFoundError:
            return False
        if aside.stat().st_mtime >= cutoff:  # reused between the first look and the move
            os.replace(aside, path)  # identical bytes if that upload stored its own copy meanwhile
            return False
        aside.unlink()
        return True

    def check(self, expected: Iterable[str] | None = None) -> list[FileProblem]:
        """See `check_store`."""
        return check_store(self, expected)

    def clean_temp(self, older_than: float = 24 * 3600, now: float | None = None) -> int:
        """Remove temporary files not written to for `older_than` seconds, as a process killed
        mid-upload leaves them; returns how many."""
        return clean_temp_folder(self.temp_dir, older_than, now)

    def restore_file(self, sha256: str, source: BinaryIO) -> int:
        """Put back a file from a backup under its hash, without the checks an upload gets (they
        were made when it first came); ValueError, and nothing kept, if the bytes do not have
        that hash. Returns the size."""
        return write_through(self.temp_dir, source, self._mover(self._path(sha256)), has_hash(sha256))

    def put_export(self, name: str, source: BinaryIO) -> int:
        """Keep `source` (read to its end) as the export `name`, replacing any; returns its size.
        Readers see the old file or the new one, never a part."""
        return write_through(self.temp_dir, source, self._mover(self._export_path(name)))

    @staticmethod
    def _mover(final: Path) -> Callable[[IncomingFile], None]:
        """What puts a complete temporary file at `final` durably (for `write_through`)."""

        def move(incoming: IncomingFile) -> None:
            incoming.flush_to_disk()
            final.parent.mkdir(parents=True, exist_ok=True)
            incoming.move_to(final)
            _fsync_directory(final.parent)

        return move

    def open_export(self, name: str) -> BinaryIO:
        try:
            return self._export_path(name).open("rb")
        except FileNotFoundError:
            raise KeyError(name) from None

    def export_names(self) -> Iterator[str]:
        folder = self.root / "exports"
        if folder.is_dir():
            yield from sorted(entry.name for entry in folder.iterdir() if is_export_name(entry.name))

    def delete_export(self, name: str) -> bool:
        """Remove the export `name`; False if there was none. A download already reading it
        finishes (POSIX keeps an open file's bytes)."""
        try:
            self._export_path(name).unlink()
        except FileNotFoundError:
            return False
        return True

    def _export_path(self, name: str) -> Path:
        return self.root / "exports" / check_export_name(name)

    def _path(self, sha256: str) -> Path:
        if not is_sha256(sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r:.80}")
        return self.root / sha256[:2] / sha256[2:4] / sha256


def accept_upload(
    stream: BinaryIO,
    declared_name: str,
    max_bytes: int,
    max_pixels: int,
    temp_dir: Path,
    keep: Callable[[IncomingFile, str], None],
) -> StoredFile:
    """What `put` does in every store: stream the upload to an `IncomingFile` in `temp_dir` (one
    already there is taken as it is), check it (`check_upload`), then `keep(incoming, sha256)`,
    the store's own part, which places it under its hash.

    Raises UploadRejected for a file too large, empty, of a kind not on the allow-list, whose
    contents do not match its name, or an image of more than `max_pixels`; errors of the stream
    or the storage propagate. Either way nothing is left behind.
    """
    if max_bytes < 1:
        raise ValueError("max_bytes must be positive")
    extension = split_extension(display_name(declared_name))[1]  # a bad name fails before any byte is read
    if isinstance(stream, IncomingFile) and stream.temp_dir == temp_dir:
        incoming, taken = stream, True
    else:
        incoming, taken = IncomingFile(temp_dir), False
    try:
        if not taken:
            copy_into(incoming, stream, limit=max_bytes + 1)  # a byte past the limit tells it is too large
        kind, pixels = check_upload(incoming, extension, max_bytes, max_pixels)
        sha256 = incoming.digest.hexdigest()
        keep(incoming, sha256)
        extension = extension.lower() if extension.lower() in kind.extensions else kind.extension
        return StoredFile(
            sha256, incoming.size, kind.media_type, extension, kind.label, kind.previewable, incoming.crc32, pixels
        )
    finally:
        incoming.close()


def check_upload(
    incoming: IncomingFile, extension: str, max_bytes: int, max_pixels: int
) -> tuple[FileType, int | None]:
    """What a complete upload is, if it may be kept, and an image's pixels: within `max_bytes`, not
    empty, of an allowed kind that its name's `extension` fits, an image of at most `max_pixels`;
    else UploadRejected."""
    if incoming.size > max_bytes:
        raise UploadRejected("too_large", f"The file is too large. The limit is {_megabytes(max_bytes)} MB.")
    if incoming.size == 0:
        raise UploadRejected("empty", "The file is empty. Please choose a file with something in it.")
    incoming.flush()  # the checks below read the file by its path
    kind = choose(incoming.sniffer.detect(incoming.path), extension)
    pixels = check_pixels(incoming.path, kind.key, max_pixels) if kind.previewable else None
    return kind, pixels


def write_through(
    temp_dir: Path,
    source: BinaryIO,
    place: Callable[[IncomingFile], None],
    check: Callable[[IncomingFile], None] | None = None,
) -> int:
    """Copy `source` to a temporary file in `temp_dir`, `check` it, then `place` it where it
    belongs; returns the size. Nothing is placed, and no temporary file is left, if a step fails."""
    with IncomingFile(temp_dir) as incoming:
        copy_into(incoming, source)
        if check:
            check(incoming)
        place(incoming)
        return incoming.size


def has_hash(sha256: str) -> Callable[[IncomingFile], None]:
    """A check for `write_through`: ValueError if the bytes written have another hash than `sha256`."""

    def check(incoming: IncomingFile) -> None:
        if incoming.digest.hexdigest() != sha256:
            raise ValueError(f"the bytes given for {sha256} have another hash")

    return check


def copy_into(incoming: IncomingFile, source: BinaryIO, limit: int | None = None) -> None:
    """Write what `source` yields into `incoming`, to its end or until `limit` bytes have come."""
    while chunk := source.read(CHUNK_SIZE if limit is None else min(CHUNK_SIZE, limit - incoming.size)):
        incoming.write(chunk)
        if limit is not None and incoming.size >= limit:
            break


def clean_temp_folder(temp_dir: Path, older_than: float, now: float | None = None) -> int:
    """Remove a store's temporary files not written to for `older_than` seconds; returns how many."""
    removed = 0
    if temp_dir.is_dir():
        cutoff = (time.time() if now is None else now) - older_than
        for entry in temp_dir.iterdir():
            try:
                if entry.name.startswith(("upload-", "sweep-")) and entry.stat().st_mtime < cutoff:
                    entry.unlink()
                    removed += 1
            except FileNotFoundError:  # finished or removed by someone else meanwhile
                pass
    return removed


def writable_folder(path: Path) -> bool:
    """Whether `path` is a folder (made if need be) that this process may write in."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(path, os.W_OK | os.X_OK)


class IncomingFile:
    """A temporary file in a store's temporary folder that hashes (SHA-256 and CRC-32), counts and sniffs its bytes.

    A web framework can write an upload straight into one (so the bytes are written and
    hashed once), then hand it to `put`. Closing it removes the file unless `put` took it.
    """

    def __init__(self, temp_dir: Path) -> None:
        temp_dir.mkdir(parents=True, exist_ok=True)
        self.temp_dir = temp_dir
        fd, name = tempfile.mkstemp(dir=temp_dir, prefix="upload-")
        self.path = Path(name)
        self._file = open(fd, "w+b")  # noqa: SIM115 (closed by close())
        self.digest = hashlib.sha256()
        self.crc32 = 0
        self.sniffer = Sniffer()
        self.size = 0
        self._moved = False

    def write(self, chunk: bytes) -> int:
        self._file.write(chunk)
        self.digest.update(chunk)
        self.crc32 = zlib.crc32(chunk, self.crc32)
        self.sniffer.feed(chunk)
        self.size += len(chunk)
        return len(chunk)

    # Reading back, for code that treats it as the uploaded file's stream.
    def read(self, size: int = -1) -> bytes:
        return self._file.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def flush(self) -> None:
        self._file.flush()

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    @property
    def closed(self) -> bool:
        return self._file.closed

    def flush_to_disk(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())

    def move_to(self, final: Path) -> None:
        os.replace(self.path, final)
        self._moved = True

    def close(self) -> None:
        self._file.close()
        if not self._moved:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> IncomingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _megabytes(size: int) -> str:
    return f"{size / _MIB:.1f}".removesuffix(".0")


def _refresh(path: Path) -> bool:
    """Mark a stored file as just used, so the sweep leaves it; False if it is no longer there."""
    try:
        os.utime(path)
    except FileNotFoundError:
        return False
    return True


def _fsync_directory(path: Path) -> None:
    """Make a rename durable: on POSIX the directory entry needs its own fsync."""
    if os.name == "posix":
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _subdirectories(path: Path) -> list[Path]:
    if not path.is_dir():
        return []
    return sorted(p for p in path.iterdir() if re.fullmatch(r"[0-9a-f]{2}", p.name) and p.is_dir())


def split_extension(name: str) -> tuple[str, str]:
    """(stem, extension without the dot); the extension is "" unless it is 1-10 letters or digits."""
    stem, dot, extension = name.rpartition(".")
    if dot and _EXTENSION.fullmatch(extension):
        return stem, extension
    return name, ""


def display_name(declared_name: str) -> str:
    """A name safe to show and to offer as a download name; never a path.

    Keeps the base name only (after the last / or \\), drops control and invisible formatting
    characters (a right-to-left override can disguise `exe.pdf`), collapses whitespace, trims
    leading and trailing dots and spaces, and cuts it to MAX_NAME_LENGTH characters keeping the
    extension. A name with nothing left but an extension becomes "file.ext"; one with nothing
    left at all is rejected (UploadRejected "bad_name").
    """
    base = declared_name.replace("\\", "/").rsplit("/", 1)[-1]
    kept = (" " if ch.isspace() else ch for ch in base if ch.isspace() or unicodedata.category(ch) not in _HIDDEN)
    clean = " ".join("".join(kept).split())
    stem, extension = split_extension(clean)
    stem = stem.strip(" .")
    if not stem and not extension:
        raise UploadRejected("bad_name", "The file has no usable name. Please rename it and try again.")
    if not extension:
        return stem[:MAX_NAME_LENGTH].rstrip(" .")
    stem = stem[: MAX_NAME_LENGTH - len(extension) - 1].rstrip(" .") or "file"
    return f"{stem}.{extension}"
