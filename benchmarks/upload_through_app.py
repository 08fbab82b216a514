"""Upload a large file through the running app, under gunicorn and the development server, against hashing it.

    python benchmarks/upload_through_app.py [--size-mb 200] [--server gunicorn|werkzeug|both] [--runs 3]

Makes a file of SIZE MB (a PDF header, then random bytes) and times, best of RUNS each:
`openssl dgst -sha256` of it (the limit: the app hashes with the same library, and has at least
to read every byte), `hashlib.file_digest` and `sha256sum` (several times slower: no limit), a
copy of it written to the same disk and fsynced (the disk's own floor: an upload is on the disk
before it is answered), and the evidence store keeping it from the disk without any HTTP (its
write, SHA-256, CRC-32 and fsync: what every upload costs at the least).

Then, for each server, starts the app in a separate process on a scratch SQLite database and
evidence store, signs in as an apprentice and streams a multipart upload of the file to the
add-evidence page RUNS times (a different first line each time, so each upload is a new stored
file). gunicorn runs as the README deploys it (gthread, 4 threads, 120 s timeout) with one
worker, so that the process measured is the one that takes the upload (the arbiter never sees
the body); werkzeug is the threaded development server.

Printed for each upload: its wall time (until the redirect has arrived, so storing the file, its
fsync and the evidence item are included) and its ratio to openssl's time; the CPU time of the
process that served it; and that process's memory growth: its peak resident memory (VmHWM)
after the upload minus the same just before, once /proc/PID/clear_refs has set the peak back
to the resident size. Aims: at most 1.5x openssl under gunicorn, growth under 50 MB.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cluster import peak_rss_mb, reset_peak  # the memory readers every benchmark shares

SERVER = r"""
import os, sys
from datetime import date
from flask_migrate import upgrade
from portfolio import create_app
from portfolio.accounts.domain import create_organisation, create_user
from portfolio.enrolments.domain import EnrolmentTerms, enrol
from portfolio.extensions import db
from portfolio.models import AgeBand, OrganisationKind, Role
from portfolio.enrolments.standard_versions import store_standard
from standard import shipped_path

instance, max_mb, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
config = {"DATABASE_URL": f"sqlite:///{instance}/bench.db", "MAX_UPLOAD_MB": max_mb}
app = create_app(config, instance_path=instance)
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
    print(f"enrolment {enrolment.id}", flush=True)
    db.engine.dispose()  # gunicorn's worker builds its own app, with its own connections

if kind == "werkzeug":
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(f"port {server.server_port}", flush=True)
    print(f"pid {os.getpid()}", flush=True)
    server.serve_forever()
else:
    from gunicorn.app.base import BaseApplication

    class Gunicorn(BaseApplication):
        # The README's command line, with one worker: the one whose memory is read takes the upload.
        def load_config(self):
            settings = {
                "bind": "127.0.0.1:0", "workers": 1, "worker_class": "gthread", "threads": 4, "timeout": 120,
                "loglevel": "warning",
                "when_ready": lambda arbiter: print(f"port {arbiter.LISTENERS[0].sock.getsockname()[1]}", flush=True),
                "post_worker_init": lambda worker: print(f"pid {os.getpid()}", flush=True),
            }
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self):
            return create_app(config, instance_path=instance)

    Gunicorn().run()
"""

STORE = r"""
import sys, time
from pathlib import Path
from filestore import FileSystemStore

sample, root = Path(sys.argv[1]), Path(sys.argv[2])
with sample.open("rb") as stream:
    start = time.perf_counter()
    FileSystemStore(root).put(stream, sample.name, sample.stat().st_size)
