from __future__ import annotations

import os
import re
import threading
import uuid
from contextlib import contextmanager

import pytest
from flask.globals import _cv_app
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import scoped_session, sessionmaker

from portfolio import create_app
from portfolio.extensions import db
from portfolio.models import Role
from tests.helpers import PASSWORD, World, empty_database


class RequestIsolatingClient(FlaskClient):
    """Each request runs in an app context of its own, as in production, though the test holds one.

    What the test built is committed first, so the request sees it; afterwards the test's
    session forgets what it had loaded, so the test sees what the request changed.
    """

    def open(self, *args, **kwargs):
        db.session.commit()
        token = _cv_app.set(None)
        try:
            return super().open(*args, **kwargs)
        finally:
            _cv_app.reset(token)
            db.session.expire_all()


@pytest.fixture
def app_config() -> dict:
    """Settings a test module adds to the app's (it overrides this fixture), e.g. another evidence store."""
    return {}


@pytest.fixture
def app(request, database_url, tmp_path, app_config):
    """The app on the run's database; emptied after the test, or rolled back for `one_transaction` tests."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test",
            "WTF_CSRF_ENABLED": False,
            "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",  # cheap hashes: tests make many users
            # Readings store drawn pages beside the files: only the tests of readings make them.
            "FILE_READINGS": False,
            **app_config,
        },
        instance_path=str(tmp_path / "instance"),
    )
    app.test_client_class = RequestIsolatingClient
    marker = request.node.get_closest_marker("one_transaction")
    in_one_transaction = marker is not None and marker.kwargs.get("enabled", True)
    with app.app_context():
        if in_one_transaction:
            hold_back_jobs(app)
            with rolled_back_session():
                yield app
        else:
            yield app
            finish_jobs(app)
            db.session.remove()
        db.engine.dispose()
    if not in_one_transaction:
        empty_database(database_url)


def finish_jobs(app) -> None:
    """Let the jobs the test's commits asked for (on SQLite, on a thread of this process) finish
    before its database is emptied under them."""
    runner = app.extensions["queue"].runner
    if runner is not None:
        runner.wait()


def hold_back_jobs(app) -> None:
    """On SQLite a job runs on a thread of this process once its transaction commits, and in a
    `one_transaction` test that thread would share the test's one connection: the jobs such a
    test asks for (the mail of its notifications) are not run. A test of a job takes transactions
    of its own."""
    runner = app.extensions["queue"].runner
    if runner is not None:
        runner.submit = lambda job, arguments: None


@pytest.fixture
def blank_database(database_url, tmp_path):
    """`blank_database()`: the URL of a new, empty database of the backend under test, with no
    migration applied; each is dropped after the test."""
    server = os.environ.get("PORTFOLIO_TEST_DATABASE_URL", "").replace("postgresql+psycopg://", "postgresql://")
    made: list[str] = []

    def blank() -> str:
        name = f"portfolio_blank_{uuid.uuid4().hex[:12]}"
        if database_url.startswith("sqlite"):
            return f"sqlite:///{tmp_path / name}.db"
        import psycopg

        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return server.rsplit("/", 1)[0] + f"/{name}"

    yield blank
    if made:
        import psycopg

        with psycopg.connect(server, autocommit=True) as conn:
            for name in made:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def blank_url(blank_database) -> str:
    """An empty database of the backend under test, with no migration applied."""
    return blank_database()


@contextmanager
def rolled_back_session():
    """Bind `db.session` to one connection whose transaction is rolled back at the end.

    The session's commits and rollbacks end SAVEPOINTs inside that transaction, so a test that
    commits sees what it committed and leaves nothing behind, without deleting every table.
    Only for tests that stay on this one session: a request through the test client, a thread
    or a second connection would not see the uncommitted rows.
    """
    connection = db.engine.connect()
    if connection.dialect.name == "sqlite":
        # pysqlite opens transactions itself and mishandles SAVEPOINT; take that over (SQLAlchemy's recipe).
        connection.connection.driver_connection.isolation_level = None
        event.listen(connection, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
    outer = connection.begin()
    scoped = db.session
    rigged = sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
    here = threading.get_ident()

    def session_for_this_thread():
        # A job thread an earlier test left running must not join this test's one connection (on
        # SQLite two threads on one connection break each other's savepoints): it gets its own.
        return rigged() if threading.get_ident() == here else scoped.session_factory()

    db.session = scoped_session(session_for_this_thread)
    try:
        yield
    finally:
        db.session.remove()
        db.session = scoped
        outer.rollback()
        connection.invalidate()  # its driver settings were changed: the pool must not hand it out again
        connection.close()


@pytest.fixture
def world(app) -> World:
    return World(db.session)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def sign_in(client, user, password: str = PASSWORD):
    """Sign `user` in through the real form; returns the response."""
    return client.post("/sign-in", data={"email": user.email, "password": password})


@pytest.fixture
def signed_in(client):
    """`signed_in(user)`: the test client, signed in as `user`."""

    def as_user(user):
        client.cookie_jar.clear() if hasattr(client, "cookie_jar") else None
        response = sign_in(client, user)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return as_user


@contextmanager
def recording_queries():
    """The SQL statements run inside the block, on this thread, as a list filled in as they run
    (a job the block asked for runs on a thread of its own, after it, as long as it likes)."""
    statements: list[str] = []
    here = threading.get_ident()

    def before(conn, cursor, statement, parameters, context, executemany):
        # The savepoints are the one_transaction rig's, not statements of the code under test.
        if "SAVEPOINT" not in statement and threading.get_ident() == here:
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


@contextmanager
def counting_queries():
    """Count the SQL statements run inside the block: `with counting_queries() as count: ...; count()`."""
    with recording_queries() as statements:
        yield lambda: len(statements)


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture
def two_employers(world):
    """Two employers sharing one provider and EPAO, each with an apprentice and a mentor."""
    provider = world.provider("Northgate Arts Training")
    epao = world.epao("Crescent Assessment")
    museum = world.employer("Harbourside Museum")
    theatre = world.employer("Larkfield Playhouse")
    tutor = world.user(Role.TUTOR, provider)
    museum_mentor = world.user(Role.EMPLOYER, museum)
    theatre_mentor = world.user(Role.EMPLOYER, theatre)
    museum_enrolment = world.enrolment(employer=museum, provider=provider, tutor=tutor, mentor=museum_mentor, epao=epao)
    theatre_enrolment = world.enrolment(employer=theatre, provider=provider, tutor=tutor, mentor=theatre_mentor)
    db.session.commit()
    return {
        "provider": provider,
        "epao": epao,
        "museum": museum,
        "theatre": theatre,
        "tutor": tutor,
        "museum_mentor": museum_mentor,
        "theatre_mentor": theatre_mentor,
        "museum_enrolment": museum_enrolment,
        "theatre_enrolment": theatre_enrolment,
    }
