"""`portfolio backup DIR` and `portfolio restore DIR`: the database and the evidence store copied
together, so that no row of the copy is without its file.

A backup copies the database first, as one snapshot, then every file a row of that snapshot
refers to (evidence files and staged uploads), hashing each as it is copied. Only the sweep
deletes stored files, and the backup holds the sweep's lock until the last file is copied, so
none of them can go meanwhile; a missing or altered one fails the backup, naming it, rather than
make a backup that lies. (The other order loses files: a row written between copying the files
and dumping the database names a file the copy lacks.) Finished exports are not copied: they are
made again from the records. DIR holds:

    manifest.json       what the backup holds (`Manifest`)
    database.dump       pg_dump's custom format (database.sqlite3 for SQLite)
    files/ab/cd/abcd…   every file, under its SHA-256 as the store keeps it
    SHA256SUMS          `sha256sum -c SHA256SUMS` checks every other file

A restore checks the manifest and every checksum before it touches anything, and restores only
into an empty database and a store holding no other files: the files first, then the database,
so that here too no row is ever without its file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path, PurePosixPath
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, func, inspect, select, table, text
from sqlalchemy.orm import Session

from filestore import CHUNK_SIZE, EvidenceStore, is_sha256

from .. import MIGRATIONS
from ..core.domain import DomainError
from ..evidence.file_sweep import referenced_hashes, sweep_lock
from ..evidence.integrity import users_of_files
from ..models import ReadingPage
from .database_copy import database_copy

FORMAT = "portfolio-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
DATABASE_FILES = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}

Say = Callable[[str], None]


def _quiet(line: str) -> None:
    pass


class BackupRefused(DomainError):
    """The backup or restore stopped; `problems` names each file or check that made it stop."""

    def __init__(self, message: str, problems: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


@dataclass(frozen=True)
class BackedUpFile:
    sha256: str
    size: int

    @property
    def path(self) -> str:
        return file_path(self.sha256)


def file_path(sha256: str) -> str:
    """Where a file is in a backup, laid out as the store lays files out."""
    return f"files/{sha256[:2]}/{sha256[2:4]}/{sha256}"


@dataclass(frozen=True)
class Manifest:
    """What a backup holds: enough to check it, and to know what it can be restored into."""

    created_at: str
    application_version: str
    alembic_revision: str
    database_kind: str
    database_size: int
    database_sha256: str
    database_facts: dict[str, Any]  # the server's and pg_dump's versions, or SQLite's
    tables: dict[str, int]  # rows per table
    files: list[BackedUpFile]

    @property
    def database_file(self) -> str:
        return DATABASE_FILES[self.database_kind]

    def as_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": self.created_at,
            "application_version": self.application_version,
            "alembic_revision": self.alembic_revision,
            "database": {
                "kind": self.database_kind,
                "file": self.database_file,
                "size": self.database_size,
                "sha256": self.database_sha256,
                **self.database_facts,
            },
            "tables": self.tables,
            "files": {
                "count": len(self.files),
                "bytes": sum(f.size for f in self.files),
                "list": [{"sha256": f.sha256, "size": f.size} for f in self.files],
            },
        }

    @classmethod
    def from_json(cls, data: Any) -> Manifest:
        """The manifest in `data`; ValueError saying what is wrong with it."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"it is not the manifest of a {FORMAT}")
        if data.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"it is of format version {data.get('format_version')!r}, and this version of the "
                f"application reads version {FORMAT_VERSION}"
            )
        database = _field(data, "database", dict)
        kind = _field(database, "kind", str)
        if kind not in DATABASE_FILES or database.get("file") != DATABASE_FILES[kind]:
            raise ValueError(f"its database is of an unknown kind or file: {kind!r}")
        files = [
            BackedUpFile(_field(entry, "sha256", str), _field(entry, "size", int))
            for entry in _field(_field(data, "files", dict), "list", list)
        ]
        tables = _field(data, "tables", dict)
        if not all(isinstance(rows, int) for rows in tables.values()) or not all(is_sha256(f.sha256) for f in files):
            raise ValueError("its tables or files are not what a backup writes")
        facts = {k: v for k, v in database.items() if k not in ("kind", "file", "size", "sha256")}
        return cls(
            created_at=_field(data, "created_at", str),
            application_version=_field(data, "application_version", str),
            alembic_revision=_field(data, "alembic_revision", str),
            database_kind=kind,
            database_size=_field(database, "size", int),
            database_sha256=_field(database, "sha256", str),
            database_facts=facts,
            tables=tables,
            files=files,
        )


