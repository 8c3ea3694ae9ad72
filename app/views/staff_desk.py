"""Staff handle their shop's reservations, and send customers to partner shops."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, gettext
from geoalchemy2.shape import to_shape
from shapely.geometry import Point

from app import clock
from app.clock import database_now
from app.errors import Conflict, InvalidInput, NotFound
from app.isbn import CodeError, normalize_code
from app.limits import PICKUP_LOOKUP_LIMIT, limiter
from app.models import Reservation
from app.orders import desk as order_desk
from app.reservations import desk
from app.reservations.codes import checked_form_key, issue_form_key, read_pickup_code
from app.reservations.lifecycle import STAFF_ACTIONS, state_at
from app.reservations.reserve import Customer, NoCopyLeft, TooManyHolds, reserve, with_status
from app.reservations.transitions import transition
from app.services import availability, editions, search
from app.session import db_session
from app.views.staff_auth import current_staff, shop_or_404, staff_required

bp = Blueprint("desk", __name__, url_prefix="/staff/shops/<slug>")


@bp.get("/reservations")
@staff_required
def reservations_desk(slug: str) -> ResponseReturnValue:
    shop = shop_or_404(slug)
    return render_template("staff/reservations.html", desk=desk.for_shop(db_session(), shop=shop),
                           orders=order_desk.for_shop(db_session(), shop=shop),
                           message=request.args.get("message"), lookup=None)


@dataclass(frozen=True)
class Lookup:
    typed: str
    found: Reservation | None
    state: str | None


@bp.get("/reservations/code")
@staff_required
@limiter.limit(PICKUP_LOOKUP_LIMIT)
def pickup_lookup(slug: str) -> ResponseReturnValue:
    """The reader reads their pickup code aloud; the desk finds it among this shop's
    reservations only (another shop's code is "no reservation")."""
    shop = shop_or_404(slug)
    session = db_session()
    typed = (request.args.get("code") or "").strip()[:12]
    code = read_pickup_code(typed)
    found = desk.find_by_pickup_code(session, shop=shop, code=code) if code else None
    state = state_at(found.state, found.expires_at, database_now(session)) if found else None
    return render_template("staff/reservations.html", desk=desk.for_shop(session, shop=shop),
                           orders=order_desk.for_shop(session, shop=shop),
                           message=None, lookup=Lookup(typed=code or typed, found=found,
                                                       state=state))


@bp.post("/reservations/<int:reservation_id>/<action>")
@staff_required
def act(slug: str, reservation_id: int, action: str) -> ResponseReturnValue:
    shop = shop_or_404(slug)
    if action not in STAFF_ACTIONS:
        abort(404)
    user = current_staff()
    assert user is not None
    session = db_session()
    message = None
    try:
        transition(session, reservation_id=reservation_id, target=STAFF_ACTIONS[action],
                   actor="staff", shop_ids=[shop.id], staff_id=user.id,
                   reason=request.form.get("reason") or None)
        session.commit()
    except NotFound:
        abort(404)
    except Conflict as exc:
        session.rollback()
        message = {"expired": gettext("This hold has already expired."),
                   "not_allowed": gettext("This action is not possible.")}.get(
            exc.code, gettext("This reservation was already handled: %(state)s.",
                              state=exc.code.removeprefix("already_")))
    return redirect(url_for("desk.reservations_desk", slug=shop.slug, message=message))


@bp.get("/partners")
@staff_required
def partners(slug: str) -> ResponseReturnValue:
    """A bookseller without the book looks it up across partner shops, nearest to theirs."""
    shop = shop_or_404(slug)
    query = (request.args.get("q") or "").strip()
    session = db_session()
    point = to_shape(shop.location)
    assert isinstance(point, Point)  # the column is geometry(Point)
    origin = (point.y, point.x)
    hits, holders, edition, isbn_error = [], [], None, None
    isbn = search.read_isbn(query) if query else None
    if isbn is not None and isbn.error:
        isbn_error = isbn.error
    elif isbn is not None or request.args.get("isbn"):
        code = (isbn.isbn13 if isbn else request.args.get("isbn")) or ""
        edition = editions.edition_summary(session, code)
        found = availability.nearest_holders(session, isbn13=code, origin=origin,
                                             limit=11, radius_km=None)
        holders = [h for h in found.holders if h.shop_id != shop.id][:10]
        query = query or code
    elif query:
        hits = search.search_editions(session, query=query, origin=origin).hits
    now = clock.now()
    # Open or closed now: the customer at the counter asks whether to go there today.
    return render_template("staff/partners.html", shop=shop, query=query, hits=hits,
                           partners=with_status(holders, now), edition=edition,
                           isbn_error=isbn_error, now=now,
                           isbn13=request.args.get("isbn") or (isbn.isbn13 if isbn else None))


@bp.route("/partners/<partner_slug>/<isbn13>", methods=["GET", "POST"])
@staff_required
def reserve_for_customer(slug: str, partner_slug: str, isbn13: str) -> ResponseReturnValue:
    """Reserve at a partner shop for the customer at the counter: the partner receives it like
    any reservation, marked as sent by this shop."""
    shop = shop_or_404(slug)
    try:
        code = normalize_code(isbn13).code
    except CodeError:
        abort(404)
    user = current_staff()
    assert user is not None
    session = db_session()
    error, status = None, 200
    if request.method == "POST":
        customer = Customer(
            name=request.form.get("name", ""), email=request.form.get("email") or None,
            phone=request.form.get("phone") or None, locale=str(get_locale()))
        try:
            done = reserve(
                session, shop_slug=partner_slug, isbn13=code, customer=customer,
                secret=current_app.config["SECRET_KEY"], requester=f"staff:{user.id}",
                idempotency_key=checked_form_key(current_app.config["SECRET_KEY"],
                                                 request.form.get("idempotency_key")),
                redirected_from_shop_id=shop.id, created_by_staff_id=user.id)
            session.commit()
        except NoCopyLeft:
            session.rollback()
            error, status = gettext("The partner's last copy was just reserved."), 409
        except InvalidInput:
            session.rollback()
            error, status = gettext("Give the customer's name and an email or a phone."), 422
        except (NotFound, TooManyHolds) as exc:
            session.rollback()
            error, status = exc.message, exc.status
        else:
            return render_template("staff/sent.html", shop=shop, reservation=done.reservation,
                                   code=done.code)
    return render_template("staff/reserve_for.html", shop=shop, partner_slug=partner_slug,
                           isbn13=code, edition=editions.edition_summary(session, code),
                           error=error,
                           idempotency_key=issue_form_key(current_app.config["SECRET_KEY"])), status
