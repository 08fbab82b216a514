"""A witness without an account signs a testimony in a real browser, on the demo data: Amira's employer
asks an outside witness by email; the witness follows the link read from the mail the app sent,
asks for a code, enters it and signs; Amira's evidence page shows the signed testimony; the link
then refuses a second use. Every page on the way, error states included, is checked by axe-core and
the page checks."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

from portfolio.core import clock
from tests.smtp_server import body_text

from .test_journeys import follow, sign_in

APPRENTICE = "amira.hassan@harbourside-museum.example"
EMPLOYER = "helen.osei@harbourside-museum.example"
WITNESS = "marcus.reid@lantern-arts-collective.example"
TITLE = "Witness testimony: the Harbour Lights lantern workshop"
TEXT = "Amira planned and led the lantern-making workshop for thirty families, and kept it calm and on time."


def _sign_in(monitor, email: str) -> None:
    from portfolio.demo.build import DEFAULT_PASSWORD

    sign_in(monitor, email, DEFAULT_PASSWORD)
    monitor.assert_clean()


def _sign_out(monitor) -> None:
    follow(monitor.page, monitor.page.get_by_role("button", name="Sign out"))


def _mail(live_server, count: int, to: str = WITNESS, timeout: float = 30) -> list:
    """The messages to `to`, once `count` of them have arrived (the app sends them after each commit)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = live_server.mail.to(to)
        if len(messages) >= count:
            return messages
        time.sleep(0.1)
    raise AssertionError(f"{count} messages to {to} expected, {len(live_server.mail.to(to))} arrived")


def _link(message) -> str:
    return urlsplit(re.search(r"(http://\S+/sign/[A-Za-z0-9_-]+)", body_text(message)).group(1)).path


def _code(message) -> str:
    return re.search(r"Your code is (\d{6})", body_text(message)).group(1)


def test_an_outside_witness_signs_a_testimony_through_the_emailed_link(monitor, live_server):
    page = monitor.page

    # Amira's employer asks a visiting artist, who has no account, for a testimony.
    _sign_in(monitor, EMPLOYER)
    follow(page, page.get_by_role("link", name="Amira Hassan"))
    follow(page, page.get_by_role("link", name="Evidence library"))
    follow(page, page.get_by_role("button", name="Ask a witness by email"))
    assert page.locator("h1").inner_text() == "Ask a witness for a testimony"
    monitor.assert_clean()
    follow(page, page.get_by_role("button", name="Send the request"))
    assert "Enter the email address to send the request to" in page.locator(".govuk-error-summary").inner_text()
    monitor.assert_clean()
    today = clock.today()
    page.get_by_label("Their email address").fill(WITNESS)
    page.get_by_label("Their name (optional)").fill("Marcus Reid")
    page.get_by_label("What the witness saw").fill(TITLE)
    page.get_by_label("Day").fill(str(today.day))
    page.get_by_label("Month").fill(str(today.month))
    page.get_by_label("Year").fill(str(today.year))
    page.locator("input[name=criteria][value=S5]").check()
    page.locator("#justification-S5").fill("He saw her brief the families and the volunteers.")
    page.get_by_label("The testimony for the witness to confirm (optional)").fill(TEXT)
    follow(page, page.get_by_role("button", name="Send the request"))
    assert f"Request sent to {WITNESS}" in page.locator(".govuk-notification-banner").first.inner_text()
    requests = page.locator("#signing-requests ~ table").first.inner_text()
    assert WITNESS in requests and "Waiting" in requests
    assert page.get_by_role("link", name="Check and sign").count() == 0
    monitor.assert_clean()
    _sign_out(monitor)

    # The witness opens the link from the email, signed in to nothing.
    link = _link(_mail(live_server, 1)[0])
    monitor.goto(link)
    assert page.locator("h1").inner_text() == "Will you confirm a witness testimony?"
    main = page.locator("main").inner_text()
    assert "Amira Hassan" in main and "Helen Osei" in main and "S5" in main and TEXT in main
    monitor.assert_clean()
    follow(page, page.get_by_role("button", name="Send me a code"))
    assert page.locator("h1").inner_text() == "Enter the code we emailed you"
    monitor.assert_clean()
    follow(page, page.get_by_role("button", name="Continue"))
    assert "Enter the 6-digit code we emailed you" in page.locator(".govuk-error-summary").inner_text()
    monitor.assert_clean()
    code = _code(_mail(live_server, 2)[1])
    page.get_by_label("Code").fill(f"{(int(code) + 1) % 1_000_000:06d}")
    follow(page, page.get_by_role("button", name="Continue"))
    assert "The code is not right" in page.locator(".govuk-error-summary").inner_text()
    monitor.assert_clean()
    page.get_by_label("Code").fill(code)
    follow(page, page.get_by_role("button", name="Continue"))
    assert page.locator("h1").inner_text() == "Sign the witness testimony"
    monitor.assert_clean()

    page.get_by_label("Your full name", exact=True).fill("Marcus Reid")
    page.get_by_label("Your job title").fill("Lead artist, Lantern Arts Collective")
    page.get_by_label("Your relationship to the apprentice").fill("Visiting artist at the workshop she ran")
    page.get_by_label("Type your full name to sign").fill("Mark Reid")
    page.get_by_label(re.compile("I confirm that this testimony")).check()
    follow(page, page.get_by_role("button", name="Sign", exact=True))
    assert "exactly as you entered it above" in page.locator(".govuk-error-summary").inner_text()
    monitor.assert_clean()
    page.get_by_label("Type your full name to sign").fill("marcus reid")
    page.get_by_label(re.compile("I confirm that this testimony")).check()
    follow(page, page.get_by_role("button", name="Sign", exact=True))
    assert "Thank you: you have signed" in page.locator("main").inner_text()
    monitor.assert_clean()

    # Amira sees the signed testimony in her portfolio.
    _sign_in(monitor, APPRENTICE)
    follow(page, page.get_by_role("link", name="Evidence library"))
    follow(page, page.get_by_role("link", name=TITLE))
    main = page.locator("main").inner_text()
    assert "Witness testimony by Marcus Reid" in main and "Submitted for review" in main
    for shown in ("Lead artist, Lantern Arts Collective", "Visiting artist at the workshop she ran", "email verified"):
        assert shown in main, shown
    monitor.assert_clean()
    _sign_out(monitor)

    # The link does not work twice.
    monitor.goto(link, status=410)
    assert page.locator("h1").inner_text() == "This link has already been used"
    assert "Amira" not in page.locator("main").inner_text()
    monitor.assert_clean()


