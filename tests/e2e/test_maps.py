"""The directory map in Chromium, offline: markers, popups, clusters, and hostile shop names."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from tests.e2e.conftest import LiveServer, PageProblems
from tests.factories import make_shop

pytestmark = pytest.mark.e2e

# Far enough apart to stay separate markers when the map fits all of France.
SHOPS = [
    ("Librairie `${alert(1)}`", "Bordeaux", 44.8378, -0.5792),
    ("</script><script>window.pwned=1</script>", "Lille", 50.6292, 3.0573),
    ("La Mouette", "Strasbourg", 48.5734, 7.7521),
    ("L'Odyssée & Cie", "Marseille", 43.2965, 5.3698),
]

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
