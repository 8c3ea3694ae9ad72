"""Holding a copy for a reader: reserve, and every later change of state.

Reserving locks the shop's stock line (`SELECT ... FOR UPDATE`) before counting the holds that
count (architecture §3) and inserting the new one, so two readers can never get the same last
copy. Every later change is one conditional UPDATE on the current state: of two racing changes
exactly one wins, and the other learns why it lost.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from geoalchemy2.shape import to_shape
from shapely.geometry import Point
from sqlalchemy import func, or_, select, text, update
from sqlalchemy.orm import Session

from app.errors import Conflict, InvalidInput, NotFound, RayonsError
from app.models import Edition, OutboxMail, Reservation, Shop
from app.models.reservation import ACTIVE_STATES, STATE_TIMESTAMPS
from app.services import availability
from geo.opening_hours import HoursError, parse_hours

HOLD_DURATION = timedelta(hours=2)
MAX_ACTIVE_PER_CONTACT = 3

# Who may move a reservation to each state, and from which states (Indico-style can_* table).
TRANSITIONS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "confirmed": (frozenset({"staff"}), frozenset({"held"})),
    "declined": (frozenset({"staff"}), frozenset({"held", "confirmed"})),
    "collected": (frozenset({"staff"}), frozenset({"held", "confirmed"})),
    "cancelled": (frozenset({"staff", "reader"}), frozenset({"held", "confirmed"})),
    "expired": (frozenset({"system"}), frozenset({"held", "confirmed"})),
}
# These must happen before the deadline; an expired hold cannot be confirmed any more.
BEFORE_DEADLINE = frozenset({"confirmed"})
MAIL_ON = {"confirmed": "confirmed", "declined": "declined", "cancelled": "cancelled",
           "expired": "expired", "collected": "collected"}

# The holds that count against a shop's copies right now (architecture §3), for one line.
COUNTING_HOLDS = text("""
    SELECT coalesce(sum(holds), 0) FROM counting_hold
    WHERE shop_id = :shop_id AND isbn13 = :isbn13
""")
LOCK_LINE = text("""
    SELECT on_hand FROM stock_line
    WHERE shop_id = :shop_id AND isbn13 = :isbn13 AND code_kind IN ('isbn', 'ismn')
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


def code_for(secret: str, idempotency_key: str) -> str:
    """The reader's code, derived from the form's one-time key with the server secret.

    A retried request recomputes the same code, so a double click shows the reader the same
    reservation and code instead of a second hold; without the secret, codes are unguessable
    (160 bits of HMAC, base32).
    """
    digest = hmac.new(secret.encode(), b"reservation:" + idempotency_key.encode(),
                      hashlib.sha256).digest()
    return _base32(digest[:20])


def _base32(raw: bytes) -> str:
    return base64.b32encode(raw).decode().rstrip("=").lower()


def hash_code(code: str) -> bytes:
    return hashlib.sha256(code.strip().lower().encode()).digest()


def hold_deadline(shop: Shop, start: datetime) -> datetime:
    """Two hours of the shop's opening time; two plain hours if its hours are unknown."""
    if shop.opening_hours:
        try:
            hours = parse_hours(shop.opening_hours, timezone=shop.timezone, country=shop.country)
        except HoursError:
            hours = None
        if hours is not None:
            deadline = hours.after_open_time(start, HOLD_DURATION)
            if deadline is not None:
                return deadline
    return start + HOLD_DURATION


