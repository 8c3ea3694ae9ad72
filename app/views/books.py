"""The reader's pages: search results and a book's page with the nearest shops that have it."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import ngettext

from app import clock
from app.isbn import PUBLIC_CODE_KINDS, CodeError, normalize_code
from app.services import availability, demand, editions, search
from app.services.directory import hours_status
from app.services.places import Located, locate, nearest_shop_km
from app.session import read_session, reads_only, unit_of_work, view_session
from app.templating.words import book_title, distance_label, open_status_label
from app.views.scope import reader_scope
from geo.maps import MapMarker, map_payload

bp = Blueprint("books", __name__)
# A book page lists this many shops, nearest first, and links to the rest.
BOOK_PAGE_SHOPS = 10
# Search results: the best SEARCH_FIRST, then up to SEARCH_MORE on request (`tous=1`).
SEARCH_FIRST, SEARCH_MORE = 20, 50


def located_from_args() -> Located:
    """The reader's place from the page's `lieu`, `lieu_id` (a candidate picked from a list),
    `lat` and `lon` arguments; a namesake far from every shop is asked about, not chosen."""
    return locate(place=request.args.get("lieu"), lat=request.args.get("lat"),
                  lon=request.args.get("lon"), place_id=request.args.get("lieu_id"),
                  shop_km=nearest_shop_km(view_session()))


def place_args(located: Located) -> dict[str, str]:
    """The reader's place, carried from page to page: what located it, or, when it was not
    understood, the words typed, so that the next page says so again instead of dropping it."""
    if located.origin:
        return {k: request.args[k] for k in ("lieu", "lieu_id", "lat", "lon")
                if request.args.get(k)}
    return {"lieu": located.query} if located.error else {}


def _count_miss(*, kind: str, term: str, located: Located) -> None:
    """Count a search that found no copy nearby, in a unit of work of its own.

    The page reads through `read_session` (the replica, when one is usable), which refuses
    writes; the count is the one write these pages cause, and it goes to the primary
    (`unit_of_work`), committed at once.
    """
    with unit_of_work() as session:
        demand.record_miss(session, kind=kind, term=term, area=located.area, day=clock.today())


@bp.get("/recherche")
@reads_only
def search_page() -> ResponseReturnValue:
    query = (request.args.get("q") or "").strip()
    located = located_from_args()
    scoped = reader_scope(read_session(), shops=True)
    if not query:
        if scoped.shop is not None:
            return redirect(url_for("public.shop_page", slug=scoped.shop.slug))
        if scoped.network is not None:
            return redirect(url_for("public.network_page", slug=scoped.network.slug))
        return redirect(url_for("public.shop_directory"))
    # url_for's **values are Any: a dict[str, str] would also be checked against _external.
    place: dict[str, Any] = place_args(located)
    isbn = search.read_isbn(query)
    if isbn is not None and isbn.isbn13:
        if scoped.shop is not None:  # a shop's search box: that book at that shop
            return redirect(url_for("reserve.reserve_form", slug=scoped.shop.slug,
                                    isbn13=isbn.isbn13))
        scoped_place: dict[str, Any] = {**place, **scoped.args()}
        return redirect(url_for("books.book_page", isbn13=isbn.isbn13, **scoped_place))
    result = None
    if isbn is None:
        result = search.search_editions(read_session(), query=query, origin=located.origin,
                                        scope=scoped.scope, limit=SEARCH_MORE
                                        if request.args.get("tous") else SEARCH_FIRST)
        # Unmet demand counts what the whole network lacks, not what one network's shops lack.
        if scoped.scope.kind == "all" and not any(hit.shops_with_copy for hit in result.hits):
            _count_miss(kind="query", term=" ".join(search.query_words(query)), located=located)
    more_args: dict[str, Any] = {**request.args.to_dict(), "tous": "1"}
    return render_template("public/search.html", query=query,
                           more_url=url_for("books.search_page", **more_args)
                           if result and len(result.hits) == SEARCH_FIRST else None,
                           isbn_error=isbn.error if isbn else None, scoped=scoped,
                           wider_url=url_for("books.search_page", q=query, **place)
                           if scoped.args() else None,
                           result=result, located=located,
                           place_args={**place, **scoped.args()})


@bp.get("/livres/<isbn13>")
@reads_only
def book_page(isbn13: str) -> ResponseReturnValue:
    try:
        code = normalize_code(isbn13)
    except CodeError:
        abort(404)
    if code.code != isbn13:
        args: dict[str, Any] = request.args.to_dict()  # first values, as **request.args gave
        return redirect(url_for("books.book_page", isbn13=code.code, **args))
    if code.kind not in PUBLIC_CODE_KINDS:
        abort(404)
    session = read_session()
    scoped = reader_scope(session)
    edition = editions.edition_summary(session, code.code)
    located = located_from_args()
    # `tous`: the reader asked for every shop that has it (up to the API's limit, nearest first
    # however far), not the ten nearest within the radius.
    every = bool(request.args.get("tous"))
    found = availability.nearest_holders(
        session, isbn13=code.code, origin=located.origin, scope=scoped.scope,
        limit=availability.MAX_LIMIT if every else BOOK_PAGE_SHOPS,
        radius_km=None if every else availability.DEFAULT_RADIUS_KM)
    if located.origin is not None and not found.nearby and scoped.network is None:
        _count_miss(kind="isbn", term=code.code, located=located)
    now = clock.now()
    max_age = timedelta(days=current_app.config["STALE_STOCK_DAYS"])
    found = availability.fresh_first(found, now=now, max_age=max_age)
    stale = {h.shop_id for h in found.holders
             if availability.is_stale(h, now=now, max_age=max_age)}
    every_args: dict[str, Any] = {**request.args.to_dict(), "tous": "1"}
    # Fewer shops than asked for, none left out by the radius (it leaves the farther ones out
    # only when some are near): they are all there is; otherwise count them.
    complete = (len(found.holders) < BOOK_PAGE_SHOPS and not every
                and (located.origin is None or not found.nearby))
    total = (len(found.holders) if complete
             else search.shops_with_copy(session, isbn13=code.code, scope=scoped.scope))
    statuses = {h.shop_id: hours_status(h.opening_hours, timezone=h.timezone, country=h.country,
                                        at=now) for h in found.holders}
    title = book_title(edition.title if edition else "")
    markers = [
        MapMarker(lat=h.lat, lon=h.lon, title=h.name,
                  lines=[f"{h.address}, {h.postcode} {h.city}",
                         " · ".join(filter(None, [distance_label(h.distance_m), ngettext(
                             "%(num)d copy available", "%(num)d copies available", h.available)])),
                         open_status_label(statuses[h.shop_id], now)],
                  url=url_for("reserve.reserve_form", slug=h.slug, isbn13=code.code,
                              **scoped.args()))
        for h in found.holders
    ]
    map_data = map_payload(markers, center=None, reader=located.origin,
                           tile_url=current_app.config["MAP_TILE_URL"],
                           attribution=current_app.config["MAP_TILE_ATTRIBUTION"]) \
        if markers else None
    return render_template("public/book.html", isbn13=code.code, edition=edition, title=title,
                           found=found, statuses=statuses, located=located, now=now,
                           map_data=map_data, scoped=scoped, stale=stale, total=total,
                           max_shops=availability.MAX_LIMIT,
                           every_url=None if every or total <= len(found.holders) else url_for(
                               "books.book_page", isbn13=code.code, **every_args),
                           place_args=place_args(located))
