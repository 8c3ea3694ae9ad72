"""The data a page hands to `static/js/rayons-map.js` to draw a Leaflet map.

Pages embed this payload as JSON and the script builds every popup with `textContent`, so a shop
name can never become markup or code. folium is not used: it writes popup HTML into JavaScript
template literals, where a name such as ``Librairie `${alert(1)}` `` would run.

Keys are one letter, and popup lines that several markers share (a town, "open until 19:00") are
sent once, because the directory map carries hundreds of shops inside the HTML page; the script is
the only reader of this format.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

# ~1 m at French latitudes: more digits only make the page heavier.
COORDINATE_DECIMALS = 5


@dataclass(frozen=True)
class MapMarker:
    """One place on the map; its popup shows the title, each line as a paragraph, then the link."""

    lat: float
    lon: float
    title: str
    lines: list[str]
    url: str | None = None


def _point(lat: float, lon: float) -> list[float]:
    return [round(lat, COORDINATE_DECIMALS), round(lon, COORDINATE_DECIMALS)]


def _shared_lines(markers: list[MapMarker]) -> dict[str, int]:
    """Each line used by more than one marker, with its index in the payload's string table."""
    counts = Counter(line for marker in markers for line in marker.lines)
    return {line: index for index, line in enumerate(text for text, n in counts.items() if n > 1)}


def _marker(marker: MapMarker, shared: dict[str, int]) -> list[Any]:
    lines = [shared.get(line, line) for line in marker.lines]
    entry: list[Any] = [*_point(marker.lat, marker.lon), marker.title, lines]
    if marker.url:
        entry.append(marker.url)
    return entry


def map_payload(markers: list[MapMarker], *, center: tuple[float, float] | None,
                reader: tuple[float, float] | None, cluster: bool, tile_url: str,
                attribution: str) -> dict[str, Any]:
    """The JSON-able description of a map.

    `center` None means "fit every marker and the reader in view". An empty `tile_url` draws the
    markers without a background, so pages work with no network (tests, offline demo).
    `attribution` is trusted HTML from the configuration (Leaflet shows it as markup), never data.
    Keys: t tile URL, a attribution, c centre, r reader, k cluster, s shared lines, m markers as
    [lat, lon, title, [line or index into s, ...], url?].
    """
    shared = _shared_lines(markers)
    return {
        "t": tile_url,
        "a": attribution if tile_url else "",
        "c": _point(*center) if center else None,
        "r": _point(*reader) if reader else None,
        "k": cluster,
        "s": list(shared),
        "m": [_marker(m, shared) for m in markers],
    }