def _field(data: Any, name: str, kind: type) -> Any:
    value = data.get(name) if isinstance(data, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"its {name!r} is missing or not a {kind.__name__}")
    return value


@dataclass(frozen=True)
class BackupReport:
    directory: Path
    manifest: Manifest

    def __str__(self) -> str:
        return (
            f"Backed up the {self.manifest.database_kind} database at revision {self.manifest.alembic_revision} "
            f"({self.manifest.database_size:,} bytes, {_rows(self.manifest)}) and {_files(self.manifest)} "
            f"to {self.directory}."
        )


@dataclass(frozen=True)
class RestoreReport:
    manifest: Manifest
    problems: list[str] = field(default_factory=list)  # tables whose rows differ from the manifest's count

    def __str__(self) -> str:
        return (
            f"Restored {_files(self.manifest)} and the {self.manifest.database_kind} database of "
            f"{self.manifest.created_at} at revision {self.manifest.alembic_revision} ({_rows(self.manifest)})."
        )


def _files(manifest: Manifest) -> str:
    return f"{len(manifest.files):,} files ({sum(f.size for f in manifest.files):,} bytes)"


def _rows(manifest: Manifest) -> str:
    return f"{sum(manifest.tables.values()):,} rows"


def make_backup(engine: Engine, store: EvidenceStore, directory: Path, *, say: Say = _quiet) -> BackupReport:
    """Back up the database of `engine` and the files its rows refer to into `directory`, which
    must be new or empty; BackupRefused (DIR left empty) if it cannot be done faithfully."""
    copy = database_copy(engine)
    created = _new_or_empty(directory)
    try:
        with sweep_lock(engine, wait=True, on_wait=lambda: say("Waiting for the evidence sweep to finish...")):
            database_path = directory / copy.file_name
            with copy.snapshot(database_path) as snapshot:
                revision, head = _revision(snapshot.connection), migration_head()
                if revision != head:
                    raise BackupRefused(
                        f"The database is at revision {revision or '(none)'}, not {head}: run `portfolio db upgrade` "
                        "first."
                    )
                with Session(bind=snapshot.connection) as session:
                    # A database of a release before the readings (migration 0026) has no pages.
                    readings = inspect(snapshot.connection).has_table(ReadingPage.__tablename__)
                    hashes = sorted(referenced_hashes(session, readings=readings))
                tables = row_counts(snapshot.connection)
            say(f"Copied the database ({database_path.stat().st_size:,} bytes). Copying {len(hashes):,} files...")
            files, sums = _copy_files(engine, store, hashes, directory)
        manifest = Manifest(
            created_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            application_version=_application_version(),
            alembic_revision=revision,
            database_kind=copy.kind,
            database_size=database_path.stat().st_size,
            database_sha256=_sha256_of(database_path),
            database_facts=snapshot.facts,
            tables=tables,
            files=files,
        )
        manifest_bytes = (json.dumps(manifest.as_json(), indent=2) + "\n").encode()
        _write_durably(directory / MANIFEST, manifest_bytes)
        sums |= {copy.file_name: manifest.database_sha256, MANIFEST: hashlib.sha256(manifest_bytes).hexdigest()}
        # Last, so that a backup cut short (a full disk, a killed process) fails `sha256sum -c` and restore.
        _write_durably(directory / SUMS, "".join(f"{sums[path]}  {path}\n" for path in sorted(sums)).encode())
    except BaseException:
        _empty(directory, remove=created)
        raise
    return BackupReport(directory, manifest)


