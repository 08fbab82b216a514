"""Today's rules in a real browser, from the start of an apprenticeship to its result: a break in
learning and the return, a progress review with what the funding rules ask it to record, the
employer's verification of behaviours, the gateway to completion and the assessor recording the
result of the apprenticeship assessment. Every page on the way, error states included, passes
axe-core and the page checks."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

from portfolio.core import clock

from .test_journeys import follow, heading, sign_in

APPRENTICE = "callum.reid@larkfield-playhouse.example"
EMPLOYER = "gareth.lloyd@larkfield-playhouse.example"
TUTOR = "tom.whitlock@northgate-arts.example"
ADMIN = "admin@northgate-arts.example"
ASSESSOR = "marion.adebayo@crescent-assessment.example"
SUBMITTED = "Jess Okafor"  # the demo's apprentice awaiting the assessor's decision


def _password() -> str:
    from portfolio.demo.build import DEFAULT_PASSWORD

    return DEFAULT_PASSWORD


def _banner(page) -> str:
    return page.locator(".govuk-notification-banner").first.inner_text()


def _errors(page) -> str:
    return page.locator(".govuk-error-summary").inner_text()


def _as(monitor, email: str) -> None:
    if monitor.page.get_by_role("button", name="Sign out").count():
        follow(monitor.page, monitor.page.get_by_role("button", name="Sign out"))
    sign_in(monitor, email, _password())


def _fill_date(page, legend: str, day) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def _enrolment_url(monitor, name: str) -> str:
    """The apprenticeship's page, found from the signed-in user's home page."""
    page = monitor.page
    monitor.goto("/")
    follow(page, page.locator("main").get_by_role("link", name=name, exact=True).first)
    return urlsplit(page.url).path


def test_a_break_a_review_the_behaviours_the_gateway_to_completion_and_the_result(monitor, live_server):
    page = monitor.page
    today = clock.today()

    # The administrator records a break that began ten days ago, with a mistake first, and the return.
    _as(monitor, ADMIN)
    follow(page, page.get_by_role("link", name="Enrolments").first)
    follow(page, page.get_by_role("link", name="Callum Reid"))
    admin_url = urlsplit(page.url).path
    planned_end = page.locator(".govuk-summary-list__row", has_text="Planned end").locator("dd").first.inner_text()
    monitor.assert_clean()
    first_day = today - timedelta(days=10)
    _fill_date(page, "First day of the break", first_day)
    _fill_date(page, "Expected return", today + timedelta(days=60))
    follow(page, page.get_by_role("button", name="Start the break"))
    assert "Say why the apprentice is taking a break" in _errors(page)
    monitor.assert_clean()
    _fill_date(page, "First day of the break", first_day)
    _fill_date(page, "Expected return", today + timedelta(days=60))
    page.get_by_label("Why the apprentice is taking a break").fill("A period of illness.")
    follow(page, page.get_by_role("button", name="Start the break"))
    assert "On a break since" in page.locator("main").inner_text()
    monitor.assert_clean()
    _fill_date(page, "Day the apprentice came back", today)
    follow(page, page.get_by_role("button", name="Record the return"))
    assert "Return recorded: the planned end moves to" in page.locator("main").inner_text()
    moved = page.locator(".govuk-summary-list__row", has_text="Planned end").locator("dd").first.inner_text()
    assert moved != planned_end  # ten days later
    monitor.assert_clean()
    monitor.goto(admin_url)

    # The tutor records a progress review with what the rules ask for; the apprentice's first review
    # is overdue (the demo has none for him), so the reason it is late is asked for.
    _as(monitor, TUTOR)
    enrolment_url = _enrolment_url(monitor, "Callum Reid")
    monitor.goto(enrolment_url + "/reviews")
    follow(page, page.get_by_role("button", name="Record a review"))
    monitor.assert_clean()
    page.get_by_label("Progress against the plan").fill("The taster sessions are going well.")
    page.get_by_label("Actions agreed").fill("Callum plans the spring open day by March.")
    page.get_by_label("Actions since the last review").fill("None: this is the first review.")
    page.get_by_label("Changes to the training plan").fill("None.")
    page.get_by_label("Concerns and changes of circumstance").fill("Ten days off sick, recorded as a break.")
    follow(page, page.get_by_role("button", name="Save review"))
    if page.locator(".govuk-error-summary").count():  # later than the rules ask: say why
        assert "late" in _errors(page)
        monitor.assert_clean()
        page.get_by_label("Why the review is late (if it is)").fill("Callum was off sick.")
        follow(page, page.get_by_role("button", name="Save review"))
    assert "Review recorded" in _banner(page)
    monitor.assert_clean()
    follow(page, page.get_by_role("button", name="Sign as training provider"))
    assert "Review signed for the training provider" in _banner(page)
    monitor.assert_clean()

    # The employer verifies the behaviours again: ST0396's plan does not require it, so the gateway
    # to completion does not wait for it, but the signed record goes into the exports.
    _as(monitor, EMPLOYER)
    monitor.goto(enrolment_url + "/gateway")
    assert (
        "does not ask the employer to verify the behaviours"
        in page.locator("#behaviour-verification ~ p").first.inner_text()
    )
    monitor.assert_clean()
    follow(page, page.get_by_role("button", name="Verify the behaviours again"))
    monitor.assert_clean()
    page.locator("input[name=decision_B3][value=not_yet]").check()
    follow(page, page.get_by_role("button", name="Sign the verification"))
    assert _errors(page)  # a "not yet" needs its note, and the box must be ticked
    monitor.assert_clean()
    for radio in page.locator("input[type=radio][value=confirmed]").all():
        radio.check()
    page.get_by_role("checkbox").check()
    follow(page, page.get_by_role("button", name="Sign the verification"))
    assert "all 11 behaviours confirmed" in page.locator("#behaviour-verification-signed").inner_text()
    monitor.assert_clean()

    # The assessor accepts the gateway to completion of the portfolio awaiting them, then records
    # the result: a pass completes the apprenticeship.
    _as(monitor, ASSESSOR)
    jess_url = _enrolment_url(monitor, SUBMITTED)
    monitor.goto(jess_url + "/gateway")
    follow(page, page.get_by_role("button", name="Decide the gateway to completion"))
    monitor.assert_clean()
    for radio in page.locator("input[type=radio][value=accept]").all():
        radio.check()
    follow(page, page.get_by_role("button", name="Record the decision"))
    assert f"Gateway to completion signed off: {SUBMITTED} is now in apprenticeship assessment" in _banner(page)
    monitor.assert_clean()
    follow(page, page.get_by_role("button", name="Record the result of attempt 1"))
    assert heading(page) == "Record the result of attempt 1"
    monitor.assert_clean()
    follow(page, page.get_by_role("button", name="Record attempt 1"))
    assert "Choose the grade for" in _errors(page)
    monitor.assert_clean()
    for method in ("method_1", "method_2"):
        page.locator(f"input[name=grade_{method}][value=Pass]").check()
        group = page.locator(f"#method-{method}")
        group.get_by_label("Day").fill(str(today.day))
        group.get_by_label("Month").fill(str(today.month))
        group.get_by_label("Year").fill(str(today.year))
    page.locator("input[name=grade][value=Distinction]").check()
    follow(page, page.get_by_role("button", name="Record attempt 1"))
    assert re.search(r"completed", page.locator("main").inner_text())
    assert "Distinction" in page.locator("#assessment-result").inner_text()
    monitor.assert_clean()
