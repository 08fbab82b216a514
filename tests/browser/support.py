"""What every page reached in the browser must satisfy, and the crawl that visits them.

Each page is checked for: zero axe-core violations of WCAG 2.2 A and AA; no console
error, uncaught exception or Content-Security-Policy violation; no request to another
origin and no failed request; GOV.UK Frontend's JavaScript initialised.
"""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urldefrag, urlsplit

if TYPE_CHECKING:  # imported lazily, so that a machine without Playwright skips rather than errors
    from playwright.sync_api import ConsoleMessage, Page, Request, Response

AXE_SOURCE = Path(__file__).with_name("axe.min.js")
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
MAX_PAGES_PER_CRAWL = 25

# Run inside the page before any of its own scripts: CDP init scripts are not subject to
# the page's CSP. Collects every CSP violation, including ones that log nothing.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__cspViolations.push(
    `${event.effectiveDirective} blocked ${event.blockedURI || 'inline'} at ${event.sourceFile}:${event.lineNumber}`
  );
});
"""

RUN_AXE = """
async (tags) => {
  const results = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  if (results.passes.length + results.violations.length === 0) {
    throw new Error(`axe-core ran no rules for the tags ${tags}`);
  }
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map((node) => node.target.flat(Infinity).join(' >> ')),
  }));
}
"""

_axe_source: str | None = None
_shots = itertools.count(1)


def axe_violations(page: Page) -> list[dict]:
    """axe-core's WCAG 2.2 A/AA violations on the page as it is now."""
    global _axe_source
    if _axe_source is None:
        _axe_source = AXE_SOURCE.read_text(encoding="utf-8")
    # The page's CSP forbids inline scripts, so no <script> tag: evaluate() is not subject to it.
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(_axe_source)
    return page.evaluate(RUN_AXE, WCAG_TAGS)


def describe_violations(violations: list[dict]) -> list[str]:
    return [f"axe {v['id']} ({v['impact']}): {v['help']} at {'; '.join(v['targets'])}" for v in violations]


def assert_accessible(page: Page) -> None:
    """Zero axe-core violations of WCAG 2.2 A and AA on the current page."""
    problems = describe_violations(axe_violations(page))
    assert not problems, f"{page.url}:\n  " + "\n  ".join(problems)


class Monitor:
    """Watches one page: console errors, uncaught errors, other origins, failed requests.

    `problems()` checks the page as it is now (including axe-core) and returns what is
    wrong, then starts afresh for the next page.
    """

    def __init__(self, page: Page, origin: str) -> None:
        self.page = page
        self.origin = origin.rstrip("/")
        self.events: list[str] = []
        self.expected_status: int | None = None
        page.add_init_script(CSP_LISTENER)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.events.append(f"uncaught error: {error}"))
        page.on("request", self._on_request)
        page.on("requestfailed", self._on_request_failed)
        page.on("response", self._on_response)

    def _on_console(self, message: ConsoleMessage) -> None:
        text = message.text
        if message.type == "error" or "Content Security Policy" in text or "Content-Security-Policy" in text:
            document = urldefrag(self.page.url)[0]
            expected = self.expected_status and f"status of {self.expected_status}" in text
            if expected and message.location.get("url") == document:
                return  # the console's note that the page itself is a 404 is the point of that page
            self.events.append(f"console {message.type}: {text} ({message.location.get('url')})")

    def _on_request(self, request: Request) -> None:
        if urlsplit(request.url).scheme in {"data", "blob", "about"}:
            return
        if not _same_origin(request.url, self.origin):
            self.events.append(f"request to another origin: {request.method} {request.url}")

    def _on_request_failed(self, request: Request) -> None:
        if request.failure == "net::ERR_ABORTED":
            return  # cancelled by leaving the page (say, the icon of a page left at once)
        self.events.append(f"request failed: {request.method} {request.url} ({request.failure})")

    def _on_response(self, response: Response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            self.events.append(f"{response.status} for {response.request.resource_type} {response.url}")

    def goto(self, url: str, status: int = 200) -> Response:
        self.expected_status = status
        response = self.page.goto(url)
        assert response is not None, f"no response for {url}"
        assert response.status == status, f"{url} answered {response.status}, expected {status}"
        return response

    def problems(self) -> list[str]:
        from playwright.sync_api import Error as PlaywrightError

        page = self.page
        found = list(self.events)
        self.events.clear()
        try:
            page.wait_for_function("document.body.classList.contains('govuk-frontend-supported')")
        except PlaywrightError:
            found.append("GOV.UK Frontend's JavaScript did not start (no govuk-frontend-supported on <body>)")
        found += [f"CSP violation: {v}" for v in page.evaluate("window.__cspViolations || []")]
        found += describe_violations(axe_violations(page))
        found += self.events  # anything the checks themselves set off
        self.events.clear()
        _screenshot(page)
        return found

    def assert_clean(self) -> None:
        problems = self.problems()
        assert not problems, f"{self.page.url}:\n  " + "\n  ".join(problems)

    def crawl(self) -> dict[str, list[str]]:
        """Visit each page linked from the header and the main content of the current page
        (not downloads: a link with the `download` attribute fetches a file, not a page).

        Returns the problems found, by page; pages with none are listed with an empty list.
        """
        links = self.page.eval_on_selector_all(
            "header a[href]:not([download]), main a[href]:not([download])", "links => links.map((link) => link.href)"
        )
        here = urldefrag(self.page.url)[0]
        urls: list[str] = []
        for link in links:
            url = urldefrag(link)[0]
            if url == here or url in urls or not _same_origin(url, self.origin):
                continue
            if urlsplit(url).path.startswith("/static/"):
                continue
            urls.append(url)
        results = {here: self.problems()}
        for url in urls:
            if len(results) >= MAX_PAGES_PER_CRAWL:
                break
            self.expected_status = 200
            response = self.page.goto(url)
            landed = urldefrag(self.page.url)[0]
            if landed in results:  # a redirect to a page already checked
                self.events.clear()
                continue
            status = response.status if response else None
            results[landed] = ([] if status == 200 else [f"answered {status}, expected 200"]) + self.problems()
        return results


def relative(url: str) -> str:
    """The path and query of a URL: what identifies a page of the app."""
    return urlsplit(url)._replace(scheme="", netloc="").geturl()


def report(results: dict[str, list[str]]) -> str:
    """The crawl's failures as a readable message, one page after another."""
    lines = []
    for url, problems in results.items():
        if problems:
            lines.append(f"{relative(url)}:")
            lines += [f"  {problem}" for problem in problems]
    return "\n".join(lines)


def _same_origin(url: str, origin: str) -> bool:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" == origin


def _screenshot(page: Page) -> None:
    """With PORTFOLIO_TEST_SCREENSHOTS=DIR, keep a full-page picture of every page checked."""
    folder = os.environ.get("PORTFOLIO_TEST_SCREENSHOTS")
    if not folder:
        return
    path = urlsplit(page.url).path.strip("/") or "home"
    name = re.sub(r"[^A-Za-z0-9]+", "-", f"{next(_shots):03}-{path}").strip("-")[:100]
    Path(folder).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
