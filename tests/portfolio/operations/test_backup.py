"""`portfolio backup` and `portfolio restore`: a backup restored into an empty database and store
is the same portfolio, whose evidence files and audit trail verify; a damaged backup, a target
that is not empty or a store that lost a file stops them before they do anything wrong."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from portfolio import MIGRATIONS, create_app
from portfolio.core.audit import verify
from portfolio.core.storage import evidence_store, max_image_pixels, max_upload_bytes
from portfolio.demo.files import png_picture
from portfolio.evidence.file_sweep import StoreBusy, sweep, sweep_lock
from portfolio.evidence.items import Upload, delete_draft
from portfolio.evidence.staged_uploads import attach_for_form
from portfolio.extensions import Base, db
from portfolio.models import EvidenceItem, User
from portfolio.operations import backup
from portfolio.operations.backup import make_backup, migration_head
from tests.conftest import skip_or_fail

from ...helpers import PDF_BYTES, PNG_BYTES, World

ATTENDANCE = b"name,hours\nAmara Okoye,3\nDev Patel,2.5\n"
NOBODYS = PDF_BYTES.replace(b"Catalog", b"Catalog /Lang (en-GB)")  # stored, but no row refers to it


@pytest.fixture
def portfolio(app, world):
    """Two items sharing a file, a file kept from a failed form, and what a backup leaves out: a
    stored file no row refers to and a finished export."""
    enrolment = world.enrolment()
    first = world.evidence(enrolment, title="Workshop plan", files={"plan.pdf": PDF_BYTES, "room.png": PNG_BYTES})
    world.evidence(enrolment, title="Plan, second run", files={"plan-again.pdf": PDF_BYTES})
    attach_for_form(
        db.session, evidence_store(), user=enrolment.apprentice, browser_key="k" * 32, kept_ids=(), shown_ids=(),
        uploads=[Upload(io.BytesIO(ATTENDANCE), "attendance.csv")], max_bytes=max_upload_bytes(),
        max_pixels=max_image_pixels(), expire_after=timedelta(hours=24),
    )  # fmt: skip
    nobodys = evidence_store().put(io.BytesIO(NOBODYS), "old.pdf", max_upload_bytes()).sha256
    evidence_store().put_export("portfolio-1.zip", io.BytesIO(b"made again from the records"))
    db.session.commit()
    return {"enrolment": enrolment, "plan": first.files[0].sha256, "nobodys": nobodys}


@pytest.fixture
def fresh(app, blank_url, tmp_path):
    """An app on an empty database and an empty store. It has the audit key of `app`: the key is
    configuration, never in the database, so the restoring server is given it as the old one was."""
    fresh = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": blank_url,
            "SECRET_KEY": "test",
            "AUDIT_KEY": app.config["AUDIT_KEY"],
            "EVIDENCE_DIR": str(tmp_path / "fresh-store"),
            "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
        },
        instance_path=str(tmp_path / "fresh-instance"),
    )
    yield fresh
    with fresh.app_context():
        db.session.remove()
        db.engine.dispose()


def run(app, *args):
    """`portfolio ARGS` against `app`, in an app context of its own as on the command line."""
    db.session.commit()
    with app.app_context():
        result = app.test_cli_runner().invoke(args=[str(a) for a in args])
    db.session.expire_all()
    return result


def rows_of_every_table(flask_app) -> dict[str, list]:
    with flask_app.app_context(), db.engine.connect() as connection:
        return {
            t.name: connection.execute(select(t).order_by(*t.primary_key.columns)).all()
            for t in Base.metadata.sorted_tables
        }


def stored(flask_app) -> list[str]:
    with flask_app.app_context():
        return list(evidence_store().iter_hashes())


def is_blank(flask_app) -> bool:
    with flask_app.app_context(), db.engine.connect() as connection:
        return inspect(connection).get_table_names() == [] and stored(flask_app) == []


def skip_without_pg_dump(flask_app) -> None:
    with flask_app.app_context():
        if db.engine.dialect.name == "postgresql" and not shutil.which("pg_dump"):
            skip_or_fail("postgresql", "pg_dump is not on PATH (apt-get install postgresql-client)")


def test_a_backup_restored_into_an_empty_database_and_store_is_the_same_portfolio(app, portfolio, fresh, tmp_path):
    skip_without_pg_dump(app)
    target = tmp_path / "backup"
    made = run(app, "backup", target)
    assert made.exit_code == 0, made.output
    kind = db.engine.dialect.name
    database_file = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}[kind]
    referenced = sorted({portfolio["plan"], *(s for s in stored(app) if s != portfolio["nobodys"])})
    assert len(referenced) == 3  # the PDF both items share, the photo, the staged CSV
    assert sorted(p.name for p in target.iterdir()) == sorted(["SHA256SUMS", "manifest.json", "files", database_file])
    assert sorted(p.name for p in (target / "files").rglob("*") if p.is_file()) == referenced

    manifest = json.loads((target / "manifest.json").read_text())
    assert (manifest["format"], manifest["format_version"], manifest["alembic_revision"]) == (
        "portfolio-backup", 1, migration_head(),
    )  # fmt: skip
    assert manifest["database"]["kind"] == kind and manifest["database"]["file"] == database_file
    before = rows_of_every_table(app)
    assert {name: len(rows) for name, rows in before.items()} == {
        name: rows
        for name, rows in manifest["tables"].items()
        if name != "alembic_version" and not name.startswith("procrastinate_")  # the job queue's own tables
    }
    assert [f["sha256"] for f in manifest["files"]["list"]] == referenced
    assert manifest["files"]["bytes"] == len(PDF_BYTES) + len(PNG_BYTES) + len(ATTENDANCE)
    if shutil.which("sha256sum"):
        checked = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=target, capture_output=True, text=True)
        assert checked.returncode == 0 and checked.stdout.count(": OK") == 5, checked.stdout

    restored = run(fresh, "restore", target)
    assert restored.exit_code == 0, restored.output
    assert "Restored 3 files" in restored.output
    assert "Checked 2 stored files for 3 evidence files: 0 problems." in restored.output
    assert "the audit trail is intact" in restored.output
    assert rows_of_every_table(fresh) == before
    assert stored(fresh) == referenced
    with fresh.app_context():
        assert all(evidence_store().verify(sha256) for sha256 in referenced)
        # The restored service goes on where the old one stopped: new rows get new ids, new events chain on.
        World(db.session).evidence(db.session.scalars(select(EvidenceItem)).first().enrolment, title="After")
        db.session.commit()
        assert verify(db.session).ok


@pytest.mark.parametrize(
    "damage",
    ["an altered evidence file", "a missing evidence file", "an altered database", "an edited manifest",
     "an unreadable manifest", "a checksum left out"],
)  # fmt: skip
def test_a_damaged_backup_is_refused_before_anything_is_restored(app, portfolio, fresh, tmp_path, damage):
    skip_without_pg_dump(app)
    target = tmp_path / "backup"
    assert run(app, "backup", target).exit_code == 0
    plan = target / "files" / portfolio["plan"][:2] / portfolio["plan"][2:4] / portfolio["plan"]
    database = next(target.glob("database.*"))
    manifest = target / "manifest.json"
    sums = target / "SHA256SUMS"
    if damage == "an altered evidence file":
        plan.write_bytes(plan.read_bytes() + b"\n")
        expected = f"files/{portfolio['plan'][:2]}/{portfolio['plan'][2:4]}/{portfolio['plan']}: altered"
    elif damage == "a missing evidence file":
        plan.unlink()
        expected = f"{portfolio['plan']}: missing"
    elif damage == "an altered database":
        database.write_bytes(database.read_bytes()[:-1])
        expected = f"{database.name}: altered"
    elif damage == "an edited manifest":
        manifest.write_text(manifest.read_text().replace('"alembic_revision": "', '"alembic_revision": "1'))
        expected = "manifest.json: altered"
    elif damage == "an unreadable manifest":
        manifest.write_bytes(b"\xff not JSON")
        expected = "manifest.json cannot be read"
    else:
        sums.write_text("".join(line for line in sums.read_text().splitlines(True) if portfolio["plan"] not in line))
        expected = f"{portfolio['plan']}: not in SHA256SUMS"
    result = run(fresh, "restore", target)
    assert result.exit_code == 1 and expected in result.output, result.output
    assert "Traceback" not in result.output
    assert is_blank(fresh)


def test_a_restore_needs_an_empty_database_and_a_store_without_other_files(app, portfolio, fresh, tmp_path):
    skip_without_pg_dump(app)
    target = tmp_path / "backup"
    assert run(app, "backup", target).exit_code == 0
    before = rows_of_every_table(app)
    nowhere = run(fresh, "restore", tmp_path / "nowhere")
    assert nowhere.exit_code == 1 and "holds no backup" in nowhere.output, nowhere.output
    into_itself = run(app, "restore", target)
    assert into_itself.exit_code == 1 and "a backup is restored only into an empty database" in into_itself.output
    assert rows_of_every_table(app) == before

    with fresh.app_context():
        foreign = evidence_store().put(io.BytesIO(NOBODYS), "other.pdf", max_upload_bytes()).sha256
    into_a_used_store = run(fresh, "restore", target)
    assert into_a_used_store.exit_code == 1, into_a_used_store.output
    assert f"already holds 1 files that are not in the backup (the first: {foreign})" in into_a_used_store.output
    with fresh.app_context(), db.engine.connect() as connection:
        assert inspect(connection).get_table_names() == [] and stored(fresh) == [foreign]


def test_a_restore_cut_short_after_the_files_can_be_run_again(app, portfolio, fresh, tmp_path):
    """The store then holds only the backup's own files: the same bytes under the same names."""
    skip_without_pg_dump(app)
    target = tmp_path / "backup"
    assert run(app, "backup", target).exit_code == 0
    plan = portfolio["plan"]
    with fresh.app_context(), open(target / "files" / plan[:2] / plan[2:4] / plan, "rb") as copied:
        evidence_store().restore_file(plan, copied)
    result = run(fresh, "restore", target)
    assert result.exit_code == 0, result.output
    assert rows_of_every_table(fresh) == rows_of_every_table(app)


