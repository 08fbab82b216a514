"""The application with its evidence in a bucket (PORTFOLIO_EVIDENCE_URL), against moto's S3 server:
uploads go through the form parser's local file into the bucket, downloads stream out of it, and
`evidence verify` and `evidence sweep` work on it; a bad URL or an unversioned bucket stops the start."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

import filestore.store
from filestore.s3 import S3Store
from portfolio import create_app
from portfolio.config import BadSetting
from portfolio.core.storage import evidence_store
from portfolio.evidence.items import delete_draft
from portfolio.extensions import db
from portfolio.models import EvidenceItem
from tests.s3_server import new_bucket, remove_bucket, s3_client

from ...helpers import PDF_BYTES, PNG_BYTES
from ..conftest import sign_in

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def app_config(s3_endpoint, s3_bucket, tmp_path, monkeypatch):
    # The store's local folder for arriving uploads is in the system's temporary folder: this test's.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "system-tmp"))
    return {"EVIDENCE_URL": f"s3://{s3_bucket}/evidence", "S3_ENDPOINT_URL": s3_endpoint}


@pytest.fixture
def bucket(app, s3_endpoint):
    """What the bucket holds: `bucket.keys()`, and its client for changing it behind the app's back."""

    class Bucket:
        client = s3_client(s3_endpoint)
        name = evidence_store().bucket

        def keys(self) -> list[str]:
            return [entry["Key"] for entry in self.client.list_objects_v2(Bucket=self.name).get("Contents", [])]

        def key(self, sha256: str) -> str:
            return f"evidence/{sha256[:2]}/{sha256[2:4]}/{sha256}"

    return Bucket()


@pytest.fixture
def opened(app, monkeypatch):
    """Every stream the store opens during the test, to see that each is closed."""
    store = evidence_store()
    streams = []
    real_open = store.open

    def open_and_keep(sha256):
        streams.append(real_open(sha256))
        return streams[-1]

    monkeypatch.setattr(store, "open", open_and_keep)
    return streams


def _form(*files):
    return {
        "title": "Half-term family workshop",
        "kind": "event_plan",
        "activity_date": ["14", "10", "2025"],
        "criteria": ["K1"],
        "justification-K1": "Audience research for local families.",
        "files": [(io.BytesIO(data), name) for name, data in files],
    }


def test_the_app_keeps_evidence_in_the_bucket_named_by_the_url(app, s3_bucket):
    store = evidence_store()
    assert isinstance(store, S3Store) and (store.bucket, store.prefix) == (s3_bucket, "evidence")
    assert store.temp_dir.parent == Path(tempfile.gettempdir())


