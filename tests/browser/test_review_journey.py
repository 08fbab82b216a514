"""Evidence review in a real browser, on the demo data: the tutor refers one of Amira's items back
with feedback, Amira fixes and resubmits it, the tutor accepts it and judges one of its criteria
met; her employer writes and signs a witness testimony. Every page on the way, error states
included, is checked by axe-core and the page checks."""

from __future__ import annotations

import re

from portfolio.core import clock

from .test_journeys import follow, sign_in

TUTOR = "priya.natarajan@northgate-arts.example"
APPRENTICE = "amira.hassan@harbourside-museum.example"
EMPLOYER = "helen.osei@harbourside-museum.example"
FEEDBACK = "Please add the volunteer briefing notes, so the controls you describe can be checked."


def _sign_in(monitor, email: str) -> None:
    from portfolio.demo.build import DEFAULT_PASSWORD

    sign_in(monitor, email, DEFAULT_PASSWORD)
    monitor.assert_clean()


def _sign_out(monitor) -> None:
    follow(monitor.page, monitor.page.get_by_role("button", name="Sign out"))


def _banner(page) -> str:
    return page.locator(".govuk-notification-banner").first.inner_text()


def test_refer_back_fix_accept_judge_and_witness(monitor, live_server):
    page = monitor.page

    # The tutor picks the longest-waiting item of Amira's that nobody reviews yet.
    _sign_in(monitor, TUTOR)
    monitor.goto("/review")
    assert page.locator("h1").inner_text() == "Evidence to review"
    monitor.assert_clean()
    # Each choice says how many items it shows, e.g. "Amira Hassan (3)".
    amira = page.locator("#apprentice option", has_text="Amira Hassan").get_attribute("value")
    page.get_by_label("Apprentice", exact=True).select_option(value=amira)
    follow(page, page.get_by_role("button", name="Filter"))
    row = page.locator("tbody tr").filter(has_text="Nobody yet").first
    title = row.locator("a").inner_text()
    monitor.assert_clean()
    follow(page, row.get_by_role("link", name=title))
    item_url = page.url.split("?")[0]  # the queue's filters ride along in the address
    assert page.locator("h1").inner_text() == title
    monitor.assert_clean()

    follow(page, page.get_by_role("button", name="Start review"))
    assert "You are reviewing this evidence" in _banner(page)
    monitor.assert_clean()
    page.get_by_label("Refer back to the apprentice").check()
    follow(page, page.get_by_role("button", name="Record decision"))
    assert (
        "Give feedback that says what the apprentice needs to change"
        in page.locator(".govuk-error-summary").inner_text()
    )
    monitor.assert_clean()
    page.get_by_label("Refer back to the apprentice").check()
    page.get_by_label("Feedback for the apprentice").fill(FEEDBACK)
    follow(page, page.get_by_role("button", name="Record decision"))
    assert "Evidence referred back to Amira Hassan" in _banner(page)
    assert "Referred back" in page.locator("main").inner_text()
    monitor.assert_clean()
    _sign_out(monitor)

    # Amira sees the feedback first thing on the item, fixes the item, says so and resubmits.
    _sign_in(monitor, APPRENTICE)
    monitor.goto(item_url.rsplit("/", 1)[0])  # her evidence library
    assert "referred back to you with feedback" in page.locator(".govuk-inset-text").inner_text()
    monitor.assert_clean()
    follow(page, page.get_by_role("link", name="Show referred evidence"))
    follow(page, page.get_by_role("link", name=title))
    assert page.url == item_url
    feedback = page.locator(".govuk-notification-banner", has_text="Feedback")
    assert FEEDBACK in feedback.inner_text() and "Priya Natarajan referred this evidence back" in feedback.inner_text()
    monitor.assert_clean()
    follow(page, page.get_by_role("link", name=re.compile(r"^Edit")))
    page.get_by_label("Your reflection").fill("I added the volunteer briefing notes, as my tutor asked.")
    follow(page, page.get_by_role("button", name="Save as draft"))
    assert "Your changes have been saved" in _banner(page)
    monitor.assert_clean()
    page.get_by_label("Add a comment").fill("I have added the briefing notes to the reflection.")
    follow(page, page.get_by_role("button", name="Post comment"))
    assert "I have added the briefing notes" in page.locator("#comments").inner_text()
    monitor.assert_clean()
    follow(page, page.get_by_role("button", name="Submit for review"))
    assert "Evidence submitted for review" in _banner(page)
    monitor.assert_clean()
    _sign_out(monitor)

    # The tutor accepts it and judges its first criterion met.
    _sign_in(monitor, TUTOR)
    monitor.goto(item_url)
    assert "I have added the briefing notes" in page.locator("#comments").inner_text()
    follow(page, page.get_by_role("button", name="Start review"))
    page.get_by_label("Accept", exact=True).check()
    page.get_by_label("Feedback for the apprentice").fill("Thank you: the controls are clear now.")
    follow(page, page.get_by_role("button", name="Record decision"))
    assert "Evidence accepted" in _banner(page)
    monitor.assert_clean()
    judge = page.locator(".govuk-summary-list__actions a").first
    code = judge.inner_text().split()[-1]
    follow(page, judge)
    assert page.locator("h1").inner_text() == code
    monitor.assert_clean()
    page.get_by_label("Met", exact=True).check()
    page.get_by_label("Note").fill("Shown in the accepted evidence and the tutor's observation.")
    follow(page, page.get_by_role("button", name="Record judgement"))
    assert f"{code} judged: Met" in _banner(page)
    assert "Met (current)" in page.locator("main").inner_text()
    monitor.assert_clean()
    follow(page, page.get_by_role("link", name="Criterion judgements"))
    assert "Shown in the accepted evidence" in page.locator(f"#criterion-{code}").inner_text()
    monitor.assert_clean()
    follow(page, page.get_by_role("link", name="Criteria and evidence"))
    assert "Met" in page.locator(f"#criterion-{code}").inner_text()
    met = re.search(r"(\d+) are judged met", page.locator(".app-coverage-dashboard").inner_text())
    assert met and int(met.group(1)) >= 1
    monitor.assert_clean()
    _sign_out(monitor)

    # Her employer writes a witness testimony, checks it and signs it.
    _sign_in(monitor, EMPLOYER)
    follow(page, page.get_by_role("link", name="Amira Hassan"))
    follow(page, page.get_by_role("link", name="Evidence library"))
    monitor.assert_clean()
    follow(page, page.get_by_role("button", name="Write a witness testimony"))
    assert page.locator("h1").inner_text() == "Write a witness testimony"
    monitor.assert_clean()
    follow(page, page.get_by_role("button", name="Save and continue"))
    assert "Write your testimony" in page.locator(".govuk-error-summary").inner_text()
    monitor.assert_clean()
    today = clock.today()
    page.get_by_label("Title").fill("Witness testimony: the Harbour Lights lantern parade")
    page.get_by_label("Day").fill(str(today.day))
    page.get_by_label("Month").fill(str(today.month))
    page.get_by_label("Year").fill(str(today.year))
    page.get_by_label("Your testimony").fill(
        "I saw Amira brief twenty volunteer stewards before the parade and answer their questions calmly."
    )
    page.locator("input[name=criteria][value=S5]").check()
    page.locator("#justification-S5").fill("She briefed the stewards clearly and checked they understood.")
    follow(page, page.get_by_role("button", name="Save and continue"))
    assert page.locator("h1").inner_text() == "Check and sign your testimony"
    monitor.assert_clean()
    page.get_by_label("Your job title").fill("Head of Learning")
    follow(page, page.get_by_role("button", name="Sign and submit for review"))
    assert "Confirm that the testimony is a true account" in page.locator(".govuk-error-summary").inner_text()
    monitor.assert_clean()
    page.get_by_label("Your job title").fill("Head of Learning")
    page.get_by_label(re.compile("I confirm that this testimony")).check()
    follow(page, page.get_by_role("button", name="Sign and submit for review"))
    assert re.search(r"\bTestimony signed and submitted for review", _banner(page))
    main = page.locator("main").inner_text()
    assert "Head of Learning" in main and "Helen Osei" in main and "Submitted for review" in main
    monitor.assert_clean()
