"""Every temporary file of an upload is gone when its request ends, however it ends, and a request
of someone not signed in may not carry files at all: nothing fills the disk without signing in."""

from __future__ import annotations

import errno
import io
import queue
import socket
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from portfolio.core.storage import BODY_READ_SIZE
from portfolio.extensions import db

from ...helpers import PASSWORD, PDF_BYTES
from ..conftest import sign_in

BOUNDARY = "----portfolio-test-boundary"


@pytest.fixture
def enrolment(world):
    enrolment = world.enrolment()
    db.session.commit()
    return enrolment


def _temp_files(app) -> list[Path]:
    temp = Path(app.config["EVIDENCE_DIR"]) / "tmp"
    return sorted(temp.iterdir()) if temp.is_dir() else []


def _multipart(file_bytes: bytes, filename: str = "plan.pdf") -> bytes:
    """A new-evidence form with one file part, as a browser sends it."""
    fields = {"title": "Workshop plan", "kind": "event_plan"}
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="{filename}"\r\n'
        "Content-Type: application/pdf\r\n\r\n".encode()
        + file_bytes
        + b"\r\n"
    )
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def _truncated(body: bytes, keep: int, client, url: str):
    """Post the first `keep` bytes of `body` while saying it is all there, as a dropped connection does."""
    return client.post(
        url,
        input_stream=io.BytesIO(body[:keep]),
        content_length=len(body),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )


def test_a_truncated_upload_leaves_no_temporary_file(app, client, enrolment):
    sign_in(client, enrolment.apprentice)
    body = _multipart(PDF_BYTES + b"%" * 200_000)
    response = _truncated(body, len(body) // 2, client, f"/enrolments/{enrolment.id}/evidence/new")
    assert response.status_code in (200, 400)  # the parser keeps the complete fields; the form says what is missing
    assert _temp_files(app) == []


def test_an_error_in_the_view_leaves_no_temporary_file(app, client, enrolment, monkeypatch):
    from portfolio.evidence import views as routes

    def broken(**kwargs):
        raise RuntimeError("the view failed")

    monkeypatch.setattr(routes, "attach_for_form", lambda *args, **kwargs: broken())
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the error page, then the request ends
    sign_in(client, enrolment.apprentice)
    response = client.post(
        f"/enrolments/{enrolment.id}/evidence/new",
        data=_multipart(PDF_BYTES),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )
    assert response.status_code == 500
    assert _temp_files(app) == []


def test_a_full_disk_mid_upload_leaves_no_temporary_file(app, client, enrolment, monkeypatch):
    from filestore.store import IncomingFile

    def disk_full(self, chunk):
        raise OSError(errno.ENOSPC, "No space left on device")

    sign_in(client, enrolment.apprentice)
    monkeypatch.setattr(IncomingFile, "write", disk_full)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.post(
        f"/enrolments/{enrolment.id}/evidence/new",
        data=_multipart(PDF_BYTES),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )
    assert response.status_code == 500  # the service's error page; nothing was saved
    assert _temp_files(app) == []


@pytest.mark.parametrize("url", ["/sign-in", "/enrolments/1/evidence/new", "/admin/standards/new"])
def test_files_are_refused_before_sign_in(app, client, url):
    app.config["WTF_CSRF_ENABLED"] = True  # as in production, where the CSRF check reads every form first
    response = client.post(url, data=_multipart(PDF_BYTES), content_type=f"multipart/form-data; boundary={BOUNDARY}")
    assert response.status_code == 400
    assert "Sign in before you upload files" in response.get_data(as_text=True)
    assert _temp_files(app) == []


def test_a_post_to_no_page_reads_no_file(app, client):
    response = client.post(
        "/no-such-page", data=_multipart(PDF_BYTES), content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )
    assert response.status_code == 404 and _temp_files(app) == []


def test_signing_in_still_works_with_an_ordinary_form(client, enrolment):
    response = client.post("/sign-in", data={"email": enrolment.apprentice.email, "password": PASSWORD})
    assert response.status_code == 302


class Live:
    """A real WSGI server in a thread, telling which requests have ended (the request closed)."""

    def __init__(self, app) -> None:
        self.ended: queue.Queue[str] = queue.Queue()
        inner = app.wsgi_app

        def watched(environ, start_response):
            try:
                return inner(environ, start_response)
            finally:
                self.ended.put(environ["PATH_INFO"])

        app.wsgi_app = watched
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.address = f"127.0.0.1:{self.server.server_port}"

    def wait_until_ended(self, path: str) -> None:
        while self.ended.get(timeout=10) != path:
            pass


@pytest.fixture
def live(app):
    db.session.commit()
    live = Live(app)
    thread = threading.Thread(target=live.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield live
    finally:
        live.server.shutdown()
        thread.join(10)
        live.server.server_close()


def _session_cookie(address: str, email: str) -> str:
    data = urllib.parse.urlencode({"email": email, "password": PASSWORD}).encode()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(f"http://{address}/sign-in", data)
    except urllib.error.HTTPError as redirect:
        cookie = redirect.headers["Set-Cookie"]
    return cookie.split(";", 1)[0]


def _send_half_and_hang_up(address: str, path: str, cookie: str | None, started=None) -> None:
    """Send half a 4 MiB upload, wait until `started()` says the server is writing it, hang up.

    The half is more than the server reads at a time, so it starts on the file part before the hang-up."""
    body = _multipart(PDF_BYTES + b"%" * 4 * BODY_READ_SIZE)
    host, port = address.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        headers = [
            f"POST {path} HTTP/1.1",
            f"Host: {address}",
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}",
            f"Content-Length: {len(body)}",
        ] + ([f"Cookie: {cookie}"] if cookie else [])
        conn.sendall(("\r\n".join(headers) + "\r\n\r\n").encode() + body[: len(body) // 2])
        if started is not None:
            deadline = time.monotonic() + 60
            while not started():
                assert time.monotonic() < deadline, "the server never started writing the file part"
                time.sleep(0.01)


def test_a_client_that_hangs_up_mid_upload_leaves_no_temporary_file(app, live, enrolment):
    cookie = _session_cookie(live.address, enrolment.apprentice.email)
    path = f"/enrolments/{enrolment.id}/evidence/new"
    _send_half_and_hang_up(live.address, path, cookie, started=lambda: _temp_files(app) != [])
    live.wait_until_ended(path)
    assert _temp_files(app) == []


def test_a_half_upload_to_sign_in_stores_nothing(app, live):
    _send_half_and_hang_up(live.address, "/sign-in", cookie=None)
    live.wait_until_ended("/sign-in")
    assert not (Path(app.config["EVIDENCE_DIR"]) / "tmp").exists()  # not a byte was written
