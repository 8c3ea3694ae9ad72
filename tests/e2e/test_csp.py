"""The Content-Security-Policy in Chromium: what breaks it is caught, and the widget works framed
by another site while the other pages refuse to be framed.

The map pages (test_maps, test_book_map), the widget (test_widget) and the staff desk
(test_journeys) end with `page_problems.assert_clean()`, which includes the policy violations
every frame reports (tests/e2e/conftest.py): those journeys prove the pages work under the policy.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, Route, expect
from sqlalchemy.orm import Session

from tests.e2e.conftest import LiveServer, PageProblems
from tests.test_widget import ISBN, stock_pau_area

pytestmark = pytest.mark.e2e

PUBLISHER = "http://editeur.example"
NEAREST = ["Librairie des Pyrénées", "La Cité", "Le Bouquiniste"]
# An inline script without the request's nonce, added to the page after it loaded.
INJECT_INLINE_SCRIPT = """() => new Promise((resolve) => {
  document.addEventListener("securitypolicyviolation",
                            (event) => resolve(event.effectiveDirective), {once: true});
  const script = document.createElement("script");
  script.textContent = "window.injected = true";
  document.head.append(script);
})"""


def _publisher_page(page: Page, body: str) -> None:
    """Serve `body` as a page of another site (never on the network)."""
    def fulfil(route: Route) -> None:
        route.fulfill(content_type="text/html; charset=utf-8", body=f"""<!doctype html>
            <html lang="fr"><head><meta charset="utf-8"><title>Éditeur</title></head>
            <body>{body}</body></html>""")
    page.route(f"{PUBLISHER}/**", fulfil)


def test_a_script_the_policy_forbids_is_blocked_and_reported(
        live_server: LiveServer, page: Page, page_problems: PageProblems) -> None:
    """The watch of tests/e2e/conftest.py sees a violation: a clean journey means none."""
    page.goto(live_server.url("/"))
    assert page.evaluate(INJECT_INLINE_SCRIPT) == "script-src-elem"
    assert page.evaluate("window.injected") is None
    page.evaluate("1")  # one more round trip: the report has reached the test
    assert any(violation.startswith("script-src-elem blocked inline")
               for violation in page_problems.csp_violations)
    assert any("Content Security Policy" in error for error in page_problems.console_errors)


def test_widget_framed_by_another_site_breaks_no_rule(
        live_server: LiveServer, page: Page, page_problems: PageProblems,
        session: Session, screenshot) -> None:
    stock_pau_area(session)
    _publisher_page(page, f"""<h1>L'Étranger</h1>
        <div class="rayons-widget" data-isbn="{ISBN}" data-near="Pau"></div>
        <script src="{live_server.url('/static/js/widget.js')}" async></script>""")
    page.goto(f"{PUBLISHER}/livres/etranger")
    widget = page.frame_locator("iframe.rayons-widget-frame")
    expect(widget.locator(".shop .name")).to_have_text(NEAREST)
    expect(widget.locator(".shop .distance").first).to_have_text("2,2 km")
    screenshot("widget-on-another-site")
    page_problems.assert_clean()


def test_other_pages_refuse_to_be_framed_by_another_site(
        live_server: LiveServer, page: Page, page_problems: PageProblems) -> None:
    """Clickjacking: the staff login in a frame of another site stays empty."""
    _publisher_page(page, f'<iframe src="{live_server.url("/staff/login")}"></iframe>')
    page.goto(f"{PUBLISHER}/piege")
    expect(page.locator("iframe")).to_have_count(1)
    page.wait_for_load_state("load")
    assert page.frames[1].locator("#password").count() == 0
    refusals = [error for error in page_problems.console_errors if "frame-ancestors" in error]
    assert refusals, page_problems.console_errors
