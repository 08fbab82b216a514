"""The apprentice's evidence journey in a real browser: add a PDF and a photo, map them to
K1, S4 and B4 with justifications, submit, and see the dashboard and the criteria tree change.
Every page on the way, error states included, is checked by axe-core and the page checks."""

from __future__ import annotations

import re

from portfolio.core import clock
from tests.helpers import PDF_BYTES

from .test_journeys import follow, sign_in


def _submitted_count(page) -> int:
    text = page.locator(".app-coverage-dashboard").inner_text()
    return int(re.search(r"Of 49 criteria, (\d+) have submitted evidence", text).group(1))


def test_apprentice_adds_maps_and_submits_evidence(monitor, live_server, tmp_path):
    from portfolio.demo.files import png_picture

    page = monitor.page
    login = live_server.login("apprentice", 2)  # Callum: three months in, little evidence yet
    sign_in(monitor, login.email, login.password)
    before = _submitted_count(page)
    monitor.assert_clean()

    follow(page, page.get_by_role("button", name="Add evidence"))
    assert page.locator("h1").inner_text() == "Add evidence"
    monitor.assert_clean()

    # Saving with nothing filled in shows every problem, accessibly.
    follow(page, page.get_by_role("button", name="Save as draft"))
    summary = page.locator(".govuk-error-summary")
    assert "Enter a title" in summary.inner_text()
    assert "Enter the date of the activity" in summary.inner_text()
    monitor.assert_clean()

    pdf = tmp_path / "workshop-plan.pdf"
    pdf.write_bytes(PDF_BYTES)
    photo = tmp_path / "rehearsal.png"
    photo.write_bytes(png_picture(320, 200, seed=11))
    today = clock.today()
    page.get_by_label("Title").fill("Relaxed performance workshop for a care home")
    page.get_by_label("Event plan or schedule").check()
    page.get_by_label("Day").fill(str(today.day))
    page.get_by_label("Month").fill(str(today.month))
    page.get_by_label("Year").fill(str(today.year))
    page.get_by_label("Description").fill("A music and movement workshop for residents before the matinee.")
    page.locator("#files").set_input_files([str(pdf), str(photo)])
    justifications = {
        "K1": "I researched what residents living with dementia need from a visit.",
        "S4": "I wrote the risk assessment and briefed the front of house team.",
        "B4": "I arranged seating and breaks so every resident could take part.",
    }
    for code, text in justifications.items():
        page.locator(f"input[name=criteria][value={code}]").check()
        page.locator(f"#justification-{code}").fill(text)
    follow(page, page.get_by_role("button", name="Save as draft"))

    assert page.locator("h1").inner_text() == "Relaxed performance workshop for a care home"
    assert "Evidence saved as a draft" in page.locator(".govuk-notification-banner").inner_text()
    assert page.get_by_role("link", name="workshop-plan.pdf").is_visible()
    assert page.get_by_role("img", name="Preview of rehearsal.png").is_visible()
    shown = page.locator("main").inner_text()
    assert all(text in shown for text in justifications.values())
    monitor.assert_clean()

    follow(page, page.get_by_role("button", name="Submit for review"))
    assert "Evidence submitted for review" in page.locator(".govuk-notification-banner").inner_text()
    assert "Submitted for review" in page.locator("main").inner_text()
    monitor.assert_clean()

    monitor.goto("/")
    assert _submitted_count(page) == before + 3
    monitor.assert_clean()
    follow(page, page.get_by_role("link", name="Criteria and evidence").first)
    for code in justifications:
        criterion = page.locator(f"#criterion-{code}")
        assert "Relaxed performance workshop for a care home" in criterion.inner_text()
        assert "app-criterion--bare" not in (criterion.get_attribute("class") or "")
    monitor.assert_clean()


def test_a_file_that_is_not_what_its_name_says_is_refused(monitor, live_server, tmp_path):
    page = monitor.page
    login = live_server.login("apprentice", 0)
    sign_in(monitor, login.email, login.password)
    monitor.goto(page.url)  # home
    follow(page, page.get_by_role("button", name="Add evidence"))
    fake = tmp_path / "photo.jpg"
    fake.write_bytes(b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>")
    page.get_by_label("Title").fill("Photo of the workshop")
    page.get_by_label("Photo or video").check()
    page.get_by_label("Day").fill("1")
    page.get_by_label("Month").fill("2")
    page.get_by_label("Year").fill(str(clock.today().year))
    page.locator("#files").set_input_files(str(fake))
    follow(page, page.get_by_role("button", name="Save as draft"))
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "photo.jpg" in summary and "not a JPEG image" in summary
    monitor.assert_clean()