def _check_customer(customer: Customer) -> None:
    if not customer.name.strip():
        raise InvalidInput("name is required", code="missing_name")
    if not (customer.email or customer.phone):
        raise InvalidInput("an email address or a phone number is required",
                           code="missing_contact")
    if customer.email and "@" not in customer.email[1:-1]:
        raise InvalidInput(f"invalid email address: {customer.email}", code="invalid_email")
    if customer.phone and len([c for c in customer.phone if c.isdigit()]) < 6:
        raise InvalidInput(f"invalid phone number: {customer.phone}", code="invalid_phone")


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
            idempotency_key: str | None = None, redirected_from_shop_id: int | None = None,
            created_by_staff_id: int | None = None) -> Reserved:
    """Hold one copy for two opening hours. Raises NoCopyLeft when another reader got it first."""
    _check_customer(customer)
    key = idempotency_key or secrets.token_urlsafe(24)
    code = code_for(secret, key)
    shop = session.scalar(select(Shop).where(Shop.slug == shop_slug, Shop.active.is_(True)))
    if shop is None:
        raise NotFound(f"unknown shop: {shop_slug}", code="unknown_shop")
    on_hand = session.execute(LOCK_LINE, {"shop_id": shop.id, "isbn13": isbn13}).scalar()
    # The row lock also serialises retries of the same form: the first has committed by now.
    earlier = session.scalar(select(Reservation).where(Reservation.idempotency_key == key))
    if earlier is not None:
        if earlier.shop_id != shop.id or earlier.isbn13 != isbn13:
            raise Conflict("this form was already used for another reservation",
                           code="idempotency_key_reused")
        return Reserved(earlier, code, replayed=True)
    held = session.execute(COUNTING_HOLDS, {"shop_id": shop.id, "isbn13": isbn13}).scalar() or 0
    if on_hand is None or on_hand - held <= 0:
        raise NoCopyLeft("no copy left in this shop", alternatives=alternatives(
            session, shop=shop, isbn13=isbn13))
    if _active_holds_of(session, customer) >= MAX_ACTIVE_PER_CONTACT:
        raise TooManyHolds(f"at most {MAX_ACTIVE_PER_CONTACT} books can be held at once",
                           code="too_many_holds")
    now = session.scalar(select(func.clock_timestamp()))
    assert now is not None
    edition = session.get(Edition, isbn13)
    reservation = Reservation(
        code_hash=hash_code(code), shop_id=shop.id, isbn13=isbn13, state="held",
        created_at=now, expires_at=hold_deadline(shop, now),
        title_snapshot=(edition.title if edition and edition.title else f"ISBN {isbn13}"),
        authors_snapshot=edition.authors if edition else "",
        shop_name_snapshot=shop.name,
        shop_address_snapshot=f"{shop.address}, {shop.postcode} {shop.city}".strip(", "),
        customer_name=customer.name.strip(), customer_email=customer.email or None,
        customer_phone=customer.phone or None, locale=customer.locale, idempotency_key=key,
        redirected_from_shop_id=redirected_from_shop_id,
        created_by_staff_id=created_by_staff_id,
    )
    session.add(reservation)
    session.flush()
    queue_mail(session, reservation, "reserved")
    queue_mail(session, reservation, "shop_new")
    return Reserved(reservation, code, replayed=False)


def alternatives(session: Session, *, shop: Shop, isbn13: str,
                 limit: int = 3) -> list[availability.Holder]:
    """The nearest other shops that still have a copy, nearest to this shop first."""
    point = to_shape(shop.location)
    assert isinstance(point, Point)  # the column is geometry(Point)
    found = availability.nearest_holders(session, isbn13=isbn13, origin=(point.y, point.x),
                                         limit=limit + 1, radius_km=None)
    return [h for h in found.holders if h.shop_id != shop.id][:limit]


def queue_mail(session: Session, reservation: Reservation, kind: str) -> None:
    session.add(OutboxMail(reservation_id=reservation.id, kind=kind))


def find_by_code(session: Session, code: str) -> Reservation:
    digest = hash_code(code)
    reservation = session.scalar(select(Reservation).where(Reservation.code_hash == digest))
    if reservation is None or not hmac.compare_digest(reservation.code_hash, digest):
        raise NotFound("no reservation has this code", code="unknown_reservation")
    return reservation


def transition(session: Session, *, reservation_id: int, target: str, actor: str,
               shop_ids: list[int] | None = None, staff_id: int | None = None,
               reason: str | None = None) -> Reservation:
    """Move one reservation to `target` if `actor` may and its current state allows it.

    `shop_ids` limits staff to their own shops: another shop's reservation is "not found".
    """
    actors, sources = TRANSITIONS[target]
    if actor not in actors:
        raise Conflict(f"{actor} cannot make a reservation {target}", code="not_allowed")
    conditions = [Reservation.id == reservation_id, Reservation.state.in_(sources)]
    if shop_ids is not None:
        conditions.append(Reservation.shop_id.in_(shop_ids))
    if target in BEFORE_DEADLINE:
        conditions.append(Reservation.expires_at > func.now())
    if target == "expired":
        conditions.append(Reservation.expires_at <= func.now())
    # The wall clock, not the transaction's start: a collection must read as later than a file
    # exported while the transaction was open.
    values: dict[str, object] = {"state": target, STATE_TIMESTAMPS[target]: func.clock_timestamp()}
    if staff_id is not None:
        values["acted_by_staff_id"] = staff_id
    if reason:
        values["cancel_reason"] = reason[:500]
    changed = session.execute(
        update(Reservation).where(*conditions).values(**values).returning(Reservation.id)
    ).scalar()
    if changed is None:
        _explain_refusal(session, reservation_id, target, shop_ids)
    reservation = session.get(Reservation, reservation_id, populate_existing=True)
    assert reservation is not None
    if target in MAIL_ON:
        queue_mail(session, reservation, MAIL_ON[target])
    return reservation


def _explain_refusal(session: Session, reservation_id: int, target: str,
                     shop_ids: list[int] | None) -> None:
    current = session.get(Reservation, reservation_id, populate_existing=True)
    if current is None or (shop_ids is not None and current.shop_id not in shop_ids):
        raise NotFound("no such reservation", code="unknown_reservation")
    if current.state in TRANSITIONS[target][1] and target in BEFORE_DEADLINE:
        raise Conflict("this hold has expired", code="expired")
    raise Conflict(f"this reservation is already {current.state}", code=f"already_{current.state}")
