"""Upload a large file through the running app and measure the server's memory and time.

    python benchmarks/upload_through_app.py [--size-mb 200]

Starts the app in a separate server process (werkzeug, threaded) on a scratch SQLite
database, signs in as an apprentice, streams a multipart upload of SIZE MB to the add
evidence page, and prints: the server process's peak resident memory before and after
(VmHWM from /proc), the upload's wall time, and `sha256sum`'s time on the same file.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SERVER = r"""
import sys
from datetime import date
from werkzeug.serving import make_server
from portfolio import create_app
from portfolio.accounts.domain import create_organisation, create_user
from portfolio.enrolments.domain import EnrolmentTerms, enrol
from portfolio.extensions import db
from portfolio.models import AgeBand, OrganisationKind, Role
from portfolio.enrolments.standard_versions import store_standard
from standard import shipped_path
from flask_migrate import upgrade

instance, max_mb = sys.argv[1], int(sys.argv[2])
app = create_app({"DATABASE_URL": f"sqlite:///{instance}/bench.db", "MAX_UPLOAD_MB": max_mb}, instance_path=instance)
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
    s.commit()
    print(enrolment.id, flush=True)
server = make_server("127.0.0.1", 0, app, threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"""


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=200)
    args = parser.parse_args()
    size = args.size_mb * 1024 * 1024
    with tempfile.TemporaryDirectory() as scratch:
        sample = Path(scratch) / "recording.pdf"
        with sample.open("wb") as out:
            out.write(b"%PDF-1.7\n")
            block = os.urandom(1 << 20)
            while out.tell() < size:
                out.write(block[: size - out.tell()])
        start = time.perf_counter()
        subprocess.run(["sha256sum", str(sample)], check=True, capture_output=True)
        sha256sum_seconds = time.perf_counter() - start

        instance = Path(scratch) / "instance"
        instance.mkdir()
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(instance), str(args.size_mb + 10)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            enrolment_id = int(server.stdout.readline())
            port = int(server.stdout.readline())
            cookie = sign_in(port)
            cookie, token = form_token(port, cookie, f"/enrolments/{enrolment_id}/evidence/new")
            before = peak_rss_mb(server.pid)
            seconds, status = upload(port, cookie, token, enrolment_id, sample)
            after = peak_rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait()
    print(f"file: {args.size_mb} MB")
    print(f"sha256sum: {sha256sum_seconds:.2f} s")
    print(
        f"upload through the app: {seconds:.2f} s (HTTP {status}), "
        f"{seconds / sha256sum_seconds:.2f}x sha256sum (aim: 2x or less)"
    )
    print(f"server peak RSS: {before:.1f} MB before, {after:.1f} MB after: +{after - before:.1f} MB (aim: under 50 MB)")


def request(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    return response, data


def form_token(port, cookie, path):
    """The session cookie and CSRF token of a form page (signing in starts a new session, whose
    token the first form page sets)."""
    response, html = request(port, "GET", path, headers={"Cookie": cookie})
    cookie = (response.getheader("Set-Cookie") or cookie).split(";")[0]
    return cookie, re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1).decode()


def sign_in(port):
    response, html = request(port, "GET", "/sign-in")
    cookie = response.getheader("Set-Cookie").split(";")[0]
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1).decode()
    body = f"csrf_token={token}&email=bench%40example.org&password=benchmark+password"
    response, _ = request(port, "POST", "/sign-in", body,
                          {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})  # fmt: skip
    return response.getheader("Set-Cookie").split(";")[0]


def upload(port, cookie, token, enrolment_id, sample: Path):
    boundary = "benchmarkboundary7MA4YWxkTrZu0gW"
    fields = {
        "csrf_token": token, "title": "Recording of the lantern parade", "kind": "photo_or_video",
        "criteria": "S5", "justification-S5": "The recording shows me briefing the stewards.",
    }  # fmt: skip
    head = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items()
    )
    head += "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="activity_date"\r\n\r\n{v}\r\n'
        for v in ("2", "3", "2025")
    )
    head += f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{sample.name}"\r\n'
    head += "Content-Type: application/pdf\r\n\r\n"
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = len(head.encode()) + sample.stat().st_size + len(tail)

    def body():
        yield head.encode()
        with sample.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                yield chunk
        yield tail

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    start = time.perf_counter()
    conn.putrequest("POST", f"/enrolments/{enrolment_id}/evidence/new")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(length))
    conn.putheader("Cookie", cookie)
    conn.endheaders()
    for chunk in body():
        conn.send(chunk)
    response = conn.getresponse()
    response.read()
    seconds = time.perf_counter() - start
    if response.status != 302:
        raise SystemExit(f"upload failed: HTTP {response.status}")
    return seconds, response.status


if __name__ == "__main__":
    main()
