"""Off-the-job training and a three-way progress review in a real browser: the apprentice logs
training, the tutor approves it, the tutor records a review, and apprentice, employer and tutor
each sign it until it is complete. Every page on the way, error states included, passes axe-core
and the page checks."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from portfolio.core import clock

from .test_journeys import follow, heading, sign_in

APPRENTICE = "amira.hassan@harbourside-museum.example"
TUTOR = "priya.natarajan@northgate-arts.example"
EMPLOYER = "helen.osei@harbourside-museum.example"


def _password() -> str:
    from portfolio.demo.build import DEFAULT_PASSWORD

    return DEFAULT_PASSWORD


def _banner(page) -> str:
    return page.locator(".govuk-notification-banner").first.inner_text()


def _sign_out(monitor) -> None:
    follow(monitor.page, monitor.page.get_by_role("button", name="Sign out"))


def _figure(page, label: str) -> str:
    """The figure in the hours summary list (the first on the page) next to `label`."""
    row = page.locator(".govuk-summary-list__row", has=page.locator("dt", has_text=label)).first
    return row.locator("dd").inner_text().strip()


def test_log_approve_review_and_sign(monitor, live_server):
    page = monitor.page
    password = _password()

    # The apprentice logs training, with a mistake first.
    sign_in(monitor, APPRENTICE, password)
    follow(page, page.get_by_role("link", name="Off-the-job training", exact=True))
    assert heading(page) == "Off-the-job training"
    otj_url = urlsplit(page.url).path
    logged_before = _figure(page, "Logged")
    monitor.assert_clean()

    follow(page, page.get_by_role("button", name="Log training"))
    assert heading(page) == "Log training"
    monitor.assert_clean()

    today = clock.today()
    page.get_by_label("Day").fill(str(today.day))
    page.get_by_label("Month").fill(str(today.month))
    page.get_by_label("Year").fill(str(today.year))
    page.locator("#hours").fill("25")
    page.get_by_role("radio", name="Workshop").check()
    page.get_by_label("What did you learn?").fill("How to run a touch tour for blind and partially sighted visitors.")
    page.locator("input[name=criteria][value=K1]").check()
    follow(page, page.get_by_role("button", name="Log training"))
    assert "An entry can be at most 24 hours" in page.locator(".govuk-error-summary").inner_text()
    monitor.assert_clean()

    page.locator("#hours").fill("3.5")
    follow(page, page.get_by_role("button", name="Log training"))
    assert "3.5 hours of training logged" in _banner(page)
    assert _figure(page, "Logged") != logged_before
    entry_link = page.get_by_role("link", name=re.compile(r"workshop$")).first
    assert "Awaiting approval" in page.locator("main").inner_text()
    monitor.assert_clean()
    entry_url = entry_link.get_attribute("href")
    _sign_out(monitor)

    # The tutor approves it.
    sign_in(monitor, TUTOR, password)
    monitor.goto(otj_url)
    assert page.get_by_role("button", name="Approve selected entries").is_visible()
    monitor.assert_clean()
    monitor.goto(entry_url)
    assert "How to run a touch tour" in page.locator("main").inner_text()
    monitor.assert_clean()
    follow(page, page.get_by_role("button", name="Approve entry"))
    assert "Entry approved" in _banner(page)
    assert "Approved" in page.locator("main .govuk-tag").first.inner_text()
    monitor.assert_clean()

    # The tutor records a progress review, with a mistake first.
    reviews_url = otj_url.replace("/otj", "/reviews")
    monitor.goto(reviews_url)
    assert heading(page) == "Progress reviews"
    monitor.assert_clean()
    follow(page, page.get_by_role("button", name="Record a review"))
    assert heading(page) == "Record a progress review"
    assert "hours planned" in page.get_by_label("Off-the-job training and slippage").input_value()
    monitor.assert_clean()

    page.get_by_label("Progress against the plan").fill("The touch tour and the clay workshop went well.")
    page.locator("input[name=criteria][value=K1]").check()
    follow(page, page.get_by_role("button", name="Save review"))
    errors = page.locator(".govuk-error-summary").inner_text()
    assert "Enter the actions agreed" in errors and "Choose a rating for K1" in errors
    monitor.assert_clean()

    page.locator("#rag-K1").check()  # green
    page.get_by_label("Note on K1 (optional)").fill("Audience research is well evidenced.")
    page.get_by_label("Actions agreed").fill("Amira drafts the budget for the spring festival by March.")
    page.get_by_label("Actions since the last review").fill("The evaluation form was finished.")
    page.get_by_label("Changes to the training plan").fill("None.")
    page.get_by_label("Concerns and changes of circumstance").fill("None raised.")
    page.get_by_label("Why the review is late (if it is)").fill("Moved for the half-term programme.")
    follow(page, page.get_by_role("button", name="Save review"))
    assert "Review recorded" in _banner(page)
    assert heading(page).startswith("Progress review of ")
    review_url = urlsplit(page.url).path
    monitor.assert_clean()

    follow(page, page.get_by_role("button", name="Sign as training provider"))
    assert "Review signed for the training provider" in _banner(page)
    assert page.get_by_role("button", name=re.compile("^Sign as")).count() == 0
    assert "Change this review" not in page.locator("main").inner_text()
    monitor.assert_clean()
    _sign_out(monitor)

    # The apprentice signs.
    sign_in(monitor, APPRENTICE, password)
    monitor.goto(review_url)
    assert page.get_by_role("button", name=re.compile("^Sign as")).all_inner_texts() == ["Sign as apprentice"]
    monitor.assert_clean()
    follow(page, page.get_by_role("button", name="Sign as apprentice"))
    assert "Review signed for the apprentice" in _banner(page)
    monitor.assert_clean()
    _sign_out(monitor)

    # The employer signs last, and the review is complete.
    sign_in(monitor, EMPLOYER, password)
    monitor.goto(review_url)
    monitor.assert_clean()
    follow(page, page.get_by_role("button", name="Sign as employer"))
    assert "the review is complete" in _banner(page)
    assert "Complete" in page.locator("#review-status").inner_text()
    assert page.locator("#signatures").inner_text().count("Signed by") == 3
    monitor.assert_clean()

    monitor.goto(reviews_url)
    assert "Complete" in page.locator("main table").inner_text()
    monitor.assert_clean()
    monitor.goto(otj_url)
    assert "Approved" in page.locator("main table").last.inner_text()
    monitor.assert_clean()
