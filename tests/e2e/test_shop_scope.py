"""A reader on a phone and on a desktop: a network's page, a search among its shops only, a book
page in the network, a shop's page and a search of its shelves, up to the reserve form. Every
page fits the window: nothing scrolls sideways."""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session, sessionmaker

from tests.e2e.conftest import LiveServer, PageProblems
from tests.test_shop_scope import ETRANGER, ORDRE, stock_networks

pytestmark = pytest.mark.e2e
# Wider than the page's other words, and than a phone: it must wrap, not widen the page.
LONG_WEBSITE = "https://www.librairie-independante-du-libournais-et-de-l-entre-deux-mers.example/"
# Widths in CSS pixels, taken from the window itself rather than from the viewport setting.
OVERFLOW = "() => [document.documentElement.scrollWidth, window.innerWidth]"


def assert_fits(page: Page) -> None:
    content, window = page.evaluate(OVERFLOW)
    assert content <= window, f"{page.url}: {content} px of content in {window} px"


@pytest.mark.parametrize("width", [375, 1280])
def test_network_search_then_a_shop_page(
    page: Page, live_server: LiveServer, session: Session,
    test_sessionmaker: sessionmaker[Session], tmp_path: Path, width: int,
    screenshot: Callable[[str], Path], page_problems: PageProblems,
) -> None:
    # Open round the clock: the page says "open now" at whatever hour the test runs.
    stock_networks(session, test_sessionmaker, tmp_path, opening_hours="Mo-Su 00:00-24:00",
                   phone="05 57 00 11 22", website=LONG_WEBSITE)
    page.set_viewport_size({"width": width, "height": 800})

    # The network's page: its shops only, and a search box that searches them.
    page.goto(live_server.url("/reseaux/gironde"))
    expect(page.locator("h1")).to_have_text("Librairies de Gironde")
    expect(page.locator(".shops > li h2")).to_have_text(["Librairie de Libourne",
                                                         "Librairie de Pessac"])
    assert_fits(page)
    screenshot(f"network-{width}")
    page.fill("#q", "ordre du jour")
    page.click(".search button[type=submit]")

    # Results among the network's shops, with a way out to every shop.
    expect(page.locator(".scope").first).to_contain_text("Librairies de Gironde")
    result = page.locator(".edition h2 a")
    expect(result).to_have_count(1)
    expect(result).to_have_attribute("href", f"/livres/{ORDRE}?network=gironde")
    assert_fits(page)
    screenshot(f"network-search-{width}")
    result.click()

    # The book page lists the network's holder, with its contact, and keeps the network.
    holders = page.locator(".holder")
    expect(holders).to_have_count(1)
    expect(holders.locator("h3")).to_have_text("Librairie de Libourne")
    expect(holders.locator(".contact a").first).to_have_attribute("href", "tel:0557001122")
    expect(holders.locator("a.button")).to_have_attribute(
        "href", f"/reserver/libourne/{ORDRE}?network=gironde")
    assert_fits(page)
    screenshot(f"network-book-{width}")
    holders.locator("h3 a").click()

    # The shop's page: where, when, how to reach it, its networks, a search of its shelves.
    expect(page.locator("h1")).to_have_text("Librairie de Libourne")
    expect(page.locator(".status.open")).to_have_text("Ouvert maintenant")
    expect(page.locator(".hours tr")).to_have_count(7)
    expect(page.get_by_role("link", name=re.compile("^Itinéraire"))).to_have_attribute(
        "href", "https://www.openstreetmap.org/directions?to=44.91500%2C-0.24300")
    expect(page.locator(".shop-networks a")).to_have_text(["Librairies de Gironde"])
    assert_fits(page)
    screenshot(f"shop-{width}")
    page.fill("#q", "etranger")
    page.click(".search button[type=submit]")

    # A search of its shelves leads to reserving there.
    result = page.locator(".edition h2 a")
    expect(result).to_have_attribute("href", f"/reserver/libourne/{ETRANGER}")
    expect(page.locator(".edition .copies")).to_have_text("En rayon ici")
    assert_fits(page)
    result.click()
    expect(page.locator(".shop-line a")).to_have_attribute("href", "/librairies/libourne")
    expect(page.locator("#reserve-form")).to_be_visible()
    assert_fits(page)

    # The shop in two networks links to both networks' pages; each lists it.
    page.goto(live_server.url("/librairies/pessac"))
    expect(page.locator(".shop-networks a")).to_have_text(["Librairies de Bordeaux",
                                                           "Librairies de Gironde"])
    page.locator(".shop-networks a").first.click()
    expect(page.locator("h1")).to_have_text("Librairies de Bordeaux")
    expect(page.locator("#shop-pessac")).to_be_visible()
    assert_fits(page)
    page_problems.assert_clean()
