"""Who has a copy of this book, nearest first: the one query readers come for.

Availability follows architecture §3: what the shop's file says is on the shelf, minus the holds
that count at this instant (the `counting_hold` view: active and unexpired, or collected after
the shop's last snapshot was exported), never below zero. Expiry is checked here with the
database clock, so a hold stops counting the moment it expires, whatever the sweeper is doing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.db import driver_rows
from app.isbn import PUBLIC_CODE_KINDS
from app.models.types import in_list
from app.services.editions import EditionSummary, edition_summary

DEFAULT_RADIUS_KM = 30.0
# The widest radius the API accepts (its OpenAPI document says so too).
MAX_RADIUS_KM = 500
MAX_LIMIT = 50
# With at least this many holders, walking shops nearest-first beats sorting the holders: the
# walk probes about limit x shops / holders shops, the sort reads one row per holder; they cross
# near sqrt(limit x shops), 55 for 300 shops and 170 for 3,000 (bench/search_bench.py).
WALK_FROM_HOLDERS = 100

# Only books and printed music leave their shop (app.isbn.PUBLIC_CODE_KINDS): the same words as
# the public holders index's predicate, which the planner must match to use it.
PUBLIC_KIND = in_list("sl.code_kind", PUBLIC_CODE_KINDS)
ORIGIN = "ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography"


@dataclass(frozen=True)
class Scope:
    """Which shops a reader's question is about: every shop, one network's (`network=<slug>`),
    or one shop's shelves (the search box of a shop's page). Either id, never both."""

    network_id: int | None = None
    shop_id: int | None = None

    @property
    def kind(self) -> str:
        if self.network_id is not None:
            return "network"
        return "all" if self.shop_id is None else "shop"

    def params(self) -> dict[str, int]:
        """The bound parameters its filter (SCOPE_FILTERS) reads."""
        if self.network_id is not None:
            return {"network_id": self.network_id}
        return {} if self.shop_id is None else {"shop_id": self.shop_id}


EVERY_SHOP = Scope()
# The scope as one more condition on a holding (`sl`), one constant per kind: the statements
# are formatted from these once, at import, and the network or shop is a bound parameter. The
# network's shops come from shop_network's primary key, (shop_id, network_id): for a scoped
# question PostgreSQL hashes the network's few shop ids once and probes them per holding.
SCOPE_FILTERS = {
    "all": "",
    "network": (" AND sl.shop_id IN (SELECT sn.shop_id FROM shop_network sn"
                " WHERE sn.network_id = %(network_id)s)"),
    "shop": " AND sl.shop_id = %(shop_id)s",
}
# The holdings of the ISBN with their available copies, holds subtracted through counting_hold.
# Read from ix_stock_line_public_holders (isbn13, shop_id) INCLUDE (on_hand), whose predicate
# also keeps in-shop and non-book codes out of public results. `{scope}` is a SCOPE_FILTERS
# entry.
HOLDING_OF = f"""
    SELECT sl.shop_id, sl.on_hand, sl.on_hand - coalesce(c.holds, 0) AS available
    FROM stock_line sl
    LEFT JOIN counting_hold c ON c.shop_id = sl.shop_id AND c.isbn13 = sl.isbn13
    WHERE sl.isbn13 = {{isbn13}} AND sl.on_hand > 0 AND {PUBLIC_KIND}{{scope}}
