"""The network directory: active shops a page at a time, how to reach them, if they are open."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from geoalchemy2 import Geography
from geoalchemy2.shape import to_shape
from shapely.geometry import Point
from sqlalchemy import ColumnElement, and_, cast, func, literal, select, tuple_
from sqlalchemy.orm import Session, aliased

from app.errors import NotFound
from app.models import Network, Shop
from geo.opening_hours import HoursError, OpenStatus, parse_hours

# Shops on one page of the directory: a page stays a few tens of kB whatever the network's size.
PAGE_SIZE = 50
# Pages beyond this are refused, so an OFFSET stays a number PostgreSQL reads quickly (and the
# API document can state a maximum): 5 million shops at 50 a page.
MAX_PAGE = 100_000


@dataclass(frozen=True)
class ShopEntry:
    shop: Shop
    # None when the shop gave no hours (or hours we cannot read): say "unknown", never guess.
    status: OpenStatus | None
    lat: float
    lon: float
    # From the reader's place, when the listing has one.
    distance_m: float | None = None


@dataclass(frozen=True)
class ShopPage:
    """One page of active shops: by town and name, or nearest first from a place."""

    entries: list[ShopEntry]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


@dataclass(frozen=True)
class TownInitial:
    """Where the towns starting with `label` begin in the directory by town."""

    label: str
    page: int


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


@dataclass(frozen=True)
class DayHours:
    day: date
    # Empty: closed that day.
    intervals: list[tuple[time, time]]


def week_hours(shop: Shop, at: datetime) -> list[DayHours] | None:
    """The shop's hours for the seven days from `at`'s day (in the shop's zone), or None when
    it gave no hours we can read.

    The coming seven days rather than an abstract Monday-to-Sunday table: a public holiday
    (`PH off`) or a season the expression knows shows on the day it falls, as the reader will
    find the door.
    """
    if not shop.opening_hours:
        return None
    try:
        hours = parse_hours(shop.opening_hours, timezone=shop.timezone, country=shop.country)
    except HoursError:
        return None
    first = at.astimezone(hours.zone).date()
    return [DayHours(day=day, intervals=hours.day_intervals(day))
            for day in (first + timedelta(days=n) for n in range(7))]


def active_shop(session: Session, slug: str) -> Shop | None:
    """The active shop with this slug; None for an unknown or withdrawn one."""
    return session.scalar(select(Shop).where(Shop.slug == slug, Shop.active.is_(True)))


def shop_by_id(session: Session, shop_id: int) -> Shop | None:
    return session.get(Shop, shop_id)


def _entry(shop: Shop, at: datetime, distance_m: float | None = None) -> ShopEntry:
    point = to_shape(shop.location)
    assert isinstance(point, Point)  # the column is geometry(Point)
    return ShopEntry(shop=shop, status=shop_status(shop, at), lat=point.y, lon=point.x,
                     distance_m=distance_m)


def entries_of(shops: Iterable[Shop], at: datetime) -> list[ShopEntry]:
    return [_entry(shop, at) for shop in shops]


def networks(session: Session) -> list[Network]:
    return list(session.scalars(select(Network).order_by(Network.name)))


def network_by_slug(session: Session, slug: str) -> Network:
    network = session.scalar(select(Network).where(Network.slug == slug))
    if network is None:
        raise NotFound(f"unknown network: {slug}", code="unknown_network")
    return network


def listed(network: Network | None) -> ColumnElement[bool]:
    """Active shops, or the active shops of one network."""
    active = Shop.active.is_(True)
    return and_(active, Shop.networks.contains(network)) if network is not None else active


def _origin(lat: float, lon: float) -> ColumnElement[Any]:
    """A bound constant point, so that `<->` walks the GiST index on the location."""
    return cast(func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326), Geography)


def shop_page(session: Session, *, network: Network | None, origin: tuple[float, float] | None,
              number: int, size: int, at: datetime) -> ShopPage:
    """Page `number` (from 1) of `size` active shops, optionally those of one network: by town,
    name and id (`ix_shop_directory_order`), or nearest first from `origin` (lat, lon) with
    geodesic distances. A page past the end is empty; its `total` still says how many there are.
    """
    shown = listed(network)
    total = session.scalar(select(func.count()).select_from(Shop).where(shown)) or 0
    offset = (number - 1) * size
    entries: list[ShopEntry]
    if origin is None:
        query = (select(Shop).where(shown).order_by(Shop.city, Shop.name, Shop.id)
                 .offset(offset).limit(size))
        entries = entries_of(session.scalars(query), at)
    else:
        entries = _nearest(session, shown, origin=origin, offset=offset, size=size, at=at)
    return ShopPage(entries=entries, number=number, size=size, total=total)


def _nearest(session: Session, shown: ColumnElement[bool], *, origin: tuple[float, float],
             offset: int, size: int, at: datetime) -> list[ShopEntry]:
    """Shops `offset` to `offset + size` nearest first from `origin`, ties (shops at the same
    spot) by id so that pages never overlap.

    `ORDER BY distance, id` in one statement made PostgreSQL measure and sort every shop
    (bench/README.md, figures behind choices). Here an inner walk orders by distance alone,
    which the GiST index answers nearest first, and the outer statement breaks ties by id as
    the walk streams (an incremental sort). The walk's LIMIT, the deepest row a page may
    reach, keeps it a separate step that PostgreSQL reads only as far as the page needs.
    """
    point = _origin(*origin)
    distance = Shop.location.op("<->")(point)
    walk = (select(Shop, func.ST_Distance(Shop.location, point).label("distance_m"),
                   distance.label("order_m"))
            .where(shown).order_by(distance).limit(MAX_PAGE * size).subquery())
    shop = aliased(Shop, walk)
    nearest = (select(shop, walk.c.distance_m).order_by(walk.c.order_m, walk.c.id)
               .offset(offset).limit(size))
    return [_entry(found, at, distance_m) for found, distance_m in session.execute(nearest)]


def town_initials(session: Session, *, network: Network | None, size: int) -> list[TownInitial]:
    """The first letters of the towns, in directory order, each with the page (of `size` shops)
    where its towns begin: an index that lets a reader without a map or a place reach any shop.

    Positions come from the directory's own order rather than from counting by letter, so that
    the index stays right whatever the database's collation does with accents and case (a
    linguistic one puts "Évreux" among the E's, a bytewise one after Z): each letter links to
    its first town, and "É" is a letter of its own.
    """
    ranked = (select(func.upper(func.left(Shop.city, 1)).label("initial"),
                     (func.row_number().over(order_by=(Shop.city, Shop.name, Shop.id)) - 1)
                     .label("position"))
              .where(listed(network)).subquery())
    first = (select(ranked.c.initial, func.min(ranked.c.position).label("position"))
             .where(ranked.c.initial != "").group_by(ranked.c.initial).order_by("position"))
    return [TownInitial(label=initial, page=position // size + 1)
            for initial, position in session.execute(first)]


def directory_position(session: Session, shop: Shop) -> int:
    """How many active shops come before `shop` in the directory by town (its index there)."""
    before = tuple_(Shop.city, Shop.name, Shop.id) < tuple_(
        literal(shop.city), literal(shop.name), literal(shop.id))
    return session.scalar(select(func.count()).select_from(Shop)
                          .where(Shop.active.is_(True), before)) or 0

