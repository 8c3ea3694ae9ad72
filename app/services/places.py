"""Where the reader is: browser coordinates, or a place typed in words, resolved offline."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from geoalchemy2 import Geography
from sqlalchemy import ARRAY, Float, cast, func, select
from sqlalchemy.orm import Session

from app.models import Shop
from geo.gazetteer import (
    AmbiguousPlace,
    Place,
    PlaceNotFound,
    ShopDistances,
    place_by_id,
    resolve_place,
)


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
    # The namesake population alone would have chosen, when it lies far from every shop.
    remote: Place | None = None
    # "address" when the reader typed a street address: distances start from its town's point.
    kind: str = ""
    # The gazetteer's id of the place (`geo.gazetteer.place_by_id`), kept in links.
    place_id: str | None = None


def _coordinate(raw: str | None, low: float, high: float) -> float | None:
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if low <= value <= high else None


def nearest_shop_km(session: Session) -> ShopDistances:
    """A look-up, for `resolve_place`, of how far each point is from the nearest active shop.

    One statement for all the points asked about (an array of each coordinate, unnested), each
    a nearest-neighbour probe (`<->`) of the shops' GiST index: about 15 ms for 100 points among
    3,000 shops. Only run when a place has namesakes.
    """
    def look_up(points: Sequence[tuple[float, float]]) -> list[float | None]:
        asked = func.unnest(cast([lat for lat, _ in points], ARRAY(Float)),
                            cast([lon for _, lon in points], ARRAY(Float))).table_valued(
            "lat", "lon", with_ordinality="n").render_derived()
        point = cast(func.ST_SetSRID(func.ST_MakePoint(asked.c.lon, asked.c.lat), 4326),
                     Geography)
        nearest = (select(func.ST_Distance(Shop.location, point) / 1000)
                   .where(Shop.active.is_(True))
                   .order_by(Shop.location.op("<->")(point)).limit(1).scalar_subquery())
        return list(session.scalars(select(nearest).select_from(asked).order_by(asked.c.n)))
    return look_up


def _found(found: Place) -> Located:
    area = (found.postcode or "")[:2] or f"{found.lat:.1f},{found.lon:.1f}"
    return Located(origin=(found.lat, found.lon), label=found.label, area=area, kind=found.kind,
                   place_id=found.ident)


def locate(*, place: str | None, lat: str | None, lon: str | None, place_id: str | None = None,
           shop_km: ShopDistances | None = None) -> Located:
    """Browser coordinates win when both are valid; then a place picked from a list of
    candidates (its gazetteer id: no second guess from its name); otherwise the typed place;
    else nowhere. With `shop_km`, a place far from every shop is not chosen silently."""
    latitude, longitude = _coordinate(lat, -90, 90), _coordinate(lon, -180, 180)
    if latitude is not None and longitude is not None:
        return Located(origin=(latitude, longitude), label="",
                       area=f"{latitude:.1f},{longitude:.1f}")
    picked = place_by_id(place_id) if place_id else None
    if picked is not None:
        return _found(picked)
    text = (place or "").strip()
    if not text:
        return Located()
    try:
        found = resolve_place(text, shop_km=shop_km)
    except AmbiguousPlace as exc:
        return Located(error=str(exc), error_code="ambiguous_place", candidates=exc.candidates,
                       query=text, shared_name=exc.name, remote=exc.remote)
    except PlaceNotFound as exc:
        return Located(error=str(exc), error_code="place_not_found", query=text)
    return _found(found)