"""
HOLDING = HOLDING_OF.format(isbn13="%(isbn13)s", scope="")
SHOP_COLUMNS = """s.id, s.slug, s.name, s.address, s.postcode, s.city, s.country, s.phone,
                  s.website, s.timezone, s.opening_hours, s.location, s.stock_exported_at"""
# No plain join suits both a bestseller and a long-tail title, and the planner cannot tell them
# apart (a bestseller is one line in 25,000: never among the statistics' common values), so the
# query counts the holders itself, through the covering index and capped, and runs one of two
# branches; a one-time filter skips the other.
# - Many holders: walk shops nearest-first through the GiST index on shop.location, probing the
#   covering index for each, and stop at the limit.
# - Few holders: read them from the covering index, fetch their shops by key, sort by distance.
# OFFSET 0 keeps each subquery where it is written: flattened, the planner reorders the joins
# from its estimate of ~25 holders per ISBN, the walk reads every holder and sorts them, and the
# generic plan of the other branch walks all shops.
# The origin is bound, so the GiST index serves `<->`. The cap and the limit are literals: with
# LIMIT bound, PostgreSQL judges the generic plan too costly and re-plans at every execution
# (which costs more than the execution); with literals a prepared statement keeps one generic
# plan, right for every ISBN since the branch is chosen at run time. Hence one statement per
# limit (NEAREST_BY_LIMIT), formatted from `{limit}` here and never from the request.
# The statements are the driver's own (`%(name)s`), run with `driver_rows`, their rows
# unpacked in Holder's field order: SQLAlchemy's compiling and result set-up cost about as much
# as the query itself.


def nearest_first(*, holding: str, columns: str, shop_columns: str, holders: str,
                  limit: int | str) -> str:
    """The two branches, as one UNION ALL: `holding` lists the book's holdings (HOLDING_OF),
    `holders` is their count (capped at WALK_FROM_HOLDERS or not), `columns` what each branch
    returns from `s` (the shop) and `h` (the holding), `shop_columns` what the few-holders
    branch reads of each shop."""
    return f"""
        (SELECT {columns}
         FROM shop s
         CROSS JOIN LATERAL ({holding} AND sl.shop_id = s.id OFFSET 0) AS h
         WHERE s.active AND h.available > 0 AND {holders} >= {WALK_FROM_HOLDERS}
         ORDER BY s.location <-> {ORIGIN}
         LIMIT {limit})
        UNION ALL
        (SELECT {columns}
         FROM ({holding} OFFSET 0) AS h
         CROSS JOIN LATERAL (SELECT {shop_columns} FROM shop s
                             WHERE s.id = h.shop_id AND s.active OFFSET 0) AS s
         WHERE h.available > 0 AND {holders} < {WALK_FROM_HOLDERS}
         ORDER BY s.location <-> {ORIGIN}
         LIMIT {limit})"""


# The holders are counted within the scope, so that a network's few holders of a bestseller
# take the few-holders branch rather than a walk through every shop of the country.
NEAREST_TEMPLATE = f"""
    WITH counted AS MATERIALIZED (
        SELECT count(*) AS holders
        FROM (SELECT FROM stock_line sl
              WHERE sl.isbn13 = %(isbn13)s AND sl.on_hand > 0 AND {PUBLIC_KIND}{{scope}}
              LIMIT {WALK_FROM_HOLDERS}) AS capped
    ),
    nearest AS ({nearest_first(
        holding=HOLDING_OF.format(isbn13="%(isbn13)s", scope="{scope}"),
        holders="(SELECT holders FROM counted)", limit="{limit}",
        columns=f"{SHOP_COLUMNS}, h.on_hand, h.available, s.location <-> {ORIGIN} AS knn",
        shop_columns=SHOP_COLUMNS)}
    )
    SELECT id AS shop_id, slug, name, address, postcode, city, country, phone, website,
           timezone, opening_hours, ST_Y(location::geometry) AS lat,
           ST_X(location::geometry) AS lon, on_hand, available, stock_exported_at AS stock_as_of,
           ST_Distance(location, {ORIGIN}) AS distance_m{{edition}}
    FROM nearest
    ORDER BY knn, city, name
"""

# Without an origin there is no distance: every holder, by town then name.
BY_TOWN_TEMPLATE = f"""
    SELECT s.id AS shop_id, s.slug, s.name, s.address, s.postcode, s.city, s.country,
           s.phone, s.website, s.timezone, s.opening_hours,
           ST_Y(s.location::geometry) AS lat, ST_X(s.location::geometry) AS lon,
           h.on_hand, h.available, s.stock_exported_at AS stock_as_of,
           CAST(NULL AS float8) AS distance_m{{edition}}
    FROM ({HOLDING_OF.format(isbn13="%(isbn13)s", scope="{scope}")}) AS h
    JOIN shop s ON s.id = h.shop_id AND s.active
    WHERE h.available > 0
    ORDER BY s.city, s.name
    LIMIT %(limit)s
