"""The gateway in a real browser, on the demo data: the ready apprentice, her employer and her
tutor sign their declarations and the tutor submits to the EPAO, whose assessor refers the criteria
back. The gateway page then leads with the referral and the criteria check says Referred; the
apprentice adds evidence, and once the tutor accepts it the check no longer does, and the tutor's
declaration for attempt 2 is stale and is signed again; the others sign, the tutor submits attempt 2,
and the assessor, shown what was referred, signs the gateway off and downloads the portfolio as a
PDF and as a ZIP whose checksums `sha256sum -c` accepts.
Every page on the way, error states included, is checked by axe-core and the page checks."""

from __future__ import annotations

import subprocess
import zipfile
from urllib.parse import urlsplit

from pypdf import PdfReader

from portfolio.core import clock
from portfolio.core.wording import long_date
from tests.helpers import PDF_BYTES

from .test_journeys import follow, heading, sign_in

APPRENTICE = "nadia.rahman@larkfield-playhouse.example"
EMPLOYER = "gareth.lloyd@larkfield-playhouse.example"
TUTOR = "tom.whitlock@northgate-arts.example"
ASSESSOR = "marion.adebayo@crescent-assessment.example"
EPAO = "Crescent Assessment Services"
CRITERIA = "Every criterion has accepted evidence or is judged met"
REASON = "K5 is shown by plans only: add evidence of what the audiences said."
ITEMS = ("criteria", "awaiting_review", "english_maths", "time_on_programme", "otj_hours", "progress_review")


def _sign_in(monitor, email: str) -> None:
    from portfolio.demo.build import DEFAULT_PASSWORD

    sign_in(monitor, email, DEFAULT_PASSWORD)
    monitor.assert_clean()


def _sign_out(monitor) -> None:
    follow(monitor.page, monitor.page.get_by_role("button", name="Sign out"))


def _banner(page) -> str:
    return page.locator(".govuk-notification-banner").first.inner_text()


def _standing(page, signer: str) -> str:
    return page.locator(f"#declaration-{signer} .govuk-tag").inner_text().strip()


def _sign(monitor, signer: str, button: str = "Sign the declaration") -> None:
    page = monitor.page
    card = page.locator(f"#declaration-{signer}")
    card.get_by_label("I confirm this declaration").check()
    follow(page, card.get_by_role("button", name=button))
    assert "Declaration signed for" in _banner(page)
    assert _standing(page, signer) == "Signed"
    monitor.assert_clean()


