"""Standards: the stored versions, loading one from a file or pasted YAML, and a version's page."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portfolio.extensions import db
from portfolio.models import StandardVersion
from standard import load_standard, shipped_path

from .conftest import database_state, text_of

FIXTURES = Path(__file__).parents[2] / "standard" / "fixtures"
MINIMAL = (FIXTURES / "minimal.yaml").read_text(encoding="utf-8")


def stored_versions() -> int:
    return db.session.scalar(select(func.count()).select_from(StandardVersion))


def upload(data: bytes, filename: str = "standard.yaml") -> dict:
    return {"yaml_file": (data, filename), "yaml_text": ""}


def post_standard(client, data: dict):
    """Post the load form; (bytes, filename) values are sent as uploaded files."""
    form = {key: (io.BytesIO(value[0]), value[1]) if isinstance(value, tuple) else value for key, value in data.items()}
    return client.post("/admin/standards/new", data=form, content_type="multipart/form-data")


def test_the_list_of_stored_versions(as_admin, two_employers):
    version = two_employers["museum_enrolment"].standard_version
    html = text_of(as_admin.get("/admin/standards"))
    assert "1 stored version" in html and "Cultural learning and participation officer" in html
    assert version.short_hash in html and version.content_hash not in html
    assert re.search(r'govuk-table__cell--numeric">2</td>', html)  # two enrolments are pinned to it


def test_load_a_standard_from_pasted_yaml(as_admin):
    response = post_standard(as_admin, {"yaml_text": MINIMAL})
    assert response.status_code == 302
    version = db.session.scalar(select(StandardVersion).where(StandardVersion.reference == "ST9001"))
    assert version is not None and version.version == "1.1"
    assert response.headers["Location"] == f"/admin/standards/{version.id}"
    html = text_of(as_admin.get(response.headers["Location"]))
    assert "Standard loaded: ST9001 Community archive assistant, version 1.1" in html


def test_load_a_standard_from_a_file(as_admin):
    response = post_standard(as_admin, upload(MINIMAL.encode()))
    assert response.status_code == 302
    version = db.session.scalar(select(StandardVersion).where(StandardVersion.reference == "ST9001"))
    assert len(version.standard) == 4 and version.yaml_text == MINIMAL


def test_a_standard_loaded_from_the_command_line_is_already_loaded(as_admin, two_employers):
    data = upload(shipped_path("ST0396").read_bytes(), "st0396.yaml")
    response = post_standard(as_admin, data)
    assert response.headers["Location"] == f"/admin/standards/{two_employers['museum_enrolment'].standard_version_id}"


def test_loading_the_same_content_again_changes_nothing(as_admin):
    post_standard(as_admin, {"yaml_text": MINIMAL})
    before = database_state()
    first = db.session.scalar(select(StandardVersion).where(StandardVersion.reference == "ST9001"))
    # The same text pasted again (as browsers send it, with CRLF line endings and no final newline), then uploaded.
    pasted = MINIMAL.replace("\n", "\r\n").rstrip()
    for data in ({"yaml_text": pasted}, upload(MINIMAL.encode())):
        response = post_standard(as_admin, data)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/admin/standards/{first.id}"
        html = text_of(as_admin.get(response.headers["Location"]))
        assert "is already loaded" in html and "nothing has changed" in html
        assert database_state() == before


def test_changed_content_is_a_new_version(as_admin):
    before = stored_versions()
    post_standard(as_admin, {"yaml_text": MINIMAL})
    changed = MINIMAL.replace("Handle fragile documents safely.", "Handle fragile documents and maps safely.")
    assert post_standard(as_admin, {"yaml_text": changed}).status_code == 302
    assert stored_versions() == before + 2


def problems_of(path: Path) -> list[str]:
    try:
        load_standard(path)
    except Exception as error:  # noqa: BLE001 - StandardError, whose problems the page must show
        return [f"{p.line}:{p.column}: {p.message}" for p in error.problems]
    raise AssertionError(f"{path} is valid")


@pytest.mark.parametrize("how", ["pasted", "uploaded"])
def test_invalid_yaml_shows_every_problem_with_its_line_and_stores_nothing(as_admin, how):
    path = FIXTURES / "broken" / "many_problems.yaml"
    expected = problems_of(path)
    assert len(expected) >= 5
    data = {"yaml_text": path.read_text()} if how == "pasted" else upload(path.read_bytes(), "many_problems.yaml")
    before = database_state()
    response = post_standard(as_admin, data)
    assert response.status_code == 200
    html = text_of(response)
    assert "<title>Error: Load a standard" in html
    summary = html[html.index("govuk-error-summary") : html.index("</ul>", html.index("govuk-error-summary"))]
    for problem in expected:  # an uploaded file's YAML is put in the box, to correct there
        assert f'href="#yaml_text">{problem}</a>' in summary
    assert "1:12: the reference '396' is not of the form ST0000" in summary
    assert database_state() == before
    kept_note = "The file's YAML is in the box below: correct it there and load it again."
    assert (kept_note in summary) is (how == "uploaded")
    box = re.search(r'<textarea[^>]*name="yaml_text"[^>]*>(.*?)</textarea>', html, re.S).group(1)
    assert "reference: 396" in box


@pytest.mark.parametrize(
    "name", ["wrong_indentation.yaml", "duplicate_key.yaml", "unknown_key.yaml", "missing_field.yaml"]
)
def test_each_kind_of_broken_file_is_explained(as_admin, name):
    path = FIXTURES / "broken" / name
    before = stored_versions()
    response = post_standard(as_admin, {"yaml_text": path.read_text()})
    assert response.status_code == 200
    html = text_of(response)
    for problem in problems_of(path):
        assert problem in html
    assert stored_versions() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Upload a YAML file or paste the YAML"),
        ({"yaml_text": "   \n  "}, "Upload a YAML file or paste the YAML"),
        ({**upload(MINIMAL.encode()), "yaml_text": MINIMAL}, "Upload a file or paste the YAML, not both"),
        ({"yaml_text": "x" * 10_000}, "the standard"),
        ({"yaml_text": "[" * 10_000}, "1:"),
        ({"yaml_text": "reference: ST0001\x00"}, "1:18: the file contains a character YAML does not allow"),
        ({"yaml_text": "y" * 400_001}, "The pasted YAML must be 400,000 characters or fewer"),
        (upload(b"reference: ST0001\ntitle: \xff\xfe broken\n"), "2:8: the file is not UTF-8 text"),
        (upload(b"a: b\n" * 300_000), "The file must be smaller than 1,024 KB"),
        (upload(b""), "1:1: the file is empty"),
        ({"yaml_file": "not a file"}, "Upload a YAML file or paste the YAML"),
    ],
)
def test_loading_refuses_bad_input(as_admin, data, message):
    before = stored_versions()
    response = post_standard(as_admin, data)
    assert response.status_code == 200
    html = text_of(response)
    assert message in html and "There is a problem" in html
    assert stored_versions() == before


def test_the_page_of_a_stored_version(as_admin, two_employers):
    version = two_employers["museum_enrolment"].standard_version
    html = text_of(as_admin.get(f"/admin/standards/{version.id}"))
    assert "Cultural learning and participation officer" in html
    assert f'<code class="govuk-!-text-break-word">{version.content_hash}</code>' in html
    assert 'id="criterion-K1"' in html and 'id="criterion-S18"' in html and 'id="criterion-B11"' in html
    assert "Project Coordination" in html
    assert "Gateway to completion requirements" in html and "As the funding rules of the start date set" in html
    assert "British Sign Language" in html and "Declarations at the gateway to completion" in html
    assert "Enrolments pinned to this version" in html
    assert as_admin.get("/admin/standards/999999").status_code == 404
