"""The network directory: every active shop with how to reach it and whether it is open now."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from geoalchemy2 import Geography
from geoalchemy2.shape import to_shape
from shapely.geometry import Point
from sqlalchemy import cast, func, select
from sqlalchemy.orm import Session, selectinload

from app.errors import NotFound
from app.models import Network, Shop
from geo.opening_hours import HoursError, OpenStatus, parse_hours


@dataclass(frozen=True)
class ShopEntry:
    shop: Shop
    # None when the shop gave no hours (or hours we cannot read): say "unknown", never guess.
    status: OpenStatus | None
    lat: float
    lon: float


@dataclass(frozen=True)
class NearbyShop:
    entry: ShopEntry
    distance_m: float


@dataclass(frozen=True)
class Listing:
    networks: list[Network]
    selected: Network | None
    entries: list[ShopEntry]


def hours_status(opening_hours: str, *, timezone: str, country: str,
                 at: datetime) -> OpenStatus | None:
    """Open now / next opening, or None when the shop gave no hours we can read."""
    if not opening_hours:
        return None
    try:
        hours = parse_hours(opening_hours, timezone=timezone, country=country)
    except HoursError:
        return None
    return hours.status(at)


def shop_status(shop: Shop, at: datetime) -> OpenStatus | None:
    return hours_status(shop.opening_hours, timezone=shop.timezone, country=shop.country, at=at)


def active_shop(session: Session, slug: str) -> Shop | None:
    """The active shop with this slug; None for an unknown or withdrawn one."""
    return session.scalar(select(Shop).where(Shop.slug == slug, Shop.active.is_(True)))


def shop_by_id(session: Session, shop_id: int) -> Shop | None:
    return session.get(Shop, shop_id)


def _entry(shop: Shop, at: datetime) -> ShopEntry:
    point = to_shape(shop.location)
    assert isinstance(point, Point)  # the column is geometry(Point)
    return ShopEntry(shop=shop, status=shop_status(shop, at), lat=point.y, lon=point.x)


def list_shops(session: Session, *, network_slug: str | None, at: datetime) -> Listing:
    """Active shops, by town then name, optionally those of one network."""
    networks = list(session.scalars(select(Network).order_by(Network.name)))
    selected = None
    query = (
        select(Shop)
        .where(Shop.active.is_(True))
        .options(selectinload(Shop.networks))
        .order_by(Shop.city, Shop.name)
    )
    if network_slug:
        selected = next((n for n in networks if n.slug == network_slug), None)
        if selected is None:
            raise NotFound(f"unknown network: {network_slug}", code="unknown_network")
        query = query.where(Shop.networks.contains(selected))
    entries = [_entry(s, at) for s in session.scalars(query)]
    return Listing(networks=networks, selected=selected, entries=entries)


def nearest_shops(session: Session, *, origin: tuple[float, float], limit: int,
                  at: datetime) -> list[NearbyShop]:
    """The `limit` active shops nearest to `origin` (lat, lon), with geodesic distances.

    The origin is bound as a constant point so `<->` walks the GiST index on the location
    instead of measuring every shop.
    """
    lat, lon = origin
    point = cast(func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326), Geography)
    query = (
        select(Shop, func.ST_Distance(Shop.location, point))
        .where(Shop.active.is_(True))
        .order_by(Shop.location.op("<->")(point), Shop.id)
        .limit(limit)
    )
    return [NearbyShop(entry=_entry(shop, at), distance_m=distance)
            for shop, distance in session.execute(query)]
