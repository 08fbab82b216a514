"""Browser rig: the demo data served by a live server, driven by Debian's Chromium.

One SQLite database and one server for the whole run, or for each pytest-xdist worker (the
browser tests need one backend only; the HTTP tests cover PostgreSQL). Playwright launches the system's
Chromium (PORTFOLIO_TEST_CHROMIUM, default /usr/bin/chromium) and never downloads a
browser. Without Chromium or Playwright the tests skip, unless PORTFOLIO_TEST_REQUIRE
contains "browser", as in CI, where they fail.

The server's mail goes to an SMTP server of the tests (`live_server.mail`), so that a test can
follow the links the service emails. Each page reached is checked by `support.Monitor` (axe-core,
console, CSP, origins).
To look at the pages, set PORTFOLIO_TEST_SCREENSHOTS to a folder: every page checked is
saved there as a full-page PNG.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import skip_or_fail
from tests.smtp_server import HOST, SmtpServer

from .support import Monitor

CHROMIUM = os.environ.get("PORTFOLIO_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@dataclass(frozen=True)
class Login:
    email: str
    name: str
    password: str


@dataclass(frozen=True)
class LiveServer:
    url: str
    logins: dict[str, list[Login]]  # by role value, in the order the demo creates them
    mail: SmtpServer  # every email the server sends, with links to the server

    def login(self, role: str, index: int = 0) -> Login:
        return self.logins[role][index]


def pytest_collection_modifyitems(items) -> None:
    """Under pytest-xdist's --dist loadgroup, one worker runs every browser test: one demo and one
    Chromium for them all rather than one per worker (without it, each worker has its own)."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    """The app with the demo data, on a free port of 127.0.0.1, for the whole run, sending its email
    to a real SMTP server of the run's own."""
    from werkzeug.serving import make_server

    from portfolio import create_app
    from portfolio.demo.build import DEFAULT_PASSWORD, build_demo
    from portfolio.extensions import db
    from tests.helpers import migrate_database

    root = tmp_path_factory.mktemp("browser")
    database_url = f"sqlite:///{root / 'portfolio.db'}"
    migrate_database(database_url)
    mail = SmtpServer()
    mail.start()
    app = create_app(
        {
            "SECRET_KEY": "browser-tests",
            "DATABASE_URL": database_url,
            "MAIL_SERVER": HOST,
            "MAIL_PORT": mail.port,
            "MAIL_SENDER": "Portfolio <portfolio@example.test>",
        },
        instance_path=str(root / "instance"),
    )
    logins: dict[str, list[Login]] = {}
    with app.app_context():
        for user in build_demo(DEFAULT_PASSWORD).users:
            logins.setdefault(user.role.value, []).append(Login(user.email, user.name, DEFAULT_PASSWORD))
        db.session.remove()

    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = url  # the links in its emails lead here
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=url, logins=logins, mail=mail)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        mail.stop()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium under Playwright, headless, for the whole run."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        skip_or_fail(
            "browser",
            f"no Chromium at {CHROMIUM} (install it with `apt-get install chromium`, "
            "or point PORTFOLIO_TEST_CHROMIUM at one)",
        )
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        skip_or_fail("browser", "the playwright package is not installed (pip install -e '.[test]')")

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Error as error:
        playwright.stop()
        reason = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        skip_or_fail("browser", f"Playwright cannot launch {CHROMIUM}: {reason}")
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()


@pytest.fixture
def monitor(browser, live_server) -> Iterator[Monitor]:
    """A fresh browser context (no cookies) and page, watched by the page checks."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    # Every wait is for an event (a load, an element, a download); the timeout only bounds a hung
    # one, so it is generous: a loaded machine must not fail a test that would pass when quiet.
    context.set_default_timeout(60_000)
    page = context.new_page()
    try:
        yield Monitor(page, live_server.url)
    finally:
        context.close()
