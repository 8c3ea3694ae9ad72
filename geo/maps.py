"""The data a page hands to `static/js/rayons-map.js` to draw a Leaflet map.

Pages embed this payload as JSON and the script builds every popup with `textContent`, so a shop
name can never become markup or code. folium is not used: it writes popup HTML into JavaScript
template literals, where a name such as ``Librairie `${alert(1)}` `` would run.

A page embeds the map itself (tiles, view, reader) and either its markers (a book's few holders)
or the URL the script asks for the markers of each view (the directory: `layer_payload`, answered
by `/carte`). Keys are one letter, and popup lines that several markers share (a town, "open until
19:00") are sent once, as a view may hold hundreds of shops; the script is the only reader of this
format.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

# ~1 m at French latitudes: more digits only make the page heavier.
COORDINATE_DECIMALS = 5
# A box as its south-west and north-east corners, each (lat, lon), as Leaflet takes it.
Bounds = tuple[tuple[float, float], tuple[float, float]]


@dataclass(frozen=True)
class MapMarker:
    """One place on the map; its popup shows the title, each line as a paragraph, then the link."""

    lat: float
    lon: float
    title: str
    lines: list[str]
    url: str | None = None


@dataclass(frozen=True)
class MapCluster:
    """Several places drawn as one disc with their count; a click zooms onto `bounds`."""

    lat: float
    lon: float
    count: int
    bounds: Bounds


def _point(lat: float, lon: float) -> list[float]:
    return [round(lat, COORDINATE_DECIMALS), round(lon, COORDINATE_DECIMALS)]


def _box(bounds: Bounds | None) -> list[list[float]] | None:
    return [_point(*corner) for corner in bounds] if bounds else None


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


def _markers(markers: list[MapMarker]) -> dict[str, Any]:
    shared = _shared_lines(markers)
    return {"s": list(shared), "m": [_marker(m, shared) for m in markers]}


def map_payload(markers: list[MapMarker], *, center: tuple[float, float] | None,
                reader: tuple[float, float] | None, tile_url: str, attribution: str,
                source: str | None = None, bounds: Bounds | None = None) -> dict[str, Any]:
    """The JSON-able description of a map.

    `center` None means "fit `bounds`, else every marker and the reader, in view"; with neither,
    the script asks `source` for its extent. An empty `tile_url` draws the markers without a
    background, so pages work with no network (tests, offline demo). `attribution` is trusted
    HTML from the configuration (Leaflet shows it as markup), never data.
    Keys: t tile URL, a attribution, c centre, r reader, b bounds [[s, w], [n, e]], u the URL
    of each view's markers (`layer_payload`) or null, s shared lines, m markers as
    [lat, lon, title, [line or index into s, ...], url?].
    """
    return {
        "t": tile_url,
        "a": attribution if tile_url else "",
        "c": _point(*center) if center else None,
        "r": _point(*reader) if reader else None,
        "b": _box(bounds),
        "u": source,
        **_markers(markers),
    }


def layer_payload(markers: list[MapMarker], clusters: list[MapCluster]) -> dict[str, Any]:
    """One view's places, for a map whose page gave a `source`: s and m as in `map_payload`,
    g clusters as [lat, lon, count, [[s, w], [n, e]]]."""
    return {
        **_markers(markers),
        "g": [[*_point(c.lat, c.lon), c.count, _box(c.bounds)]
              for c in clusters],
    }


def extent_payload(bounds: Bounds | None) -> dict[str, Any]:
    """The box a `source` map fits first, as b in `map_payload`; null when nothing is listed."""
    return {"b": _box(bounds)}
