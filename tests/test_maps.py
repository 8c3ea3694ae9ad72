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
from geo.maps import MapCluster, MapMarker, extent_payload, layer_payload, map_payload
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
    payload = map_payload(markers, center=None, reader=(44.8, -0.58),
                          tile_url="https://tiles.example/{z}/{x}/{y}.png", attribution="&copy; T")
    assert payload == {
        "t": "https://tiles.example/{z}/{x}/{y}.png",
        "a": "&copy; T",
        "c": None,
        "r": [44.8, -0.58],
        "b": None,
        "u": None,
        "s": ["64200 Biarritz", "Ouvert"],
        "m": [[44.83781, -0.57921, "La Mouette", ["3 rue du Port", 0, 1], "/librairies/la-mouette"],
              [45.0, 1.0, "Librairie `${alert(1)}`", ["</p><script>", 0, 1]]],
    }


def test_payload_without_tiles_has_no_attribution() -> None:
    payload = map_payload([], center=(44.8, -0.58), reader=None, tile_url="",
                          attribution="&copy; OpenStreetMap")
    assert payload == {"t": "", "a": "", "c": [44.8, -0.58], "r": None, "b": None, "u": None,
                       "s": [], "m": []}


def test_a_view_layer_carries_clusters_and_markers() -> None:
    markers = [MapMarker(lat=50.6292, lon=3.0573, title="Seule à Lille", lines=["59000 Lille"],
                         url="/librairies/seule")]
    clusters = [MapCluster(lat=44.8401234, lon=-0.579, count=20,
                           bounds=((44.8378, -0.5792), (44.8473, -0.5788)))]
    assert layer_payload(markers, clusters) == {
        "s": [],
        "m": [[50.6292, 3.0573, "Seule à Lille", ["59000 Lille"], "/librairies/seule"]],
        "g": [[44.84012, -0.579, 20, [[44.8378, -0.5792], [44.8473, -0.5788]]]],
    }
    assert extent_payload(None) == {"b": None}


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
    # The page carries no marker: the script asks /carte for each view's.
    assert data["u"] == "/carte" and data["m"] == [] and data["b"] is None
    [[lat, lon, title, lines, url]] = client.get("/carte?bbox=-5,42,8,51").get_json()["m"]
    assert (lat, lon) == pytest.approx((43.4832, -1.5586), abs=1e-5)
    assert title == "La Mouette" and url == "/librairies/la-mouette"
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
    make_shop(session, name="Librairie `${alert(1)}`", lat=45.0, lon=1.0)
    page = client.get("/").get_data(as_text=True)
    assert "<script>window.pwned" not in page
    assert "&lt;/script&gt;&lt;script&gt;window.pwned=1&lt;/script&gt;" in page
    titles = {marker[2] for marker in client.get("/carte?bbox=-5,42,8,51").get_json()["m"]}
    assert titles == {"</script><script>window.pwned=1</script>", "Librairie `${alert(1)}`"}


def test_vendored_library_keeps_its_licence() -> None:
    assert "BSD 2-Clause" in (ROOT / "static" / "vendor" / "leaflet" / "LICENSE").read_text()
