"""The open read API (`/api/v1`): availability of a book, editions, shops, and its description.

It only reads: its views run with `reads_only` on the autocommit `read_session`.

Any site may call it from the browser (CORS `*`: it only tells what the public pages show, and
takes no credentials). Answers may be cached for a minute: short, because stock files and holds
change during the day. Bad parameters get a 422 problem document whose `code` names the
parameter and what is wrong with it, so a client can react without parsing the message.
"""
from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from app import clock
from app.errors import InvalidInput
from app.isbn import PUBLIC_CODE_KINDS, CodeError, normalize_code
from app.openapi import ISBN_PATTERN, openapi_document
from app.services import availability, directory, editions, search
from app.services.places import Located, locate
from app.session import read_session, reads_only
from app.templating.problems import code_problem, place_problem
from app.views.scope import ReaderScope, network_arg
from geo.opening_hours import OpenStatus

bp = Blueprint("public_api", __name__, url_prefix="/api/v1")
CACHE_SECONDS = 60
# Numbers as the document types them (JSON's grammar): not Python's `float()`, which also takes
# "nan", "1_000" or surrounding spaces.
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")


@bp.after_request
def _open_to_every_site(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "*"
        response.headers["Access-Control-Max-Age"] = "86400"
    elif response.status_code == 200:
        response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response


def _required(name: str, *, code: str) -> str:
    value = request.args.get(name, "").strip()
    if not value:
        raise InvalidInput(gettext("The %(param)s parameter is required.", param=name), code=code)
    return value


def api_isbn(raw: str) -> str:
    """The ISBN-13 of a code an API client sent, or a 422. The site's forms and the widget take
    a code however it was pasted (`parse_isbn`); a client is also held to the form the document
    gives (ISBN_PATTERN), so that the document says what is accepted. What is wrong with the
    code itself (length, check digit, not a book) is said first, more precisely."""
    isbn13 = parse_isbn(raw)
    if not re.fullmatch(ISBN_PATTERN, raw):
        raise InvalidInput(gettext("Send the code as digits, with hyphens or spaces at most."),
                           code="invalid_isbn", extra={"reason": "invalid_format"})
    return isbn13


def parse_isbn(raw: str) -> str:
    """The ISBN-13 of a book or score, from any form a publisher may paste, or a 422 saying why.

    Product and in-shop codes are refused too: they are never shown to readers.
    """
    try:
        code = normalize_code(raw)
    except CodeError as exc:
        raise InvalidInput(code_problem(exc), code="invalid_isbn",
                           extra={"reason": exc.reason}) from exc
    if code.kind not in PUBLIC_CODE_KINDS:
        raise InvalidInput(gettext("The code %(code)s is a product or in-shop code, not an ISBN.",
                                   code=code.code), code="invalid_isbn",
                           extra={"reason": "not_a_book"})
    return code.code


def _number(name: str, *, low: float, high: float, invalid: str, out_of_range: str,
            low_open: bool = False) -> float | None:
    """A finite number within bounds, None when absent; `invalid` and `out_of_range` may be
    different codes so that a client can tell a typo from a wrong value. Present but empty is
    not absent: `lat=` is no number."""
    raw = request.args.get(name)
    if raw is None:
        return None
    value = float(raw) if _NUMBER.fullmatch(raw) else math.nan
    if not math.isfinite(value):
        raise InvalidInput(gettext("The %(param)s parameter must be a number.", param=name),
                           code=invalid)
    if value < low or value > high or (low_open and value == low):
        raise InvalidInput(gettext("The %(param)s parameter must be between %(low)s and %(high)s.",
                                   param=name, low=low, high=high),
                           code=out_of_range)
    return value


def _whole_number(name: str, *, default: int, maximum: int) -> int:
    """A whole number from 1 to `maximum`; a 422 `invalid_<name>` otherwise."""
    raw = request.args.get(name)
    if raw is None:
        return default
    value = int(raw) if _INTEGER.fullmatch(raw) else 0
    if not 1 <= value <= maximum:
        raise InvalidInput(gettext("The %(param)s parameter must be a whole number between 1 and "
                                   "%(max)d.", param=name, max=maximum), code=f"invalid_{name}")
    return value


def _limit(default: int) -> int:
    return _whole_number("limit", default=default, maximum=availability.MAX_LIMIT)


def _located() -> Located:
    """Coordinates win over a place name, as on the site. A place that cannot be resolved is an
    error here, where the site shows a notice: an API client must not get distances from
    nowhere without being told."""
    lat = _number("lat", low=-90, high=90, invalid="invalid_latitude",
                  out_of_range="latitude_out_of_range")
    lon = _number("lon", low=-180, high=180, invalid="invalid_longitude",
                  out_of_range="longitude_out_of_range")
    if (lat is None) != (lon is None):
        raise InvalidInput(gettext("Give both lat and lon, or neither."),
                           code="incomplete_coordinates")
    if lat is not None and lon is not None:
        return Located(origin=(lat, lon))
    located = locate(place=request.args.get("near"), lat=None, lon=None)
    if located.error_code:
        candidates = [place.label for place in located.candidates]
        raise InvalidInput(place_problem(located), code=located.error_code,
                           extra={"candidates": candidates} if candidates else None)
    return located


def _origin_json(located: Located) -> dict[str, Any] | None:
    if located.origin is None:
        return None
    return {"lat": located.origin[0], "lon": located.origin[1], "label": located.label or None}


def book_url(isbn13: str, located: Located, scoped: ReaderScope | None = None) -> str:
    """The book's page on the site, keeping the reader's place and the network so it lists the
    same shops."""
    place: dict[str, str] = {}
    if located.label:
        place = {"lieu": located.label}
    elif located.origin:
        place = {"lat": f"{located.origin[0]:.5f}", "lon": f"{located.origin[1]:.5f}"}
    if scoped is not None:
        place.update(scoped.args())
    return url_for("books.book_page", isbn13=isbn13, _external=True, **place)


def _metres(distance: float | None) -> int | None:
    return None if distance is None else round(distance)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _hours_json(status: OpenStatus | None) -> dict[str, Any]:
    """Unknown hours stay null: never claim a shop is closed because it gave no hours."""
    if status is None:
        return {"open_now": None, "closes_at": None, "next_opening": None}
    return {"open_now": status.open_now, "closes_at": _iso(status.closes_at),
            "next_opening": _iso(status.next_opening)}


def _holder_json(h: availability.Holder, *, book: str, now: datetime) -> dict[str, Any]:
    status = directory.hours_status(h.opening_hours, timezone=h.timezone, country=h.country,
                                    at=now)
    return {"slug": h.slug, "name": h.name, "address": h.address, "postcode": h.postcode,
            "city": h.city, "lat": h.lat, "lon": h.lon, "distance_m": _metres(h.distance_m),
            "available": h.available,
            "stock_as_of": _iso(h.stock_as_of),
            **_hours_json(status), "links": {"shop": f"{book}#holder-{h.slug}", "book": book}}


def _edition_json(edition: editions.EditionSummary | None) -> dict[str, str] | None:
    if edition is None:
        return None
    return {"isbn13": edition.isbn13, "title": edition.title, "authors": edition.authors,
            "publisher": edition.publisher}


@bp.get("/availability")
@reads_only
def availability_view() -> ResponseReturnValue:
    _required("isbn", code="missing_isbn")
    isbn13 = api_isbn(request.args["isbn"])
    located = _located()
    limit = _limit(10)
    radius = _number("radius_km", low=0, high=availability.MAX_RADIUS_KM, low_open=True,
                     invalid="invalid_radius", out_of_range="invalid_radius")
    scoped = ReaderScope(network=network_arg(read_session()))
    edition, found = availability.book_availability(
        read_session(), isbn13=isbn13, origin=located.origin, limit=limit,
        radius_km=availability.DEFAULT_RADIUS_KM if radius is None else radius,
        scope=scoped.scope)
    book, now = book_url(isbn13, located, scoped), clock.now()
    return jsonify({
        "edition": _edition_json(edition),
        "origin": _origin_json(located), "radius_km": found.radius_km,
        "nearby_count": len(found.nearby) if found.radius_km is not None else None,
        "beyond_radius": bool(found.beyond),
        "shops": [_holder_json(h, book=book, now=now) for h in found.holders],
    })


def _isbn_hits(isbn13: str, located: Located, scoped: ReaderScope) -> list[search.EditionHit]:
    """An ISBN typed in the box: that edition alone, its copies counted as the book page does."""
    edition, found = availability.book_availability(
        read_session(), isbn13=isbn13, origin=located.origin, limit=availability.MAX_LIMIT,
        radius_km=None, scope=scoped.scope)
    if edition is None:
        return []
    holders = found.holders
    return [search.EditionHit(isbn13=isbn13, title=edition.title, authors=edition.authors,
                              publisher=edition.publisher, shops_with_copy=len(holders),
                              nearest_m=holders[0].distance_m if holders else None)]


@bp.get("/editions")
@reads_only
def editions_view() -> ResponseReturnValue:
    query = _required("q", code="missing_query")
    located = _located()
    limit = _limit(20)
    scoped = ReaderScope(network=network_arg(read_session()))
    if search.read_isbn(query) is not None:
        result = search.TitleSearch(hits=_isbn_hits(parse_isbn(query), located, scoped))
    else:
        result = search.search_editions(read_session(), query=query, origin=located.origin,
                                        limit=limit, scope=scoped.scope)
    return jsonify({
        "query": query, "origin": _origin_json(located), "corrections": result.corrections,
        "unknown": result.unknown,
        "editions": [{"isbn13": hit.isbn13, "title": hit.title, "authors": hit.authors,
                      "publisher": hit.publisher, "shops_with_copy": hit.shops_with_copy,
                      "nearest_m": _metres(hit.nearest_m),
                      "links": {"book": book_url(hit.isbn13, located, scoped)}}
                     for hit in result.hits],
    })


def _shop_json(entry: directory.ShopEntry) -> dict[str, Any]:
    shop = entry.shop
    return {"slug": shop.slug, "name": shop.name, "address": shop.address,
            "postcode": shop.postcode, "city": shop.city, "country": shop.country,
            "lat": entry.lat, "lon": entry.lon, "distance_m": _metres(entry.distance_m),
            "phone": shop.phone, "website": shop.website, "opening_hours": shop.opening_hours,
            **_hours_json(entry.status),
            "links": {"shop": url_for("public.shop_page", slug=shop.slug, _external=True)}}


def _shops_page_url(number: int) -> str:
    """This request for another page: same place and limit."""
    args: dict[str, Any] = {**request.args.to_dict(), "page": number}
    return url_for("public_api.shops_view", _external=True, **args)


@bp.get("/shops")
@reads_only
def shops_view() -> ResponseReturnValue:
    """A page of the active shops, or of one network's: nearest first from an origin, else by
    town. The list is paged so that neither an answer nor its cost grows with the network."""
    located = _located()
    limit = _limit(10)
    number = _whole_number("page", default=1, maximum=directory.MAX_PAGE)
    network = network_arg(read_session())
    page = directory.shop_page(read_session(), network=network, origin=located.origin,
                               number=number, size=limit, at=clock.now())
    return jsonify({
        "origin": _origin_json(located), "page": number, "limit": limit, "total": page.total,
        "shops": [_shop_json(entry) for entry in page.entries],
        "links": {"next": _shops_page_url(number + 1) if number < page.pages else None,
                  "prev": _shops_page_url(min(number - 1, page.pages)) if number > 1 else None},
    })


@bp.get("/openapi.json")
def openapi_view() -> ResponseReturnValue:
    return jsonify(openapi_document())