def test_a_backup_fails_naming_each_file_the_store_lost_or_altered(app, world, portfolio, tmp_path):
    skip_without_pg_dump(app)
    root = Path(app.config["EVIDENCE_DIR"])
    plan = portfolio["plan"]
    (root / plan[:2] / plan[2:4] / plan).unlink()
    item = world.evidence(portfolio["enrolment"], title="Poster", files={"poster.png": png_picture(8, 8, seed=1)})
    photo = item.files[0].sha256
    (root / photo[:2] / photo[2:4] / photo).write_bytes(png_picture(8, 8, seed=2))
    target = tmp_path / "new" / "backup"
    result = run(app, "backup", target)
    assert result.exit_code == 1, result.output
    [first, second] = db.session.scalars(
        select(EvidenceItem.id).where(EvidenceItem.title.in_(["Workshop plan", "Plan, second run"]))
        .order_by(EvidenceItem.id)
    ).all()  # fmt: skip
    assert f"MISSING: {plan} used by plan.pdf (evidence item {first}), plan-again.pdf (evidence item {second})" in (
        result.output
    )
    assert f"ALTERED: {photo} used by poster.png (evidence item {item.id})" in result.output
    assert "The backup failed: 2 of the files" in result.output
    assert not target.exists() and (tmp_path / "new").is_dir()  # nothing half-made is left to be taken for a backup

    empty = tmp_path / "empty"
    empty.mkdir()
    assert run(app, "backup", empty).exit_code == 1 and list(empty.iterdir()) == []


