"""gunicorn.conf.py, loaded as gunicorn loads it, and gunicorn serving the app with it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.app.wsgiapp import WSGIApplication

from .test_metrics import sample

ROOT = Path(__file__).resolve().parents[3]
CONFIG = ROOT / "gunicorn.conf.py"


def _ours(name: str) -> bool:
    """A variable gunicorn.conf.py reads, which the machine running the tests may have set."""
    return name.startswith("GUNICORN_") or name in ("FORWARDED_ALLOW_IPS", "PORTFOLIO_LOG_FORMAT")


@pytest.fixture
def load(monkeypatch, tmp_path):
    """`load(*args)`: gunicorn's configuration as `gunicorn -c gunicorn.conf.py *args` builds it."""
    for name in filter(_ours, list(os.environ)):
        monkeypatch.delenv(name)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))

    def loaded(*args: str):
        monkeypatch.setattr(sys, "argv", ["gunicorn", "-c", str(CONFIG), *args])
        try:
            return WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]").cfg
        finally:
            sys.modules.pop("__config__", None)  # where gunicorn puts the file it ran

    return loaded


def test_the_settings(load):
    cfg = load()
    cores = len(os.sched_getaffinity(0))
    assert cfg.wsgi_app == "portfolio:create_app()"
    assert (cfg.worker_class_str, cfg.workers, cfg.threads) == ("gthread", min(2 * cores + 1, 8), 4)
    assert (cfg.timeout, cfg.graceful_timeout, cfg.keepalive) == (30, 30, 5)
    assert cfg.max_requests == 1000 and cfg.max_requests_jitter == 500
    assert cfg.bind == ["127.0.0.1:8000"] and cfg.forwarded_allow_ips == ["127.0.0.1", "::1"]
    assert cfg.accesslog is None  # the app writes the access lines
    assert cfg.logconfig_dict["loggers"]["gunicorn.error"]["handlers"] == ["json"]
    assert cfg.logconfig_dict["root"]["handlers"] == []  # the app's handler goes there, once


def test_the_environment_overrides_the_file_and_gunicorns_own_arguments_win(load, monkeypatch):
    monkeypatch.setenv("GUNICORN_WORKERS", "3")
    monkeypatch.setenv("GUNICORN_TIMEOUT", "45")
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.2")
    monkeypatch.setenv("PORTFOLIO_LOG_FORMAT", "text")
    cfg = load()
    assert (cfg.workers, cfg.timeout, cfg.forwarded_allow_ips) == (3, 45, ["10.0.0.2"])
    assert cfg.logconfig_dict == {}  # gunicorn's own text lines, beside the app's text lines
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--workers 5 --timeout 60")
    cfg = load()
    assert (cfg.workers, cfg.timeout) == (5, 60)
    assert load("--workers", "2").workers == 2


def test_the_hooks_keep_the_metrics_folder(load, tmp_path):
    folder = tmp_path / "metrics"
    cfg = load()
    assert folder.is_dir()  # made before any worker imports prometheus_client
    for name in ("counter_4242.db", "histogram_4242.db", "gauge_livesum_4242.db", "notes.txt"):
        (folder / name).write_bytes(b"")
    cfg.on_starting(None)
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]  # an earlier run's counts are gone
    (folder / "counter_4243.db").write_bytes(b"")
    (folder / "gauge_livesum_4243.db").write_bytes(b"")
    cfg.child_exit(None, SimpleNamespace(pid=4243))
    assert sorted(p.name for p in folder.iterdir()) == ["counter_4243.db", "notes.txt"]  # counts stay
    cfg.on_exit(None)
    assert folder.is_dir()  # a folder given is left where it was


def test_without_a_folder_given_the_master_makes_its_own_and_removes_it(load, monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    cfg = load()
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    assert folder.is_dir() and folder.name == f"portfolio-metrics-{os.getpid()}"
    cfg.on_exit(None)
    assert not folder.exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str, headers: dict[str, str] | None = None):
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as response:
        return response.status, dict(response.headers), response.read().decode()


def test_gunicorn_serves_with_json_lines_and_metrics_of_every_worker(tmp_path):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not _ours(k) and k != "PROMETHEUS_MULTIPROC_DIR"}
    env |= {
        "PYTHONPATH": str(ROOT),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "PORTFOLIO_DATABASE_URL": f"sqlite:///{tmp_path / 'portfolio.db'}",
        "PORTFOLIO_METRICS_TOKEN": "gunicorn-test-token",
    }
    app = f"portfolio:create_app(instance_path={str(tmp_path / 'instance')!r})"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(CONFIG), app],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(f"{base}/healthz")
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        for _ in range(20):
            status, headers, _body = _get(f"{base}/healthz", {"X-Request-ID": "through-gunicorn-1"})
            assert status == 200 and headers["X-Request-ID"] == "through-gunicorn-1"
        _, _, scraped = _get(f"{base}/metrics", {"Authorization": "Bearer gunicorn-test-token"})
    finally:
        server.send_signal(signal.SIGTERM)
        _, errors = server.communicate(timeout=60)
    # Whichever worker answered each request, the scrape adds up both (and the first probe above).
    assert sample(scraped, "portfolio_http_requests_total", endpoint="operations.healthz", status="200") == 21
    lines = [json.loads(line) for line in errors.splitlines()]  # every line, gunicorn's too, is JSON
    assert sum(line["logger"] == "gunicorn.error" and "Booting worker" in line["message"] for line in lines) == 2
    ours = [line for line in lines if line["request_id"] == "through-gunicorn-1"]
    assert len(ours) == 20 and all(line["endpoint"] == "operations.healthz" for line in ours)
    assert not Path(tempfile.gettempdir(), f"portfolio-metrics-{server.pid}").exists()  # removed at exit
