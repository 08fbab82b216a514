"""The app as it runs past one machine, on this one, for the benchmarks that need it.

    with Cluster(server, hosts=2, workers=2, s3=True) as cluster:
        people = cluster.setup("--apprentices", "4")   # benchmarks/world.py, in the cluster's settings
        cluster.serve()                                # gunicorn per host, `portfolio worker` per worker
        browser = Browser(cluster.hosts[0].port)

A cluster is a scratch PostgreSQL database beside the one `server` names (created, migrated by
`portfolio db upgrade`, dropped at the end), the evidence store (a scratch folder every process
shares, or with `s3` a versioned bucket of moto's S3 server, started on a free port with
fictional credentials), HOSTS gunicorn masters started as the README deploys them
(`gunicorn -c gunicorn.conf.py`), each with its own instance folder, temporary folder and log,
and WORKERS `portfolio worker` processes. Every process shares the secret and audit keys, as the
hosts of one deployment do. Leaving the `with` block (Ctrl-C and SIGTERM too) stops them all and
drops the database. Nothing here imports the app: the harness stays light beside the servers.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"
PASSWORD = "amber kestrel lantern parade"
DEFAULT_SERVER = os.environ.get("PORTFOLIO_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
S3_REGION = "eu-west-2"
CSRF_TOKEN = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')
EXPORT_STATUS = re.compile(rb'data-export-status="(\w+)"')
EXPORT_URL = re.compile(r"/enrolments/(\d+)/exports/(\d+)(/download)?$")
# Fewer connections than the app's default pools: hosts x processes x (pool + overflow) must stay
# under PostgreSQL's max_connections on a server other runs share (README: Configuration).
POOL = {"PORTFOLIO_DATABASE_POOL_SIZE": "4", "PORTFOLIO_DATABASE_MAX_OVERFLOW": "2"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_portfolio(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """The `portfolio` command, as an operator runs it, in `env`."""
    return subprocess.run(
        [sys.executable, "-c", "from portfolio.cli import main; main()", *args],
        env=env, cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip


def _proc_status(pid: int, field_name: str) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(rf"{field_name}:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else 0.0


def rss_mb(pid: int) -> float:
    return _proc_status(pid, "VmRSS")


def peak_rss_mb(pid: int) -> float:
    return _proc_status(pid, "VmHWM")


def reset_peak(pid: int) -> bool:
    """Set the process's peak RSS (VmHWM) back to its current RSS (Linux 4.0 and later)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def children(pid: int) -> list[int]:
    """The living child processes of `pid` (gunicorn's workers of a master)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def cpu_seconds(pid: int) -> float:
    """CPU time of `pid`, of its living children and of the children it has waited for (so a
    gunicorn worker replaced after its requests still counts)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for n, process in enumerate([pid, *children(pid)]):
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime and stime, and for the parent also cutime and cstime (fields 14 to 17 of stat).
        total += sum(int(value) for value in fields[11 : 13 if n else 15]) / ticks
    return total


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of `values` fall (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))] if ordered else float("nan")


