"""Who has a copy of this book, nearest first: the one query readers come for.

Availability follows architecture §3: what the shop's file says is on the shelf, minus the holds
that count at this instant (the `counting_hold` view: active and unexpired, or collected after
the shop's last snapshot was exported), never below zero. Expiry is checked here with the database clock, so a hold
stops counting the moment it expires, whatever the sweeper is doing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

DEFAULT_RADIUS_KM = 30.0
MAX_LIMIT = 50

# The origin is a bound constant so the planner can use the GiST index for `<->`; the ISBN is
# filtered first through ix_stock_line_public_holders (isbn13, shop_id) INCLUDE (on_hand), which
# also keeps in-shop and non-book codes out of public results.
NEAREST_HOLDERS = text("""
    WITH holders AS (
        SELECT sl.shop_id, sl.on_hand, sl.on_hand - coalesce(c.holds, 0) AS available
        FROM stock_line sl
        LEFT JOIN counting_hold c ON c.shop_id = sl.shop_id AND c.isbn13 = sl.isbn13
        WHERE sl.isbn13 = :isbn13 AND sl.on_hand > 0 AND sl.code_kind IN ('isbn', 'ismn')
    )
    SELECT s.id AS shop_id, s.slug, s.name, s.address, s.postcode, s.city, s.country,
           s.phone, s.website, s.timezone, s.opening_hours,
           ST_Y(s.location::geometry) AS lat, ST_X(s.location::geometry) AS lon,
           h.on_hand, h.available,
           s.stock_exported_at AS stock_as_of,
           CASE WHEN :has_origin
                THEN ST_Distance(s.location, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography)
           END AS distance_m
    FROM holders h
    JOIN shop s ON s.id = h.shop_id AND s.active
    WHERE h.available > 0
    ORDER BY CASE WHEN :has_origin
                  THEN s.location <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography
             END,
             s.city, s.name
    LIMIT :limit
""").bindparams(bindparam("has_origin"), bindparam("lat"), bindparam("lon"))


@dataclass(frozen=True)
class Holder:
    """A shop with at least one copy available for readers."""

    shop_id: int
    slug: str
    name: str
    address: str
    postcode: str
    city: str
    country: str
    phone: str
    website: str
    timezone: str
    opening_hours: str
    lat: float
    lon: float
    on_hand: int
    available: int
    stock_as_of: datetime | None
    distance_m: float | None


@dataclass(frozen=True)
class Availability:
    """`nearby`: holders within the radius. When none is, `beyond` lists the nearest anyway,
    so the reader learns how far the book is rather than just "nothing here"."""

    nearby: list[Holder]
    beyond: list[Holder]
    radius_km: float | None

    @property
    def holders(self) -> list[Holder]:
        return self.nearby or self.beyond


def nearest_holders(session: Session, *, isbn13: str, origin: tuple[float, float] | None,
                    limit: int = 10, radius_km: float | None = DEFAULT_RADIUS_KM) -> Availability:
    """Shops with an available copy of `isbn13`, nearest to `origin` (lat, lon) first.

    Without an origin every holder is listed by town. The radius only splits nearby from
    beyond: the nearest shops beyond it are still returned when none is within.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    lat, lon = origin if origin is not None else (0.0, 0.0)
    rows = session.execute(NEAREST_HOLDERS, {
        "isbn13": isbn13, "has_origin": origin is not None, "lat": lat, "lon": lon,
        "limit": limit,
    }).mappings()
    holders = [Holder(**row) for row in rows]
    if origin is None or radius_km is None:
        return Availability(nearby=holders, beyond=[], radius_km=None)
    nearby = [h for h in holders if h.distance_m is not None and h.distance_m <= radius_km * 1000]
    beyond = [] if nearby else holders
    return Availability(nearby=nearby, beyond=beyond, radius_km=radius_km)


# One shop's copies of one book available now, with the same rule as NEAREST_HOLDERS.
AVAILABLE_HERE = text("""
    SELECT greatest(0, sl.on_hand - coalesce(c.holds, 0))
    FROM stock_line sl
    LEFT JOIN counting_hold c ON c.shop_id = sl.shop_id AND c.isbn13 = sl.isbn13
    WHERE sl.shop_id = :shop_id AND sl.isbn13 = :isbn13 AND sl.code_kind IN ('isbn', 'ismn')
""")


def available_copies(session: Session, *, shop_id: int, isbn13: str) -> int:
    """Copies of `isbn13` a reader could reserve at this shop right now (0 if none or unknown)."""
    return session.execute(AVAILABLE_HERE, {"shop_id": shop_id, "isbn13": isbn13}).scalar() or 0
