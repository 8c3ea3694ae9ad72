"""Where the reader is: browser coordinates, or a place typed in words, resolved offline."""
from __future__ import annotations

from dataclasses import dataclass, field

from geo.gazetteer import AmbiguousPlace, Place, PlaceNotFound, resolve_place


@dataclass(frozen=True)
class Located:
    """The origin for distances (lat, lon), how to name it, and what went wrong if nothing."""

    origin: tuple[float, float] | None = None
    label: str = ""
    # Rough area for unmet-demand statistics: a département, never a precise point.
    area: str = ""
    error: str | None = None
    error_code: str | None = None
    candidates: list[Place] = field(default_factory=list)
    # What the reader typed and, for an ambiguous place, the name the candidates share: pages
    # reword the (French) `error` in the reader's language from these.
    query: str = ""
    shared_name: str | None = None


def _coordinate(raw: str | None, low: float, high: float) -> float | None:
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if low <= value <= high else None


def locate(*, place: str | None, lat: str | None, lon: str | None) -> Located:
    """Browser coordinates win when both are valid; otherwise the typed place; else nowhere."""
    latitude, longitude = _coordinate(lat, -90, 90), _coordinate(lon, -180, 180)
    if latitude is not None and longitude is not None:
        return Located(origin=(latitude, longitude), label="",
                       area=f"{latitude:.1f},{longitude:.1f}")
    text = (place or "").strip()
    if not text:
        return Located()
    try:
        found = resolve_place(text)
    except AmbiguousPlace as exc:
        return Located(error=str(exc), error_code="ambiguous_place", candidates=exc.candidates,
                       query=text, shared_name=exc.name)
    except PlaceNotFound as exc:
        return Located(error=str(exc), error_code="place_not_found", query=text)
    area = (found.postcode or "")[:2] or f"{found.lat:.1f},{found.lon:.1f}"
    return Located(origin=(found.lat, found.lon), label=found.label, area=area)