class Browser:
    """One person's cookie jar and CSRF token against the servers, over plain http.client.

    `port` is the host it asks by default; any request may name another, as a balancer would
    send it elsewhere (the hosts share the secret key and the sessions' rows, so the cookie works
    on every host)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.token = ""
        self.answers: Counter[int] = Counter()

    def _send(self, method: str, path: str, body: bytes | None, content_type: str | None, port: int | None):
        conn = http.client.HTTPConnection("127.0.0.1", port or self.port, timeout=120)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if content_type:
            headers["Content-Type"] = content_type
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, value = header.split(";")[0].partition("=")
            self.cookies[name] = value
        self.answers[response.status] += 1
        return conn, response

    def request(
        self, method: str, path: str, body: bytes | None = None, content_type: str | None = None, *,
        port: int | None = None,
    ) -> tuple[int, str, bytes]:  # fmt: skip
        conn, response = self._send(method, path, body, content_type, port)
        data = response.read()
        conn.close()
        if match := CSRF_TOKEN.search(data):
            self.token = match.group(1).decode()
        return response.status, response.getheader("Location") or "", data

    def post(self, path: str, fields: list[tuple[str, str]], *, port: int | None = None):
        body = urlencode([("csrf_token", self.token), *fields]).encode()
        return self.request("POST", path, body, "application/x-www-form-urlencoded", port=port)

    def post_multipart(
        self, path: str, fields: list[tuple[str, str]], files: list[tuple[str, bytes]], *, port: int | None = None
    ):
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            for name, value in [("csrf_token", self.token), *fields]
        ]
        for filename, data in files:
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{filename}"\r\n'
                f"Content-Type: application/pdf\r\n\r\n".encode()
                + data
                + b"\r\n"
            )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request("POST", path, body, f"multipart/form-data; boundary={boundary}", port=port)

    def download_to(
        self, path: str, into: Path, *, port: int | None = None, started: Callable[[], None] = lambda: None
    ) -> tuple[int, float, int]:
        """GET `path` into the file `into` as it arrives, calling `started()` once the response has
        begun: (status, seconds, bytes)."""
        began = time.perf_counter()
        conn, response = self._send("GET", path, None, None, port)
        size = 0
        if response.status == 200:
            started()
            with into.open("wb") as out:
                while chunk := response.read(1 << 20):
                    out.write(chunk)
                    size += len(chunk)
        else:
            response.read()
        conn.close()
        return response.status, time.perf_counter() - began, size

    def sign_in(self, email: str, password: str = PASSWORD) -> None:
        self.request("GET", "/sign-in")
        status, _, _ = self.post("/sign-in", [("email", email), ("password", password)])
        if status != 302:
            raise SystemExit(f"signing in {email} failed: HTTP {status}")
        self.request("GET", "/")  # a fresh token: it changes at sign-in

    def ask_export(self, enrolment_id: int, export_format: str, *, port: int | None = None) -> tuple[int, int, bool]:
        """Press "Export as a PDF" (or ZIP) on the enrolment page: (status, export id or 0, ready at once)."""
        self.request("GET", f"/enrolments/{enrolment_id}", port=port)
        status, location, _ = self.post(f"/enrolments/{enrolment_id}/exports/{export_format}", [], port=port)
        match = EXPORT_URL.search(location) if status == 303 else None
        return status, int(match.group(2)) if match else 0, bool(match and match.group(3))

    def export_status(self, enrolment_id: int, export_id: int, *, port: int | None = None) -> str:
        """What the export's page says: pending, ready, failed or expired (or the HTTP status)."""
        status, _, page = self.request("GET", f"/enrolments/{enrolment_id}/exports/{export_id}", port=port)
        match = EXPORT_STATUS.search(page)
        return match.group(1).decode() if status == 200 and match else f"HTTP {status}"

    def wait_for_export(
        self, enrolment_id: int, export_id: int, *, timeout: float, port: int | None = None, every: float = 1.0
    ) -> str:
        """Fetch the export's page every `every` seconds, as its script does, until it is no longer pending."""
        deadline = time.monotonic() + timeout
        while (status := self.export_status(enrolment_id, export_id, port=port)) == "pending":
            if time.monotonic() > deadline:
                break
            time.sleep(every)
        return status


def export_problem(export_format: str, data: bytes) -> str | None:
    """What is wrong with a downloaded export, or None: a PDF starts with %PDF, a ZIP's every CRC is right."""
    if export_format == "pdf":
        return None if data.startswith(b"%PDF-") else f"the PDF starts with {data[:8]!r}"
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            bad = archive.testzip()
    except zipfile.BadZipFile as error:
        return f"not a ZIP: {error}"
    return None if bad is None else f"the ZIP's entry {bad} is damaged"