"""

# The open API answers every request with the edition and its holders: each row also carries
# the edition's public columns (one index probe, planned once as an InitPlan), which saves a
# second statement and its round trip, a tenth of the request's time. A book nobody holds has
# no row to carry them and is looked up on its own.
EDITION_ROW = (", (SELECT ROW(e.title, e.authors, e.publisher) FROM edition e "
               "WHERE e.isbn13 = %(isbn13)s) AS edition")
# Every statement, by scope kind, with or without the edition, and (nearest first) by limit.
NEAREST_SCOPED = {
    (kind, with_edition): {
        limit: NEAREST_TEMPLATE.format(limit=limit, edition=EDITION_ROW if with_edition else "",
                                       scope=scope)
        for limit in range(1, MAX_LIMIT + 1)}
    for kind, scope in SCOPE_FILTERS.items() for with_edition in (False, True)}
BY_TOWN_SCOPED = {
    (kind, with_edition): BY_TOWN_TEMPLATE.format(edition=EDITION_ROW if with_edition else "",
                                                  scope=scope)
    for kind, scope in SCOPE_FILTERS.items() for with_edition in (False, True)}
NEAREST_BY_LIMIT = NEAREST_SCOPED["all", False]


class Holder(NamedTuple):
    """A shop with at least one copy available for readers (a named tuple: built from each row
    for a fraction of a frozen dataclass's cost)."""

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
                    limit: int = 10, radius_km: float | None = DEFAULT_RADIUS_KM,
                    scope: Scope = EVERY_SHOP) -> Availability:
    """Shops with an available copy of `isbn13`, nearest to `origin` (lat, lon) first.

    Without an origin every holder is listed by town. The radius only splits nearby from
    beyond: the nearest shops beyond it are still returned when none is within. `scope` keeps
    the shops of one network (or one shop) only.
    """
    statement, params = _holders_statement(isbn13, origin, limit, with_edition=False,
                                           scope=scope)
    holders = [Holder(*row) for row in driver_rows(session, statement, params)]
    return _within(holders, origin, radius_km)


def book_availability(session: Session, *, isbn13: str, origin: tuple[float, float] | None,
                      limit: int = 10, radius_km: float | None = DEFAULT_RADIUS_KM,
                      scope: Scope = EVERY_SHOP) -> tuple[EditionSummary | None, Availability]:
    """The edition (None if the catalogue does not know it) and `nearest_holders`' answer, in
    one statement when anyone holds it."""
    statement, params = _holders_statement(isbn13, origin, limit, with_edition=True,
                                           scope=scope)
    rows = driver_rows(session, statement, params)
    if not rows:
        return edition_summary(session, isbn13), _within([], origin, radius_km)
    edition = rows[0][-1]
    return (None if edition is None else EditionSummary(isbn13, *edition),
            _within([Holder(*row[:-1]) for row in rows], origin, radius_km))


def _within(holders: list[Holder], origin: tuple[float, float] | None,
            radius_km: float | None) -> Availability:
    if origin is None or radius_km is None:
        return Availability(nearby=holders, beyond=[], radius_km=None)
    nearby = [h for h in holders if h.distance_m is not None and h.distance_m <= radius_km * 1000]
    beyond = [] if nearby else holders
    return Availability(nearby=nearby, beyond=beyond, radius_km=radius_km)


def _holders_statement(isbn13: str, origin: tuple[float, float] | None, limit: int, *,
                       with_edition: bool, scope: Scope) -> tuple[str, dict[str, object]]:
    """The statement and its parameters: the scope's kind and the limit pick one of the
    prepared-once statements."""
    limit = max(1, min(limit, MAX_LIMIT))
    key = (scope.kind, with_edition)
    if origin is None:
        return BY_TOWN_SCOPED[key], {"isbn13": isbn13, "limit": limit, **scope.params()}
    lat, lon = origin
    return NEAREST_SCOPED[key][limit], {"isbn13": isbn13, "lat": lat, "lon": lon,
                                        **scope.params()}


# One shop's copies of one book available now, with the same rule as HOLDING.
AVAILABLE_HERE = text(f"""
    SELECT greatest(0, sl.on_hand - coalesce(c.holds, 0))
    FROM stock_line sl
    LEFT JOIN counting_hold c ON c.shop_id = sl.shop_id AND c.isbn13 = sl.isbn13
    WHERE sl.shop_id = :shop_id AND sl.isbn13 = :isbn13 AND {PUBLIC_KIND}
""")


def available_copies(session: Session, *, shop_id: int, isbn13: str) -> int:
    """Copies of `isbn13` a reader could reserve at this shop right now (0 if none or unknown)."""
    return session.execute(AVAILABLE_HERE, {"shop_id": shop_id, "isbn13": isbn13}).scalar() or 0
