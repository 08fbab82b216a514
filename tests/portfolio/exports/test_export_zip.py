"""The portfolio ZIP: streamed, complete, checkable with `sha256sum -c`, described by its manifest."""

from __future__ import annotations

import csv
import io
import json
import shutil
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import select, update

from portfolio.core.storage import evidence_store
from portfolio.exports import zipwriter
from portfolio.exports.manifest import schema
from portfolio.extensions import db
from portfolio.models import AuditEvent, EvidenceFile
from tests.helpers import export_through_web

from .export_world import build, photo


@pytest.fixture
def portfolio(world):
    return build(world)


def _download(client, portfolio):
    return export_through_web(client, portfolio.enrolment.id, "zip")


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


def test_the_zip_is_streamed_from_the_store_as_an_attachment_with_a_safe_name(portfolio, signed_in):
    response = _download(signed_in(portfolio.tutor), portfolio)
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "application/zip"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=portfolio-zoe-obrien-lukasz-st0396-")
    assert disposition.endswith(".zip")
    assert int(response.headers["Content-Length"]) == len(response.get_data())  # made whole before it is offered


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


def _assert_not_made(response, problem: str) -> None:
    """The export page says it could not be made and why, and no ZIP, whole or part, was kept."""
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "It could not be made." in page and problem in page
    assert "/download" not in page
    assert list(evidence_store().export_names()) == []
    assert evidence_store().clean_temp(older_than=0) == 0  # no partial file left behind either


def test_a_file_altered_in_the_store_stops_the_zip_before_it_is_kept(portfolio, signed_in):
    budget = portfolio.budget.files[0]
    path = evidence_store()._path(budget.sha256)
    path.write_bytes(b"X" * budget.size)  # the same size, other bytes: only hashing finds it
    _assert_not_made(_download(signed_in(portfolio.tutor), portfolio), "the file budget.pdf is altered")


def test_a_missing_file_is_refused_before_anything_is_made(portfolio, signed_in):
    evidence_store()._path(portfolio.budget.files[0].sha256).unlink()
    _assert_not_made(
        _download(signed_in(portfolio.tutor), portfolio), "the file budget.pdf is missing in the evidence store"
    )


def test_files_too_large_for_plain_zip_headers_get_zip64_ones(portfolio, signed_in, monkeypatch, tmp_path):
    # Four gigabytes of evidence is too much for a test: lower the limit the writer switches at.
    monkeypatch.setattr(zipwriter, "ZIP64_LIMIT", 1000)
    data = _download(signed_in(portfolio.tutor), portfolio).get_data()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        stall = next(i for i in archive.infolist() if i.filename.endswith("stall.png"))
        assert stall.file_size > 1000
        assert stall.extra[:2] == b"\x01\x00"  # the ZIP64 extended information field
        assert archive.read(stall) == photo()
        small = next(i for i in archive.infolist() if i.filename.endswith("budget.pdf"))
        assert small.file_size < 1000 and small.header_offset > 1000  # a ZIP64 offset, not sizes
    streamed = dict(_read_as_a_stream(data))  # ZIP64 sizes in the local headers too
    assert streamed[stall.filename] == photo()
    root = _unpack(data, tmp_path / "zip64")
    if shutil.which("sha256sum"):
        subprocess.run(["sha256sum", "--strict", "-c", "SHA256SUMS"], cwd=root, check=True, capture_output=True)


def _read_as_a_stream(data: bytes) -> list[tuple[str, bytes]]:
    """What a streaming reader gets: each entry from its local header and the bytes after it, front to
    back, never looking at the central directory; checks each entry's CRC-32 and sizes on the way."""
    stream = io.BytesIO(data)
    entries = []
    while (signature := stream.read(4)) == b"PK\x03\x04":
        _, flags, method, _, _, crc, compressed, size, name_length, extra_length = struct.unpack(
            "<HHHHHIIIHH", stream.read(26)
        )
        name, extra = stream.read(name_length).decode("utf-8"), stream.read(extra_length)
        assert flags & 0x08 == 0, f"{name}: sizes and CRC-32 after the data (a data descriptor)"
        assert method == 0  # stored
        if size == 0xFFFFFFFF:
            kind, length, size, compressed = struct.unpack("<HHQQ", extra[:20])
            assert (kind, length) == (1, 16)
        assert compressed == size
        body = stream.read(size)
        assert len(body) == size and zlib.crc32(body) == crc, name
        entries.append((name, body))
    assert signature == b"PK\x01\x02"  # then the central directory
    return entries


