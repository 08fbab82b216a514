"""Who may export a portfolio, from the enrolment page and from the command line."""

from __future__ import annotations

import io
import zipfile

import pypdf
import pytest
from sqlalchemy import func, select

from portfolio.core.storage import evidence_store
from portfolio.extensions import db
from portfolio.models import EnrolmentStatus, Export, Role
from tests.helpers import export_through_web, run_jobs

from .export_world import build

FORMATS = ("pdf", "zip")


@pytest.fixture
def portfolio(world):
    return build(world)


@pytest.fixture
def as_user(client, signed_in):
    """`as_user(user)`: the test client, signed out of any earlier user and in as `user`."""

    def sign_in(user):
        client.post("/sign-out")
        return signed_in(user)

    return sign_in


@pytest.fixture
def out(tmp_path):
    """An empty folder for the command to write to."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def _ask_url(portfolio, fmt: str) -> str:
    return f"/enrolments/{portfolio.enrolment.id}/exports/{fmt}"


def test_the_apprentice_tutor_assessor_and_admin_may_download_the_pdf(portfolio, as_user, world):
    admin = world.user(Role.ADMIN, world.provider("Platform"))
    db.session.commit()
    for user in (portfolio.apprentice, portfolio.tutor, portfolio.assessor, admin):
        response = export_through_web(as_user(user), portfolio.enrolment.id, "pdf")
        assert response.status_code == 200, user.role
        assert response.mimetype == "application/pdf"
        assert response.headers["Content-Disposition"].startswith("attachment; filename=portfolio-zoe-obrien-lukasz")
        assert len(pypdf.PdfReader(io.BytesIO(response.get_data())).pages) > 10


def test_the_assessor_downloads_the_zip(portfolio, as_user):
    response = export_through_web(as_user(portfolio.assessor), portfolio.enrolment.id, "zip")
    assert response.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(response.get_data())).testzip() is None


def test_everyone_else_gets_404_for_asking_watching_and_downloading(portfolio, as_user, world):
    made = {}
    for fmt in FORMATS:
        asked = as_user(portfolio.tutor).post(_ask_url(portfolio, fmt))
        run_jobs(as_user(portfolio.tutor).application)
        made[fmt] = asked.headers["Location"]
    other_provider = world.provider("Elsewhere College")
    outsiders = {
        "the apprentice's employer": portfolio.mentor,  # reads the portfolio in the service, takes no copy
        "a tutor of another provider": world.user(Role.TUTOR, other_provider),
        "an assessor of another EPAO": world.user(Role.ASSESSOR, world.epao("Elsewhere Assessment")),
        "another apprentice": world.enrolment(provider=other_provider).apprentice,
    }
    db.session.commit()
    for who, user in outsiders.items():
        client = as_user(user)
        for fmt in FORMATS:
            assert client.post(_ask_url(portfolio, fmt)).status_code == 404, who
            assert client.get(made[fmt]).status_code == 404, who
            assert client.get(made[fmt] + "/download").status_code == 404, who
    assert db.session.scalar(select(func.count()).select_from(Export)) == 2  # the outsiders asked for nothing


def test_an_export_is_found_only_under_its_own_enrolment(portfolio, as_user, world):
    other = world.enrolment(tutor=portfolio.tutor)
    db.session.commit()
    client = as_user(portfolio.tutor)
    shown = client.post(_ask_url(portfolio, "pdf")).headers["Location"]
    elsewhere = shown.replace(f"/enrolments/{portfolio.enrolment.id}/", f"/enrolments/{other.id}/")
    assert client.get(elsewhere).status_code == 404
    assert client.get(elsewhere + "/download").status_code == 404
    assert client.get(shown.rsplit("/", 1)[0] + "/999999").status_code == 404


def test_assessors_see_nothing_before_the_portfolio_is_submitted_to_their_epao(world, as_user):
    portfolio = build(world, status=EnrolmentStatus.ON_PROGRAMME)
    client = as_user(portfolio.assessor)
    for fmt in FORMATS:
        assert client.post(_ask_url(portfolio, fmt)).status_code == 404
    assert export_through_web(as_user(portfolio.tutor), portfolio.enrolment.id, "pdf").status_code == 200


def test_a_withdrawn_apprenticeship_is_refused_with_a_message(world, as_user):
    portfolio = build(world, status=EnrolmentStatus.WITHDRAWN)
    client = as_user(portfolio.tutor)
    for fmt in FORMATS:
        response = client.post(_ask_url(portfolio, fmt))
        assert response.status_code == 409
        assert "This apprenticeship was withdrawn, so its portfolio cannot be exported." in response.get_data(
            as_text=True
        )
    page = client.get(f"/enrolments/{portfolio.enrolment.id}").get_data(as_text=True)
    assert "was withdrawn, so its portfolio cannot be exported" in page
    assert _ask_url(portfolio, "pdf") not in page
    assert db.session.scalar(select(func.count()).select_from(Export)) == 0


def test_the_enrolment_page_offers_the_export_to_those_allowed(portfolio, as_user):
    page = as_user(portfolio.tutor).get(f"/enrolments/{portfolio.enrolment.id}").get_data(as_text=True)
    assert 'id="export"' in page
    assert _ask_url(portfolio, "pdf") in page and _ask_url(portfolio, "zip") in page
    page = as_user(portfolio.mentor).get(f"/enrolments/{portfolio.enrolment.id}").get_data(as_text=True)
    assert 'id="export"' not in page and _ask_url(portfolio, "pdf") not in page


def test_the_apprentice_home_page_offers_the_export(portfolio, as_user):
    page = as_user(portfolio.apprentice).get("/").get_data(as_text=True)
    assert _ask_url(portfolio, "zip") in page


# The command line ----------------------------------------------------------------------------


def test_the_command_writes_the_pdf_and_the_zip(portfolio, runner, out):
    pdf, archive = out / "portfolio.pdf", out / "portfolio.zip"
    result = runner.invoke(args=["export", str(portfolio.enrolment.id), "--pdf", str(pdf), "--zip", str(archive)])
    assert result.exit_code == 0, result.output
    assert f"Wrote {pdf}" in result.output and f"Wrote {archive}" in result.output
    assert len(pypdf.PdfReader(pdf).pages) > 10
    names = zipfile.ZipFile(archive).namelist()
    assert any(name.endswith("/SHA256SUMS") for name in names)
    assert sorted(p.name for p in out.iterdir()) == ["portfolio.pdf", "portfolio.zip"]  # nothing left over


def test_the_command_needs_a_file_to_write(portfolio, runner):
    result = runner.invoke(args=["export", str(portfolio.enrolment.id)])
    assert result.exit_code == 2
    assert "--pdf FILE, --zip FILE or both" in result.output


def test_the_command_names_an_unknown_enrolment(portfolio, runner, out):
    result = runner.invoke(args=["export", "999999", "--pdf", str(out / "x.pdf")])
    assert result.exit_code == 1
    assert "Error: there is no enrolment 999999" in result.output
    assert not list(out.iterdir())


def test_the_command_refuses_a_withdrawn_enrolment(world, runner, out):
    portfolio = build(world, status=EnrolmentStatus.WITHDRAWN)
    result = runner.invoke(args=["export", str(portfolio.enrolment.id), "--zip", str(out / "x.zip")])
    assert result.exit_code == 1
    assert "Error: This apprenticeship was withdrawn, so its portfolio cannot be exported." in result.output
    assert not list(out.iterdir())


def test_the_command_leaves_no_partial_zip_when_a_file_was_altered(portfolio, runner, out):
    budget = portfolio.budget.files[0]
    evidence_store()._path(budget.sha256).write_bytes(b"Y" * budget.size)
    result = runner.invoke(args=["export", str(portfolio.enrolment.id), "--zip", str(out / "x.zip")])
    assert result.exit_code == 1
    assert "Evidence 3 (Workshop budget): the file budget.pdf is altered" in result.output
    assert not list(out.iterdir())
