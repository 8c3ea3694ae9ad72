"""Readers reserve a copy as guests, then follow or cancel their reservation with its code."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, StringField, TelField
from wtforms.validators import DataRequired, Length, Optional

from app import clock
from app.errors import Conflict, InvalidInput
from app.isbn import PUBLIC_CODE_KINDS, CodeError, normalize_code
from app.limits import RESERVE_LIMIT, code_lookup, limiter
from app.models import Shop
from app.reservations.codes import checked_form_key, find_by_code, issue_form_key
from app.reservations.lifecycle import CANCELLED, MAX_ACTIVE_PER_CONTACT
from app.reservations.reserve import Customer, NoCopyLeft, TooManyHolds, reserve
from app.reservations.transitions import transition
from app.services import directory, editions
from app.services.availability import available_copies
from app.services.directory import shop_status
from app.session import db_session

bp = Blueprint("reserve", __name__)


class ReserveForm(FlaskForm):
    name = StringField(validators=[DataRequired(), Length(max=200)])
    email = EmailField(validators=[Optional(), Length(max=254)])
    phone = TelField(validators=[Optional(), Length(max=40)])
    consent = BooleanField(validators=[DataRequired()])
    idempotency_key = HiddenField()


def _shop_and_isbn(slug: str, isbn13: str) -> tuple[Shop, str]:
    try:
        code = normalize_code(isbn13)
    except CodeError:
        abort(404)
    shop = directory.active_shop(db_session(), slug)
    if shop is None or code.kind not in PUBLIC_CODE_KINDS:
        abort(404)
    return shop, code.code


@bp.route("/reserver/<slug>/<isbn13>", methods=["GET", "POST"])
@limiter.limit(RESERVE_LIMIT, methods=["POST"])
def reserve_form(slug: str, isbn13: str) -> ResponseReturnValue:
    shop, isbn = _shop_and_isbn(slug, isbn13)
    session = db_session()
    form = ReserveForm()
    if request.method == "GET":
        form.idempotency_key.data = issue_form_key(current_app.config["SECRET_KEY"])
    error, status, alternatives = None, 200, []
    if form.validate_on_submit():
        customer = Customer(
            name=form.name.data or "", email=(form.email.data or "").strip() or None,
            phone=(form.phone.data or "").strip() or None, locale=str(get_locale()))
        try:
            done = reserve(
                session, shop_slug=shop.slug, isbn13=isbn, customer=customer,
                secret=current_app.config["SECRET_KEY"],
                requester="form",
                idempotency_key=checked_form_key(current_app.config["SECRET_KEY"],
                                                 form.idempotency_key.data))
            session.commit()
        except NoCopyLeft as exc:
            session.rollback()
            error, status, alternatives = gettext(
                "Sorry, the last copy here was just reserved by someone else."), 409, \
                exc.alternatives
        except TooManyHolds:
            session.rollback()
            error, status = gettext(
                "You already hold %(num)d books: collect or cancel one before reserving another.",
                num=MAX_ACTIVE_PER_CONTACT), 429
        except InvalidInput:
            session.rollback()
            error, status = gettext("Please give your name and an email address or a phone "
                                    "number."), 422
        else:
            return redirect(url_for("reserve.status", code=done.code, new=1))
    elif request.method == "POST":
        error, status = gettext("Please give your name, a way to reach you, and accept how "
                                "your details are used."), 422
    edition = editions.edition_summary(session, isbn)
    return render_template("public/reserve.html", form=form, shop=shop, isbn13=isbn,
                           edition=edition,
                           available=available_copies(session, shop_id=shop.id, isbn13=isbn),
                           error=error,
                           alternatives=alternatives,
                           status=shop_status(shop, clock.now()),
                           now=clock.now()), status


@bp.get("/reservations/<code>")
@code_lookup
def status(code: str) -> ResponseReturnValue:
    session = db_session()
    reservation = find_by_code(session, code)  # NotFound renders the 404 page
    shop = directory.shop_by_id(session, reservation.shop_id)
    return render_template("public/reservation.html", r=reservation, shop=shop, code=code,
                           new=request.args.get("new") == "1",
                           status=shop_status(shop, clock.now()) if shop else None,
                           now=clock.now())


@bp.post("/reservations/<code>/cancel")
@code_lookup
def cancel(code: str) -> ResponseReturnValue:
    session = db_session()
    reservation = find_by_code(session, code)
    try:
        transition(session, reservation_id=reservation.id, target=CANCELLED, actor="reader",
                   reason=gettext("cancelled by the reader"))
        session.commit()
    except Conflict:
        session.rollback()
    return redirect(url_for("reserve.status", code=code))
