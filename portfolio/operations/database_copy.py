"""The whole database copied to one file and back: pg_dump and pg_restore for PostgreSQL, SQLite's
backup API for SQLite. A copy is one consistent snapshot, and whoever makes it reads what else it
needs (the hashes of the files to copy) from that same snapshot."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import URL

from ..core.domain import DomainError


@dataclass(frozen=True)
class Snapshot:
    """A connection that reads the database as the copy holds it, and facts for the manifest."""

    connection: Connection
    facts: dict[str, Any] = field(default_factory=dict)


class DatabaseCopy(Protocol):
    kind: str  # "postgresql" or "sqlite", as the manifest records it
    file_name: str  # the copy's name in the backup

    def snapshot(self, target: Path) -> AbstractContextManager[Snapshot]:
        """Write the copy to `target`; the with-block reads the same snapshot."""

    def check_restore(self, facts: Mapping[str, Any]) -> None:
        """DomainError if a copy with these facts cannot be restored here; touches nothing."""

    def restore(self, source: Path) -> None:
        """Load the copy at `source` into the (empty) database."""


def database_copy(engine: Engine) -> DatabaseCopy:
    """How to copy the database of `engine`."""
    if engine.dialect.name == "postgresql":
        return PostgresCopy(engine)
    if engine.dialect.name == "sqlite":
        return SqliteCopy(engine)
    raise DomainError(f"A {engine.dialect.name} database cannot be backed up; use PostgreSQL or SQLite.")


class PostgresCopy:
    """pg_dump's custom format, made in a snapshot exported from a transaction this process keeps
    open, so that the hashes it reads are those of the rows pg_dump writes."""

    kind = "postgresql"
    file_name = "database.dump"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def snapshot(self, target: Path) -> Iterator[Snapshot]:
        pg_dump, dump_version = _client_tool("pg_dump")
        reading = self.engine.connect().execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with reading as connection:
            server = connection.scalar(text("SHOW server_version"))
            server_major = int(connection.scalar(text("SHOW server_version_num"))) // 10000
            if _major(dump_version) < server_major:
                raise DomainError(
                    f"pg_dump {dump_version} cannot dump PostgreSQL {server}: put the client tools of "
                    f"PostgreSQL {server_major} or newer first on PATH (e.g. postgresql-client-{server_major})."
                )
            exported = connection.scalar(text("SELECT pg_export_snapshot()"))
            _run(
                pg_dump, "--format=custom", f"--snapshot={exported}", f"--file={target}",
                url=self.engine.url, failing="pg_dump failed",
            )  # fmt: skip
            yield Snapshot(connection, {"server_version": server, "pg_dump_version": dump_version})
            connection.rollback()

    def check_restore(self, facts: Mapping[str, Any]) -> None:
        _, restore_version = _client_tool("pg_restore")
        made_by = str(facts.get("pg_dump_version", ""))
        if made_by and _major(restore_version) < _major(made_by):
            raise DomainError(
                f"The backup was made by pg_dump {made_by}, which pg_restore {restore_version} cannot read: "
                f"put the client tools of PostgreSQL {_major(made_by)} or newer first on PATH."
            )

    def restore(self, source: Path) -> None:
        pg_restore, _ = _client_tool("pg_restore")
        # One transaction: a failure restores nothing. Owners and grants are the source server's
        # roles, which this one need not have; the configured user owns what it restores.
        _run(
            pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", str(source),
            url=self.engine.url, failing="pg_restore failed, and restored nothing of the database",
        )  # fmt: skip


class SqliteCopy:
    """SQLite's own file, copied page by page by the backup API under one read lock."""

    kind = "sqlite"
    file_name = "database.sqlite3"

    def __init__(self, engine: Engine) -> None:
        database = engine.url.database
        if not database or database == ":memory:":
            raise DomainError("An in-memory SQLite database cannot be backed up or restored: use a database file.")
        self.engine = engine

    @contextmanager
    def snapshot(self, target: Path) -> Iterator[Snapshot]:
        source = self.engine.raw_connection()
        try:
            with closing(sqlite3.connect(target)) as copy:
                source.driver_connection.backup(copy)
                copy.execute("PRAGMA journal_mode=DELETE")  # one file, whatever the source's mode
        finally:
            source.close()
        reader = create_engine("sqlite://", creator=lambda: _read_only(target))
        try:
            with reader.connect() as connection:
                yield Snapshot(connection, {"sqlite_version": sqlite3.sqlite_version})
        finally:
            reader.dispose()

    def check_restore(self, facts: Mapping[str, Any]) -> None:
        """Any SQLite reads a file of an older one."""

    def restore(self, source: Path) -> None:
        target = self.engine.raw_connection()
        try:
            with closing(_read_only(source)) as copy:
                copy.backup(target.driver_connection)
        finally:
            target.close()


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)


def _client_tool(name: str) -> tuple[str, str]:
    """The path and version ("15.20") of a PostgreSQL client program on PATH."""
    path = shutil.which(name)
    if path is None:
        raise DomainError(f"{name} is not on PATH: install PostgreSQL's client tools (postgresql-client).")
    answer = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
    version = re.search(r"\d+(\.\d+)*", answer)
    if version is None:
        raise DomainError(f"{path} --version did not say which version it is: {answer.strip()!r}")
    return path, version.group()


def _major(version: str) -> int:
    return int(version.split(".")[0])


def _run(program: str, *arguments: str, url: URL, failing: str) -> None:
    """Run a client program on the database at `url`. The password goes in its environment,
    never on the command line, where any user of the machine could read it."""
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    dbname = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    command = [program, "--no-password", f"--dbname={dbname}", *arguments]
    try:
        done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    except OSError as error:
        raise DomainError(f"{failing}: {error}") from None
    if done.returncode != 0:
        raise DomainError(f"{failing}: {done.stderr.strip() or f'exit status {done.returncode}'}")
