"""The book page's map in Chromium, offline: holders, the reader, a hostile name, the link."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from tests.e2e.conftest import LiveServer, PageProblems
from tests.factories import make_edition, make_shop, make_stock_line

pytestmark = pytest.mark.e2e
ISBN = "9782070368228"
HOSTILE = "Librairie `${alert(1)}` </script><script>window.pwned=1</script>"


def test_book_page_map(live_server: LiveServer, page: Page, page_problems: PageProblems,
                       session: Session, screenshot: Callable[[str], Path]) -> None:
    make_edition(session, isbn13=ISBN)
    shops = [make_shop(session, name=name, lat=lat, lon=lon)
             for name, lat, lon in ((HOSTILE, 43.2951, -0.3708), ("Le Gave", 43.30, -0.36))]
    for shop in shops:
        make_stock_line(session, shop=shop, isbn13=ISBN, on_hand=1)
    page.goto(live_server.url(f"/livres/{ISBN}?lat=43.29&lon=-0.37"))
    markers = page.locator("#map .leaflet-marker-icon")
    expect(markers).to_have_count(2)
    expect(page.locator("#map .map-reader")).to_have_count(1)
    page.get_by_alt_text(HOSTILE, exact=True).click()
    popup = page.locator("#map .leaflet-popup-content")
    expect(popup.locator(".map-popup-title")).to_have_text(HOSTILE)
    expect(popup).to_contain_text("1 exemplaire disponible")
    expect(popup.locator("a")).to_have_attribute(
        "href", live_server.url(f"/reserver/{shops[0].slug}/{ISBN}"))
    screenshot("book-map")
    assert page.evaluate("typeof window.pwned") == "undefined"
    expect(page.locator("li.holder h3").first).to_have_text(HOSTILE)
    page_problems.assert_clean()
