"""Files chosen on a form that fails are kept: choose a PDF, tick a criterion, forget its
justification, save; the error says the file is kept and shows it attached; fix the justification,
save: the item has the file. Every page on the way is checked by axe-core and the page checks."""

from __future__ import annotations

from portfolio.core import clock
from tests.helpers import PDF_BYTES

from .test_journeys import follow, sign_in


def test_a_chosen_file_survives_a_failed_save(monitor, live_server, tmp_path):
    page = monitor.page
    login = live_server.login("apprentice", 2)
    sign_in(monitor, login.email, login.password)
    follow(page, page.get_by_role("button", name="Add evidence"))

    pdf = tmp_path / "museum-late-plan.pdf"
    pdf.write_bytes(PDF_BYTES)
    today = clock.today()
    page.get_by_label("Title").fill("Plan for the museum late")
    page.get_by_label("Event plan or schedule").check()
    page.get_by_label("Day").fill(str(today.day))
    page.get_by_label("Month").fill(str(today.month))
    page.get_by_label("Year").fill(str(today.year))
    page.locator("#files").set_input_files(str(pdf))
    page.locator("input[name=criteria][value=S1]").check()
    follow(page, page.get_by_role("button", name="Save as draft"))

    summary = page.locator(".govuk-error-summary").inner_text()
    assert "Explain how this evidence shows S1" in summary
    assert "Your files are kept, so you do not need to choose them again: museum-late-plan.pdf." in summary
    kept = page.get_by_label("museum-late-plan.pdf")
    assert kept.is_checked()
    monitor.assert_clean()

    page.locator("#justification-S1").fill("I planned the running order and the volunteers' rota.")
    follow(page, page.get_by_role("button", name="Save as draft"))
    assert page.locator("h1").inner_text() == "Plan for the museum late"
    assert "Evidence saved as a draft" in page.locator(".govuk-notification-banner").inner_text()
    assert page.get_by_role("link", name="museum-late-plan.pdf").is_visible()
    monitor.assert_clean()
