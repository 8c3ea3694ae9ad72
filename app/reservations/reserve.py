"""Holding a copy for a reader.

Reserving locks the shop's stock line (`SELECT ... FOR UPDATE`) before counting the holds that
count (architecture §3) and inserting the new one, so two readers can never get the same last
copy. The deadline, the per-reader limit and the mail queued come from `lifecycle`.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, cast

from geoalchemy2.shape import to_shape
from shapely.geometry import Point
from sqlalchemy import String, func, or_, select, text
from sqlalchemy.orm import Session

from app.email_address import InvalidEmail, checked_email
from app.errors import Conflict, InvalidInput, NotFound, RayonsError
from app.isbn import PUBLIC_CODE_KINDS
from app.models import Edition, Reservation, Shop
from app.models.types import in_list
from app.reservations.codes import (
    code_for,
    fingerprint,
    hash_code,
    new_code_seed,
    new_pickup_code,
    stored_request_key,
)
from app.reservations.lifecycle import (
    ACTIVE_STATES,
    INITIAL_STATE,
    MAIL_ON_RESERVE,
    MAX_ACTIVE_PER_CONTACT,
    hold_deadline,
)
from app.reservations.transitions import queue_mail
from app.services import availability, directory
from geo.opening_hours import OpenStatus

logger = logging.getLogger(__name__)

# The holds that count against a shop's copies right now (architecture §3), for one line.
COUNTING_HOLDS = text("""
    SELECT coalesce(sum(holds), 0) FROM counting_hold
    WHERE shop_id = :shop_id AND isbn13 = :isbn13
""")
LOCK_LINE = text(f"""
    SELECT on_hand FROM stock_line
    WHERE shop_id = :shop_id AND isbn13 = :isbn13 AND {in_list('code_kind', PUBLIC_CODE_KINDS)}
    FOR UPDATE
