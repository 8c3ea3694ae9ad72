"""The reader's pages: search results and a book's page with the nearest shops that have it."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import ngettext

from app import clock
from app.isbn import PUBLIC_CODE_KINDS, CodeError, normalize_code
from app.services import availability, demand, editions, search
from app.services.directory import hours_status
from app.services.places import Located, locate
from app.session import read_session, reads_only, unit_of_work
from app.templating.words import book_title, distance_label, open_status_label
from app.views.scope import reader_scope
from geo.maps import MapMarker, map_payload

bp = Blueprint("books", __name__)


def located_from_args() -> Located:
    """The reader's place from the page's `lieu`, `lat` and `lon` arguments."""
    return locate(place=request.args.get("lieu"), lat=request.args.get("lat"),
                  lon=request.args.get("lon"))


def place_args(located: Located) -> dict[str, str]:
    """The reader's place, carried from page to page."""
    keep = {k: request.args[k] for k in ("lieu", "lat", "lon") if request.args.get(k)}
    return keep if located.origin else {}


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
                                        scope=scoped.scope)
        # Unmet demand counts what the whole network lacks, not what one network's shops lack.
        if scoped.scope.kind == "all" and not any(hit.shops_with_copy for hit in result.hits):
            _count_miss(kind="query", term=" ".join(search.query_words(query)), located=located)
    return render_template("public/search.html", query=query,
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
    found = availability.nearest_holders(session, isbn13=code.code, origin=located.origin,
                                         scope=scoped.scope)
    if located.origin is not None and not found.nearby and scoped.network is None:
        _count_miss(kind="isbn", term=code.code, located=located)
    now = clock.now()
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
                           map_data=map_data, scoped=scoped,
                           place_args=place_args(located))
