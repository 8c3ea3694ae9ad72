"""The directory map's shops for one view: every shop when zoomed in, clusters when not.

The map asks for what its view shows (a latitude/longitude box), so that neither the page nor
one answer ever carries a whole national network. The box is cut into a grid of at most
GRID_CELLS x GRID_CELLS cells; a cell holding one shop answers that shop, a cell holding more
answers a cluster (how many, where they are, the box they fill, so that a click can zoom onto
them). Cells are aligned on a world grid of power-of-two fractions of 360 degrees rather than
on the view, so that clusters do not change while the reader pans at one zoom level. Once a
cell is smaller than DETAIL_CELL_DEG (a street), every shop is answered, up to MAX_SHOPS: shops
that share a building would never fall in different cells.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import ColumnElement, Subquery, and_, cast, func, select
from sqlalchemy.orm import Session

from app.models import Network, Shop
from app.services.directory import ShopEntry, entries_of, listed
from geo.maps import Bounds, MapCluster

GRID_CELLS = 16
DETAIL_CELL_DEG = 0.002
MAX_SHOPS = 500


@dataclass(frozen=True)
class Box:
    """A view, in degrees: west < east and south < north."""

    west: float
    south: float
    east: float
    north: float


@dataclass(frozen=True)
class MapShops:
    shops: list[ShopEntry]
    clusters: list[MapCluster]


def _geometry() -> ColumnElement[object]:
    """The location as a plane point, as `ix_shop_active_geometry` indexes it."""
    return cast(Shop.location, Geometry)


def _inside(box: Box, network: Network | None) -> ColumnElement[bool]:
    envelope = func.ST_MakeEnvelope(box.west, box.south, box.east, box.north, 4326)
    return and_(listed(network), _geometry().op("&&")(envelope))


def cell_size(box: Box) -> float:
    """The grid's cell in degrees: 360 / 2^k, the smallest with at most GRID_CELLS cells (and a
    partial one) across the view's longer side."""
    span = max(box.east - box.west, box.north - box.south, 1e-9)
    return math.ldexp(360, -math.floor(math.log2(360 * GRID_CELLS / span)))


def _points(where: ColumnElement[bool]) -> Subquery:
    """Id, longitude and latitude of the shops `where` says, each location cast to a plane
    point in one place: the cast is most of the cost of grouping 30,000 shops, and OFFSET 0
    keeps PostgreSQL from casting again for every aggregate that reads a coordinate
    (bench/README.md, figures behind choices)."""
    return (select(Shop.id, func.ST_X(_geometry()).label("lon"),
                   func.ST_Y(_geometry()).label("lat"))
            .where(where).offset(0).subquery())


def extent(session: Session, *, network: Network | None) -> Bounds | None:
    """The box of the listed shops, for the map's first view; None when there is none."""
    points = _points(listed(network))
    row = session.execute(select(func.min(points.c.lon), func.min(points.c.lat),
                                 func.max(points.c.lon), func.max(points.c.lat))).one()
    if row[0] is None:
        return None
    west, south, east, north = row
    return (south, west), (north, east)


def shops_in_view(session: Session, *, box: Box, network: Network | None,
                  at: datetime) -> MapShops:
    """The listed shops inside `box`: each alone in its cell as a shop, the others as clusters;
    every shop (up to MAX_SHOPS) once the cells are street-sized."""
    cell = cell_size(box)
    inside = _inside(box, network)
    if cell < DETAIL_CELL_DEG:
        shops = select(Shop).where(inside).order_by(Shop.id).limit(MAX_SHOPS)
        return MapShops(shops=entries_of(session.scalars(shops), at), clusters=[])
    points = _points(inside)
    lon, lat = points.c.lon, points.c.lat
    cells = (select(func.count(), func.avg(lat), func.avg(lon), func.min(lat), func.min(lon),
                    func.max(lat), func.max(lon), func.min(points.c.id))
             .group_by(func.floor(lon / cell), func.floor(lat / cell)))
    clusters, single_ids = [], []
    for count, mean_lat, mean_lon, south, west, north, east, first_id in session.execute(cells):
        if count == 1:
            single_ids.append(first_id)
        else:
            clusters.append(MapCluster(lat=mean_lat, lon=mean_lon, count=count,
                                       bounds=((south, west), (north, east))))
    singles = select(Shop).where(Shop.id.in_(single_ids)).order_by(Shop.id)
    return MapShops(shops=entries_of(session.scalars(singles), at) if single_ids else [],
                    clusters=clusters)
