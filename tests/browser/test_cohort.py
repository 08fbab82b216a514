"""The cohort dashboard in a real browser: the demo tutor and the demo employer open it from the
navigation, sort it, filter it and download it; every page is checked by axe-core and the page
checks, at desktop width and at 320 CSS pixels."""

from __future__ import annotations

import csv
import io
from urllib.parse import parse_qs, urlsplit

import pytest

from .test_journeys import follow, heading, sign_in

TUTOR = "priya.natarajan@northgate-arts.example"
EMPLOYER = "helen.osei@harbourside-museum.example"


def _names(page) -> list[str]:
    return [link.inner_text().strip() for link in page.locator("tbody th a").all()]


def _employers(page) -> set[str]:
    """The employers named under the apprentices (tutors' view)."""
    return {span.inner_text().strip() for span in page.locator("tbody th .app-cohort-table__secondary").all()}


def _sorted_header(page) -> tuple[str, str]:
    header = page.locator("thead th[aria-sort]")
    assert header.count() == 1, "exactly one column says how the table is sorted"
    return header.locator("a").inner_text().strip(), header.get_attribute("aria-sort")


def _open_cohort(monitor) -> None:
    page = monitor.page
    follow(page, page.get_by_role("navigation", name="Menu").get_by_role("link", name="Cohort"))
    assert heading(page) == "Cohort"
    assert _sorted_header(page) == ("Apprentice", "ascending")
    monitor.assert_clean()


def _sort_by(monitor, column: str, expected: str) -> None:
    page = monitor.page
    follow(page, page.locator("thead").get_by_role("link", name=column))
    assert _sorted_header(page) == (column, expected)
    monitor.assert_clean()


def _download(page) -> list[list[str]]:
    link = page.get_by_role("link", name="Download this table as a spreadsheet")
    response = page.request.get(link.get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.text().lstrip("\ufeff"))))


def test_tutor_sorts_filters_and_downloads_the_cohort(monitor, live_server):
    from portfolio.demo.build import DEFAULT_PASSWORD

    page = monitor.page
    sign_in(monitor, TUTOR, DEFAULT_PASSWORD)
    assert page.get_by_role("heading", name="To do").is_visible()
    monitor.assert_clean()
    _open_cohort(monitor)
    names = _names(page)
    assert names == sorted(names) and len(names) >= 4
    assert _employers(page) == {"Harbourside Museum", "Larkfield Playhouse"}

    _sort_by(monitor, "Coverage", "ascending")
    _sort_by(monitor, "Coverage", "descending")
    _sort_by(monitor, "Next review due", "ascending")
    _sort_by(monitor, "Awaiting review", "descending")
    _sort_by(monitor, "Off-the-job hours", "descending")

    page.get_by_label("Employer").select_option(label="Harbourside Museum")
    follow(page, page.get_by_role("button", name="Filter"))
    assert _employers(page) == {"Harbourside Museum"}
    assert _sorted_header(page) == ("Off-the-job hours", "descending")  # the filter kept the sort
    monitor.assert_clean()

    page.get_by_label("Status").select_option(label="On programme")
    page.get_by_label("Apprentice name").fill("amira")
    follow(page, page.get_by_role("button", name="Filter"))
    assert _names(page) == ["Amira Hassan"]
    assert parse_qs(urlsplit(page.url).query)["q"] == ["amira"]
    monitor.assert_clean()

    rows = _download(page)
    assert rows[0][0] == "Apprentice" and [row[0] for row in rows[1:]] == ["Amira Hassan"]

    page.get_by_label("Apprentice name").fill("nobody by this name")
    follow(page, page.get_by_role("button", name="Filter"))
    assert "No apprentices match these filters" in page.locator("main").inner_text()
    monitor.assert_clean()


def test_employer_sees_their_own_apprentices_only(monitor, live_server):
    from portfolio.demo.build import DEFAULT_PASSWORD

    page = monitor.page
    sign_in(monitor, EMPLOYER, DEFAULT_PASSWORD)
    monitor.assert_clean()
    _open_cohort(monitor)
    names = _names(page)
    assert "Amira Hassan" in names and "Callum Reid" not in names and "Sam Patel" not in names
    assert page.get_by_label("Employer").count() == 0 and not _employers(page)

    _sort_by(monitor, "Started", "ascending")
    _sort_by(monitor, "Next review due", "ascending")
    _sort_by(monitor, "Next review due", "descending")

    page.get_by_label("Status").select_option(label="At gateway to completion")
    follow(page, page.get_by_role("button", name="Filter"))
    assert _names(page) == ["Jess Okafor"]
    monitor.assert_clean()
    assert [row[0] for row in _download(page)[1:]] == ["Jess Okafor"]


@pytest.mark.parametrize("email", [TUTOR, EMPLOYER])
def test_cohort_page_reflows_on_a_small_screen(monitor, live_server, email):
    """WCAG 1.4.10: at 320 CSS pixels only the table scrolls sideways, inside its own region."""
    from portfolio.demo.build import DEFAULT_PASSWORD

    page = monitor.page
    page.set_viewport_size({"width": 320, "height": 720})
    sign_in(monitor, email, DEFAULT_PASSWORD)
    monitor.goto("/cohort?sort=coverage")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a 320px screen"
    monitor.assert_clean()
