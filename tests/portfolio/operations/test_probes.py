"""/healthz and /readyz: answered without sign-in, telling a balancer what it needs and no more."""

from __future__ import annotations

import pytest

from portfolio import create_app


def test_both_probes_answer_without_signing_in(client):
    alive = client.get("/healthz")
    assert (alive.status_code, alive.get_data(as_text=True)) == (200, "ok")
    ready = client.get("/readyz")
    assert (ready.status_code, ready.get_data(as_text=True)) == (200, "ready")
    assert ready.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in ready.headers  # a probe every few seconds must not start sessions


def test_an_unwritable_store_is_not_ready_and_says_no_more(app, client, tmp_path):
    store = app.extensions["evidence_store"]
    original = store.root
    store.root = tmp_path / "not-a-folder"  # a path the store cannot use, as a broken mount leaves
    store.root.write_text("")
    try:
        response = client.get("/readyz")
    finally:
        store.root = original
    assert response.status_code == 503
    assert response.get_data(as_text=True) == "not ready"  # which part failed goes to the log only
    assert client.get("/healthz").status_code == 200


def test_an_unreachable_database_is_not_ready_but_the_process_is_alive(tmp_path):
    # Port 9 (discard) has nothing listening here: the connection is refused at once.
    app = create_app(
        {
            "SECRET_KEY": "probe-test",
            "AUDIT_KEY": "probe-test-audit-key-of-32-characters",
            "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none?connect_timeout=2",
        },
        instance_path=str(tmp_path / "instance"),
    )
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert (response.status_code, response.get_data(as_text=True)) == (503, "not ready")


def test_a_database_without_the_queue_schema_is_not_ready(blank_url, tmp_path, caplog):
    if not blank_url.startswith("postgresql"):
        pytest.skip("on SQLite jobs run in-process: there is no queue to reach")
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "probe-test", "DATABASE_URL": blank_url},
        instance_path=str(tmp_path / "instance"),
    )
    with caplog.at_level("WARNING"):
        response = app.test_client().get("/readyz")
    assert (response.status_code, response.get_data(as_text=True)) == (503, "not ready")
    assert "not ready: job queue unreachable" in caplog.text  # the database and the store answered
    with app.app_context():
        from portfolio.extensions import db

        db.engine.dispose()
