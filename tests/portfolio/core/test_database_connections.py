"""The app survives the database dropping its connections, and hosts can upgrade at once."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from portfolio.extensions import db
from portfolio.models import Role

from ..conftest import sign_in

ROOT = Path(__file__).resolve().parents[3]


def test_a_dropped_connection_is_replaced_before_the_next_request(app, client, world, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("only a server drops connections")
    tutor = world.user(Role.TUTOR, world.provider())
    db.session.commit()
    sign_in(client, tutor)
    assert client.get("/").status_code == 200  # the pool now holds a connection
    database = database_url.rsplit("/", 1)[1]
    with psycopg.connect(database_url, autocommit=True) as admin:
        # What a database restart or a failover does to every open connection.
        ended = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchone()[0]
    assert ended >= 1
    db.session.remove()
    assert client.get("/").status_code == 200
    with app.app_context():
        assert db.session.execute(text("SELECT 1")).scalar() == 1


def test_two_hosts_upgrading_at_once_both_succeed(database_url, tmp_path):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one host")
    server = database_url.rsplit("/", 1)[0]
    name = f"portfolio_upgrade_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        env = os.environ | {
            "PORTFOLIO_DATABASE_URL": f"{server}/{name}",
            "PORTFOLIO_SECRET_KEY": "upgrade-test-secret",
            "PORTFOLIO_AUDIT_KEY": "upgrade-test-audit-key-of-32-characters",
            "PYTHONPATH": str(ROOT),
        }
        hosts = [
            subprocess.Popen(
                [sys.executable, "-c", "from portfolio.cli import main; main()", "db", "upgrade"],
                env=env | {"FLASK_INSTANCE_PATH": str(tmp_path / f"host{n}")},
                cwd=tmp_path,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for n in (1, 2)
        ]
        outputs = [host.communicate(timeout=300)[0] for host in hosts]
        assert [host.returncode for host in hosts] == [0, 0], outputs
        with psycopg.connect(f"{server}/{name}") as conn:
            versions = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        assert len(versions) == 1  # one head, recorded once
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_command_line_says_which_key_is_missing(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTFOLIO_")}
    env |= {"PORTFOLIO_DATABASE_URL": "postgresql://portfolio@127.0.0.1:9/portfolio", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", "from portfolio.cli import main; main()", "db", "upgrade"],
        env=env | {"FLASK_INSTANCE_PATH": str(tmp_path)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("Error: Set PORTFOLIO_SECRET_KEY (the same on every host)")
    assert "Traceback" not in done.stderr