def test_a_backup_goes_only_into_a_new_or_empty_directory(app, portfolio, tmp_path):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "notes.txt").write_text("keep me")
    (tmp_path / "a-file").write_text("keep me too")
    not_empty = run(app, "backup", tmp_path / "used")
    assert not_empty.exit_code == 1 and "is not empty" in not_empty.output
    a_file = run(app, "backup", tmp_path / "a-file")
    assert a_file.exit_code != 0 and "Traceback" not in a_file.output
    assert [p.name for p in (tmp_path / "used").iterdir()] == ["notes.txt"]
    assert (tmp_path / "a-file").read_text() == "keep me too"


def test_a_database_not_migrated_to_this_version_is_not_backed_up(app, blank_url, fresh, tmp_path):
    skip_without_pg_dump(fresh)
    result = run(fresh, "backup", tmp_path / "backup")
    assert result.exit_code == 1, result.output
    assert f"The database is at revision (none), not {migration_head()}: run `portfolio db upgrade`" in result.output
    assert not (tmp_path / "backup").exists()


def test_the_sweep_is_held_off_while_a_backup_copies_files(app, world, portfolio, tmp_path, monkeypatch):
    """After the snapshot, the only row naming a file goes and a sweep with no grace runs (on a
    connection of its own): it must not delete the file the snapshot refers to."""
    skip_without_pg_dump(app)
    picture = png_picture(8, 8, seed=3)
    draft = world.evidence(portfolio["enrolment"], title="Draft", files={"draft.png": picture}, submitted=False)
    db.session.commit()
    sha256, draft_id = draft.files[0].sha256, draft.id
    store = evidence_store()
    real_open = store.open
    sweeps: list[object] = []

    def delete_the_draft_and_sweep(name):
        if not sweeps:
            with Session(db.engine) as other:
                item = other.get(EvidenceItem, draft_id)
                delete_draft(other, item, by=other.get(User, item.created_by_id))
                other.commit()
                try:
                    sweeps.append(sweep(other, store, grace=timedelta(0)))
                except StoreBusy as busy:
                    sweeps.append(busy)
        return real_open(name)

    monkeypatch.setattr(store, "open", delete_the_draft_and_sweep)
    report = make_backup(db.engine, store, tmp_path / "backup")
    assert len(sweeps) == 1 and isinstance(sweeps[0], StoreBusy)
    assert sha256 in {f.sha256 for f in report.manifest.files} and store.verify(sha256)
    backed_up = tmp_path / "backup" / "files" / sha256[:2] / sha256[2:4] / sha256
    assert backed_up.read_bytes() == picture
    monkeypatch.setattr(store, "open", real_open)
    assert sweep(db.session, store, grace=timedelta(0)).deleted >= 1 and not store.exists(sha256)  # the lock is free