def test_a_streaming_reader_finds_every_entry_from_its_local_header(portfolio, signed_in):
    data = _download(signed_in(portfolio.tutor), portfolio).get_data()
    streamed = _read_as_a_stream(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert [name for name, _ in streamed] == archive.namelist()
        for name, body in streamed:
            assert body == archive.read(name)
    assert dict(streamed)[next(n for n, _ in streamed if n.endswith("stall.png"))] == photo()


JAVA_READER = """
import java.io.FileInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

public class StreamZip {
    public static void main(String[] args) throws Exception {
        try (ZipInputStream in = new ZipInputStream(new FileInputStream(args[0]))) {
            byte[] buffer = new byte[65536];
            for (ZipEntry entry; (entry = in.getNextEntry()) != null; ) {
                long size = 0;
                for (int n; (n = in.read(buffer)) > 0; ) size += n;  // checks the CRC-32 at the end
                System.out.println(entry.getName() + " " + size);
            }
        }
    }
}
"""


@pytest.mark.skipif(shutil.which("java") is None, reason="java is not installed")
@pytest.mark.parametrize("zip64", [False, True])
def test_java_zip_input_stream_reads_every_entry(portfolio, signed_in, tmp_path, monkeypatch, zip64):
    if zip64:
        monkeypatch.setattr(zipwriter, "ZIP64_LIMIT", 1000)
    data = _download(signed_in(portfolio.tutor), portfolio).get_data()
    (tmp_path / "portfolio.zip").write_bytes(data)
    (tmp_path / "StreamZip.java").write_text(JAVA_READER)
    result = subprocess.run(
        ["java", "StreamZip.java", "portfolio.zip"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        expected = [f"{info.filename} {info.file_size}" for info in archive.infolist()]
    assert result.stdout.splitlines() == expected


@pytest.mark.skipif(shutil.which("zipinfo") is None, reason="zipinfo is not installed (Debian package unzip)")
def test_zipinfo_shows_every_entry_as_a_readable_regular_file(portfolio, signed_in, tmp_path):
    (tmp_path / "portfolio.zip").write_bytes(_download(signed_in(portfolio.tutor), portfolio).get_data())
    result = subprocess.run(["zipinfo", "portfolio.zip"], cwd=tmp_path, capture_output=True, text=True, check=True)
    entries = [line for line in result.stdout.splitlines() if "/" in line]
    assert len(entries) == 8
    for line in entries:
        assert line.split()[:3] == ["-rw-r--r--", "2.0", "unx"], line
        assert " stor " in line  # stored, not compressed


def test_the_crc_32_of_an_upload_is_recorded_beside_its_sha_256(portfolio):
    for item in (portfolio.plan, portfolio.budget):
        for evidence_file in item.files:
            with evidence_store().open(evidence_file.sha256) as stream:
                assert evidence_file.crc32 == zlib.crc32(stream.read())


def _forget_crc32(evidence_file) -> None:
    """As for a file stored before CRC-32s were recorded, whose bytes migration 0009 could not read."""
    db.session.execute(update(EvidenceFile).where(EvidenceFile.id == evidence_file.id).values(crc32=None))
    db.session.commit()


def test_a_file_with_no_crc_32_on_record_is_read_for_it_before_the_zip_is_sent(portfolio, signed_in):
    _forget_crc32(portfolio.budget.files[0])
    data = _download(signed_in(portfolio.tutor), portfolio).get_data()
    budget = next(body for name, body in _read_as_a_stream(data) if name.endswith("budget.pdf"))
    assert budget == evidence_store().open(portfolio.budget.files[0].sha256).read()


def test_a_file_with_no_crc_32_on_record_that_was_altered_is_refused_before_anything_is_sent(portfolio, signed_in):
    budget = portfolio.budget.files[0]
    _forget_crc32(budget)
    evidence_store()._path(budget.sha256).write_bytes(b"X" * budget.size)
    _assert_not_made(
        _download(signed_in(portfolio.tutor), portfolio), "the file budget.pdf is altered in the evidence store"
    )


def test_a_crc_32_on_record_that_does_not_match_stops_the_zip(portfolio, signed_in):
    budget = portfolio.budget.files[0]
    db.session.execute(update(EvidenceFile).where(EvidenceFile.id == budget.id).values(crc32=budget.crc32 ^ 1))
    db.session.commit()
    _assert_not_made(_download(signed_in(portfolio.tutor), portfolio), "budget.pdf is altered")
