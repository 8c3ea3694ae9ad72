"""`/api/v1/reservations`: reserve, read and cancel a hold from a partner site or an app."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from app import outbox
from app.errors import Conflict, InvalidInput
from app.input_guard import check_text
from app.isbn import CodeError, normalize_code
from app.limits import RESERVE_LIMIT, code_lookup, limiter
from app.models import Reservation
from app.reservations.codes import find_by_code
from app.reservations.lifecycle import CANCELLED
from app.reservations.reserve import Customer, NoCopyLeft, reserve
from app.reservations.transitions import transition
from app.services.availability import Holder
from app.session import db_session, session_factory

bp = Blueprint("reservations_api", __name__, url_prefix="/api/v1/reservations")


def reservation_json(r: Reservation, code: str) -> dict[str, Any]:
    return {
        "code": code, "state": r.state, "isbn13": r.isbn13, "title": r.title_snapshot,
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
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"{name} must be a string", code="invalid_body")
    return check_text(name, value).strip() if value else None


@bp.post("")
@limiter.limit(RESERVE_LIMIT)
def create() -> ResponseReturnValue:
    body = _body()
    shop, raw_isbn = _text(body, "shop"), _text(body, "isbn")
    if not shop or not raw_isbn:
        raise InvalidInput("shop and isbn are required", code="missing_field")
    try:
        isbn13 = normalize_code(raw_isbn).code
    except CodeError as exc:
        raise InvalidInput(str(exc), code="invalid_isbn") from exc
    locale = _text(body, "locale")
    customer = Customer(
        name=_text(body, "name") or "", email=_text(body, "email"), phone=_text(body, "phone"),
        locale=locale if locale in ("fr", "en") else "fr")
    session = db_session()
    try:
        done = reserve(
            session, shop_slug=shop, isbn13=isbn13, customer=customer,
            secret=current_app.config["SECRET_KEY"], requester="api",
            idempotency_key=(request.headers.get("Idempotency-Key")
                             or _text(body, "idempotency_key")))
        reservation_id = done.reservation.id
        payload = reservation_json(done.reservation, done.code)
        session.commit()
    except NoCopyLeft as exc:
        raise Conflict(exc.message, code="no_copy_left", extra={
            "alternatives": [_holder_json(h) for h in exc.alternatives]}) from exc
    outbox.send_pending(session_factory(), reservation_id=reservation_id)
    return jsonify(payload), (200 if done.replayed else 201)


@bp.get("/<code>")
@code_lookup
def read(code: str) -> ResponseReturnValue:
    reservation = find_by_code(db_session(), code)
    return jsonify(reservation_json(reservation, code)), 200, {"Cache-Control": "no-store"}


@bp.delete("/<code>")
@code_lookup
def cancel(code: str) -> ResponseReturnValue:
    session = db_session()
    reservation = find_by_code(session, code)
    updated = transition(session, reservation_id=reservation.id, target=CANCELLED,
                         actor="reader", reason="cancelled through the API")
    payload = reservation_json(updated, code)
    session.commit()
    outbox.send_pending(session_factory(), reservation_id=reservation.id)
    return jsonify(payload)