@dataclass
class Process:
    """A process of the cluster: a host's gunicorn master, a worker, or moto's server."""

    name: str
    popen: subprocess.Popen
    log: Path
    folder: Path
    port: int = 0

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log_lines(self) -> Iterator[dict[str, Any]]:
        """The process's JSON log lines (others, such as a traceback before logging started, as messages)."""
        for line in self.log.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                entry = None
            yield entry if isinstance(entry, dict) else {"message": line}

    def tail(self, lines: int = 15) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Cluster:
    """Hosts and workers of the app on one PostgreSQL database and one evidence store; a context manager."""

    server: str = DEFAULT_SERVER
    hosts_count: int = 1
    workers_count: int = 0
    s3: bool = False
    processes_per_host: int = 2  # gunicorn's workers
    threads: int = 4
    settings: dict[str, str] = field(default_factory=dict)  # more environment (PORTFOLIO_*, GUNICORN_*) for all
    keep: bool = False  # keep the scratch folder (logs) afterwards
    hosts: list[Process] = field(default_factory=list)
    workers: list[Process] = field(default_factory=list)

    def __enter__(self) -> Cluster:
        self._previous_term = signal.signal(signal.SIGTERM, _exit_on_term)
        self.scratch = Path(tempfile.mkdtemp(prefix="portfolio-cluster-"))
        self.database = f"portfolio_bench_{uuid.uuid4().hex[:8]}"
        self.database_url = self.server.rsplit("/", 1)[0] + f"/{self.database}"
        self._moto: Process | None = None
        self._created = False
        try:
            with psycopg.connect(self.server, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.database}"')
            self._created = True
            self.env = self._environment()
            migrated = self.run("db", "upgrade")
            if migrated.returncode:
                raise SystemExit(f"portfolio db upgrade failed:\n{migrated.stderr[-2000:]}")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _environment(self) -> dict[str, str]:
        # Nothing of the machine's own AWS settings may lead a process to a real account.
        env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
        env |= POOL | {
            "PORTFOLIO_DATABASE_URL": self.database_url,
            "PORTFOLIO_SECRET_KEY": secrets.token_hex(32),
            "PORTFOLIO_AUDIT_KEY": secrets.token_hex(32),
            "PORTFOLIO_LOG_FORMAT": "json",
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(BENCHMARKS)]),
        }
        if self.s3:
            env |= {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": S3_REGION}
            env |= {"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
            endpoint = self._start_moto(env)
            self.bucket = f"evidence-{uuid.uuid4().hex[:12]}"
            client = self.s3_client(endpoint)
            client.create_bucket(Bucket=self.bucket, CreateBucketConfiguration={"LocationConstraint": S3_REGION})
            client.put_bucket_versioning(Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"})
            self.prefix = "evidence"
            env["PORTFOLIO_EVIDENCE_URL"] = f"s3://{self.bucket}/{self.prefix}"
            env["PORTFOLIO_S3_ENDPOINT_URL"] = endpoint
        else:
            # One folder for every process, as a shared file system would be.
            env["PORTFOLIO_EVIDENCE_DIR"] = str(self.scratch / "evidence-store")
        return env | self.settings

    def _start_moto(self, env: dict[str, str]) -> str:
        port = free_port()
        self._moto = self._spawn(
            "moto", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], env, port=port
        )
        self._wait(self._moto, lambda: _listening(port))
        self.s3_endpoint = f"http://127.0.0.1:{port}"
        return self.s3_endpoint

    def s3_client(self, endpoint: str | None = None) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=endpoint or self.s3_endpoint, region_name=S3_REGION, aws_access_key_id="testing",
            aws_secret_access_key="testing", config=Config(s3={"addressing_style": "path"}),
        )  # fmt: skip

    def run(self, *args: str) -> subprocess.CompletedProcess:
        """`portfolio ARGS` in the cluster's settings."""
        return run_portfolio(self.env, *args)

    def setup(self, *args: str, script: Path = BENCHMARKS / "world.py") -> list[dict[str, Any]]:
        """Build data through the domain functions: `script ARGS` in the cluster's settings, one JSON
        object a line of its output."""
        done = subprocess.run(
            [sys.executable, str(script), *args], env=self.env, cwd=self.scratch, capture_output=True, text=True
        )
        if done.returncode:
            raise SystemExit(f"{script.name} failed:\n{done.stderr[-3000:]}")
        return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]

    def serve(self, *, worker_concurrency: int = 1, worker_nice: int = 0) -> None:
        """Start the hosts and the workers; return once every host answers /readyz."""
        for n in range(1, self.hosts_count + 1):
            port, folder = free_port(), self._folder(f"host-{n}")
            factory = f"portfolio:create_app(instance_path={str(folder / 'instance')!r})"
            command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), factory]
            env = self.env | {
                "GUNICORN_BIND": f"127.0.0.1:{port}",
                "GUNICORN_WORKERS": str(self.processes_per_host),
                "GUNICORN_THREADS": str(self.threads),
                "GUNICORN_LOGLEVEL": "info",  # workers booting and restarting, in its log
                "TMPDIR": str(folder / "tmp"),
            }
            self.hosts.append(self._spawn(f"host-{n}", command, env, port=port, folder=folder))
        for n in range(1, self.workers_count + 1):
            folder = self._folder(f"worker-{n}")
            command = [sys.executable, "-c", "from portfolio.cli import main; main()", "worker"]
            command += ["--concurrency", str(worker_concurrency)]
            if worker_nice:
                command = ["nice", "-n", str(worker_nice), *command]
            self.workers.append(self._spawn(f"worker-{n}", command, self.env | {"TMPDIR": str(folder / "tmp")}, folder))
        for host in self.hosts:
            self._wait(host, lambda host=host: _get(host.port, "/readyz") == (200, b"ready"))

    def _folder(self, name: str) -> Path:
        folder = self.scratch / name
        (folder / "tmp").mkdir(parents=True)
        return folder

    def _spawn(self, name: str, command: list[str], env: dict[str, str], folder: Path | None = None, port: int = 0):
        folder = folder or self.scratch
        log = self.scratch / f"{name}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(command, env=env, cwd=folder, stdout=out, stderr=subprocess.STDOUT)
        return Process(name, popen, log, folder, port)

    def _wait(self, process: Process, ready: Callable[[], bool], timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.popen.poll() is not None:
                raise SystemExit(f"{process.name} stopped (exit {process.popen.returncode}):\n{process.tail()}")
            try:
                if ready():
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"{process.name} was not ready after {timeout:.0f} s:\n{process.tail()}")

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.database_url, autocommit=True)

    def stored(self, sha256: str) -> bool:
        """Whether the evidence store holds the file of this hash."""
        key = f"{sha256[:2]}/{sha256[2:4]}/{sha256}"
        if not self.s3:
            return (Path(self.env["PORTFOLIO_EVIDENCE_DIR"]) / key).is_file()
        from botocore.exceptions import ClientError

        try:
            self.s3_client().head_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}")
            return True
        except ClientError:
            return False

    def where(self) -> str:
        store = f"moto S3 bucket {self.bucket}, versioned" if self.s3 else "a folder every process shares"
        per_host = f"{self.processes_per_host} gthread workers of {self.threads} threads"
        return (
            f"{len(self.hosts) or self.hosts_count} host(s) of gunicorn ({per_host} each), "
            f"{len(self.workers) or self.workers_count} `portfolio worker`, PostgreSQL, {store}"
        )

    def stop_processes(self) -> None:
        """Stop every host and worker (gracefully, then by force), leaving the database and store."""
        running = [*self.hosts, *self.workers]
        for process in running:
            _signal(process.popen, signal.SIGTERM)
        for process in running:
            try:
                process.popen.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait()

    def __exit__(self, *exc_info: object) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not stop the cleaning up
        try:
            self.stop_processes()
            if self._moto is not None:
                _signal(self._moto.popen, signal.SIGTERM)
                self._moto.popen.wait()
            if self._created:
                with psycopg.connect(self.server, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            if self.keep:
                print(f"(logs kept in {self.scratch})")
            else:
                shutil.rmtree(self.scratch, ignore_errors=True)
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, self._previous_term)


def _exit_on_term(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # so that the `with` block cleans up, as after Ctrl-C


def _signal(popen: subprocess.Popen, signum: int) -> None:
    if popen.poll() is None:
        popen.send_signal(signum)


def _listening(port: int) -> bool:
    socket.create_connection(("127.0.0.1", port), timeout=1).close()
    return True


def _get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def database_options(parser: Any, *, hosts: int = 1, workers: int = 0) -> None:
    """The options every cluster benchmark takes."""
    parser.add_argument("--server", default=DEFAULT_SERVER, help="PostgreSQL; a scratch database is made beside it")
    parser.add_argument("--hosts", type=int, default=hosts, help=f"gunicorn masters, each a host (default {hosts})")
    parser.add_argument("--workers", type=int, default=workers, help=f"`portfolio worker`s (default {workers})")
    parser.add_argument("--s3", action="store_true", help="keep the evidence in a versioned bucket of moto's S3 server")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder with every process's log")


def cluster_from(args: Any, **more: Any) -> Cluster:
    return Cluster(args.server, args.hosts, args.workers, args.s3, keep=args.keep, **more)
