"""The portfolio ZIP: streamed, complete, checkable with `sha256sum -c`, described by its manifest."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import select

from portfolio.exports import EvidenceFileProblem
from portfolio.exports.manifest import schema
from portfolio.extensions import db
from portfolio.models import AuditEvent
from portfolio.storage import evidence_store

from .export_world import build, photo


@pytest.fixture
def portfolio(world):
    return build(world)


def _download(client, portfolio):
    return client.get(f"/enrolments/{portfolio.enrolment.id}/export/portfolio.zip")


def _unpack(data: bytes, into: Path) -> Path:
    """Unpack the ZIP; returns its one top folder."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        archive.extractall(into)
    (root,) = into.iterdir()
    return root


@pytest.fixture
def unpacked(portfolio, signed_in, tmp_path):
    response = _download(signed_in(portfolio.tutor), portfolio)
    assert response.status_code == 200
    return _unpack(response.get_data(), tmp_path / "unpacked")


def test_the_zip_is_streamed_as_an_attachment_with_a_safe_name(portfolio, signed_in):
    response = _download(signed_in(portfolio.tutor), portfolio)
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "application/zip"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=portfolio-zoe-obrien-lukasz-st0396-")
    assert disposition.endswith(".zip")
    assert "Content-Length" not in response.headers


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="sha256sum is not installed")
def test_sha256sum_checks_every_other_file(unpacked):
    result = subprocess.run(["sha256sum", "--strict", "-c", "SHA256SUMS"], cwd=unpacked, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    listed = {line.split("  ", 1)[1] for line in (unpacked / "SHA256SUMS").read_text().splitlines()}
    present = {str(p.relative_to(unpacked)) for p in unpacked.rglob("*") if p.is_file()}
    assert listed == present - {"SHA256SUMS"}


def test_the_layout_has_readable_folders_and_distinct_safe_names(unpacked):
    files = sorted(str(p.relative_to(unpacked)) for p in unpacked.rglob("*") if p.is_file())
    assert files == [
        "SHA256SUMS",
        "evidence/001-community-workshop-plan-lanterns-light/plan-2.pdf",
        "evidence/001-community-workshop-plan-lanterns-light/plan.pdf",
        "evidence/001-community-workshop-plan-lanterns-light/stall.png",
        "evidence/003-workshop-budget/budget.pdf",
        "manifest.json",
        "mapping.csv",
        "portfolio.pdf",
    ]
    assert unpacked.name.startswith("portfolio-zoe-obrien-lukasz-st0396-")


def test_the_manifest_follows_its_schema_and_matches_the_files(unpacked, portfolio):
    manifest = json.loads((unpacked / "manifest.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker()).validate(manifest)
    assert manifest["apprentice"] == {"name": "Zoë O’Brien-Łukasz"}
    assert [c["code"] for c in manifest["standard"]["criteria"]][:3] == ["K1", "K2", "K3"]
    assert len(manifest["standard"]["criteria"]) == 49
    assert manifest["organisations"]["epao"] == {"name": "Crescent Assessment"}
    assert [item["number"] for item in manifest["items"]] == [1, 2, 3]
    for item in manifest["items"]:
        for entry in item["files"]:
            if entry["path"]:
                data = (unpacked / entry["path"]).read_bytes()
                assert len(data) == entry["size"]
    pdf = manifest["documents"]["pdf"]
    assert (unpacked / pdf["path"]).stat().st_size == pdf["size"]
    assert manifest["judgements"][0]["code"] == "K1" and manifest["judgements"][0]["met"] is True
    assert [d["matches_portfolio"] for d in manifest["declarations"]] == [False, True]
    assert manifest["submissions"][0]["outcome"] == "referred"
    assert manifest["submissions"][0]["item_decisions"][0] == {
        "item": "english_maths", "accepted": False, "reason": "No certificate uploaded."
    }  # fmt: skip


def test_files_of_third_party_data_without_consent_are_listed_but_left_out(unpacked):
    manifest = json.loads((unpacked / "manifest.json").read_text(encoding="utf-8"))
    photos = manifest["items"][1]
    assert photos["title"] == "Photos of the lantern parade"
    assert photos["files"] == [
        {
            "name": "parade.jpg",
            "path": None,
            "sha256": photos["files"][0]["sha256"],
            "size": photos["files"][0]["size"],
            "media_type": "image/jpeg",
            "excluded": "third_party_data_without_consent",
        }
    ]
    assert not list(unpacked.glob("evidence/002-*"))
    budget = manifest["items"][2]  # third-party data with consent: exported
    assert budget["consent_reference"] == "CONSENT-2024-17" and budget["files"][0]["path"]


def test_the_mapping_csv_has_every_criterion_and_no_formulas(unpacked):
    with (unpacked / "mapping.csv").open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.reader(stream))
    assert rows[0] == ["Criterion code", "Criterion", "Evidence item", "Evidence title", "Justification"]
    assert [r[0] for r in rows[1:]].count("K1") == 2  # items 1 and 3
    assert {r[0] for r in rows[1:]} >= {"K1", "K20", "S18", "B11"}
    s4 = next(r for r in rows if r[0] == "S4")
    assert s4[2:] == ["1", "Community workshop plan: “Lanterns & Light”", '\'=HYPERLINK("http://x") risk assessment']
    k2 = next(r for r in rows if r[0] == "K2")
    assert k2[2:] == ["", "", ""]  # no evidence yet


def test_the_export_is_in_the_audit_trail(portfolio, signed_in):
    _download(signed_in(portfolio.tutor), portfolio).get_data()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export.zip"))
    assert event.actor_id == portfolio.tutor.id and event.enrolment_id == portfolio.enrolment.id


def test_a_file_altered_in_the_store_stops_the_stream_before_the_zip_is_usable(portfolio, signed_in):
    budget = portfolio.budget.files[0]
    path = evidence_store()._path(budget.sha256)
    path.write_bytes(b"X" * budget.size)  # the same size, other bytes: only hashing finds it
    response = _download(signed_in(portfolio.tutor), portfolio)
    assert response.status_code == 200  # the stream had started
    received = bytearray()
    with pytest.raises(EvidenceFileProblem, match="budget.pdf is altered"):
        for chunk in response.response:
            received += chunk
    assert b"X" * budget.size not in received  # the altered bytes never arrived whole
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(bytes(received)))


def test_a_missing_file_is_refused_before_anything_is_sent(portfolio, signed_in):
    evidence_store()._path(portfolio.budget.files[0].sha256).unlink()
    response = _download(signed_in(portfolio.tutor), portfolio)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "The portfolio cannot be exported" in page
    assert "the file budget.pdf is missing in the evidence store" in page


def test_files_too_large_for_plain_zip_headers_get_zip64_ones(portfolio, signed_in, monkeypatch, tmp_path):
    # Four gigabytes of evidence is too much for a test: lower the limit zipfile switches at.
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 1000)
    data = _download(signed_in(portfolio.tutor), portfolio).get_data()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        stall = next(i for i in archive.infolist() if i.filename.endswith("stall.png"))
        assert stall.file_size > 1000
        assert stall.extra[:2] == b"\x01\x00"  # the ZIP64 extended information field
        assert archive.read(stall) == photo()
    monkeypatch.undo()
    root = _unpack(data, tmp_path / "zip64")
    if shutil.which("sha256sum"):
        subprocess.run(["sha256sum", "--strict", "-c", "SHA256SUMS"], cwd=root, check=True, capture_output=True)
