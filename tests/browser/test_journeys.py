"""Every role signs in through the real form, visits what its pages link to, and signs out.

Every page reached is checked by `Monitor.problems`: axe-core (WCAG 2.2 A/AA), no console
error or CSP violation, nothing from another origin, GOV.UK Frontend's JavaScript running.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from .support import relative, report

# The heading of each role's home page, for the first demo user of that role.
HOME_HEADINGS = {
    "apprentice": "My apprenticeship",
    "tutor": "Apprentices at Northgate Arts Training",
    "employer": "Apprentices at Harbourside Museum",
    "assessor": "Apprentices submitted to Crescent Assessment Services",
    "admin": re.compile("Admin"),
}

# Pages every role must reach from its home page (paths), besides home itself.
EXPECTED_PAGES = {
    "apprentice": {"/account/password", "/enrolments/"},
    "tutor": {"/account/password", "/enrolments/"},
    "employer": {"/account/password", "/enrolments/"},
    "assessor": {"/account/password", "/enrolments/"},
    "admin": {"/account/password", "/admin/organisations", "/admin/users", "/admin/enrolments", "/admin/standards"},
}


def follow(page, locator) -> None:
    """Click a link or a submit button and wait for the page it leads to."""
    with page.expect_navigation():
        locator.click()


def sign_in(monitor, email: str, password: str) -> None:
    page = monitor.page
    monitor.goto("/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    follow(page, page.get_by_role("button", name="Sign in"))


def heading(page) -> str:
    return page.locator("h1").inner_text().strip()


@pytest.mark.parametrize("role", list(HOME_HEADINGS))
def test_each_role_signs_in_browses_and_signs_out(monitor, live_server, role):
    page = monitor.page
    login = live_server.login(role)
    sign_in(monitor, login.email, login.password)

    expected = HOME_HEADINGS[role]
    if isinstance(expected, str):
        assert heading(page) == expected
    else:
        assert expected.search(heading(page)), f"unexpected home heading {heading(page)!r}"
    home = page.url

    results = monitor.crawl()
    visited = [relative(url) for url in results]
    print(f"{role}: {len(visited)} pages checked: {', '.join(visited)}")  # shown by pytest -s or -rA
    for path in EXPECTED_PAGES[role]:
        assert any(v.startswith(path) for v in visited), f"{path} not reached from the home page: {visited}"
    failures = report(results)
    if role == "admin" and failures:
        failures = "The admin pages (templates in portfolio/admin/templates/) have problems to fix:\n" + failures
    assert not failures, failures

    page.goto(home)
    follow(page, page.get_by_role("button", name="Sign out"))
    assert urlsplit(page.url).path == "/sign-in"
    assert "You have signed out" in page.locator(".govuk-notification-banner").inner_text()
    monitor.assert_clean()
    monitor.goto("/")  # signed out for real: home sends us to sign in
    assert urlsplit(page.url).path == "/sign-in"


@pytest.mark.parametrize("role", ["apprentice", "tutor"])
def test_home_page_reflows_on_a_small_screen(monitor, live_server, role):
    """WCAG 1.4.10: at 320 CSS pixels wide nothing but the wide table scrolls sideways."""
    page = monitor.page
    page.set_viewport_size({"width": 320, "height": 720})
    login = live_server.login(role)
    sign_in(monitor, login.email, login.password)
    assert heading(page) == HOME_HEADINGS[role]
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a 320px screen"
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("button", name="Sign out").wait_for(state="visible")
    monitor.assert_clean()


def test_sign_in_page_with_and_without_errors(monitor, live_server):
    page = monitor.page
    monitor.goto("/sign-in")
    assert heading(page) == "Sign in"
    monitor.assert_clean()

    follow(page, page.get_by_role("button", name="Sign in"))
    summary = page.locator(".govuk-error-summary")
    assert "Enter your email address" in summary.inner_text()
    assert "Enter your password" in summary.inner_text()
    assert page.title().startswith("Error: ")
    assert page.evaluate("document.activeElement.classList.contains('govuk-error-summary')"), (
        "the error summary should take the focus"
    )
    monitor.assert_clean()

    sign_in(monitor, live_server.login("apprentice", 3).email, "not the password")
    assert urlsplit(page.url).path == "/sign-in"
    assert "Enter a correct email address and password" in summary.inner_text()
    assert page.get_by_label("Email address").input_value() == live_server.login("apprentice", 3).email
    monitor.assert_clean()


def test_page_not_found(monitor):
    monitor.goto("/no-such-page", status=404)
    assert heading(monitor.page) == "Page not found"
    monitor.assert_clean()


def test_change_password_with_errors(monitor, live_server):
    page = monitor.page
    login = live_server.login("tutor", 1)
    sign_in(monitor, login.email, login.password)
    follow(page, page.get_by_role("link", name="Your account"))
    assert heading(page) == "Change your password"
    monitor.assert_clean()

    follow(page, page.get_by_role("button", name="Change password"))
    assert page.locator(".govuk-error-summary__list li").count() == 3
    monitor.assert_clean()

    page.get_by_label("Current password").fill("not my password")
    page.get_by_label("New password", exact=True).fill("a much longer new password")
    page.get_by_label("Confirm new password").fill("something else entirely")
    follow(page, page.get_by_role("button", name="Change password"))
    errors = page.locator(".govuk-error-summary").inner_text()
    assert "The passwords do not match" in errors
    monitor.assert_clean()
