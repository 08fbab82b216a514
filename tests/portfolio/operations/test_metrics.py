"""/metrics: off unless a token or networks are set, the same 404 for any refusal, and counts
that follow the requests (added up across processes in multiprocess mode)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from portfolio import create_app
from portfolio.config import metrics_networks
from portfolio.core import metrics

ROOT = Path(__file__).resolve().parents[3]
TOKEN = "scrape-token-9f2c41d7e0b8"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def sample(body: str, name: str, **labels: str) -> float | None:
    """The value of one series in a scrape, or None when it is not there."""
    for family in text_string_to_metric_families(body):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return found.value
    return None


def moved(before: str, after: str, name: str, **labels: str) -> float:
    """How far a series moved between two scrapes (a series not there yet counts as 0)."""
    return (sample(after, name, **labels) or 0) - (sample(before, name, **labels) or 0)


@pytest.fixture
def scrape(app, client):
    """`scrape()`: the metrics as the configured scraper reads them."""
    app.config["METRICS_TOKEN"] = TOKEN

    def read() -> str:
        response = client.get("/metrics", headers=BEARER)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    return read


def test_metrics_are_off_by_default(client):
    not_found = client.get("/no/such/page")
    response = client.get("/metrics", headers=BEARER)
    assert response.status_code == 404
    assert response.get_data() == not_found.get_data()  # nothing tells it apart from a missing page


def test_the_token_opens_them_and_any_other_answer_is_a_404(app, client):
    app.config["METRICS_TOKEN"] = TOKEN
    response = client.get("/metrics", headers=BEARER)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")  # Prometheus's text format
    assert response.headers["Cache-Control"] == "no-store" and "Set-Cookie" not in response.headers
    assert "portfolio_http_requests_total" in response.get_data(as_text=True)
    for refused in (
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer é"},
    ):
        assert client.get("/metrics", headers=refused).status_code == 404, refused


def test_allowed_networks_open_them_by_address(app, client):
    app.config["METRICS_ALLOW"] = metrics_networks("10.0.0.0/8, 2001:db8::/32")
    for address, status in (("10.20.30.40", 200), ("::ffff:10.1.1.1", 200), ("2001:db8::5", 200), ("192.0.2.1", 404)):
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": address}).status_code == status, address
    app.config["METRICS_TOKEN"] = TOKEN  # both set: both are needed
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 404
    assert client.get("/metrics", headers=BEARER, environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 404
    assert client.get("/metrics", headers=BEARER, environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 200


def test_behind_the_proxy_the_address_is_the_forwarded_one(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "s",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'proxy.db'}",
            "PROXY_FIX": True,
            "METRICS_ALLOW": "10.0.0.0/8",
        },
        instance_path=str(tmp_path / "instance"),
    )
    client = app.test_client()
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    assert client.get("/metrics", environ_base=proxy, headers={"X-Forwarded-For": "10.9.8.7"}).status_code == 200
    # A client's own X-Forwarded-For comes first; the proxy appends the address it saw.
    forged = {"X-Forwarded-For": "10.9.8.7, 198.51.100.4"}
    assert client.get("/metrics", environ_base=proxy, headers=forged).status_code == 404


def test_settings_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTFOLIO_METRICS_TOKEN", "12345678901234567890")  # digits stay a text
    monkeypatch.setenv("PORTFOLIO_METRICS_ALLOW", "10.0.0.0/8, 192.0.2.7")
    settings = {"TESTING": True, "SECRET_KEY": "s", "DATABASE_URL": f"sqlite:///{tmp_path / 'env.db'}"}
    app = create_app(settings, instance_path=str(tmp_path / "instance"))
    assert app.config["METRICS_TOKEN"] == "12345678901234567890"
    assert [str(network) for network in app.config["METRICS_ALLOW"]] == ["10.0.0.0/8", "192.0.2.7/32"]
    monkeypatch.setenv("PORTFOLIO_METRICS_ALLOW", "10.0.0.0/8, intranet")
    with pytest.raises(ValueError, match="'intranet' is not a network"):
        create_app(settings, instance_path=str(tmp_path / "instance"))


def test_counts_follow_the_requests_under_endpoint_names(client, scrape):
    before = scrape()
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no/such/page-7d1e")
    after = scrape()

    assert moved(before, after, "portfolio_http_requests_total", endpoint="operations.healthz", status="200") == 2
    assert moved(before, after, "portfolio_http_request_duration_seconds_count", endpoint="operations.healthz") == 2
    assert moved(before, after, "portfolio_http_requests_total", endpoint="unmatched", status="404") == 1
    assert "page-7d1e" not in after  # a path never becomes a label


def test_export_and_job_metrics_are_there_for_their_code(scrape):
    before = scrape()
    metrics.EXPORT_CACHE_HITS.labels("zip").inc()
    metrics.EXPORT_CACHE_MISSES.labels("pdf").inc()
    metrics.JOB_DURATION_SECONDS.labels("exports.make_pdf", "succeeded").observe(12.5)
    after = scrape()

    job = {"task": "exports.make_pdf", "outcome": "succeeded"}
    assert moved(before, after, "portfolio_export_cache_hits_total", format="zip") == 1
    assert moved(before, after, "portfolio_export_cache_misses_total", format="pdf") == 1
    assert moved(before, after, "portfolio_job_duration_seconds_bucket", **job, le="10.0") == 0
    assert moved(before, after, "portfolio_job_duration_seconds_bucket", **job, le="30.0") == 1
    assert "_created" not in after


def test_the_queue_reports_its_depth_at_each_scrape(app, scrape):
    depths = {("default", "todo"): 3, ("exports", "doing"): 1}
    metrics.set_queue_depth_reader(lambda: depths)
    try:
        body = scrape()
        assert sample(body, "portfolio_queue_jobs", queue="default", status="todo") == 3
        assert sample(body, "portfolio_queue_jobs", queue="exports", status="doing") == 1
        depths[("default", "todo")] = 0
        assert sample(scrape(), "portfolio_queue_jobs", queue="default", status="todo") == 0
    finally:
        metrics.set_queue_depth_reader(None)
    assert sample(scrape(), "portfolio_queue_jobs", queue="default", status="todo") is None


def test_a_queue_that_cannot_answer_leaves_the_rest_of_the_scrape(scrape, caplog):
    def unreachable():
        raise ConnectionError("the queue's database is down")

    metrics.set_queue_depth_reader(unreachable)
    try:
        body = scrape()
    finally:
        metrics.set_queue_depth_reader(None)
    assert "portfolio_http_requests_total" in body
    assert "queue's depth could not be read" in caplog.text


def test_in_multiprocess_mode_a_scrape_adds_up_every_process(client, scrape, tmp_path, monkeypatch):
    # Two processes (as two gunicorn workers) count in files of the folder; this one reads them all.
    count = "from portfolio.core import metrics; metrics.EXPORT_CACHE_HITS.labels('zip').inc({})"
    for hits in (2, 3):
        subprocess.run(
            [sys.executable, "-c", count.format(hits)],
            env=os.environ | {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
            check=True,
            timeout=60,
        )
    assert len(list(tmp_path.glob("counter_*.db"))) == 2
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    body = scrape()
    assert sample(body, "portfolio_export_cache_hits_total", format="zip") == 5
    assert "python_gc_objects_collected_total" not in body  # this process's own registry is not read


def test_a_multiprocess_folder_that_is_not_there_stops_the_start(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="PROMETHEUS_MULTIPROC_DIR"):
        create_app({"TESTING": True, "SECRET_KEY": "s"}, instance_path=str(tmp_path / "instance"))
