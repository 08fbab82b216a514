"""Test rig shared by every suite: the database backends and mandatory services.

The suite runs on SQLite. When PORTFOLIO_TEST_DATABASE_URL points at a PostgreSQL server,
every database test runs on PostgreSQL as well, in a database of its own that is created
for the run and dropped after it. PORTFOLIO_TEST_REQUIRE ("postgresql browser") turns the
skips of those tests into failures, as CI wants. Object storage is moto's S3 server, started
by each test process (tests/s3_server.py).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date

import pytest

REQUIRED = set(os.environ.get("PORTFOLIO_TEST_REQUIRE", "").split())
# The S3 API of moto's server (a test dependency, so never skipped): `s3_endpoint`, `s3_bucket`.
pytest_plugins = ["tests.s3_server", "tests.smtp_server"]


def pytest_configure(config) -> None:
    """One date for the whole run: a run that passes midnight must not see two todays.

    The tests build their worlds around `clock.today()` at import, and the pages ask it again
    minutes later; both must get the same answer.
    """
    from portfolio.core import clock

    # A pytest-xdist worker takes the day its controller chose (see pytest_configure_node).
    workerinput = getattr(config, "workerinput", {})
    run_day = date.fromisoformat(workerinput["run_day"]) if "run_day" in workerinput else clock.today()
    clock.today = lambda: run_day
    config.run_day = run_day


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """Every pytest-xdist worker gets the controller's day, so that workers agree across midnight."""
    node.workerinput["run_day"] = node.config.run_day.isoformat()


def skip_or_fail(service: str, reason: str) -> None:
    """Skip a test whose service is missing, unless the run says the service is required."""
    if service in REQUIRED:
        pytest.fail(f"{service} is required here (PORTFOLIO_TEST_REQUIRE) but {reason}", pytrace=False)
    pytest.skip(reason)


def _backends() -> list[str]:
    if os.environ.get("PORTFOLIO_TEST_DATABASE_URL") or "postgresql" in REQUIRED:
        return ["sqlite", "postgresql"]
    return ["sqlite"]


@pytest.fixture(scope="session", params=_backends())
def database_url(request, tmp_path_factory) -> Iterator[str]:
    """A migrated, empty database for the whole run, per backend."""
    from tests.helpers import migrate_database

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'portfolio.db'}"
        migrate_database(url)
        yield url
        return

    server_url = os.environ.get("PORTFOLIO_TEST_DATABASE_URL")
    if not server_url:
        skip_or_fail("postgresql", "PORTFOLIO_TEST_DATABASE_URL is not set")
    import psycopg

    # Each pytest-xdist worker has a database of its own; the uuid keeps concurrent runs apart too.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"portfolio_test_{worker}_{uuid.uuid4().hex[:12]}"
    admin_url = server_url.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        skip_or_fail("postgresql", f"PostgreSQL at {admin_url} cannot be reached: {error}")
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    migrate_database(url)
    yield url
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
