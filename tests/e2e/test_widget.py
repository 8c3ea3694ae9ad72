"""The publisher's widget in Chromium: on its own, framed by the loader, and locating the
reader on click."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from tests.e2e.conftest import LiveServer, PageProblems
from tests.test_widget import ISBN, stock_pau_area

pytestmark = pytest.mark.e2e

NEAREST = ["Librairie des Pyrénées", "La Cité", "Le Bouquiniste"]


def test_widget_page_lists_the_nearest_shops(
        live_server: LiveServer, page: Page, page_problems: PageProblems,
        session: Session, screenshot) -> None:
    stock_pau_area(session)
    page.goto(live_server.url(f"/widget?isbn={ISBN}&near=Pau"))
    expect(page.locator("h1")).to_have_text("Disponible près de chez vous")
    expect(page.locator(".shop .name")).to_have_text(NEAREST)
    expect(page.locator(".shop .distance").first).to_have_text("2,2 km")
    links = page.locator(".shop a")
    expect(links.first).to_have_attribute("target", "_blank")
    expect(links.first).to_have_attribute("rel", "noopener")
    screenshot("widget")
    page_problems.assert_clean()


def test_loader_turns_placeholders_into_framed_widgets(
        live_server: LiveServer, page: Page, page_problems: PageProblems,
        session: Session, screenshot) -> None:
    """A publisher's page with two placeholders, one with hostile values that must only ever
    reach the URL, encoded.

    The page is written into a document of the test server itself: that server answers one
    connection at a time, and Chromium's speculative connection for a cross-site frame would
    stall it. That other sites may frame the widget is checked in tests/test_widget.py.
    """
    stock_pau_area(session)
    page.goto(live_server.url("/healthz"))
    page.set_content(f"""<!doctype html><html lang="fr"><head><meta charset="utf-8">
        <title>L'Étranger</title></head><body><h1>L'Étranger</h1>
        <div class="rayons-widget" data-isbn="978-2-07-036002-4" data-near="Pau"></div>
        <div class="rayons-widget" data-isbn="{ISBN}"
             data-near="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&amp;lat=1"></div>
        <script src="{live_server.url('/static/js/widget.js')}" async></script>
        </body></html>""")

    frames = page.locator("iframe.rayons-widget-frame")
    expect(frames).to_have_count(2)
    expect(page.locator(".rayons-widget")).to_have_count(0)
    assert frames.first.get_attribute("src") == live_server.url(
        "/widget?isbn=978-2-07-036002-4&near=Pau")
    assert frames.nth(1).get_attribute("src") == live_server.url(
        f"/widget?isbn={ISBN}&near=%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E%26lat%3D1")
    assert frames.first.get_attribute("allow") == "geolocation"
    widget = page.frame_locator("iframe.rayons-widget-frame").first
    expect(widget.locator("h1")).to_have_text("Disponible près de chez vous")
    expect(widget.locator(".shop .name")).to_have_text(NEAREST)
    hostile = page.frame_locator("iframe.rayons-widget-frame").nth(1)
    expect(hostile.locator(".shop .name")).to_have_count(3)  # the place is unknown: no distance
    expect(hostile.locator(".distance")).to_have_count(0)
    expect(page.locator("img")).to_have_count(0)
    screenshot("publisher")
    page_problems.assert_clean()


def test_reader_shares_their_position_on_click(
        live_server: LiveServer, page: Page, page_problems: PageProblems,
        session: Session) -> None:
    stock_pau_area(session)
    page.context.grant_permissions(["geolocation"], origin=live_server.base_url)
    page.context.set_geolocation({"latitude": 43.3112, "longitude": -0.3558})
    page.goto(live_server.url(f"/widget?isbn={ISBN}"))
    expect(page.locator(".distance")).to_have_count(0)
    page.locator("#around-me").click()
    expect(page.locator(".shop .name")).to_have_text(NEAREST)
    expect(page.locator(".shop .distance").first).to_have_text("2,2 km")
    assert "lat=43.31120" in page.url and "lon=-0.35580" in page.url
    page_problems.assert_clean()
