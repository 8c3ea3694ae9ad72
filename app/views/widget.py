"""`/widget`: the small page a publisher frames next to a book (static/js/widget.js builds the
iframe) to show the nearest bookshops that have it on the shelf.

This is the only page that other sites may frame: it shows public facts and takes no action, so
clickjacking has nothing to gain, and framing is its whole purpose.
"""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from app.errors import InvalidInput, NotFound
from app.security_headers import mark_embeddable
from app.services import availability, editions
from app.services.places import locate
from app.session import read_session, reads_only
from app.views.public_api import book_url, parse_isbn
from app.views.scope import ReaderScope, network_arg

bp = Blueprint("widget", __name__)
SHOPS_SHOWN = 3


@bp.before_request
def _framable_anywhere() -> None:
    mark_embeddable()


@bp.get("/widget")
@reads_only
def widget() -> ResponseReturnValue:
    # An unknown or ambiguous place is not an error here: the shops are shown without distances
    # and the reader may share their position instead.
    located = locate(place=request.args.get("near"), lat=request.args.get("lat"),
                     lon=request.args.get("lon"))
    session = read_session()
    # A publisher's page for one network's readers (`network=<slug>`) lists only its shops; a
    # wrong slug is said inside the frame, where the publisher testing it will see it.
    try:
        isbn13 = parse_isbn(request.args.get("isbn", ""))
        scoped = ReaderScope(network=network_arg(session))
    except (InvalidInput, NotFound) as exc:
        return render_template("public/widget.html", error=exc.message,
                               located=located), exc.status
    found = availability.nearest_holders(session, isbn13=isbn13, origin=located.origin,
                                         limit=SHOPS_SHOWN, scope=scoped.scope)
    return render_template("public/widget.html", error=None, located=located, found=found,
                           edition=editions.edition_summary(session, isbn13),
                           book_url=book_url(isbn13, located, scoped))