def _copy_files(
    engine: Engine, store: EvidenceStore, hashes: list[str], directory: Path
) -> tuple[list[BackedUpFile], dict[str, str]]:
    """Copy each file, checking its bytes against its hash; BackupRefused naming every file that
    is missing or altered, and what refers to it now."""
    files, problems = [], {}
    for sha256 in hashes:
        try:
            files.append(BackedUpFile(sha256, _copy_checked(store, sha256, directory / file_path(sha256))))
        except KeyError:
            problems[sha256] = "MISSING"
        except ValueError:
            problems[sha256] = "ALTERED"
    if problems:
        with Session(engine) as session:
            users = users_of_files(session, problems)
        raise BackupRefused(
            f"The backup failed: {len(problems)} of the files the database refers to are missing or altered "
            "in the evidence store (see `portfolio evidence verify`). Nothing was kept.",
            [
                f"{kind}: {sha256} used by {', '.join(users.get(sha256, ['no row any more']))}"
                for sha256, kind in problems.items()
            ],
        )
    return files, {f.path: f.sha256 for f in files}


def _copy_checked(store: EvidenceStore, sha256: str, target: Path) -> int:
    """Copy a stored file to `target`, hashing it on the way; its size. KeyError if it is missing,
    ValueError (and no copy) if its bytes no longer have its hash."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with store.open(sha256) as source, open(target, "wb") as out:
        while chunk := source.read(CHUNK_SIZE):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    if digest.hexdigest() != sha256:
        target.unlink()
        raise ValueError(sha256)
    return size


def check_backup(directory: Path, *, say: Say = _quiet) -> Manifest:
    """The manifest of the backup in `directory`, once it and every checksum are right;
    BackupRefused naming every problem otherwise. Reads every file; writes nothing."""
    if not (directory / MANIFEST).is_file() or not (directory / SUMS).is_file():
        raise BackupRefused(f"{directory} holds no backup: {MANIFEST} or {SUMS} is missing (a backup cut short?).")
    try:
        manifest = Manifest.from_json(json.loads((directory / MANIFEST).read_bytes()))
    except (ValueError, UnicodeDecodeError) as error:  # json's errors are ValueErrors
        raise BackupRefused(f"{directory / MANIFEST} cannot be read: {error}.") from None
    say(f"Checking the backup of {manifest.created_at}: the database and {len(manifest.files):,} files...")
    sums, problems = _read_sums(directory / SUMS)
    for path, expected in sums.items():
        actual = _sha256_of(directory / path) if (directory / path).is_file() else None
        if actual != expected:
            problems.append(f"{path}: {'missing' if actual is None else 'altered (its checksum differs)'}")
    expected_sums = {MANIFEST: None, manifest.database_file: manifest.database_sha256}
    expected_sums |= {f.path: f.sha256 for f in manifest.files}
    for path, sha256 in expected_sums.items():
        if path not in sums:
            problems.append(f"{path}: not in {SUMS}")
        elif sha256 is not None and sums[path] != sha256:
            problems.append(f"{path}: its checksum is not the one the manifest gives")
    for backed_up in manifest.files:
        if (directory / backed_up.path).is_file() and (directory / backed_up.path).stat().st_size != backed_up.size:
            problems.append(f"{backed_up.path}: not the size the manifest gives")
    if problems:
        raise BackupRefused(f"The backup in {directory} is damaged: nothing was restored.", problems)
    return manifest


def _read_sums(path: Path) -> tuple[dict[str, str], list[str]]:
    """The paths and hashes `sha256sum` would check, and the lines it could not read."""
    sums, problems = {}, []
    for number, line in enumerate(path.read_bytes().decode("utf-8", "replace").splitlines(), start=1):
        digest, _, name = line.partition(" ")
        name = name[1:] if name[:1] in (" ", "*") else name
        relative = PurePosixPath(name)
        if not is_sha256(digest) or not name or relative.is_absolute() or ".." in relative.parts:
            problems.append(f"{SUMS} line {number}: not a checksum of a file in the backup")
        else:
            sums[name] = digest
    return sums, problems


def restore_backup(engine: Engine, store: EvidenceStore, directory: Path, *, say: Say = _quiet) -> RestoreReport:
    """Restore the backup in `directory` into the empty database of `engine` and the store.

    Everything is checked before anything is written: the backup (`check_backup`), that this
    application knows its schema and can restore its database, that the database has no tables
    and the store no files but the backup's own (those of a restore cut short)."""
    manifest = check_backup(directory, say=say)
    copy = database_copy(engine)
    if copy.kind != manifest.database_kind:
        raise BackupRefused(
            f"The backup is of a {manifest.database_kind} database and this one is {copy.kind}: restore it "
            "into the same kind of database."
        )
    known = {script.revision for script in ScriptDirectory(MIGRATIONS).walk_revisions()}
    if manifest.alembic_revision not in known:
        raise BackupRefused(
            f"The backup's database is at revision {manifest.alembic_revision}, which this version of the "
            f"application ({_application_version()}) does not know: restore it with the version that made it "
            f"({manifest.application_version}) or a later one."
        )
    copy.check_restore(manifest.database_facts)
    wanted = {f.sha256 for f in manifest.files}
    with sweep_lock(engine, wait=True, on_wait=lambda: say("Waiting for the evidence sweep to finish...")):
        _refuse_unless_empty(engine, store, wanted)
        say(f"Restoring {len(manifest.files):,} files...")
        for backed_up in manifest.files:
            with open(directory / backed_up.path, "rb") as source:
                store.restore_file(backed_up.sha256, source)
        say(f"Restoring the database ({manifest.database_size:,} bytes)...")
        with engine.begin() as connection:  # an empty alembic_version would stop pg_restore
            if inspect(connection).get_table_names() == ["alembic_version"]:
                connection.execute(text("DROP TABLE alembic_version"))
        try:
            copy.restore(directory / manifest.database_file)
        except DomainError as error:
            raise BackupRefused(
                f"{error.message} The files are restored: once the cause is mended, run the restore again "
                "(it takes a store holding only the backup's own files)."
            ) from None
    with engine.connect() as connection:
        restored = row_counts(connection)
    problems = [
        f"Table {name}: {restored.get(name, 0):,} rows restored where the backup has {rows:,}"
        for name, rows in sorted(manifest.tables.items())
        if restored.get(name, 0) != rows
    ]
    return RestoreReport(manifest, problems)