def test_declare_submit_referred_change_declare_again_submit_and_sign_off(monitor, live_server, tmp_path):
    page = monitor.page

    # The apprentice finds the gateway from her home page: every check passes.
    _sign_in(monitor, APPRENTICE)
    follow(page, page.get_by_role("link", name="Gateway to completion", exact=True))
    assert heading(page) == "Gateway to completion"
    gateway_url = urlsplit(page.url).path
    checks = page.locator("#readiness").inner_text()
    assert checks.count("Passed") == 6 and "Not yet" not in checks
    assert [_standing(page, s) for s in ("apprentice", "employer", "provider")] == ["Not signed"] * 3
    monitor.assert_clean()

    # Signing without ticking the box is refused, accessibly; then she signs.
    follow(page, page.get_by_role("button", name="Sign the declaration"))
    assert "Tick the box to confirm the declaration" in page.locator(".govuk-error-summary").inner_text()
    assert page.title().startswith("Error: ")
    monitor.assert_clean()
    _sign(monitor, "apprentice")
    _sign_out(monitor)

    # The employer is asked on their home page, and signs.
    _sign_in(monitor, EMPLOYER)
    assert "1 gateway declaration to sign" in page.locator("main").inner_text()
    follow(page, page.get_by_role("link", name="1 declaration to sign"))
    assert urlsplit(page.url).path == gateway_url
    monitor.assert_clean()
    _sign(monitor, "employer")
    _sign_out(monitor)

    # The tutor signs; the submit button appears, and the tutor submits attempt 1.
    _sign_in(monitor, TUTOR)
    monitor.goto(gateway_url)
    monitor.assert_clean()
    _sign(monitor, "provider")
    follow(page, page.get_by_role("button", name=f"Submit to {EPAO}"))
    assert f"Submitted to {EPAO}" in _banner(page)
    assert "Awaiting the assessor" in page.locator("main").inner_text()
    monitor.assert_clean()
    _sign_out(monitor)

    # The assessor decides: first without choosing, then referring back without a reason, then with one.
    _sign_in(monitor, ASSESSOR)
    assert "2 gateway submissions to decide" in page.locator("main").inner_text()  # the demo's and this one
    nadia = page.locator("main li li", has_text="Nadia Rahman")
    follow(page, nadia.get_by_role("link", name="1 gateway to decide"))
    assert urlsplit(page.url).path == f"{gateway_url}/decision"
    assert heading(page) == "Decide the gateway to completion"
    monitor.assert_clean()
    follow(page, page.get_by_role("button", name="Record the decision"))
    assert "Choose whether to accept or refer back" in page.locator(".govuk-error-summary").inner_text()
    monitor.assert_clean()
    page.locator("#decision_criteria-2").check()  # refer back, without a reason: refused
    for code in (*ITEMS[1:], "declarations"):
        page.locator(f"#decision_{code}").check()
    follow(page, page.get_by_role("button", name="Record the decision"))
    assert "Give the reason for referring back" in page.locator(".govuk-error-summary").inner_text()
    monitor.assert_clean()
    page.get_by_label(f"Reason, if you refer it back: {CRITERIA}").fill(REASON)
    follow(page, page.get_by_role("button", name="Record the decision"))
    assert "Gateway to completion referred back to Northgate Arts Training" in _banner(page)
    monitor.assert_clean()
    _sign_out(monitor)

    # The tutor's gateway page leads with the referral, and the criteria check says Referred: no
    # submitting until something it looks at changes. The banner's link leads to the check.
    _sign_in(monitor, TUTOR)
    monitor.goto(gateway_url)
    referral = page.locator("#referral")
    today = clock.today()
    assert f"Attempt 1 was referred back by {EPAO} on {long_date(today)}" in referral.inner_text()
    assert f"{CRITERIA}: {REASON}" in referral.inner_text()
    assert "Every check passes" not in page.locator("#gateway-status").inner_text()
    criteria = page.locator("#readiness li", has=page.locator("#check-criteria"))
    assert criteria.locator(".govuk-tag--red").inner_text().strip() == "Referred" and REASON in criteria.inner_text()
    assert page.locator("#readiness").inner_text().count("Passed") == 5
    assert [_standing(page, s) for s in ("apprentice", "employer", "provider")] == ["Not signed"] * 3
    assert page.get_by_role("button", name=f"Submit to {EPAO}").count() == 0
    monitor.assert_clean()
    referral.get_by_role("link", name=CRITERIA).click()
    assert page.url.endswith("#check-criteria")
    _sign(monitor, "provider")  # for attempt 2
    _sign_out(monitor)

    # The apprentice sees the referral too, adds a new piece of evidence and submits it...
    _sign_in(monitor, APPRENTICE)
    monitor.goto(gateway_url)
    assert REASON in page.locator("#referral").inner_text()
    monitor.assert_clean()
    monitor.goto(gateway_url.removesuffix("/gateway"))
    follow(page, page.get_by_role("button", name="Add evidence"))
    pdf = tmp_path / "festival-evaluation.pdf"
    pdf.write_bytes(PDF_BYTES)
    page.get_by_label("Title").fill("Audience feedback from the festival's last night")
    page.get_by_label("Feedback", exact=True).check()
    page.get_by_label("Day").fill(str(today.day))
    page.get_by_label("Month").fill(str(today.month))
    page.get_by_label("Year").fill(str(today.year))
    page.locator("#files").set_input_files(str(pdf))
    page.locator("input[name=criteria][value=K5]").check()
    page.locator("#justification-K5").fill("I designed the feedback cards and summarised them.")
    follow(page, page.get_by_role("button", name="Save as draft"))
    follow(page, page.get_by_role("button", name="Submit for review"))
    assert "Evidence submitted for review" in _banner(page)
    item_url = urlsplit(page.url).path
    monitor.assert_clean()
    monitor.goto(gateway_url)
    assert "1 evidence item is waiting for a tutor's review" in page.locator("#readiness").inner_text()
    monitor.assert_clean()
    _sign_out(monitor)

    # ... and the tutor accepts it: the criteria check no longer says Referred (the banner stays
    # until attempt 2 is submitted), and the tutor's declaration is stale.
    _sign_in(monitor, TUTOR)
    monitor.goto(item_url)
    follow(page, page.get_by_role("button", name="Start review"))
    page.get_by_label("Accept").check()
    follow(page, page.get_by_role("button", name="Record decision"))
    monitor.assert_clean()
    monitor.goto(gateway_url)
    assert "Each item referred back has changed since" in page.locator("#referral").inner_text()
    assert criteria.locator(".govuk-tag").count() == 0 and "Passed" in criteria.inner_text()
    assert "(changed since)" in criteria.inner_text()
    assert "Every check passes" in page.locator("#gateway-status").inner_text()
    assert _standing(page, "provider") == "Out of date"
    assert "must be signed again" in page.locator("#declarations").inner_text()
    assert page.get_by_role("button", name=f"Submit to {EPAO}").count() == 0
    monitor.assert_clean()
    _sign(monitor, "provider", "Sign again")
    _sign_out(monitor)

    # The apprentice and the employer sign for attempt 2.
    for email, signer in ((APPRENTICE, "apprentice"), (EMPLOYER, "employer")):
        _sign_in(monitor, email)
        monitor.goto(gateway_url)
        assert _standing(page, signer) == "Not signed"
        monitor.assert_clean()
        _sign(monitor, signer)
        _sign_out(monitor)

    # The tutor submits attempt 2: the portfolio is read-only, awaiting the assessor.
    _sign_in(monitor, TUTOR)
    monitor.goto(gateway_url)
    follow(page, page.get_by_role("button", name=f"Submit to {EPAO}"))
    assert f"Submitted to {EPAO}" in _banner(page)
    assert "Awaiting the assessor" in page.locator("main").inner_text()
    monitor.assert_clean()
    _sign_out(monitor)

    # The assessor is shown what they referred at attempt 1, and signs attempt 2 off.
    _sign_in(monitor, ASSESSOR)
    monitor.goto(gateway_url)
    assert "Attempt 2 was submitted after a change to each item referred back" in page.locator("#referral").inner_text()
    monitor.assert_clean()
    follow(page, page.get_by_role("button", name="Decide the gateway to completion"))
    assert f"Referred back at attempt 1: “{REASON}”" in page.locator("main").inner_text()
    monitor.assert_clean()
    page.locator("#decision_criteria").check()  # the rest were accepted at attempt 1, and are offered so
    page.get_by_label("Note for the apprentice, employer and training provider (optional)").fill(
        "A well organised portfolio."
    )
    follow(page, page.get_by_role("button", name="Record the decision"))
    assert "Gateway to completion signed off: Nadia Rahman is now in apprenticeship assessment" in _banner(page)
    main = page.locator("main").inner_text()
    assert "Signed off" in main and "A well organised portfolio." in main
    monitor.assert_clean()

    # The assessor downloads the portfolio from the apprenticeship's page: the PDF and the ZIP.
    monitor.goto(gateway_url.removesuffix("/gateway"))
    monitor.assert_clean()
    pdf_file, zip_file = tmp_path / "portfolio.pdf", tmp_path / "portfolio.zip"
    for name, target in (("PDF", pdf_file), ("ZIP", zip_file)):
        monitor.goto(gateway_url.removesuffix("/gateway"))
        follow(page, page.get_by_role("button", name=f"Export as a {name}"))
        # A job makes it; the page's script fetches the status until the download appears, with no reload.
        page.evaluate("window.sameDocument = true")
        link = page.locator("#export-status").get_by_role("link", name="Download")
        link.wait_for(timeout=120_000)  # seconds of rendering, more on a busy machine
        assert page.evaluate("window.sameDocument === true")
        with page.expect_download() as download:
            link.click()
        download.value.save_as(target)
        monitor.assert_clean()
    reader = PdfReader(pdf_file)
    text = "".join(p.extract_text() for p in reader.pages)
    assert "Nadia Rahman" in text and "Audience feedback from the festival's last night" in text
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(zip_file) as archive:
        archive.extractall(unpacked)
    (root,) = unpacked.iterdir()
    checked = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=root, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count(": OK") == len(checked.stdout.splitlines()) > 3
