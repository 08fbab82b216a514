"""Times are stored in UTC and shown in the service's zone (PORTFOLIO_TIMEZONE, by default UK time)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime

import pypdf
import pytest
from sqlalchemy import select

from portfolio import create_app
from portfolio.core import clock
from portfolio.core.storage import evidence_store
from portfolio.exports import export_pdf, export_zip
from portfolio.exports.requests import ask_for_export
from portfolio.extensions import db
from portfolio.models import AuditEvent, EvidenceComment, ExportFormat, GatewaySubmission
from tests.helpers import run_jobs

from ..exports.export_world import build

SUMMER = datetime(2026, 7, 1, 11, 30, tzinfo=UTC)  # 12:30 BST in London
WINTER = datetime(2026, 12, 1, 11, 30, tzinfo=UTC)  # 11:30 GMT


def test_a_moment_is_shown_on_the_clocks_of_the_zone():
    assert f"{clock.local(SUMMER):%H:%M %Z}" == "12:30 BST"
    assert f"{clock.local(WINTER):%H:%M %Z}" == "11:30 GMT"
    assert f"{clock.local(SUMMER, 'America/New_York'):%H:%M}" == "07:30"
    assert f"{clock.local(SUMMER.replace(tzinfo=None)):%H:%M}" == "12:30"  # SQLite's zoneless UTC


def test_the_rules_day_stays_englands_whatever_zone_is_shown(app):
    app.config["TIMEZONE"] = "America/New_York"
    late = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)  # 19:30 in New York, 00:30 on 2 July in London
    assert clock.local(late).day == 1 and clock.day_of(late).day == 2


def _app(tmp_path, **settings):
    return create_app({"TESTING": True, "SECRET_KEY": "test", **settings}, instance_path=str(tmp_path / "instance"))


def test_the_zone_is_a_setting_checked_at_start(tmp_path, monkeypatch):
    assert _app(tmp_path).config["TIMEZONE"] == "Europe/London"
    monkeypatch.setenv("PORTFOLIO_TIMEZONE", "Europe/Dublin")
    assert _app(tmp_path).config["TIMEZONE"] == "Europe/Dublin"
    for bad in ("Europe/Londn", "", "../../etc/passwd", "Europe", "x" * 300):
        monkeypatch.setenv("PORTFOLIO_TIMEZONE", bad)
        with pytest.raises(ValueError, match="PORTFOLIO_TIMEZONE: .* is not a time zone"):
            _app(tmp_path)


@pytest.fixture
def commented(two_employers, world):
    """An evidence item with a comment made in summer and one made in winter."""
    enrolment = two_employers["museum_enrolment"]
    item = world.evidence(enrolment)
    db.session.add_all(
        [
            EvidenceComment(item=item, author=enrolment.apprentice, body="Summer note.", created_at=SUMMER),
            EvidenceComment(item=item, author=enrolment.apprentice, body="Winter note.", created_at=WINTER),
        ]
    )
    db.session.commit()
    return enrolment, item


def test_a_page_shows_summer_times_in_bst_and_winter_ones_as_stored(app, signed_in, commented):
    enrolment, item = commented
    html = signed_in(enrolment.apprentice).get(f"/enrolments/{enrolment.id}/evidence/{item.id}").get_data(as_text=True)
    assert "1 July 2026 at 12:30" in html and "1 December 2026 at 11:30" in html
    assert "11:30 UTC" not in html and "(UTC)" not in html
    assert "Times are UK time (Europe/London)." in html


def test_a_page_shows_times_in_another_configured_zone(app, signed_in, commented):
    app.config["TIMEZONE"] = "America/New_York"
    enrolment, item = commented
    html = signed_in(enrolment.apprentice).get(f"/enrolments/{enrolment.id}/evidence/{item.id}").get_data(as_text=True)
    assert "1 July 2026 at 07:30" in html and "1 December 2026 at 06:30" in html
    assert "Times are local time in America/New_York." in html


def test_the_audit_trail_names_the_zone_of_its_times(app, signed_in, two_employers):
    enrolment = two_employers["museum_enrolment"]
    db.session.execute(
        AuditEvent.__table__.update().where(AuditEvent.enrolment_id == enrolment.id).values(occurred_at=SUMMER)
    )
    db.session.commit()
    html = signed_in(two_employers["tutor"]).get(f"/enrolments/{enrolment.id}/audit").get_data(as_text=True)
    assert "1 July 2026 at 12:30:00 BST" in html and "UTC" not in html


@pytest.fixture
def exported(world):
    """The export world, submitted at gateway in summer and decided in winter."""
    portfolio = build(world)
    submission = db.session.scalars(select(GatewaySubmission)).one()
    submission.submitted_at, submission.decided_at = SUMMER, WINTER
    db.session.commit()
    return portfolio


def _pdf_text(portfolio) -> str:
    _, data = export_pdf(db.session, evidence_store(), portfolio.enrolment, actor=portfolio.tutor)
    reader = pypdf.PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_the_pdf_shows_local_times_and_says_which_zone(exported):
    text = _pdf_text(exported)
    assert "Priya Natarajan, 1 July 2026, 12:30" in text  # submitted, in summer
    assert "Helen Okafor, 1 December 2026, 11:30" in text  # decided, in winter
    assert "Times are UK time (Europe/London)." in text and "UTC" not in text


def test_the_pdf_shows_times_in_another_configured_zone(app, exported):
    app.config["TIMEZONE"] = "Asia/Kolkata"  # UTC+5:30 all year
    text = _pdf_text(exported)
    assert "Priya Natarajan, 1 July 2026, 17:00" in text and "Helen Okafor, 1 December 2026, 17:00" in text
    assert "Times are local time in Asia/Kolkata." in text


def test_the_manifest_keeps_utc_and_names_the_zone_of_the_pdf(app, exported):
    app.config["TIMEZONE"] = "America/New_York"
    _, chunks = export_zip(db.session, evidence_store(), exported.enrolment, actor=exported.tutor)
    archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    manifest_name = next(name for name in archive.namelist() if name.endswith("/manifest.json"))
    manifest = json.loads(archive.read(manifest_name))
    assert manifest["time_zone"] == "America/New_York"
    assert manifest["submissions"][0]["submitted_at"] == "2026-07-01T11:30:00Z"
    # The ZIP's own times have no zone: they are written as the zone's clocks showed them.
    exported_at = datetime.fromisoformat(manifest["exported_at"])
    assert archive.getinfo(manifest_name).date_time[3:5] == tuple(clock.local(exported_at).timetuple())[3:5]


def test_an_export_made_under_another_zone_is_not_served(app, exported):
    def ask():
        export = ask_for_export(db.session, exported.enrolment, ExportFormat.PDF, actor=exported.tutor)
        db.session.commit()
        return export

    london = ask()
    run_jobs(app)
    assert ask().id == london.id  # the same state: the export made
    app.config["TIMEZONE"] = "America/New_York"
    new_york = ask()
    run_jobs(app)
    db.session.refresh(new_york)
    assert new_york.id != london.id and new_york.content_key != london.content_key
    assert "America/New_York" in new_york.portfolio_state
    app.config["TIMEZONE"] = "Europe/London"
    assert ask().id == london.id  # back in London: London's export again
