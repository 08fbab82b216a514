"""An administrator changes an apprenticeship's plan in a real browser: a plan below the funding
rules of its start is refused with the rule and the figure, a bad weekly figure gets its own
message, and a plan that meets the rules is saved and shown with where each figure comes from.
Every page on the way, error states included, is checked by axe-core and the page checks."""

from __future__ import annotations

import re

from .test_journeys import follow, heading, sign_in


def test_an_administrator_is_told_the_rule_and_the_figure_a_plan_falls_short_of(monitor, live_server):
    page = monitor.page
    admin = live_server.login("admin")
    sign_in(monitor, admin.email, admin.password)
    follow(page, page.get_by_role("link", name="Enrolments").first)
    follow(page, page.get_by_role("link", name="Callum Reid"))
    monitor.assert_clean()
    follow(page, page.get_by_role("button", name="Edit the enrolment"))
    assert heading(page) == "Edit the enrolment"
    monitor.assert_clean()

    # Callum started four months ago, under the rules from August 2025 or 2026 (as the demo's dates
    # fall); ST0396 version 1.0 publishes no minimum hours, so the floor of 187 applies under both.
    page.get_by_label("Planned off-the-job training hours").fill("10")
    page.get_by_label("Contracted hours a week (optional)").fill("thirty")
    follow(page, page.get_by_role("button", name="Save changes"))
    errors = page.locator(".govuk-error-summary").inner_text()
    assert "The contracted hours a week must be a number of hours, like 37.5" in errors
    monitor.assert_clean()

    page.get_by_label("Contracted hours a week (optional)").fill("37.5")
    follow(page, page.get_by_role("button", name="Save changes"))
    errors = page.locator(".govuk-error-summary").inner_text()
    assert "Planned off-the-job hours must be at least 187" in errors
    assert re.search(r"\(the funding rules for starts from 1 August 202[5-9]\)", errors)
    monitor.assert_clean()

    page.get_by_label("Planned off-the-job training hours").fill("375")
    follow(page, page.get_by_role("button", name="Save changes"))
    assert "Enrolment updated" in page.locator(".govuk-notification-banner").inner_text()
    rules = page.locator(".app-funding-rules").inner_text()
    assert "187 hours: the standard version publishes no minimum" in rules
    assert re.search(r"8 months \(the funding rules for starts from 1 August 202[5-9]\)", rules)
    assert "37.5 hours a week" in rules
    monitor.assert_clean()