def _refuse_unless_empty(engine: Engine, store: EvidenceStore, wanted: set[str]) -> None:
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        alembic = "alembic_version" in tables
        alembic_rows = connection.scalar(select(func.count()).select_from(table("alembic_version"))) if alembic else 0
    if tables - {"alembic_version"} or alembic_rows:
        raise BackupRefused(
            f"The database already has {len(tables)} tables: a backup is restored only into an empty database. "
            "Create a new database (or name a new SQLite file) for PORTFOLIO_DATABASE_URL, without running "
            "`portfolio db upgrade`, and restore into that. Nothing was restored."
        )
    foreign = [sha256 for sha256 in store.iter_hashes() if sha256 not in wanted]
    if foreign:
        raise BackupRefused(
            f"The evidence store already holds {len(foreign):,} files that are not in the backup (the first: "
            f"{foreign[0]}): a backup is restored only into an empty store. Nothing was restored."
        )


def row_counts(connection: Connection) -> dict[str, int]:
    """Rows per table of the database, as `connection` sees it."""
    names = sorted(inspect(connection).get_table_names())
    return {name: connection.scalar(select(func.count()).select_from(table(name))) or 0 for name in names}


def migration_head() -> str:
    return ScriptDirectory(MIGRATIONS).get_current_head()


def _revision(connection: Connection) -> str:
    """The migration the database is at; "" for a database never migrated."""
    if "alembic_version" not in inspect(connection).get_table_names():
        return ""
    return connection.scalar(text("SELECT version_num FROM alembic_version")) or ""


def _application_version() -> str:
    try:
        return version("apprenticeship-portfolio")
    except PackageNotFoundError:  # run from a checkout without installing it
        return "unknown"


def _new_or_empty(directory: Path) -> bool:
    """Make sure `directory` is an empty directory; True if it had to be made."""
    if directory.exists() and not directory.is_dir():
        raise BackupRefused(f"{directory} is a file: a backup goes into a new or empty directory.")
    if directory.is_dir():
        if any(directory.iterdir()):
            raise BackupRefused(f"{directory} is not empty: a backup goes into a new or empty directory.")
        return False
    try:
        directory.mkdir(parents=True)
    except OSError as error:
        raise BackupRefused(f"Cannot make {directory}: {error.strerror}.") from None
    return True


def _empty(directory: Path, *, remove: bool) -> None:
    """Take away what a failed backup wrote (the directory too, if it made it)."""
    if remove:
        shutil.rmtree(directory, ignore_errors=True)
        return
    for entry in directory.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def _write_durably(path: Path, data: bytes) -> None:
    with open(path, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def _sha256_of(path: Path) -> str:
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()
