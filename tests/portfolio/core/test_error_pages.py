"""Error pages share the service's design and never show a traceback."""

from __future__ import annotations

from portfolio.models import Role

from ..conftest import sign_in


def test_404_page(client):
    response = client.get("/no/such/page")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Page not found" in html and "govuk-template" in html


def test_413_page_names_the_limit(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    app.config["MAX_UPLOAD_MB"] = 0.001
    response = client.post("/sign-in", data={"email": "a@example.org", "password": "x" * 5000})
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "The upload is too large" in html and "Nothing has been saved" in html


def test_500_page_hides_the_error(app, client, world):
    @app.route("/explode")
    def explode():
        raise RuntimeError("secret internals")

    app.testing = False  # let the error handler answer instead of the test seeing the exception
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/explode")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in html
    assert "secret internals" not in html and "Traceback" not in html


def test_ids_that_are_not_numbers_are_404(client, world):
    sign_in(client, world.user(Role.TUTOR, world.provider()))
    assert client.get("/enrolments/abc").status_code == 404
    assert client.get("/enrolments/99999999999999999999").status_code == 404
    assert client.get("/enrolments/-1").status_code == 404


def test_hostile_query_strings_on_lists(client, world):
    provider = world.provider()
    tutor = world.user(Role.TUTOR, provider)
    world.enrolment(provider=provider, tutor=tutor)
    sign_in(client, tutor)
    for query in ("page=99999999999999999999", "page=-5", "q=%00", "q=" + "x" * 5000, "status=%00", "q=%25_%5C"):
        response = client.get(f"/?{query}")
        assert response.status_code == 200, query
