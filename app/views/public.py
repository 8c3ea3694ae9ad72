"""Public HTML pages: the directory of shops and its map, a shop's page, a network's page, and
the health check.

The directory (and a network's page, which is the directory of its shops) shows one page of
shops (by town, or nearest first from a place the reader gives) and a map that asks `/carte`
for the shops of each view: neither the page nor an answer grows with the network (3,000
shops, or 30,000).
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from app import clock, limits
from app.errors import InvalidInput
from app.models import Network
from app.services import directory, health, shop_map
from app.services.places import Located
from app.session import DatabaseNotConfigured, db_session, read_session, reads_only, replica_status
from app.templating.words import open_status_label
from app.views.books import located_from_args, place_args
from app.views.scope import ReaderScope, network_arg, network_named
from geo.maps import MapMarker, extent_payload, layer_payload, map_payload

bp = Blueprint("public", __name__)
# A page number as a reader's link carries it: no sign, no leading zero, no more than MAX_PAGE.
_PAGE = re.compile(r"[1-9][0-9]{0,5}")
# The map's answers depend on the hour (open now) and the language: cached by the browser only.
MAP_CACHE = {"Cache-Control": "private, max-age=60"}


def page_number() -> int:
    """The `page` argument; a page that cannot exist is a page not found."""
    raw = request.args.get("page", "1")
    if not _PAGE.fullmatch(raw) or int(raw) > directory.MAX_PAGE:
        abort(404)
    return int(raw)


def _network() -> Network | None:
    return network_arg(read_session())


@bp.get("/")
@reads_only
def shop_directory() -> ResponseReturnValue:
    return _listing(_network(), endpoint="public.shop_directory")


@bp.get("/reseaux/<slug>")
@reads_only
def network_page(slug: str) -> ResponseReturnValue:
    """A network's own page: its shops, a page at a time, and a search box that searches only
    them (the directory's listing, with the network fixed by the address)."""
    return _listing(network_named(read_session(), slug), endpoint="public.network_page",
                    slug=slug)


def _listing(network: Network | None, *, endpoint: str, **address: str) -> ResponseReturnValue:
    """One page of the directory, of every shop or of one network's."""
    now, session = clock.now(), read_session()
    located, number = located_from_args(), page_number()
    page = directory.shop_page(session, network=network, origin=located.origin, number=number,
                               size=directory.PAGE_SIZE, at=now)
    if number > page.pages:
        abort(404)
    initials = [] if located.origin else directory.town_initials(
        session, network=network, size=directory.PAGE_SIZE)
    # On the network's page the address names the network: links keep it and the place.
    kept = {**address, **place_args(located)} if address else _listing_args(network, located)
    return render_template("public/directory.html", networks=directory.networks(session),
                           selected=network, page=page, initials=initials, located=located,
                           listing_endpoint=endpoint, listing_address=address,
                           listing_args=kept, now=now, scoped=ReaderScope(network=network),
                           map_data=_directory_map(page, network, located))


def _listing_args(network: Network | None, located: Located) -> dict[str, str]:
    """What links to other pages of a listing keep: its network and the reader's place."""
    return {**({"network": network.slug} if network else {}), **place_args(located)}


def _directory_map(page: directory.ShopPage, network: Network | None,
                   located: Located) -> dict[str, Any] | None:
    """The map of the whole network (or of the reader's surroundings: the reader and the
    shops of this page in view); its markers come from `/carte`, view by view."""
    if not page.total:
        return None
    bounds = None
    if located.origin is not None:
        points = [located.origin, *((entry.lat, entry.lon) for entry in page.entries)]
        lats, lons = [lat for lat, _ in points], [lon for _, lon in points]
        bounds = ((min(lats), min(lons)), (max(lats), max(lons)))
    return map_payload([], center=None, reader=located.origin, bounds=bounds,
                       source=url_for("public.map_shops",
                                      network=network.slug if network else None),
                       tile_url=current_app.config["MAP_TILE_URL"],
                       attribution=current_app.config["MAP_TILE_ATTRIBUTION"])


def _view_box(raw: str) -> shop_map.Box:
    """`west,south,east,north` in degrees, as the map script sends its view."""
    try:
        west, south, east, north = (float(part) for part in raw.split(","))
    except ValueError:
        west = south = east = north = float("nan")
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise InvalidInput(gettext("The bbox parameter must be west,south,east,north in "
                                   "degrees."), code="invalid_bbox")
    return shop_map.Box(west=west, south=south, east=east, north=north)


def _map_marker(entry: directory.ShopEntry, now: datetime) -> MapMarker:
    """A shop's popup repeats the list's words, in the reader's language, and links to the
    shop in the list."""
    shop = entry.shop
    return MapMarker(lat=entry.lat, lon=entry.lon, title=shop.name,
                     lines=[shop.address, f"{shop.postcode} {shop.city}",
                            open_status_label(entry.status, now)],
                     url=url_for("public.shop_page", slug=shop.slug))


@bp.get("/carte")
@reads_only
def map_shops() -> ResponseReturnValue:
    """Without `bbox`, the box of the listed shops (the map's first view); with it, the shops
    and clusters of that view (app/services/shop_map.py)."""
    session, network = read_session(), _network()
    raw_box = request.args.get("bbox")
    if raw_box is None:
        return jsonify(extent_payload(shop_map.extent(session, network=network))), 200, MAP_CACHE
    now = clock.now()
    found = shop_map.shops_in_view(session, box=_view_box(raw_box), network=network, at=now)
    markers = [_map_marker(entry, now) for entry in found.shops]
    return jsonify(layer_payload(markers, found.clusters)), 200, MAP_CACHE


@bp.get("/librairies/<slug>")
@reads_only
def shop_page(slug: str) -> ResponseReturnValue:
    """A shop's own page, its lasting address: where it is, its hours for the week, whether it
    is open, how to call, visit or reach it, its networks, and a search of its shelves."""
    session, now = read_session(), clock.now()
    shop = directory.active_shop(session, slug)
    if shop is None:
        abort(404)
    number = directory.directory_position(session, shop) // directory.PAGE_SIZE + 1
    return render_template("public/shop.html", shop=shop, now=now,
                           entry=directory.entries_of([shop], now)[0],
                           week=directory.week_hours(shop, now),
                           scoped=ReaderScope(shop=shop),
                           directory_url=url_for("public.shop_directory",
                                                 page=number if number > 1 else None,
                                                 _anchor=f"shop-{slug}"))


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """503 only when the database fails: without it nothing works. The replica and the
    rate-limit store are reported, never fatal: when the replica lags or is down, reads fall back
    to the primary; with the store gone every worker still serves, with limits counted per
    worker, and a load balancer that pulled every worker because Redis blinked would turn a
    weaker limit into an outage. Alert on `"limits": "degraded"` and the replica's state."""
    try:
        result = health.check(db_session(), timeout_s=current_app.config["HEALTH_DB_TIMEOUT_S"])
    except DatabaseNotConfigured as exc:
        result = health.Health(ok=False, database="unconfigured", reason=str(exc))
    replica = replica_status()
    body: dict[str, Any] = {"replica": {"state": replica.state, "lag_s": replica.lag_s}}
    if result.ok:
        body.update(status="ok", database=result.database, postgis=result.postgis,
                    limits=limits.store_state())
        return jsonify(body), 200, {"Cache-Control": "no-store"}
    body.update(status="error", database=result.database, reason=result.reason,
                limits=limits.store_state())
    return jsonify(body), 503, {"Cache-Control": "no-store"}
