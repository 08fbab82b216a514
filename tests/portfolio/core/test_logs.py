"""Log lines: one JSON object each, every line of a request or job carrying its id, one access
line per request, and nothing secret in them."""

from __future__ import annotations

import json
import logging
import re
import threading

import pytest

from portfolio import create_app
from portfolio.core import logs
from portfolio.models import Role
from tests.helpers import PASSWORD

from ..conftest import sign_in

HEX_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def json_lines(app, capsys):
    """Log as production does; `json_lines()` parses every line written since the last call."""
    logs.configure_logging("json", "INFO")
    capsys.readouterr()

    def read() -> list[dict]:
        return [json.loads(line) for line in capsys.readouterr().err.splitlines()]

    return read


@pytest.fixture
def chatty(app):
    """A page that logs through the app's logger and through a library's."""

    @app.get("/chatty")
    def chatty_page():
        app.logger.info("the view speaks")
        logging.getLogger("some.library").warning("a library warns")
        return "fine"

    return "/chatty"


def _access(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["logger"] == logs.ACCESS_LOGGER]


def test_every_line_of_a_request_carries_the_id_it_was_sent(client, chatty, json_lines):
    response = client.get(chatty, headers={"X-Request-ID": "balancer-7f3a.2"})
    assert response.headers["X-Request-ID"] == "balancer-7f3a.2"
    lines = json_lines()
    assert [line["message"] for line in lines[:2]] == ["the view speaks", "a library warns"]
    assert len(lines) == 3 and {line["request_id"] for line in lines} == {"balancer-7f3a.2"}
    for line in lines:
        assert set(line) >= {"time", "level", "logger", "message", "request_id"}
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])


def test_a_request_without_an_id_gets_one_and_ids_end_with_their_request(client, chatty, json_lines):
    first = client.get(chatty).headers["X-Request-ID"]
    second = client.get(chatty).headers["X-Request-ID"]
    assert HEX_ID.fullmatch(first) and HEX_ID.fullmatch(second) and first != second
    logging.getLogger("portfolio").warning("between requests")
    lines = json_lines()
    assert [line["request_id"] for line in lines] == [first] * 3 + [second] * 3 + [None]


@pytest.mark.parametrize(
    "header", ["0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "Root=1-67891233-abcdef012345678912345678", "x" * 128]
)
def test_a_plain_request_id_is_kept(client, header):
    assert client.get("/healthz", headers={"X-Request-ID": header}).headers["X-Request-ID"] == header


@pytest.mark.parametrize(
    "header",
    ["has spaces", "tab\tseparated", "semi;colon", "x" * 129, '{"json": "breaks"}', "<script>", "café", ""],
)
def test_an_unfit_request_id_is_replaced(client, json_lines, header):
    response = client.get("/healthz", headers={"X-Request-ID": header})
    given = response.headers["X-Request-ID"]
    assert HEX_ID.fullmatch(given)
    (access,) = _access(json_lines())
    assert access["request_id"] == given


def test_the_access_line_says_what_was_asked_and_answered(client, json_lines):
    client.get("/healthz?token=do-not-log-me")
    client.get("/no/such/page")
    healthz, missing = _access(json_lines())
    assert healthz["method"] == "GET" and healthz["path"] == "/healthz"
    assert (healthz["endpoint"], healthz["status"], healthz["user_id"]) == ("operations.healthz", 200, None)
    assert isinstance(healthz["duration_ms"], float) and healthz["duration_ms"] >= 0
    assert healthz["message"].startswith("GET /healthz 200 ")
    assert "do-not-log-me" not in json.dumps(healthz)
    assert (missing["endpoint"], missing["status"]) == (None, 404)


def test_the_access_line_names_the_signed_in_user_and_nothing_secret(client, world, json_lines):
    tutor = world.user(Role.TUTOR, world.provider())
    signing_in = sign_in(client, tutor)
    cookie = client.get_cookie("portfolio_session").value
    client.get("/")
    text = json.dumps(json_lines())
    assert signing_in.status_code == 302
    assert PASSWORD not in text and cookie not in text and tutor.email not in text
    sign_in_line, home = _access(json.loads(text))
    assert (sign_in_line["method"], sign_in_line["status"], sign_in_line["user_id"]) == ("POST", 302, tutor.id)
    assert (home["endpoint"], home["status"], home["user_id"]) == ("home.index", 200, tutor.id)


def test_a_failing_request_logs_its_traceback_and_a_500_with_the_same_id(app, client, json_lines):
    @app.get("/explode")
    def explode():
        raise RuntimeError("it broke")

    app.testing = False  # the error handler answers, as in production
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/explode")
    assert response.status_code == 500
    error, access = json_lines()
    assert error["level"] == "ERROR" and "RuntimeError: it broke" in error["exception"]
    assert error["request_id"] == access["request_id"] == response.headers["X-Request-ID"]
    assert access["status"] == 500


def test_a_path_cannot_forge_a_text_line(app, client, capsys):
    logs.configure_logging("text", "INFO")
    capsys.readouterr()
    client.get("/x%0A2030-01-01 00:00:00 INFO portfolio.access: forged")
    (line,) = capsys.readouterr().err.splitlines()
    assert "portfolio.access [request_id=" in line and "/x\\x0a2030" in line


def test_a_job_s_lines_carry_its_id_and_task(json_lines):
    log = logging.getLogger("portfolio.exports")
    with logs.job_context(42, "exports.make_zip"):
        log.info("making the ZIP")
        with logs.job_context("43", "email.send", request_id="a1b2c3"):
            log.info("a job inside a job")
        log.info("back in the first")
    log.info("no job")
    first, inner_job, back, outside = json_lines()
    assert (first["job_id"], first["task"], first["request_id"]) == ("42", "exports.make_zip", None)
    assert (inner_job["job_id"], inner_job["task"], inner_job["request_id"]) == ("43", "email.send", "a1b2c3")
    assert back["job_id"] == "42"
    assert "job_id" not in outside and outside["request_id"] is None


def test_a_job_context_is_its_thread_s_alone(json_lines):
    log = logging.getLogger("portfolio.queue")
    other = threading.Thread(target=lambda: log.info("another thread"))
    with logs.job_context(7, "sweep"):
        other.start()
        other.join()
        assert logs.current_request_id() is None
    (line,) = json_lines()
    assert "job_id" not in line


def test_json_unless_debugging_or_testing(tmp_path, monkeypatch):
    def log_format(**config) -> str:
        settings = {"SECRET_KEY": "s", "DATABASE_URL": f"sqlite:///{tmp_path / 'formats.db'}"} | config
        return create_app(settings, instance_path=str(tmp_path / "instance")).config["LOG_FORMAT"]

    monkeypatch.delenv("PORTFOLIO_LOG_FORMAT", raising=False)
    assert log_format() == "json"
    assert log_format(DEBUG=True) == "text"
    assert log_format(TESTING=True) == "text"
    monkeypatch.setenv("PORTFOLIO_LOG_FORMAT", "json")
    assert log_format(TESTING=True) == "json"
    with pytest.raises(ValueError, match="PORTFOLIO_LOG_FORMAT"):
        log_format(LOG_FORMAT="xml")
