"""Accounts by email in the browser: a forgotten password reset by the emailed link, and a newcomer
invited by an administrator who chooses a password and then changes their email address. The
links are read out of the mail the live server sent; every page is checked by `Monitor`."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

from tests.smtp_server import body_text

from .test_journeys import follow, heading, sign_in

NEW_PASSWORD = "lantern orchard pebble"


def next_link(live_server, address: str, already: int, path: str) -> str:
    """The path of the `path...` link in the first message to `address` after `already`, once it has come.

    Other journeys' events email the same people, so the messages between are passed over."""
    pattern = re.compile(rf"{re.escape(live_server.url)}({re.escape(path)}[A-Za-z0-9_-]+)")
    deadline = time.monotonic() + 30
    while True:
        for message in live_server.mail.to(address)[already:]:
            if found := pattern.search(body_text(message)):
                return found.group(1)
        assert time.monotonic() < deadline, f"no email to {address} with a {path} link"
        time.sleep(0.1)


def test_a_forgotten_password_is_reset_by_the_emailed_link(monitor, live_server):
    page = monitor.page
    login = live_server.login("apprentice", 1)  # Jess: no other journey signs in as her
    sent_before = len(live_server.mail.to(login.email))
    monitor.goto("/sign-in")
    follow(page, page.get_by_role("link", name="Forgotten your password?"))
    assert heading(page) == "Reset your password"
    monitor.assert_clean()

    follow(page, page.get_by_role("button", name="Send me a link"))
    assert "Enter your email address" in page.locator(".govuk-error-summary").inner_text()
    monitor.assert_clean()

    page.get_by_label("Email address").fill(login.email)
    follow(page, page.get_by_role("button", name="Send me a link"))
    assert heading(page) == "Check your email"
    monitor.assert_clean()

    link = next_link(live_server, login.email, sent_before, "/reset-password/")
    monitor.goto(link)
    assert heading(page) == "Choose a new password"
    monitor.assert_clean()

    page.get_by_label("New password", exact=True).fill("password12")
    page.get_by_label("Confirm new password").fill("password12")
    follow(page, page.get_by_role("button", name="Set password"))
    assert "too easy to guess" in page.locator(".govuk-error-summary").inner_text()
    monitor.assert_clean()

    # The demo's own password again, so that the other journeys still sign in as Jess.
    page.get_by_label("New password", exact=True).fill(login.password)
    page.get_by_label("Confirm new password").fill(login.password)
    follow(page, page.get_by_role("button", name="Set password"))
    assert urlsplit(page.url).path == "/sign-in"
    assert "Your password has been reset" in page.locator(".govuk-notification-banner").inner_text()
    monitor.assert_clean()

    monitor.goto(link, status=410)
    assert heading(page) == "This link cannot be used"
    assert "already been used" in page.locator("main").inner_text()
    monitor.assert_clean()


def test_an_invited_newcomer_chooses_a_password_then_changes_their_email(monitor, live_server):
    page = monitor.page
    admin = live_server.login("admin")
    sign_in(monitor, admin.email, admin.password)
    monitor.goto("/admin/users/new")
    page.get_by_label("Full name").fill("Idris Fairweather")
    page.get_by_label("Email address").fill("idris.fairweather@harbourside-museum.example")
    page.get_by_label("Employer (line manager or mentor)").check()
    page.get_by_label("Organisation", exact=True).select_option(label="Harbourside Museum (employer)")
    assert page.get_by_label("Send an invitation by email").is_checked()
    monitor.assert_clean()
    follow(page, page.get_by_role("button", name="Create user"))
    assert heading(page) == "Idris Fairweather"
    assert "not yet accepted" in page.locator("main").inner_text()
    monitor.assert_clean()
    follow(page, page.get_by_role("button", name="Sign out"))

    link = next_link(live_server, "idris.fairweather@harbourside-museum.example", 0, "/accept-invitation/")
    monitor.goto(link)
    assert heading(page) == "Choose your password"
    monitor.assert_clean()

    follow(page, page.get_by_role("button", name="Set password"))
    assert page.locator(".govuk-error-summary__list li").count() == 2
    monitor.assert_clean()

    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    follow(page, page.get_by_role("button", name="Set password"))
    assert urlsplit(page.url).path == "/"
    assert "you are signed in" in page.locator(".govuk-notification-banner").inner_text()
    monitor.assert_clean()

    follow(page, page.get_by_role("link", name="Your account"))
    follow(page, page.get_by_role("link", name="Change your email address"))
    assert heading(page) == "Change your email address"
    monitor.assert_clean()

    page.get_by_label("New email address").fill("idris@harbourside-museum.example")
    page.get_by_label("Current password").fill("not my password")
    follow(page, page.get_by_role("button", name="Send a confirmation link"))
    assert "Your current password is not correct" in page.locator(".govuk-error-summary").inner_text()
    monitor.assert_clean()

    page.get_by_label("Current password").fill(NEW_PASSWORD)
    follow(page, page.get_by_role("button", name="Send a confirmation link"))
    assert "A change to idris@harbourside-museum.example is waiting" in page.locator("main").inner_text()
    monitor.assert_clean()

    link = next_link(live_server, "idris@harbourside-museum.example", 0, "/confirm-email/")
    monitor.goto(link)
    assert heading(page) == "Confirm your new email address"
    monitor.assert_clean()
    follow(page, page.get_by_role("button", name="Confirm my new email address"))
    assert "Your email address is now idris@harbourside-museum.example" in page.locator("main").inner_text()
    monitor.assert_clean()
