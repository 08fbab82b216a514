"""The calendar page in a real browser: an apprentice finds it from their account, makes a link,
sees it once, replaces it and turns it off; each page is checked by axe-core and the page checks."""

from __future__ import annotations

from .test_journeys import follow, heading, sign_in


def test_apprentice_makes_replaces_and_turns_off_a_calendar_link(monitor, live_server):
    page = monitor.page
    login = live_server.login("apprentice")
    sign_in(monitor, login.email, login.password)
    follow(page, page.get_by_role("navigation", name="Menu").get_by_role("link", name="Your account"))
    follow(page, page.get_by_role("link", name="Add your progress reviews and deadlines to your calendar app"))
    assert heading(page) == "Your calendar"
    monitor.assert_clean()

    follow(page, page.get_by_role("button", name="Create a calendar link"))
    link = page.get_by_label("Calendar link").input_value()
    assert link.startswith(f"{live_server.url}/calendar/") and link.endswith(".ics")
    monitor.assert_clean()
    feed = page.request.get(link)
    assert feed.status == 200 and feed.headers["content-type"] == "text/calendar; charset=utf-8"
    assert "BEGIN:VEVENT" in feed.text() and "Progress review" in feed.text()

    follow(page, page.get_by_role("button", name="Replace link"))
    replaced = page.get_by_label("Calendar link").input_value()
    assert replaced != link and page.request.get(link).status == 404
    monitor.assert_clean()

    follow(page, page.get_by_role("button", name="Turn off"))
    assert page.get_by_role("button", name="Create a calendar link").is_visible()
    assert page.request.get(replaced).status == 404
    monitor.assert_clean()
