"""Stream the ZIP export of a portfolio holding 1 GB of files and measure the server's memory.

    python benchmarks/export_zip_memory.py [--size-mb 1024] [--files 16] [--photos 4]

Starts the app in a separate server process (werkzeug, threaded) on a scratch SQLite database
and evidence store, where it builds an apprentice's portfolio of FILES evidence items each
holding one PDF of SIZE/FILES MB (random bytes, so each is stored whole), plus PHOTOS items with
a JPEG photo each (for the PDF's previews). Then signs in as the apprentice, downloads
/enrolments/N/export/portfolio.zip reading it as it arrives, and prints the ZIP's size, the
time, and the server's resident memory before the request and at its peak during it (the
peak is reset first through /proc/PID/clear_refs, so the build does not count). The aim is a
rise of under 100 MB, however large the files. Finally the ZIP (kept in a scratch folder) is
opened and every entry's CRC checked.
"""

from __future__ import annotations

import argparse
import http.client
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

# The sign-in and memory helpers of the upload benchmark, which signs in the same apprentice.
from upload_through_app import peak_rss_mb, reset_peak, rss_mb, sign_in

SERVER = r"""
import io, os, sys
from datetime import date
from PIL import Image
from werkzeug.serving import make_server
from flask_migrate import upgrade
from portfolio import create_app
from portfolio.accounts.domain import create_organisation, create_user
from portfolio.enrolments.domain import EnrolmentTerms, enrol
from portfolio.evidence.items import EvidenceDetails, Upload, create_item, submit
from portfolio.extensions import db
from portfolio.models import AgeBand, EvidenceKind, OrganisationKind, Role
from portfolio.enrolments.standard_versions import store_standard
from portfolio.core.storage import evidence_store
from standard import shipped_path

instance, total_mb, files, photos = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
file_size = total_mb * 1024 * 1024 // files


class RandomPdf(io.RawIOBase):
    # A PDF-looking stream of `size` bytes, made a megabyte at a time (never held whole).
    def __init__(self, size, seed):
        self.left, self.head, self.block = size, f"%PDF-1.7\n% recording {seed}\n".encode(), os.urandom(1 << 20)
    def readable(self):
        return True
    def read(self, n=-1):
        n = self.left if n is None or n < 0 else min(n, self.left)
        data, self.head = (self.head + self.block)[:n], b""
        self.left -= len(data)
        return data


app = create_app({"DATABASE_URL": f"sqlite:///{instance}/bench.db", "MAX_UPLOAD_MB": file_size // 2**20 + 1},
                 instance_path=instance)
with app.app_context():
    upgrade(directory=app.extensions["migrate"].directory)
    s = db.session
    version, _ = store_standard(s, shipped_path("ST0396").read_text())
    employer = create_organisation(s, "Bench Museum", OrganisationKind.EMPLOYER)
    provider = create_organisation(s, "Bench Training", OrganisationKind.PROVIDER)
    apprentice = create_user(s, email="bench@example.org", name="Bench Apprentice", role=Role.APPRENTICE,
                             organisation=employer, password="benchmark password")
    enrolment = enrol(s, apprentice=apprentice, standard_version=version, employer=employer, by=None,
                      terms=EnrolmentTerms(provider=provider, epao=None, mentor=None, tutor=None,
                                           start_date=date(2025, 1, 6), planned_end_date=date(2026, 7, 6),
                                           planned_otj_hours=375, age_band=AgeBand.AGED_24_PLUS,
                                           english_maths_route="achieved"))
    codes = version.standard.codes
    for n in range(files + photos):
        if n < files:
            upload = Upload(RandomPdf(file_size, n), f"recording-{n + 1}.pdf")
        else:
            picture = io.BytesIO()
            Image.effect_noise((4032, 3024), 40).convert("RGB").save(picture, "JPEG", quality=88)
            upload = Upload(io.BytesIO(picture.getvalue()), f"photo-{n + 1}.jpg")
        details = EvidenceDetails(title=f"Evidence {n + 1}", kind=EvidenceKind.PHOTO_OR_VIDEO,
                                  activity_date=date(2025, 2, 1), links={codes[n % len(codes)]: "Shown here."})
        item = create_item(s, evidence_store(), enrolment=enrolment, author=apprentice, details=details,
                           uploads=[upload], max_bytes=file_size + 1)
        submit(item, by=apprentice)
        s.commit()
    print(enrolment.id, flush=True)
server = make_server("127.0.0.1", 0, app, threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=1024, help="MB of PDF files in the portfolio (default 1024)")
    parser.add_argument("--files", type=int, default=16, help="how many PDF files share that size (default 16)")
    parser.add_argument("--photos", type=int, default=4, help="JPEG photos besides (default 4)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        instance = Path(scratch) / "instance"
        instance.mkdir()
        started = time.perf_counter()
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(instance), str(args.size_mb), str(args.files), str(args.photos)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            enrolment_id = int(server.stdout.readline())
            port = int(server.stdout.readline())
            print(f"built the portfolio in {time.perf_counter() - started:.1f}s")
            cookie = sign_in(port)
            reset = reset_peak(server.pid)
            before = rss_mb(server.pid) if reset else peak_rss_mb(server.pid)
            archive = Path(scratch) / "portfolio.zip"
            marks = []

            def answered() -> None:
                """The peak up to the response's start (checks and PDF done), then reset for the stream."""
                marks.append(peak_rss_mb(server.pid))
                reset_peak(server.pid)

            url = f"/enrolments/{enrolment_id}/export/portfolio.zip"
            seconds, size = download(port, cookie, url, archive, answered)
            streaming = peak_rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait()
        with zipfile.ZipFile(archive) as opened:
            bad = opened.testzip()
            entries = len(opened.infolist())
    crc = "correct" if bad is None else f"WRONG in {bad}"
    print(f"ZIP: {size / 2**20:,.0f} MB in {entries} entries, every CRC {crc}")
    print(f"download: {seconds:.1f} s ({size / 2**20 / seconds:,.0f} MB/s), making the PDF included")
    peak = max(marks[0], streaming)
    print(
        f"server RSS: {before:.1f} MB before, peak {peak:.1f} MB during: +{peak - before:.1f} MB (aim: under 100 MB)"
        + ("" if reset else " (peak not reset: the build may count)")
    )
    print(f"  until the response started (checks, PDF): peak {marks[0]:.1f} MB, +{marks[0] - before:.1f} MB")
    print(f"  while the ZIP streamed: peak {streaming:.1f} MB, +{streaming - before:.1f} MB")


def download(port: int, cookie: str, path: str, into: Path, answered) -> tuple[float, int]:
    """GET `path` and write the body to `into` as it arrives, calling `answered()` once the
    response has started; (seconds, bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    conn.request("GET", path, headers={"Cookie": cookie})
    response = conn.getresponse()
    if response.status != 200:
        raise SystemExit(f"export failed: HTTP {response.status}")
    answered()
    size = 0
    with into.open("wb") as out:
        while chunk := response.read(1 << 20):
            out.write(chunk)
            size += len(chunk)
    return time.perf_counter() - started, size


if __name__ == "__main__":
    main()
