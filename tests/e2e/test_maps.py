"""The directory map in Chromium, offline: markers, popups, clusters asked view by view, and
hostile shop names."""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from app.services.shop_map import GRID_CELLS
from tests.e2e.conftest import LiveServer, PageProblems
from tests.factories import make_shop, make_shops_in_bulk

pytestmark = pytest.mark.e2e

# Far enough apart to stay separate markers when the map fits all of France.
SHOPS = [
    ("Librairie `${alert(1)}`", "Bordeaux", 44.8378, -0.5792),
    ("</script><script>window.pwned=1</script>", "Lille", 50.6292, 3.0573),
    ("La Mouette", "Strasbourg", 48.5734, 7.7521),
    ("L'Odyssée & Cie", "Marseille", 43.2965, 5.3698),
]

INSIDE_MAP = """(box) => {
  const map = document.getElementById("map").getBoundingClientRect();
  return box.x >= map.left && box.x + box.width <= map.right
      && box.y >= map.top && box.y + box.height <= map.bottom;
}"""
POPUP_INSIDE_MAP = """() => {
  const map = document.getElementById("map").getBoundingClientRect();
  const popup = document.querySelector("#map .leaflet-popup").getBoundingClientRect();
  return popup.top >= map.top && popup.bottom <= map.bottom;
}"""


def test_directory_map_draws_every_shop_offline(
        live_server: LiveServer, page: Page, page_problems: PageProblems, session: Session,
        screenshot: Callable[[str], Path]) -> None:
    for name, city, lat, lon in SHOPS:
        make_shop(session, name=name, city=city, lat=lat, lon=lon)
    page.goto(live_server.url("/"))

    expect(page.locator("#map.leaflet-container")).to_be_visible()
    expect(page.locator("#map .leaflet-marker-icon:not(.marker-cluster)")).to_have_count(len(SHOPS))
    expect(page.locator("#map .leaflet-tile")).to_have_count(0)
    for name, city, _lat, _lon in SHOPS:
        page.get_by_alt_text(name, exact=True).click()
        popup = page.locator("#map .leaflet-popup-content")
        expect(popup.locator(".map-popup-title")).to_have_text(name)
        expect(popup).to_contain_text(city)
        expect(popup.locator("script")).to_have_count(0)
        # Leaflet pans the map until the popup fits: wait for it to be whole before the picture.
        page.wait_for_function(POPUP_INSIDE_MAP)
        screenshot(f"popup-{city}")
        page.locator("#map .leaflet-popup-close-button").click()
        expect(page.locator("#map .leaflet-popup")).to_have_count(0)

    by_city = [name for name, *_ in sorted(SHOPS, key=lambda shop: shop[1])]
    assert page.locator(".shops h2").all_text_contents() == by_city
    assert page.evaluate("typeof window.pwned") == "undefined"
    page_problems.assert_clean()


def test_nearby_shops_are_clustered(
        live_server: LiveServer, page: Page, page_problems: PageProblems, session: Session,
        screenshot: Callable[[str], Path]) -> None:
    for n in range(20):
        make_shop(session, lat=44.8378 + n * 0.0005, lon=-0.5792)
    make_shop(session, name="Seule à Lille", city="Lille", lat=50.6292, lon=3.0573)
    page.goto(live_server.url("/"))

    cluster = page.locator("#map .marker-cluster")
    expect(cluster).to_have_count(1)
    expect(cluster).to_have_text("20")
    expect(page.get_by_alt_text("Seule à Lille", exact=True)).to_be_visible()
    screenshot("clusters")
    cluster.click()
    # The click zooms in: the cluster of 20 splits into smaller clusters and single markers.
    expect(page.locator("#map .marker-cluster", has_text="20")).to_have_count(0)
    assert page.locator("#map .leaflet-marker-icon").count() > 1
    page_problems.assert_clean()


def test_a_national_map_is_drawn_view_by_view(
        live_server: LiveServer, page: Page, page_problems: PageProblems, session: Session,
        screenshot: Callable[[str], Path]) -> None:
    """3,000 shops: the page carries none; the map asks for its view and gets a few clusters
    that add up to the whole network; clicks on clusters bring shops, whose popup leads to the
    shop's entry in the list."""
    make_shops_in_bulk(session, 3000)
    page.goto(live_server.url("/"))

    clusters = page.locator("#map .marker-cluster")
    shops = page.locator("#map .leaflet-marker-icon:not(.marker-cluster)")
    expect(clusters.first).to_be_visible()
    assert clusters.count() + shops.count() <= (GRID_CELLS + 1) ** 2
    assert sum(int(n) for n in clusters.all_text_contents()) + shops.count() == 3000
    screenshot("national-clusters")
    # Each click fits a cluster's shops in the view, whose cells are then a few times smaller:
    # a couple of clicks reach single shops. The answer also covers a margin around the view:
    # click a cluster the reader can see.
    for _ in range(5):
        if shops.count():
            break
        in_view = [n for n in range(clusters.count())
                   if page.evaluate(INSIDE_MAP, clusters.nth(n).bounding_box())]
        shown = clusters.all_text_contents()
        clusters.nth(in_view[0]).click()
        expect(clusters).not_to_have_text(shown)  # the next view's answer is drawn
    expect(shops.first).to_be_visible()
    shops.first.click()
    link = page.locator("#map .leaflet-popup-content a")
    expect(link).to_have_attribute("href", re.compile(r"/librairies/bulk-[0-9]+$"))
    link.click()
    expect(page.locator("h1")).to_have_text(re.compile(r"^Librairie [0-9]+$"))  # its page
    page_problems.assert_clean()
