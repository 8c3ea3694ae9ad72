"""`/api/v1/reservations`: reserve, read and cancel a hold from a partner site or an app."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from app.clock import database_now
from app.errors import Conflict, Gone, InvalidInput
from app.input_guard import check_text
from app.limits import RESERVE_LIMIT, code_lookup, limiter
from app.models import Reservation
from app.reservations.codes import find_by_code
from app.reservations.lifecycle import CANCELLED, EXPIRED, state_at
from app.reservations.reserve import CONTACT_LENGTHS, Customer, NoCopyLeft, reserve
from app.reservations.transitions import transition
from app.services.availability import Holder
from app.session import db_session
from app.views.public_api import api_isbn

bp = Blueprint("reservations_api", __name__, url_prefix="/api/v1/reservations")
LOCALES = ("fr", "en")


def reservation_json(r: Reservation, code: str) -> dict[str, Any]:
    return {
        "code": code, "pickup_code": r.pickup_code, "state": r.state, "isbn13": r.isbn13,
        "title": r.title_snapshot,
        "shop": {"name": r.shop_name_snapshot, "address": r.shop_address_snapshot},
        "deadline": r.expires_at.isoformat(), "created_at": r.created_at.isoformat(),
    }


def _holder_json(h: Holder) -> dict[str, Any]:
    return {"slug": h.slug, "name": h.name, "address": h.address, "city": h.city,
            "available": h.available,
            "distance_m": round(h.distance_m) if h.distance_m is not None else None}


def _body() -> dict[str, Any]:
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the JSON parser goes: no object of ours is
        body = None
    if not isinstance(body, dict):
        raise InvalidInput("a JSON object is expected", code="invalid_body")
    return body


def _text(body: dict[str, Any], name: str) -> str | None:
    """A text member, stripped; None when absent, null or blank. Contacts are held to the
    document's `maxLength` as sent, before stripping, as the document says."""
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"{name} must be a string", code="invalid_body")
    limit = CONTACT_LENGTHS.get(name)
    if value and limit is not None and len(value) > limit:
        raise InvalidInput(f"{name} longer than {limit} characters", code="too_long")
    return check_text(name, value).strip() if value else None


@bp.post("")
@limiter.limit(RESERVE_LIMIT)
def create() -> ResponseReturnValue:
    body = _body()
    shop, raw_isbn = _text(body, "shop"), _text(body, "isbn")
    if not shop or not raw_isbn:
        raise InvalidInput("shop and isbn are required", code="missing_field")
    isbn13 = api_isbn(body["isbn"])
    locale = body.get("locale")
    if locale is None:
        locale = LOCALES[0]
    elif locale not in LOCALES:
        raise InvalidInput(f"locale must be one of {', '.join(LOCALES)}", code="invalid_body")
    customer = Customer(
        name=_text(body, "name") or "", email=_text(body, "email"), phone=_text(body, "phone"),
        locale=locale)
    session = db_session()
    try:
        done = reserve(
            session, shop_slug=shop, isbn13=isbn13, customer=customer,
            secret=current_app.config["SECRET_KEY"], requester="api",
            idempotency_key=(request.headers.get("Idempotency-Key")
                             or _text(body, "idempotency_key")))
        payload = reservation_json(done.reservation, done.code)
        session.commit()
    except NoCopyLeft as exc:
        raise Conflict(exc.message, code="no_copy_left", extra={
            "alternatives": [_holder_json(h) for h in exc.alternatives]}) from exc
    return jsonify(payload), (200 if done.replayed else 201)


@bp.get("/<code>")
@code_lookup
def read(code: str) -> ResponseReturnValue:
    """A cancelled reservation is gone (410): DELETE cancels, and after a DELETE the resource
    must not answer 200 (RFC 9110). Other ended reservations still tell their state."""
    session = db_session()
    reservation = find_by_code(session, code)
    if reservation.state == CANCELLED:
        raise Gone("this reservation was cancelled", code="reservation_cancelled")
    payload = reservation_json(reservation, code)
    # A hold past its deadline has expired, recorded by the sweeper or not (as on its page).
    payload["state"] = state_at(reservation.state, reservation.expires_at, database_now(session))
    return jsonify(payload), 200, {"Cache-Control": "no-store"}


@bp.delete("/<code>")
@code_lookup
def cancel(code: str) -> ResponseReturnValue:
    session = db_session()
    reservation = find_by_code(session, code)
    if state_at(reservation.state, reservation.expires_at, database_now(session)) == EXPIRED:
        # Its page no longer offers to cancel it: the API does not either.
        raise Conflict("this hold has expired", code="expired")
    updated = transition(session, reservation_id=reservation.id, target=CANCELLED,
                         actor="reader", reason="cancelled through the API")
    payload = reservation_json(updated, code)
    session.commit()
    return jsonify(payload)
