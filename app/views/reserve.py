"""Readers reserve a copy as guests, then follow or cancel their reservation with its code."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, StringField, TelField
from wtforms.validators import DataRequired, Length, Optional

from app import clock
from app.clock import database_now
from app.email_address import InvalidEmail, checked_email
from app.errors import Conflict, InvalidInput
from app.isbn import PUBLIC_CODE_KINDS, CodeError, normalize_code
from app.limits import RESEND_LIMIT, RESERVE_LIMIT, code_lookup, limiter
from app.models import Shop
from app.reservations.codes import checked_form_key, find_by_code, issue_form_key
from app.reservations.lifecycle import (
    CANCELLED,
    DECLINED,
    MAX_ACTIVE_PER_CONTACT,
    hold_deadline,
    is_active,
    state_at,
)
from app.reservations.resend import resend_active
from app.reservations.reserve import (
    Customer,
    NoCopyLeft,
    TooManyHolds,
    alternatives,
    reserve,
    with_status,
)
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
    error, status, others = None, 200, None
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
            error, status, others = gettext(
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
    available = available_copies(session, shop_id=shop.id, isbn13=isbn)
    # The database's clock, as the hold itself will take: the form promises what it will give.
    now = database_now(session)
    if others is None and available == 0:
        # Every copy here is held (or the shop found none): the reader is not left at a wall.
        others = alternatives(session, shop=shop, isbn13=isbn)
    return render_template("public/reserve.html", form=form, shop=shop, isbn13=isbn,
                           edition=edition, available=available, error=error,
                           alternatives=with_status(others or [], now),
                           deadline=hold_deadline(shop, now),
                           status=shop_status(shop, clock.now()),
                           now=clock.now()), status


@bp.get("/reservations/<code>")
@code_lookup
def status(code: str) -> ResponseReturnValue:
    session = db_session()
    reservation = find_by_code(session, code)  # NotFound renders the 404 page
    shop = directory.shop_by_id(session, reservation.shop_id)
    # The database's clock decides, as for availability: past the deadline the page says
    # "expired" and offers no cancelling, whether or not the sweeper has recorded it yet.
    now = database_now(session)
    state = state_at(reservation.state, reservation.expires_at, now)
    others = (with_status(alternatives(session, shop=shop, isbn13=reservation.isbn13), now)
              if state == DECLINED and shop is not None else [])
    return render_template("public/reservation.html", r=reservation, shop=shop, code=code,
                           new=request.args.get("new") == "1", state=state,
                           seconds_left=int((reservation.expires_at - now).total_seconds()),
                           alternatives=others,
                           status=shop_status(shop, clock.now()) if shop else None,
                           now=clock.now())


@bp.post("/reservations/<code>/cancel")
@code_lookup
def cancel(code: str) -> ResponseReturnValue:
    session = db_session()
    reservation = find_by_code(session, code)
    if not is_active(state_at(reservation.state, reservation.expires_at, database_now(session))):
        # Lapsed: the page no longer offers cancelling; a stale page's click changes nothing.
        return redirect(url_for("reserve.status", code=code))
    try:
        transition(session, reservation_id=reservation.id, target=CANCELLED, actor="reader",
                   reason=gettext("cancelled by the reader"))
        session.commit()
    except Conflict:
        session.rollback()
    return redirect(url_for("reserve.status", code=code))


class ResendForm(FlaskForm):
    email = EmailField(validators=[DataRequired(), Length(max=254)])


@bp.route("/mes-reservations", methods=["GET", "POST"])
@limiter.limit(RESEND_LIMIT, methods=["POST"])
def resend() -> ResponseReturnValue:
    """A reader who lost their code gets their active reservations mailed again. The answer is
    the same whether or not the address made any: the page tells no one who reserved what."""
    form = ResendForm()
    error, sent = None, False
    if form.validate_on_submit():
        # Compared as the reservation stored it: as typed, case aside.
        email = (form.email.data or "").strip()
        try:
            checked_email(email)
        except InvalidEmail:
            error = gettext("Please give a valid email address.")
        else:
            session = db_session()
            resend_active(session, email=email)
            session.commit()
            sent = True
    elif request.method == "POST":
        error = gettext("Please give a valid email address.")
    return render_template("public/resend.html", form=form, error=error, sent=sent), (
        422 if error else 200)