def test_an_upload_goes_through_one_local_file_into_the_bucket(app, client, enrolment, bucket, monkeypatch):
    copies = []
    real_copy = filestore.store.copy_into

    def copy_and_count(*args, **kwargs):
        copies.append(args)
        return real_copy(*args, **kwargs)

    monkeypatch.setattr(filestore.store, "copy_into", copy_and_count)
    sign_in(client, enrolment.apprentice)
    response = client.post(
        f"/enrolments/{enrolment.id}/evidence/new",
        data=_form(("plan.pdf", PDF_BYTES), ("workshop.png", PNG_BYTES)),
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    item = db.session.scalar(select(EvidenceItem))
    assert sorted(bucket.keys()) == sorted(bucket.key(f.sha256) for f in item.files)
    assert copies == []  # the parser wrote each file into the store's own incoming file: no second copy
    assert list(evidence_store().temp_dir.iterdir()) == []


def test_a_refused_upload_never_reaches_the_bucket(app, client, enrolment, bucket):
    sign_in(client, enrolment.apprentice)
    response = client.post(
        f"/enrolments/{enrolment.id}/evidence/new",
        data=_form(("setup.pdf", b"MZ" + bytes(100))),
        content_type="multipart/form-data",
    )
    assert response.status_code == 200 and "not a PDF document" in response.get_data(as_text=True)
    assert bucket.keys() == [] and list(evidence_store().temp_dir.iterdir()) == []


def test_a_download_streams_from_the_bucket_and_closes_the_object(app, client, world, enrolment, opened):
    item = world.evidence(enrolment, files={"plan.pdf": PDF_BYTES, "photo.png": PNG_BYTES})
    db.session.commit()
    sign_in(client, enrolment.apprentice)
    base = f"/enrolments/{enrolment.id}/evidence/{item.id}/files"
    download = client.get(f"{base}/{item.files[0].id}")
    assert download.status_code == 200 and download.data == PDF_BYTES
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in download.headers["Content-Security-Policy"]
    assert "no-store" in download.headers["Cache-Control"]
    preview = client.get(f"{base}/{item.files[1].id}/preview")  # its pixels were recorded at upload
    assert preview.status_code == 200 and preview.data == PNG_BYTES
    assert preview.headers["Content-Disposition"].startswith("inline")
    unchanged = client.get(f"{base}/{item.files[0].id}", headers={"If-None-Match": f'"{item.files[0].sha256}"'})
    assert unchanged.status_code == 304 and unchanged.data == b""
    for response in (download, preview, unchanged):
        response.close()
    assert len(opened) == 3 and all(stream.closed for stream in opened)  # one object read per response


def test_others_may_not_download_and_a_missing_object_is_a_page_not_an_error(app, client, world, enrolment, bucket):
    item = world.evidence(enrolment, files={"plan.pdf": PDF_BYTES})
    stranger = world.enrolment().apprentice
    db.session.commit()
    url = f"/enrolments/{enrolment.id}/evidence/{item.id}/files/{item.files[0].id}"
    other = app.test_client()
    sign_in(other, stranger)
    assert other.get(url).status_code == 404
    bucket.client.delete_object(Bucket=bucket.name, Key=bucket.key(item.files[0].sha256))
    sign_in(client, enrolment.apprentice)
    response = client.get(url)
    assert response.status_code == 409 and "is missing in the evidence store" in response.get_data(as_text=True)


def test_evidence_verify_rehashes_the_objects(app, runner, world, enrolment, bucket):
    item = world.evidence(enrolment, files={"plan.pdf": PDF_BYTES})
    db.session.commit()
    sha256 = item.files[0].sha256
    result = runner.invoke(args=["evidence", "verify"])
    assert result.exit_code == 0 and "0 problems" in result.output, result.output
    bucket.client.put_object(Bucket=bucket.name, Key=bucket.key(sha256), Body=PDF_BYTES.replace(b"Catalog", b"Katalog"))
    result = runner.invoke(args=["evidence", "verify"])
    assert result.exit_code == 1
    assert f"ALTERED: {sha256} used by plan.pdf (evidence item {item.id})" in result.output
    bucket.client.delete_object(Bucket=bucket.name, Key=bucket.key(sha256))
    result = runner.invoke(args=["evidence", "verify"])
    assert result.exit_code == 1 and f"MISSING: {sha256}" in result.output


def test_evidence_sweep_deletes_an_unreferenced_object_and_its_versions(app, runner, world, enrolment, bucket):
    draft = world.evidence(enrolment, title="Draft plan", files={"plan.pdf": PDF_BYTES}, submitted=False)
    world.evidence(enrolment, title="Same plan", files={"plan.pdf": PDF_BYTES}, submitted=False)  # a 2nd version
    db.session.commit()
    sha256 = draft.files[0].sha256
    for item in db.session.scalars(select(EvidenceItem)).all():
        delete_draft(db.session, item, by=enrolment.apprentice)
    db.session.commit()
    written = bucket.client.head_object(Bucket=bucket.name, Key=bucket.key(sha256))["LastModified"].timestamp()
    time.sleep(max(0.0, written + 1.05 - time.time()))  # the service keeps times to the second
    app.config["SWEEP_GRACE_HOURS"] = 0
    result = runner.invoke(args=["evidence", "sweep"])
    assert result.exit_code == 0, result.output
    assert "Marked 1 newly unreferenced files. Deleted 1 files" in result.output
    assert bucket.keys() == []
    versions = bucket.client.list_object_versions(Bucket=bucket.name)
    assert versions.get("Versions", []) == [] and versions.get("DeleteMarkers", []) == []


def test_the_portfolio_zip_reads_its_files_out_of_the_bucket(app, world, runner, tmp_path):
    from ..exports.export_world import build

    portfolio = build(world)
    db.session.commit()
    archive = tmp_path / "portfolio.zip"
    result = runner.invoke(args=["export", str(portfolio.enrolment.id), "--zip", str(archive)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(archive) as unpacked:
        assert unpacked.testzip() is None
        names = unpacked.namelist()
    assert any(name.endswith("/plan.pdf") for name in names) and any(name.endswith("/SHA256SUMS") for name in names)


def test_ready_only_while_the_bucket_keeps_versions(app, client, bucket):
    assert client.get("/readyz").status_code == 200
    bucket.client.put_bucket_versioning(Bucket=bucket.name, VersioningConfiguration={"Status": "Suspended"})
    response = client.get("/readyz")
    assert (response.status_code, response.get_data(as_text=True)) == (503, "not ready")


# --- starting -----------------------------------------------------------------------------------


def _start(tmp_path, database_url, **settings):
    return create_app(
        {"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test", **settings},
        instance_path=str(tmp_path / "instance"),
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/srv/evidence", "is not an s3:// URL"),
        ("s3://Evidence_Bucket/x", "is not a bucket name"),
        ("s3://portfolio-evidence/a/../b", "is not a prefix"),
    ],
)
def test_a_bad_url_stops_the_start_with_a_clear_error(tmp_path, database_url, url, message):
    with pytest.raises(BadSetting, match=f"^PORTFOLIO_EVIDENCE_URL: .*{message}"):
        _start(tmp_path, database_url, EVIDENCE_URL=url)


@pytest.mark.parametrize("endpoint", ["minio.internal:9000", "ftp://minio.internal", "http://", "http://mini o"])
def test_a_bad_endpoint_stops_the_start_with_a_clear_error(tmp_path, database_url, endpoint):
    with pytest.raises(BadSetting, match="^PORTFOLIO_S3_ENDPOINT_URL: .* is not the address of a service"):
        _start(tmp_path, database_url, EVIDENCE_URL="s3://portfolio-evidence", S3_ENDPOINT_URL=endpoint)


@pytest.mark.parametrize("versioning", [None, "Suspended"])
def test_a_bucket_without_versioning_stops_the_start(tmp_path, database_url, s3_endpoint, versioning):
    name = new_bucket(s3_endpoint, versioning=versioning)
    try:
        with pytest.raises(BadSetting, match=f"bucket {name} must have versioning enabled"):
            _start(tmp_path, database_url, EVIDENCE_URL=f"s3://{name}", S3_ENDPOINT_URL=s3_endpoint)
    finally:
        remove_bucket(s3_endpoint, name)


def test_a_missing_bucket_stops_the_start(tmp_path, database_url, s3_endpoint):
    with pytest.raises(BadSetting, match="there is no bucket portfolio-nowhere"):
        _start(tmp_path, database_url, EVIDENCE_URL="s3://portfolio-nowhere", S3_ENDPOINT_URL=s3_endpoint)


def test_a_service_not_answering_yet_starts_but_is_not_ready(tmp_path, database_url):
    # Port 9 (discard) has nothing listening here: the connection is refused at once.
    app = _start(tmp_path, database_url, EVIDENCE_URL="s3://portfolio-evidence", S3_ENDPOINT_URL="http://127.0.0.1:9")
    response = app.test_client().get("/readyz")
    assert (response.status_code, response.get_data(as_text=True)) == (503, "not ready")
    with app.app_context():
        db.engine.dispose()


def test_the_command_line_says_what_is_wrong_with_the_url(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTFOLIO_")}
    env |= {
        "PORTFOLIO_SECRET_KEY": "url-test-secret",
        "PORTFOLIO_AUDIT_KEY": "url-test-audit-key-of-32-characters-long",
        "PORTFOLIO_DATABASE_URL": f"sqlite:///{tmp_path / 'portfolio.db'}",
        "PORTFOLIO_EVIDENCE_URL": "s3://Evidence_Bucket",
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-c", "from portfolio.cli import main; main()", "evidence", "verify"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("Error: PORTFOLIO_EVIDENCE_URL: 'Evidence_Bucket' is not a bucket name")
    assert "Traceback" not in done.stderr
