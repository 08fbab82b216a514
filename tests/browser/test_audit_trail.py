"""The audit trail in a real browser, on the demo data: a tutor reads an apprentice's trail from
the enrolment page, page by page, and an administrator filters every event by action. Every page
is checked by axe-core and the page checks."""

from __future__ import annotations

from .test_journeys import follow, sign_in

TUTOR = "priya.natarajan@northgate-arts.example"
ADMIN = "admin@northgate-arts.example"


def _sign_in(monitor, email: str) -> None:
    from portfolio.demo.build import DEFAULT_PASSWORD

    sign_in(monitor, email, DEFAULT_PASSWORD)
    monitor.assert_clean()


def test_a_tutor_reads_an_apprentices_trail(monitor, live_server):
    page = monitor.page
    _sign_in(monitor, TUTOR)
    follow(page, page.get_by_role("link", name="Amira Hassan").first)
    follow(page, page.get_by_role("link", name="Audit trail"))
    assert page.locator("h1").inner_text() == "Audit trail"
    assert page.locator(".govuk-summary-card").count() > 1
    monitor.assert_clean()
    follow(page, page.get_by_role("link", name="Next"))
    assert "page=2" in page.url
    monitor.assert_clean()


def test_an_administrator_filters_every_event_by_action(monitor, live_server):
    page = monitor.page
    _sign_in(monitor, ADMIN)
    follow(page, page.get_by_role("link", name="Audit trail"))
    page.get_by_label("Action").select_option(label="Evidence accepted")
    follow(page, page.get_by_role("button", name="Filter"))
    titles = page.locator(".govuk-summary-card__title").all_inner_texts()
    assert titles and {title.strip() for title in titles} == {"Evidence accepted"}
    monitor.assert_clean()
