"""Readers ask a bookshop to order a book: pick a shop, send the request, follow or cancel it.

Thin: the rules are in `app/orders/`. The same abuse limits as reserving hold here: sending a
request draws on RESERVE_LIMIT per address, every look-up of a secret code on the one shared
code budget (`code_lookup`, reservations' codes included), and the service counts the reader's
running orders by contact.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, gettext

from app import clock
from app.errors import Conflict, InvalidInput, NotFound
from app.limits import RESERVE_LIMIT, code_lookup, limiter
from app.orders.lifecycle import CANCELLED, MAX_ACTIVE_PER_CONTACT
from app.orders.request import TooManyOrders, find_by_code, public_isbn, request_order
from app.orders.transitions import transition
from app.reservations.codes import checked_form_key, issue_form_key
from app.reservations.reserve import Customer
from app.services import directory, editions
from app.session import db_session
from app.views.books import located_from_args, place_args
from app.views.reserve import ReserveForm

bp = Blueprint("orders", __name__)
# Shops offered to pick from, nearest the reader first.
SHOPS_OFFERED = 10


@bp.get("/commander/<isbn13>")
def pick_shop(isbn13: str) -> ResponseReturnValue:
    """Which bookshop should order the book: the nearest to the place the reader gives."""
    isbn = public_isbn(isbn13)
    if isbn != isbn13:
        args: dict[str, Any] = request.args.to_dict()
        return redirect(url_for("orders.pick_shop", isbn13=isbn, **args))
    session, located, now = db_session(), located_from_args(), clock.now()
    shops = directory.shop_page(session, network=None, origin=located.origin, number=1,
                                size=SHOPS_OFFERED, at=now).entries if located.origin else []
    return render_template("public/order_pick.html", isbn13=isbn,
                           edition=editions.edition_summary(session, isbn), located=located,
                           shops=shops, now=now, place_args=place_args(located))


@bp.route("/commander/<slug>/<isbn13>", methods=["GET", "POST"])
@limiter.limit(RESERVE_LIMIT, methods=["POST"])
def order_form(slug: str, isbn13: str) -> ResponseReturnValue:
    isbn = public_isbn(isbn13)
    session = db_session()
    shop = directory.active_shop(session, slug)
    if shop is None:
        raise NotFound(f"unknown shop: {slug}", code="unknown_shop")
    form = ReserveForm()  # the same reader's details as reserving asks
    if request.method == "GET":
        form.idempotency_key.data = issue_form_key(current_app.config["SECRET_KEY"])
    error, status = None, 200
    if form.validate_on_submit():
        customer = Customer(
            name=form.name.data or "", email=(form.email.data or "").strip() or None,
            phone=(form.phone.data or "").strip() or None, locale=str(get_locale()))
        secret = current_app.config["SECRET_KEY"]
        try:
            done = request_order(session, shop_slug=shop.slug, isbn13=isbn, customer=customer,
                                 secret=secret, requester="form",
                                 idempotency_key=checked_form_key(secret,
                                                                  form.idempotency_key.data))
            session.commit()
        except TooManyOrders:
            session.rollback()
            error, status = gettext(
                "You already have %(num)d orders running: wait for one to end or cancel one.",
                num=MAX_ACTIVE_PER_CONTACT), 429
        except InvalidInput as exc:
            session.rollback()
            error, status = {
                "invalid_email": gettext("This email address is not valid: check it, or leave "
                                         "it empty and give a phone number."),
                "invalid_phone": gettext("This phone number is not valid: check it, or give an "
                                         "email address."),
            }.get(exc.code, gettext("Please give your name and an email address or a phone "
                                    "number.")), 422
        except Conflict as exc:
            session.rollback()
            error, status = (gettext("You have already asked this bookshop to order this book.")
                             if exc.code == "already_requested"
                             else gettext("This form was already sent: please start again.")), 409
        else:
            return redirect(url_for("orders.status", code=done.code, new=1))
    elif request.method == "POST":
        error, status = gettext("Please give your name, a way to reach you, and accept how "
                                "your details are used."), 422
    now = clock.now()
    return render_template("public/order_form.html", form=form, shop=shop, isbn13=isbn,
                           edition=editions.edition_summary(session, isbn), error=error,
                           status=directory.shop_status(shop, now), now=now), status


@bp.get("/commandes/<code>")
@code_lookup
def status(code: str) -> ResponseReturnValue:
    session = db_session()
    order = find_by_code(session, code)  # NotFound renders the 404 page
    return render_template("public/order.html", o=order, code=code,
                           shop=directory.shop_by_id(session, order.shop_id),
                           new=request.args.get("new") == "1")


@bp.post("/commandes/<code>/cancel")
@code_lookup
def cancel(code: str) -> ResponseReturnValue:
    session = db_session()
    order = find_by_code(session, code)
    try:
        transition(session, order_id=order.id, target=CANCELLED, actor="reader")
        session.commit()
    except Conflict:
        session.rollback()
    return redirect(url_for("orders.status", code=code))
