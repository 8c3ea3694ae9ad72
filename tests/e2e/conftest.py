"""Browser fixtures: the test app served on 127.0.0.1, driven by Debian's Chromium via Playwright.

The server runs the `app` fixture of tests/conftest.py, whose sessions are bound to the test's
rolled-back connection: rows made with the factories in a test are visible to the browser, and
gone afterwards. That one connection must never serve two requests at once, yet a single-threaded
server would stall on the idle sockets Chromium opens ahead of time (preconnects, frames): so
connections are accepted in threads, and requests pass through the app one at a time. Touch the
`session` only while no page is loading: the server uses the same connection.

Every request that is not for 127.0.0.1 is aborted and recorded, so a passing test proves the page
needs no network. Maps are drawn without tiles for the same reason.

Every frame of every page reports its Content-Security-Policy violations (the browser's
`securitypolicyviolation` events) into `page_problems.csp_violations`: a clean page broke no rule
of the policy the app sends (app/security_headers.py), framed in another site or not.

API: `live_server.url("/path")`, `page` (a Playwright Page in a fr-FR context),
`page_problems` (what went wrong in the browser; `page_problems.assert_clean()`),
`screenshot("name")` (saved under test-output/screenshots/), `viewport` (DESKTOP unless a test
parametrizes it, e.g. with PHONE), `audit(page, "where")` (the page fits its window's width and
passes axe-core's WCAG 2.2 A/AA rules).
"""
from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Page,
    Playwright,
    Request,
    Response,
    Route,
    sync_playwright,
)
from werkzeug.serving import make_server

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
# The two screens: a small phone (iPhone SE / 13 mini width) and a laptop.
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
# WCAG 2.2 level A and AA, as axe-core tags them (2.2 adds `target-size` among others).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
# Elements wider than the window, as "tag#id.class (right edge px)": what to fix first.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const found = [];
  for (const element of document.body.querySelectorAll("*")) {
    const box = element.getBoundingClientRect();
    if (box.right > width + 0.5 && box.width > 0 && getComputedStyle(element).position !== "fixed")
      found.push(`${element.tagName.toLowerCase()}${element.id ? "#" + element.id : ""}`
                 + `${element.classList.length ? "." + [...element.classList].join(".") : ""}`
                 + ` (${Math.round(box.right)} px)`);
  }
  return {scroll: document.documentElement.scrollWidth, width, found: found.slice(0, 8)};
}"""
# Local Network Access checks off: a page of another site (served by a route, so taken for a
# public one) framing the widget of the test server on 127.0.0.1 would be refused, where a
# publisher's real site framing the real, public Rayons is not.
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-features=LocalNetworkAccessChecks"]


@dataclass(frozen=True)
class LiveServer:
    base_url: str

    def url(self, path: str = "/") -> str:
        return self.base_url + path


@dataclass
class PageProblems:
    """Everything a clean page must not produce; filled while the test drives the page."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    error_responses: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        problems = {name: value for name, value in vars(self).items() if value}
        assert not problems, f"browser problems: {problems}"


class OneRequestAtATime:
    """WSGI wrapper letting one request at a time run the app, where the database is used.

    The lock covers the app call only: Flask has closed the request's session by the time the
    body is sent (this app streams nothing from the database), and Werkzeug skips `close()` when
    the browser drops a connection, so a lock held until `close()` could leak.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        with self.lock:
            return self.app(environ, start_response)


@pytest.fixture()
def live_server(app: Flask) -> Iterator[LiveServer]:
    app.config["MAP_TILE_URL"] = ""
    gate = OneRequestAtATime(app)
    server = make_server("127.0.0.1", 0, gate, threaded=True)
    # Sockets Chromium opened ahead of time and never used must not hold up the end of the test.
    server.block_on_close = False
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        # A request still running would use the connection the test is about to roll back.
        if not gate.lock.acquire(timeout=10):
            pytest.fail("a request to the live server was still running after the test")
        gate.lock.release()


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is missing: `make test` installs Debian's `chromium` package")
    browser = playwright_instance.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture()
def page_problems() -> PageProblems:
    return PageProblems()


def _only_local(problems: PageProblems) -> Callable[[Route], None]:
    def handle(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            problems.blocked_requests.append(route.request.url)
            route.abort()
    return handle


# Run by the browser in every frame before the frame's own scripts; Playwright's bindings and
# init scripts are not subject to the page's policy, so the report itself cannot be blocked.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(`${event.effectiveDirective} blocked ${event.blockedURI || "inline"}`
                            + ` in ${event.documentURI}`);
});
"""


def _watch_policy(context: BrowserContext, problems: PageProblems) -> None:
    context.expose_binding("reportCspViolation",
                           lambda _source, text: problems.csp_violations.append(text))
    context.add_init_script(REPORT_CSP_VIOLATIONS)


def _watch(page: Page, problems: PageProblems) -> None:
    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.console_errors.append(message.text)

    def on_dialog(dialog: Dialog) -> None:
        problems.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def on_failed(request: Request) -> None:
        # ERR_ABORTED is the browser cancelling a load because the page navigated on (a form
        # submitted before a stylesheet arrived): not a failure of the page. Requests to other
        # hosts are aborted by the route with ERR_FAILED and recorded as blocked.
        if request.failure != "net::ERR_ABORTED":
            problems.failed_requests.append(f"{request.url} ({request.failure})")

    def on_response(response: Response) -> None:
        if response.status >= 400:
            problems.error_responses.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.page_errors.append(str(error)))
    page.on("dialog", on_dialog)
    page.on("requestfailed", on_failed)
    page.on("response", on_response)


@pytest.fixture()
def viewport() -> dict[str, int]:
    """The window's size; a test parametrizes `viewport` with PHONE and DESKTOP to see both."""
    return DESKTOP


@pytest.fixture()
def page(browser: Browser, page_problems: PageProblems,
         viewport: dict[str, int]) -> Iterator[Page]:
    # Reduced motion: the map then skips its fades and zoom animations, so what a test checks or
    # photographs is the settled page. A phone-sized window is a touch screen too, as a phone's.
    phone = viewport["width"] < DESKTOP["width"]
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris",
                                  reduced_motion="reduce", viewport=viewport,
                                  has_touch=phone, is_mobile=phone)
    context.set_default_timeout(10_000)
    context.route("**/*", _only_local(page_problems))
    _watch_policy(context, page_problems)
    page = context.new_page()
    _watch(page, page_problems)
    yield page
    context.close()


@pytest.fixture()
def screenshot(page: Page, request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """`screenshot("popup")` saves test-output/screenshots/<test name>-popup.png and returns it."""
    def take(name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{request.node.name}-{name}")
        path = SCREENSHOTS / f"{stem}.png"
        page.screenshot(path=str(path), full_page=True)
        return path
    return take


_AXE = Axe()


def audit(page: Page, where: str) -> None:
    """Fail unless the page now shown fits its window's width (nothing to scroll sideways: the
    issue's phone pages were cut at the right edge) and axe-core finds no WCAG 2.2 A/AA
    violation on it. `where` names the page in the failure."""
    page.wait_for_load_state("load")
    layout = page.evaluate(OVERFLOWING)
    assert layout["scroll"] <= layout["width"], (
        f"{where} is {layout['scroll']} px wide in a {layout['width']} px window: "
        f"{', '.join(layout['found'])}")
    results = _AXE.run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS},
                                      "resultTypes": ["violations"]})
    assert results.violations_count == 0, f"{where}:\n{results.generate_report()}"
