"""A tutor writes a training plan in a real browser and the three parties sign it: the form's
errors, the plan page (its missing assessment organisation flagged), the signatures, the
enrolment page's card and the off-the-job page's planned hours. Every page on the way is checked
by axe-core and the page checks."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlparse

from .test_journeys import follow, heading, sign_in


def _fill_date(page, legend: str, day: date) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def _to_the_plan(monitor, login) -> None:
    page = monitor.page
    sign_in(monitor, login.email, login.password)
    follow(page, page.get_by_role("link", name="Callum Reid").first)
    monitor.assert_clean()
    follow(page, page.get_by_role("link", name="View the training plan"))
    assert heading(page) == "Training plan"
    monitor.assert_clean()


def test_a_tutor_writes_the_plan_and_the_three_sign_it(monitor, live_server):
    page = monitor.page
    tutor = live_server.login("tutor", 1)  # Tom Whitlock, Callum Reid's tutor
    _to_the_plan(monitor, tutor)
    # Callum has no assessment organisation yet, and his planned end is over 6 months away.
    assert "No assessment organisation (EPAO) is recorded" in page.locator("#epao-missing").inner_text()

    follow(page, page.get_by_role("button", name="Add an activity"))
    assert heading(page) == "Add an activity"
    monitor.assert_clean()
    follow(page, page.get_by_role("button", name="Save activity"))
    assert "Describe the activity" in page.locator(".govuk-error-summary").inner_text()
    monitor.assert_clean()

    today = date.today()
    page.get_by_label("What is the activity?").fill("Stage management workshops at the playhouse")
    _fill_date(page, "Planned start", today)
    _fill_date(page, "Planned end", today + timedelta(days=29))
    page.get_by_label("Off-the-job hours").fill("30")
    follow(page, page.get_by_role("button", name="Save activity"))
    assert "Training plan saved" in page.locator(".govuk-notification-banner").inner_text()
    assert "Stage management workshops" in page.locator("#activities").inner_text()
    assert "fewer than the apprenticeship's planned off-the-job hours" in page.locator("#hours-warning").inner_text()
    monitor.assert_clean()
    follow(page, page.get_by_role("button", name="Sign as training provider"))
    assert "Training plan signed" in page.locator(".govuk-notification-banner").inner_text()
    monitor.assert_clean()
    plan_path = urlparse(page.url).path
    follow(page, page.get_by_role("button", name="Sign out"))

    for login, party in (
        (live_server.login("apprentice", 2), "apprentice"),
        (live_server.login("employer", 1), "employer"),
    ):
        sign_in(monitor, login.email, login.password)
        monitor.goto(plan_path)  # the page their signing request links to
        monitor.assert_clean()
        follow(page, page.get_by_role("button", name=f"Sign as {party}"))
        monitor.assert_clean()
        if party == "apprentice":
            follow(page, page.get_by_role("button", name="Sign out"))
    assert "All three have signed: it is agreed" in page.locator(".govuk-notification-banner").inner_text()
    follow(page, page.get_by_role("link", name="Callum Reid").first)
    assert "Agreed" in page.locator("#training-plan-summary").inner_text()
    monitor.assert_clean()
    monitor.goto(urlparse(page.url).path + "/otj")
    assert "Planned by" in page.locator("#otj-against-plan").inner_text()
    monitor.assert_clean()