def test_a_backup_waits_for_a_running_sweep(app, portfolio, tmp_path):
    skip_without_pg_dump(app)
    said: list[str] = []
    outcome: list[object] = []
    engine, store = db.engine, evidence_store()

    def back_up():
        try:
            outcome.append(make_backup(engine, store, tmp_path / "backup", say=said.append))
        except Exception as error:  # reported by the assertions below
            outcome.append(error)

    with sweep_lock(engine, wait=False):
        worker = threading.Thread(target=back_up)
        worker.start()
        for _ in range(100):
            if said:
                break
            time.sleep(0.05)
        assert said == ["Waiting for the evidence sweep to finish..."]
        assert not (tmp_path / "backup" / "manifest.json").exists() and worker.is_alive()
    worker.join(30)
    assert isinstance(outcome[0], backup.BackupReport), outcome
    assert (tmp_path / "backup" / "SHA256SUMS").is_file()


def test_a_backup_of_an_older_schema_is_restored_then_upgraded(app, blank_database, fresh, tmp_path, monkeypatch):
    """As from an older version of the application: the database is brought up to date after the
    restore, as `portfolio db upgrade` would (the restored files are there for the migrations)."""
    older = create_app(
        {"TESTING": True, "DATABASE_URL": blank_database(), "SECRET_KEY": "test", "AUDIT_KEY": app.config["AUDIT_KEY"],
         "EVIDENCE_DIR": str(tmp_path / "older-store")},
        instance_path=str(tmp_path / "older-instance"),
    )  # fmt: skip
    skip_without_pg_dump(older)
    with older.app_context():
        upgrade(directory=MIGRATIONS, revision="0008")
        monkeypatch.setattr(backup, "migration_head", lambda: "0008")  # the older version's newest
        make_backup(db.engine, evidence_store(), tmp_path / "backup")
        db.engine.dispose()
    monkeypatch.undo()
    result = run(fresh, "restore", tmp_path / "backup")
    assert result.exit_code == 0, result.output
    assert "Upgrading the database from revision 0008" in result.output
    with fresh.app_context(), db.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == migration_head()


def test_without_pg_dump_the_backup_says_what_to_install(app, portfolio, tmp_path, monkeypatch):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite needs no client program")
    monkeypatch.setenv("PATH", str(tmp_path))
    result = run(app, "backup", tmp_path / "backup")
    assert result.exit_code == 1 and "pg_dump is not on PATH: install PostgreSQL's client tools" in result.output
    assert not (tmp_path / "backup").exists()


def _manifest_json(**changes) -> dict:
    manifest = backup.Manifest(
        created_at="2026-05-01T09:30:00Z", application_version="0.1.0", alembic_revision="0009",
        database_kind="sqlite", database_size=4096, database_sha256="a" * 64, database_facts={},
        tables={"users": 3}, files=[backup.BackedUpFile("b" * 64, 12)],
    )  # fmt: skip
    return manifest.as_json() | changes


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ([], "not the manifest of a portfolio-backup"),
        (_manifest_json(format_version=2), "format version 2, and this version of the application reads version 1"),
        (_manifest_json(database={"kind": "mysql", "file": "database.dump"}), "unknown kind"),
        (_manifest_json(files={"list": ["plan.pdf"]}), "'sha256' is missing"),
        (_manifest_json(files={"list": [{"sha256": "../../etc/passwd", "size": 1}]}), "not what a backup writes"),
        (_manifest_json(tables={"users": "three"}), "not what a backup writes"),
        (_manifest_json(created_at=None), "'created_at' is missing"),
    ],
)
def test_a_manifest_is_read_only_as_a_backup_writes_it(data, says):
    with pytest.raises(ValueError, match=says):
        backup.Manifest.from_json(data)
    assert backup.Manifest.from_json(_manifest_json()).files == [backup.BackedUpFile("b" * 64, 12)]
