"""The map payload, its configuration, and the directory page that embeds it (no browser)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from config import Config
from geo.maps import MapMarker, map_payload
from tests.factories import make_shop

ROOT = Path(__file__).resolve().parent.parent
MAP_DATA = re.compile(r'<script type="application/json" id="map-data">(.*?)</script>', re.S)


def embedded_map(page: str) -> dict:
    match = MAP_DATA.search(page)
    assert match, "no map data in the page"
    return json.loads(match.group(1))


def test_payload_is_compact_and_keeps_text_as_data() -> None:
    markers = [
        MapMarker(lat=44.837812345, lon=-0.579213, title="La Mouette",
                  lines=["3 rue du Port", "64200 Biarritz", "Ouvert"],
                  url="/librairies/la-mouette"),
        MapMarker(lat=45.0, lon=1.0, title="Librairie `${alert(1)}`",
                  lines=["</p><script>", "64200 Biarritz", "Ouvert"]),
    ]
    payload = map_payload(markers, center=None, reader=(44.8, -0.58), cluster=True,
                          tile_url="https://tiles.example/{z}/{x}/{y}.png", attribution="&copy; T")
    assert payload == {
        "t": "https://tiles.example/{z}/{x}/{y}.png",
        "a": "&copy; T",
        "c": None,
        "r": [44.8, -0.58],
        "k": True,
        "s": ["64200 Biarritz", "Ouvert"],
        "m": [[44.83781, -0.57921, "La Mouette", ["3 rue du Port", 0, 1], "/librairies/la-mouette"],
              [45.0, 1.0, "Librairie `${alert(1)}`", ["</p><script>", 0, 1]]],
    }


def test_payload_without_tiles_has_no_attribution() -> None:
    payload = map_payload([], center=(44.8, -0.58), reader=None, cluster=False, tile_url="",
                          attribution="&copy; OpenStreetMap")
    assert payload == {"t": "", "a": "", "c": [44.8, -0.58], "r": None, "k": False, "s": [],
                       "m": []}


def test_geo_maps_needs_neither_flask_nor_sqlalchemy() -> None:
    code = ("import sys, geo.maps; "
            "assert not {'flask', 'sqlalchemy'} & set(sys.modules), 'web or db layer imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


@pytest.mark.parametrize(("environ", "expected"), [
    ({}, Config.MAP_TILE_URL),
    ({"MAP_TILE_URL": ""}, ""),
    ({"MAP_TILE_URL": "https://tiles.example/{z}/{x}/{y}.png"},
     "https://tiles.example/{z}/{x}/{y}.png"),
])
def test_tile_url_from_environment(environ: dict[str, str], expected: str) -> None:
    assert Config.from_environ(environ)["MAP_TILE_URL"] == expected


def test_directory_map_uses_served_assets_and_configured_tiles(
        app: Flask, client: FlaskClient, session: Session) -> None:
    app.config.update(MAP_TILE_URL="https://tiles.example/{z}/{x}/{y}.png",
                      MAP_TILE_ATTRIBUTION="&copy; Tiles")
    make_shop(session, slug="la-mouette", name="La Mouette", address="3 rue du Port",
              postcode="64200", city="Biarritz", lat=43.4832, lon=-1.5586)
    page = client.get("/").get_data(as_text=True)
    assert 'id="map" class="map" role="region"' in page
    data = embedded_map(page)
    assert data["t"] == "https://tiles.example/{z}/{x}/{y}.png" and data["a"] == "&copy; Tiles"
    assert data["k"] is True
    [[lat, lon, title, lines]] = data["m"]
    assert (lat, lon) == pytest.approx((43.4832, -1.5586), abs=1e-5)
    assert title == "La Mouette"
    assert lines[:2] == ["3 rue du Port", "64200 Biarritz"]
    assert lines[2].startswith(("Ouvert", "Fermé"))
    sources = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', page)
    assert sources and all(s.startswith("/static/") for s in sources), sources
    for source in sources:
        response = client.get(source)
        response.close()
        assert response.status_code == 200, source


def test_directory_without_shops_has_no_map(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert 'id="map"' not in page and "leaflet" not in page


def test_hostile_names_stay_text_in_the_html(client: FlaskClient, session: Session) -> None:
    make_shop(session, name="</script><script>window.pwned=1</script>")
    make_shop(session, name="Librairie `${alert(1)}`")
    page = client.get("/").get_data(as_text=True)
    assert "<script>window.pwned" not in page
    titles = {marker[2] for marker in embedded_map(page)["m"]}
    assert titles == {"</script><script>window.pwned=1</script>", "Librairie `${alert(1)}`"}


def test_vendored_libraries_keep_their_licences() -> None:
    vendor = ROOT / "static" / "vendor"
    assert "BSD 2-Clause" in (vendor / "leaflet" / "LICENSE").read_text()
    assert "Permission is hereby granted" in \
        (vendor / "leaflet.markercluster" / "MIT-LICENCE.txt").read_text()


def test_directory_of_300_shops_stays_small(client: FlaskClient, session: Session,
                                            pinned_clock: object) -> None:
    """The map rides inside the page, so a big network must not make the page heavy.

    The page repeats each shop's opening status, whose words change with the hour: the clock is
    pinned so that the size measured is the same at any hour of the week.
    """
    for n in range(300):
        make_shop(session, lat=42.5 + (n % 20) * 0.35, lon=-4.5 + (n // 20) * 0.6)
    page = client.get("/").get_data(as_text=False)
    assert len(embedded_map(page.decode())["m"]) == 300
    assert len(page) < 100_000, f"{len(page) / 1000:.1f} kB"