print(time.perf_counter() - start)
"""

SERVERS = ("gunicorn", "werkzeug")
CSRF_FIELD = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')


@dataclass(frozen=True)
class Server:
    """A running app: the enrolment to upload to, its port, the process that serves requests, and
    the session cookie of the apprentice signed in."""

    enrolment_id: int
    port: int
    pid: int
    cookie: str


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process (all its threads) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--server", choices=(*SERVERS, "both"), default="both")
    parser.add_argument("--runs", type=int, default=3, help="uploads per server, and timings of each reference")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        sample = make_sample(Path(scratch) / "recording.pdf", args.size_mb * 1024 * 1024)
        openssl = best_time(lambda: run(["openssl", "dgst", "-sha256", str(sample)]), args.runs)
        file_digest = best_time(lambda: hash_file(sample), args.runs)
        sha256sum = best_time(lambda: run(["sha256sum", str(sample)]), args.runs)
        disk = best_time(lambda: write_durably(sample, Path(scratch) / "copy"), args.runs)
        alone = min(store_alone(sample, Path(scratch) / "store", number) for number in range(1, args.runs + 1))
        print(f"file: {args.size_mb} MB; best of {args.runs} runs of each")
        print(f"openssl dgst -sha256: {openssl:.2f} s (the limit)")
        print(f"hashlib.file_digest: {file_digest:.2f} s, {file_digest / openssl:.2f}x openssl")
        print(f"sha256sum: {sha256sum:.2f} s, {sha256sum / openssl:.2f}x openssl")
        print(
            f"the disk alone (a copy written a megabyte at a time, then fsync): {disk:.2f} s, "
            f"{disk / openssl:.2f}x openssl"
        )
        print(
            f"the store alone (put from the file: write, SHA-256, CRC-32, fsync): {alone:.2f} s, "
            f"{alone / openssl:.2f}x openssl"
        )
        for kind in SERVERS if args.server == "both" else (args.server,):
            with serve(kind, Path(scratch) / kind, args.size_mb + 10) as server:
                times = []
                for number in range(1, args.runs + 1):
                    mark(sample, number)
                    measured = upload_measured(server, sample)
                    times.append(measured.seconds)
                    print(
                        f"{kind} upload {number}: {measured.seconds:.2f} s, {measured.seconds / openssl:.2f}x openssl; "
                        f"server CPU {measured.cpu_seconds:.2f} s; server memory +{measured.memory_growth_mb:.1f} MB"
                    )
            print(
                f"{kind}: best {min(times):.2f} s, {min(times) / openssl:.2f}x openssl "
                f"(median {statistics.median(times) / openssl:.2f}x); aim: 1.5x or less, memory under +50 MB"
            )


def make_sample(path: Path, size: int) -> Path:
    """A file of `size` random bytes that the store takes for a PDF (by its first bytes)."""
    with path.open("wb") as out:
        out.write(_first_line(0))
        while (left := size - out.tell()) > 0:
            out.write(os.urandom(min(left, 1 << 20)))
    return path


def mark(sample: Path, number: int) -> None:
    """Make the sample a new file for the store (its first line names the run) without changing its size."""
    with sample.open("r+b") as out:
        out.write(_first_line(number))


def _first_line(number: int) -> bytes:
    return f"%PDF-1.7 %run {number:06d}\n".encode()


def run(command: list[str]) -> None:
    subprocess.run(command, check=True, capture_output=True)


def hash_file(path: Path) -> None:
    with path.open("rb") as stream:
        hashlib.file_digest(stream, "sha256")


def write_durably(sample: Path, copy: Path) -> None:
    """Write the sample's bytes to `copy`, on the same disk as the store, until they are on the
    disk: what keeping any file durably costs, with no hashing."""
    with sample.open("rb") as source, copy.open("wb") as out:
        while chunk := source.read(1 << 20):
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    copy.unlink()


def best_time(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def store_alone(sample: Path, root: Path, number: int) -> float:
    """Seconds the evidence store takes to keep `sample` read from disk (marked as run `number`)."""
    mark(sample, 100 + number)  # apart from the uploads' marks
    done = subprocess.run([sys.executable, "-c", STORE, str(sample), str(root)], check=True, capture_output=True)
    return float(done.stdout)


@contextmanager
def serve(kind: str, instance: Path, max_mb: int) -> Iterator[Server]:
    """Run the app under `kind` on a fresh database and store; stopped when the block ends."""
    instance.mkdir()
    log = instance / "server.log"
    with log.open("w") as errors:
        process = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(instance), str(max_mb), kind],
            stdout=subprocess.PIPE, stderr=errors, text=True,
        )  # fmt: skip
    try:
        assert process.stdout is not None
        said = dict(line.split() for line in (process.stdout.readline() for _ in range(3)) if line)
        if len(said) < 3:
            raise SystemExit(f"the {kind} server did not start:\n{log.read_text()[-3000:]}")
        yield Server(int(said["enrolment"]), int(said["port"]), int(said["pid"]), sign_in(int(said["port"])))
    finally:
        process.terminate()
        process.wait()


@dataclass(frozen=True)
class Upload:
    seconds: float
    cpu_seconds: float  # of the process that served it
    memory_growth_mb: float


def upload_measured(server: Server, sample: Path) -> Upload:
    """Upload `sample` as a new evidence item, measuring its time and the server's CPU and memory."""
    path = f"/enrolments/{server.enrolment_id}/evidence/new"
    cookie, token = form_token(server.port, server.cookie, path)
    if not reset_peak(server.pid):
        raise SystemExit(f"cannot reset the peak memory of process {server.pid} (/proc/PID/clear_refs)")
    before, cpu = peak_rss_mb(server.pid), cpu_seconds(server.pid)  # the peak is the resident size now
    seconds = upload(server.port, cookie, token, server.enrolment_id, sample)
    return Upload(seconds, cpu_seconds(server.pid) - cpu, peak_rss_mb(server.pid) - before)


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
    return cookie, CSRF_FIELD.search(html).group(1).decode()


def sign_in(port):
    response, html = request(port, "GET", "/sign-in")
    cookie = response.getheader("Set-Cookie").split(";")[0]
    token = CSRF_FIELD.search(html).group(1).decode()
    body = f"csrf_token={token}&email=bench%40example.org&password=benchmark+password"
    response, _ = request(port, "POST", "/sign-in", body,
                          {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})  # fmt: skip
    return response.getheader("Set-Cookie").split(";")[0]


def upload(port, cookie, token, enrolment_id, sample: Path) -> float:
    """POST the add-evidence form with `sample` as its file, streamed a megabyte at a time; the seconds it took."""
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

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    start = time.perf_counter()
    conn.putrequest("POST", f"/enrolments/{enrolment_id}/evidence/new")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(length))
    conn.putheader("Cookie", cookie)
    conn.endheaders()
    conn.send(head.encode())
    with sample.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            conn.send(chunk)
    conn.send(tail)
    response = conn.getresponse()
    response.read()
    seconds = time.perf_counter() - start
    if response.status != 302:
        raise SystemExit(f"upload failed: HTTP {response.status}")
    return seconds


if __name__ == "__main__":
    main()
