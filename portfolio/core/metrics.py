"""Prometheus metrics: what the app counts, and the text a scraper reads at /metrics.

Under gunicorn every worker is a process of its own. With PROMETHEUS_MULTIPROC_DIR set (as
gunicorn.conf.py does), each process writes its counts to files in that folder and a scrape adds
them up; prometheus_client reads the variable when it is first imported, so it must be set first.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping

from flask import Flask
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# A request matched no route: one label for every such path, so nobody can mint new series.
UNMATCHED = "unmatched"

# No `_created` series beside every counter and histogram: twice the series for a figure
# Prometheus does not need (it notices a restart from the counter going down).
disable_created_metrics()

REQUESTS = Counter(
    "portfolio_http_requests_total", "Requests answered, by Flask endpoint and status.", ["endpoint", "status"]
)
REQUEST_DURATION_SECONDS = Histogram(
    "portfolio_http_request_duration_seconds",
    "Time to answer a request, by Flask endpoint.",
    ["endpoint"],
    # Pages take milliseconds; uploads and ZIP downloads over slow lines take minutes.
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
EXPORT_CACHE_HITS = Counter(
    "portfolio_export_cache_hits_total", "Exports served from a file made earlier, by format.", ["format"]
)
EXPORT_CACHE_MISSES = Counter(
    "portfolio_export_cache_misses_total", "Exports that had to be made afresh, by format.", ["format"]
)
JOB_DURATION_SECONDS = Histogram(
    "portfolio_job_duration_seconds",
    "Time a queue job ran, by task and outcome (such as succeeded or failed).",
    ["task", "outcome"],
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
)

# What the job queue reports at each scrape: {(queue, status): jobs}.
QueueDepthReader = Callable[[], Mapping[tuple[str, str], float]]
_queue_depth_reader: QueueDepthReader | None = None

logger = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Refuse to start with a multiprocess folder that is not there: every count would fail."""
    directory = os.environ.get(MULTIPROCESS_DIR_VARIABLE)
    if directory and not os.path.isdir(directory):
        raise ValueError(f"{MULTIPROCESS_DIR_VARIABLE} is {directory!r}, which is not a folder")


def observe_request(endpoint: str | None, status: int, seconds: float) -> None:
    """Count one answered request under its endpoint's name (never its path: labels stay few)."""
    label = endpoint or UNMATCHED
    REQUESTS.labels(label, str(status)).inc()
    REQUEST_DURATION_SECONDS.labels(label).observe(seconds)


def set_queue_depth_reader(reader: QueueDepthReader | None) -> None:
    """Have every scrape report the queue's depth as `portfolio_queue_jobs{queue, status}`.

    `reader()` is called at scrape time, inside the /metrics request (so it may use the database),
    and returns {(queue, status): number of jobs}; None stops the reporting."""
    global _queue_depth_reader
    _queue_depth_reader = reader


class _QueueDepth(Collector):
    """Asks the queue at scrape time, so the figure is the queue's, whichever process answers."""

    def describe(self) -> Iterator[Metric]:
        yield self._family()  # registering must not call the reader

    def collect(self) -> Iterator[Metric]:
        family = self._family()
        reader = _queue_depth_reader
        if reader is not None:
            try:
                depths = reader()
            except Exception:
                # The other figures still matter (most of all while the queue's database is down).
                logger.exception("the queue's depth could not be read for /metrics")
                depths = {}
            for (queue, status), count in sorted(depths.items()):
                family.add_metric([queue, status], count)
        yield family

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "portfolio_queue_jobs", "Jobs in the queue when scraped, by queue and status.", labels=["queue", "status"]
        )


_QUEUE_DEPTH = _QueueDepth()
REGISTRY.register(_QUEUE_DEPTH)


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus's text format, and its content type: every process's counts when
    PROMETHEUS_MULTIPROC_DIR is set, else this process's."""
    directory = os.environ.get(MULTIPROCESS_DIR_VARIABLE)
    registry = REGISTRY
    if directory:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)
        registry.register(_QUEUE_DEPTH)
    return generate_latest(registry), CONTENT_TYPE_LATEST