""")


class NoCopyLeft(Conflict):
    """The last copy went to someone else: `alternatives` are the next-nearest shops with one."""

    code = "no_copy_left"

    def __init__(self, message: str, *, alternatives: list[availability.Holder]) -> None:
        super().__init__(message)
        self.alternatives = alternatives


class TooManyHolds(RayonsError):
    status = 429
    code = "too_many_holds"


@dataclass(frozen=True)
class Customer:
    name: str
    email: str | None
    phone: str | None
    locale: str = "fr"


@dataclass(frozen=True)
class Reserved:
    reservation: Reservation
    code: str
    # True when this request repeated an earlier one (double click, retry): nothing new held.
    replayed: bool


# The longest name, email and phone the reservation's columns hold.
CONTACT_LENGTHS = {field: cast(String, Reservation.__table__.c[f"customer_{field}"].type).length
                   for field in ("name", "email", "phone")}


def check_customer(customer: Customer) -> None:
    """Refuse a reader who cannot be reached or whose details would not fit (order requests
    check their readers the same way, `app.orders.request`)."""
    # As they will be stored: the name stripped, the contacts as given.
    stored = {"name": customer.name.strip(), "email": customer.email or "",
              "phone": customer.phone or ""}
    for field, limit in CONTACT_LENGTHS.items():
        if limit is not None and len(stored[field]) > limit:
            raise InvalidInput(f"{field} longer than {limit} characters", code="too_long")
    if not customer.name.strip():
        raise InvalidInput("name is required", code="missing_name")
    if not (customer.email or customer.phone):
        raise InvalidInput("an email address or a phone number is required",
                           code="missing_contact")
    if customer.email:
        try:
            checked_email(customer.email)
        except InvalidEmail as exc:
            raise InvalidInput(f"invalid email address: {customer.email}",
                               code="invalid_email") from exc
    # ASCII digits only: `str.isdigit` also counts "²", which no one can dial.
    if customer.phone and sum(c in "0123456789" for c in customer.phone) < 6:
        raise InvalidInput(f"invalid phone number: {customer.phone}", code="invalid_phone")


# Advisory-lock namespace of a reader's contacts (the shops' import lock uses 7261).
CONTACT_LOCK_NAMESPACE = 7262


def lock_contacts(session: Session, customer: Customer) -> None:
    """Serialise one reader's requests until the transaction ends: two requests sent at once
    (two tabs, a script) cannot both pass a per-reader limit. The key is a hash of each contact
    given, taken in a fixed order (collisions only make two readers wait for each other)."""
    for contact in sorted(filter(None, [(customer.email or "").lower(), customer.phone or ""])):
        session.execute(select(func.pg_advisory_xact_lock(CONTACT_LOCK_NAMESPACE,
                                                          func.hashtext(contact))))


def _active_holds_of(session: Session, customer: Customer) -> int:
    contacts = []
    if customer.email:
        contacts.append(func.lower(Reservation.customer_email) == customer.email.lower())
    if customer.phone:
        contacts.append(Reservation.customer_phone == customer.phone)
    return session.scalar(
        select(func.count()).select_from(Reservation)
        .where(or_(*contacts), Reservation.state.in_(ACTIVE_STATES),
               Reservation.expires_at > func.now())) or 0


def reserve(session: Session, *, shop_slug: str, isbn13: str, customer: Customer, secret: str,
            requester: str, idempotency_key: str | None = None,
            redirected_from_shop_id: int | None = None,
            created_by_staff_id: int | None = None) -> Reserved:
    """Hold one copy for HOLD_DURATION of the shop's opening time (`lifecycle.hold_deadline`).

    `requester` names the channel that asks ("api", "form", "staff:<id>"): with the contact
    given, it scopes `idempotency_key` (see `codes`), so a key replays only its own requester's
    identical request. Raises NoCopyLeft when another reader got the last copy first."""
    check_customer(customer)
    stored_key = request_fingerprint = None
    if idempotency_key:
        contact = (customer.email or "").lower() or (customer.phone or "")
        stored_key = stored_request_key(secret, scope=f"{requester}\x00{contact}",
                                        key=idempotency_key)
        request_fingerprint = fingerprint((
            shop_slug, isbn13, customer.name.strip(), customer.email or "", customer.phone or "",
            customer.locale, redirected_from_shop_id, created_by_staff_id))
    shop = directory.active_shop(session, shop_slug)
    if shop is None:
        raise NotFound(f"unknown shop: {shop_slug}", code="unknown_shop")
    on_hand = session.execute(LOCK_LINE, {"shop_id": shop.id, "isbn13": isbn13}).scalar()
    # The row lock also serialises retries of the same form: the first has committed by now.
    earlier = (session.scalar(select(Reservation).where(Reservation.idempotency_key == stored_key))
               if stored_key else None)
    if earlier is not None:
        if earlier.request_fingerprint != request_fingerprint:
            raise Conflict("this key was already used for another request",
                           code="idempotency_key_reused")
        return Reserved(earlier, code_for(secret, earlier.code_seed), replayed=True)
    held = session.execute(COUNTING_HOLDS, {"shop_id": shop.id, "isbn13": isbn13}).scalar() or 0
    if on_hand is None or on_hand - held <= 0:
        raise NoCopyLeft("no copy left in this shop", alternatives=alternatives(
            session, shop=shop, isbn13=isbn13))
    # After the line's lock, so that every reservation takes its locks in the same order.
    lock_contacts(session, customer)
    if _active_holds_of(session, customer) >= MAX_ACTIVE_PER_CONTACT:
        raise TooManyHolds(f"at most {MAX_ACTIVE_PER_CONTACT} books can be held at once",
                           code="too_many_holds")
    # The wall clock, not the transaction's start: the hold starts after the line was locked.
    now = session.scalar(select(func.clock_timestamp()))
    assert now is not None
    edition = session.get(Edition, isbn13)
    seed = new_code_seed()
    code = code_for(secret, seed)
    reservation = Reservation(
        code_hash=hash_code(code), code_seed=seed, request_fingerprint=request_fingerprint,
        pickup_code=new_pickup_code(session, shop_id=shop.id),
        shop_id=shop.id, isbn13=isbn13, state=INITIAL_STATE,
        created_at=now, expires_at=hold_deadline(shop, now),
        # Empty when no file named the book: pages and mails say "title unknown" in the
        # reader's language (the `book_title` filter) rather than a made-up title.
        title_snapshot=edition.title if edition else "",
        authors_snapshot=edition.authors if edition else "",
        shop_name_snapshot=shop.name,
        shop_address_snapshot=f"{shop.address}, {shop.postcode} {shop.city}".strip(", "),
        customer_name=customer.name.strip(), customer_email=customer.email or None,
        customer_phone=customer.phone or None, locale=customer.locale, idempotency_key=stored_key,
        redirected_from_shop_id=redirected_from_shop_id,
        created_by_staff_id=created_by_staff_id,
    )
    session.add(reservation)
    session.flush()
    queue_mail(session, [(reservation.id, kind) for kind in MAIL_ON_RESERVE])
    # Ids only: the reader's name, contact and code stay out of the logs.
    logger.info("reservation %s: %s held at shop %s until %s", reservation.id, isbn13, shop.id,
                reservation.expires_at.isoformat())
    return Reserved(reservation, code, replayed=False)


def alternatives(session: Session, *, shop: Shop, isbn13: str,
                 limit: int = 3) -> list[availability.Holder]:
    """The nearest other shops that still have a copy, nearest to this shop first."""
    point = to_shape(shop.location)
    assert isinstance(point, Point)  # the column is geometry(Point)
    found = availability.nearest_holders(session, isbn13=isbn13, origin=(point.y, point.x),
                                         limit=limit + 1, radius_km=None)
    return [h for h in found.holders if h.shop_id != shop.id][:limit]


class Alternative(NamedTuple):
    """Another shop with a copy, and whether it is open: the first one offered must not turn
    out to be closed until Saturday."""

    holder: availability.Holder
    status: OpenStatus | None


def with_status(holders: Iterable[availability.Holder], at: datetime) -> list[Alternative]:
    """Each shop with its open/closed status at `at`, for the pages and mails that offer them."""
    return [Alternative(h, directory.hours_status(h.opening_hours, timezone=h.timezone,
                                                  country=h.country, at=at))
            for h in holders]
