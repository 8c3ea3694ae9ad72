"""Placing an order request: a reader asks one shop to order a book for them.

Unlike a hold, an order takes no copy from anyone: nothing is locked and any valid ISBN will do,
even one the catalogue has never seen (the snapshot then has no title, and pages say "unknown
title"). What it shares with reserving is everything that protects readers and shops: the
reader's contact is checked the same way (`reserve.check_customer`), a reader may have
MAX_ACTIVE_PER_CONTACT orders running, a retried form replays the first request
(`codes.stored_request_key`), and the reader's secret code is derived, hashed and looked up as a
reservation's is, from a seed of its own purpose so that no order code is a reservation code.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.errors import Conflict, NotFound, RayonsError
from app.isbn import PUBLIC_CODE_KINDS, CodeError, normalize_code
from app.models import Edition, OrderRequest, OutboxMail
from app.orders.lifecycle import (
    ACTIVE_STATES,
    ANSWER_WITHIN,
    INITIAL_STATE,
    MAIL_ON_REQUEST,
    MAX_ACTIVE_PER_CONTACT,
)
from app.reservations.codes import (
    code_for,
    fingerprint,
    hash_code,
    new_code_seed,
    stored_request_key,
)
from app.reservations.reserve import Customer, check_customer, lock_contacts
from app.services import demand, directory

logger = logging.getLogger(__name__)

# Mixed into the seed an order code is derived from: the same secret never yields the same
# code for an order and a reservation.
_ORDER_PURPOSE = b"order:"


class TooManyOrders(RayonsError):
    status = 429
    code = "too_many_orders"


@dataclass(frozen=True)
class Requested:
    order: OrderRequest
    code: str
    # True when this request repeated an earlier one (double click, retry).
    replayed: bool


def order_code(secret: str, seed: bytes) -> str:
    """The reader's secret code for an order: 160 bits, base32, as a reservation's."""
    return code_for(secret, _ORDER_PURPOSE + seed)


def find_by_code(session: Session, code: str) -> OrderRequest:
    """The order whose code this is; NotFound otherwise (hash looked up, never the code)."""
    order = session.scalar(select(OrderRequest).where(OrderRequest.code_hash == hash_code(code)))
    if order is None:
        raise NotFound("no order has this code", code="unknown_order")
    return order


def public_isbn(raw: str) -> str:
    """The ISBN-13 of a book a reader may order: a valid ISBN (or ISMN), any form; raises
    NotFound for anything else (a page's URL carries it)."""
    try:
        code = normalize_code(raw)
    except CodeError as exc:
        raise NotFound(f"not an ISBN: {raw}", code="invalid_isbn") from exc
    if code.kind not in PUBLIC_CODE_KINDS:
        raise NotFound(f"not a book's ISBN: {raw}", code="invalid_isbn")
    return code.code


def _active_orders_of(session: Session, customer: Customer) -> list[OrderRequest]:
    contacts = []
    if customer.email:
        contacts.append(func.lower(OrderRequest.customer_email) == customer.email.lower())
    if customer.phone:
        contacts.append(OrderRequest.customer_phone == customer.phone)
    return list(session.scalars(select(OrderRequest).where(
        or_(*contacts), OrderRequest.state.in_(ACTIVE_STATES))))


def request_order(session: Session, *, shop_slug: str, isbn13: str, customer: Customer,
                  secret: str, requester: str,
                  idempotency_key: str | None = None) -> Requested:
    """Ask shop `shop_slug` to order `isbn13` for `customer`; queue the reader's receipt and
    the shop's notice, and count the book in unmet demand (the shop's département).

    Raises InvalidInput for a bad contact, NotFound for an unknown shop or a code that is no
    book's, TooManyOrders past the reader's limit, Conflict when the reader already has this
    book on order at this shop."""
    check_customer(customer)
    isbn = public_isbn(isbn13)
    shop = directory.active_shop(session, shop_slug)
    if shop is None:
        raise NotFound(f"unknown shop: {shop_slug}", code="unknown_shop")
    # First, so that a double click's second request waits for the first and replays it.
    lock_contacts(session, customer)
    stored_key = request_fingerprint = None
    if idempotency_key:
        contact = (customer.email or "").lower() or (customer.phone or "")
        stored_key = stored_request_key(secret, scope=f"order\x00{requester}\x00{contact}",
                                        key=idempotency_key)
        request_fingerprint = fingerprint((shop_slug, isbn, customer.name.strip(),
                                           customer.email or "", customer.phone or "",
                                           customer.locale))
        earlier = session.scalar(select(OrderRequest)
                                 .where(OrderRequest.idempotency_key == stored_key))
        if earlier is not None:
            if earlier.request_fingerprint != request_fingerprint:
                raise Conflict("this key was already used for another request",
                               code="idempotency_key_reused")
            return Requested(earlier, order_code(secret, earlier.code_seed), replayed=True)
    running = _active_orders_of(session, customer)
    if any(o.shop_id == shop.id and o.isbn13 == isbn for o in running):
        raise Conflict("this book is already on order for you at this shop",
                       code="already_requested")
    if len(running) >= MAX_ACTIVE_PER_CONTACT:
        raise TooManyOrders(f"at most {MAX_ACTIVE_PER_CONTACT} orders can run at once")
    now = session.scalar(select(func.clock_timestamp()))
    assert now is not None
    edition = session.get(Edition, isbn)
    seed = new_code_seed()
    code = order_code(secret, seed)
    order = OrderRequest(
        code_hash=hash_code(code), code_seed=seed, shop_id=shop.id, isbn13=isbn,
        state=INITIAL_STATE, created_at=now, expires_at=now + ANSWER_WITHIN,
        title_snapshot=edition.title if edition and edition.title else None,
        authors_snapshot=edition.authors if edition else "",
        shop_name_snapshot=shop.name,
        shop_address_snapshot=f"{shop.address}, {shop.postcode} {shop.city}".strip(", "),
        customer_name=customer.name.strip(), customer_email=customer.email or None,
        customer_phone=customer.phone or None, locale=customer.locale,
        idempotency_key=stored_key, request_fingerprint=request_fingerprint)
    session.add(order)
    session.flush()
    queue_order_mail(session, [(order.id, kind) for kind in MAIL_ON_REQUEST])
    # The order says a reader wanted this book and found it on no shelf they would go to.
    demand.record_miss(session, kind="order", term=isbn, area=shop.postcode[:2],
                       day=clock.today())
    logger.info("order %s: %s requested at shop %s", order.id, isbn, shop.id)
    return Requested(order, code, replayed=False)


def queue_order_mail(session: Session, mails: list[tuple[int, str]]) -> None:
    """Queue mails, as (order id, kind), in the transaction that caused them (`app/outbox.py`
    sends them once it has committed)."""
    if mails:
        session.execute(insert(OutboxMail), [{"order_request_id": order_id, "kind": kind}
                                             for order_id, kind in mails])