TUTOR = "priya.natarajan@northgate-arts.example"
CONTACT = "sam.patel@harbourside-museum.example"


def test_the_employers_contact_asked_to_sign_a_progress_review_declines(monitor, live_server):
    page = monitor.page

    # The tutor asks the employer's contact, by email, to sign a review still awaiting the employer.
    _sign_in(monitor, TUTOR)
    follow(page, page.get_by_role("link", name="Amira Hassan").first)
    follow(page, page.get_by_role("link", name="Progress reviews"))
    row = page.locator("tbody tr").filter(has_text="the employer").first
    follow(page, row.get_by_role("link"))
    review_url = urlsplit(page.url).path
    follow(page, page.get_by_role("link", name="Ask the employer to sign by email"))
    assert page.locator("h1").inner_text() == "Ask the employer to sign by email"
    assert page.get_by_label("Their email address").input_value() == EMPLOYER  # the mentor's, to start with
    monitor.assert_clean()
    page.get_by_label("Their email address").fill("not an address")
    follow(page, page.get_by_role("button", name="Send the request"))
    assert "correct format" in page.locator(".govuk-error-summary").inner_text()
    monitor.assert_clean()
    page.get_by_label("Their email address").fill(CONTACT)
    page.get_by_label("Their name (optional)").fill("Sam Patel")
    follow(page, page.get_by_role("button", name="Send the request"))
    assert f"Asked by email: {CONTACT}" in page.locator("#signatures").inner_text()
    assert "Waiting" in page.locator("#signing-requests ~ table").first.inner_text()
    monitor.assert_clean()
    _sign_out(monitor)

    # The contact opens the link, proves the address and reads the review, then declines to sign it.
    link = _link(_mail(live_server, 1, CONTACT)[0])
    monitor.goto(link)
    assert page.locator("h1").inner_text() == "Will you sign a progress review?"
    monitor.assert_clean()
    follow(page, page.get_by_role("button", name="Send me a code"))
    code = _code(_mail(live_server, 2, CONTACT)[1])
    page.get_by_label("Code").fill(code)
    follow(page, page.get_by_role("button", name="Continue"))
    assert page.locator("h1").inner_text() == "Sign the progress review for the employer"
    assert "Progress against the plan" in page.locator("#text-to-confirm").inner_text()
    monitor.assert_clean()
    follow(page, page.get_by_role("link", name="I do not want to sign this"))
    assert page.locator("h1").inner_text() == "Decline to sign"
    monitor.assert_clean()
    page.get_by_label("Why you are declining (optional)").fill("I was not at this review.")
    follow(page, page.get_by_role("button", name="Decline to sign"))
    assert page.locator("h1").inner_text() == "You have declined to sign"
    monitor.assert_clean()

    # The tutor sees it declined, and may send it again.
    _sign_in(monitor, TUTOR)
    monitor.goto(review_url)
    requests = page.locator("#signing-requests ~ table").first.inner_text()
    assert "Declined" in requests and "I was not at this review." in requests
    assert page.get_by_role("button", name="Send the request again").is_visible()
    monitor.assert_clean()
