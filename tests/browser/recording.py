"""What a browser test saw on its pages: every response, console errors, page errors, CSP
violations, and a screenshot of each page.

`Recording.problems` collects, as lines a person can read, every response that is not 2xx/3xx,
every console message of type error, every uncaught page error, every request that failed,
and every Content-Security-Policy violation (the `securitypolicyviolation` events a listener
added before any page script keeps on `window`, and the console lines that mention the policy).
A test ends with `assert_clean()`.
"""

import re
from pathlib import Path

from playwright.sync_api import ConsoleMessage, Page, Request, Response

# Runs in every document before its own scripts; CSP does not apply to it.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push({
    directive: event.effectiveDirective || event.violatedDirective,
    blocked: event.blockedURI,
    source: `${event.sourceFile || event.documentURI}:${event.lineNumber}`,
    sample: event.sample,
    disposition: event.disposition,
  });
});
"""
TAKE_CSP_VIOLATIONS = """() => {
  const violations = window.__cspViolations || [];
  window.__cspViolations = [];
  return violations;
}"""


class Recording:
    """Listens to one page; `shot()` after each page a test looks at."""

    def __init__(self, page: Page, folder: Path, prefix: str):
        self.page = page
        self.folder = folder
        self.prefix = prefix
        self.problems: list[str] = []
        self.screenshots: list[Path] = []
        self.checked = False
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob(f"{prefix}-*.png"):
            stale.unlink()
        page.add_init_script(CSP_LISTENER)
        page.on("response", self._on_response)
        page.on("console", self._on_console)
        page.on("pageerror", self._on_page_error)
        page.on("requestfailed", self._on_request_failed)

    def _on_response(self, response: Response) -> None:
        if response.status >= 400:
            request = response.request
            self.problems.append(f"HTTP {response.status}: {request.method} {response.url}")

    def _on_console(self, message: ConsoleMessage) -> None:
        where = message.location.get("url", "") if message.location else ""
        if "Content Security Policy" in message.text:
            self.problems.append(f"CSP (console {message.type}) on {self.page.url}: {message.text}")
        elif message.type == "error":
            self.problems.append(f"console error on {self.page.url} ({where}): {message.text}")

    def _on_page_error(self, error) -> None:
        self.problems.append(f"page error on {self.page.url}: {error}")

    def _on_request_failed(self, request: Request) -> None:
        failure = request.failure or ""
        if "ERR_ABORTED" in failure:  # a navigation that replaced a page's pending loads
            return
        self.problems.append(f"request failed ({failure}): {request.method} {request.url}")

    def _take_csp_violations(self) -> None:
        try:
            violations = self.page.evaluate(TAKE_CSP_VIOLATIONS)
        except Exception as error:  # a page torn down mid-call
            self.problems.append(f"could not read CSP violations on {self.page.url}: {error}")
            return
        for violation in violations:
            self.problems.append(
                f"CSP violation on {self.page.url}: {violation['disposition']} "
                f"{violation['directive']} blocked {violation['blocked'] or '(inline)'} "
                f"at {violation['source']} {violation['sample'] or ''}".rstrip()
            )

    def goto(self, path: str, label: str) -> Response | None:
        """Open `path` (relative to the server), wait for its load event, take a screenshot."""
        if self.page.url != "about:blank":
            self._take_csp_violations()
        response = self.page.goto(path, wait_until="load")
        self.shot(label)
        return response

    def shot(self, label: str) -> Path:
        """The current page: its CSP violations so far, and a full-page screenshot."""
        self._take_csp_violations()
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", label)
        path = self.folder / f"{self.prefix}-{len(self.screenshots) + 1:02d}-{name}.png"
        self.page.screenshot(path=path, full_page=True)
        self.screenshots.append(path)
        return path

    def assert_clean(self) -> None:
        """No error response, console error, page error, failed request or CSP violation."""
        self.checked = True
        self._take_csp_violations()  # also lets pending events arrive
        assert not self.problems, "the browser saw problems:\n  " + "\n  ".join(self.problems)
