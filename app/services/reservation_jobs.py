"""What happens to reservations without anyone clicking: expiry, reminders, mail, erasure.

Correctness never waits for these jobs: availability checks deadlines itself with the database
clock. The sweeper only records states, reminds readers and sends (or retries) the mail.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale, gettext
from geoalchemy2.shape import to_shape
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from app import mail
from app.models import OutboxMail, Reservation, Shop
from app.services import reservations
from app.services.directory import shop_status

logger = logging.getLogger(__name__)
REMINDER_BEFORE = timedelta(minutes=30)
MAX_ATTEMPTS = 8
READER_KINDS = {"reserved", "confirmed", "declined", "expired", "reminder", "cancelled",
                "collected"}


@dataclass(frozen=True)
class SweepReport:
    expired: int
    reminded: int
    mailed: int
    failed: int


def expire_due(session: Session) -> int:
    """Record the holds whose deadline has passed, one conditional update for all."""
    ids = list(session.scalars(
        update(Reservation)
        .where(Reservation.state.in_(("held", "confirmed")), Reservation.expires_at <= func.now())
        .values(state="expired", expired_at=func.now())
        .returning(Reservation.id)))
    for reservation_id in ids:
        session.add(OutboxMail(reservation_id=reservation_id, kind="expired"))
    return len(ids)


def remind_soon_due(session: Session) -> int:
    ids = list(session.scalars(
        update(Reservation)
        .where(Reservation.state.in_(("held", "confirmed")),
               Reservation.reminder_sent_at.is_(None),
               Reservation.expires_at > func.now(),
               Reservation.expires_at <= func.now() + REMINDER_BEFORE)
        .values(reminder_sent_at=func.now())
        .returning(Reservation.id)))
    for reservation_id in ids:
        session.add(OutboxMail(reservation_id=reservation_id, kind="reminder"))
    return len(ids)


def _recipients(reservation: Reservation, shop: Shop, kind: str) -> list[str]:
    if kind in READER_KINDS:
        return [reservation.customer_email] if reservation.customer_email else []
    return [shop.email] if shop.email else []


def send_one(session: Session, item: OutboxMail) -> bool:
    """Render and send one queued mail in the reader's language; record the outcome."""
    reservation = session.get(Reservation, item.reservation_id)
    shop = session.get(Shop, reservation.shop_id) if reservation else None
    item.attempts += 1
    if reservation is None or shop is None or reservation.personal_data_erased_at:
        item.sent_at = func.now()  # nothing left to say to anyone
        return True
    to = _recipients(reservation, shop, item.kind)
    if not to:
        item.sent_at = func.now()
        return True
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    locale = reservation.locale if item.kind in READER_KINDS else "fr"
    with force_locale(locale):
        alternatives = (reservations.alternatives(session, shop=shop, isbn13=reservation.isbn13)
                        if item.kind == "declined" else [])
        code = reservations.code_for(current_app.config["SECRET_KEY"],
                                     reservation.idempotency_key or "")
        sent = mail.send(to=to, subject=_subject(item.kind, reservation), template="reservation",
                         kind=item.kind, reservation=reservation, shop=shop, code=code,
                         status=shop_status(shop, func_now(session)), base_url=base,
                         alternatives=alternatives, location=to_shape(shop.location))
    if sent:
        item.sent_at = func.now()
        item.last_error = None
    else:
        item.last_error = "send failed"
    return sent


def func_now(session: Session) -> datetime:
    now: datetime | None = session.scalar(select(func.now()))
    assert now is not None
    return now


def _subject(kind: str, reservation: Reservation) -> str:
    title = reservation.title_snapshot
    subjects = {
        "reserved": gettext("Your reservation: %(title)s", title=title),
        "shop_new": gettext("New reservation: %(title)s", title=title),
        "confirmed": gettext("Set aside for you: %(title)s", title=title),
        "declined": gettext("Not available after all: %(title)s", title=title),
        "expired": gettext("Your hold has ended: %(title)s", title=title),
        "reminder": gettext("30 minutes left to collect %(title)s", title=title),
        "cancelled": gettext("Reservation cancelled: %(title)s", title=title),
        "collected": gettext("Enjoy your reading: %(title)s", title=title),
    }
    return subjects[kind]


def send_pending(session_factory: sessionmaker[Session], *, reservation_id: int | None = None,
                 limit: int = 200) -> tuple[int, int]:
    """Send queued mail (all, or one reservation's), each in its own small transaction."""
    sent = failed = 0
    with session_factory() as session:
        query = (select(OutboxMail.id).where(OutboxMail.sent_at.is_(None),
                                             OutboxMail.attempts < MAX_ATTEMPTS)
                 .order_by(OutboxMail.id).limit(limit))
        if reservation_id is not None:
            query = query.where(OutboxMail.reservation_id == reservation_id)
        ids = list(session.scalars(query))
    for mail_id in ids:
        with session_factory() as session:
            item = session.scalar(select(OutboxMail).where(OutboxMail.id == mail_id,
                                                           OutboxMail.sent_at.is_(None))
                                  .with_for_update(skip_locked=True))
            if item is None:
                continue
            ok = send_one(session, item)
            session.commit()
            sent, failed = sent + ok, failed + (not ok)
    return sent, failed


def purge_personal_data(session: Session, *, older_than: timedelta) -> int:
    """Erase reader names and contacts `older_than` after their reservation ended."""
    ended = func.coalesce(Reservation.collected_at, Reservation.cancelled_at,
                          Reservation.declined_at, Reservation.expired_at)
    ids = list(session.scalars(
        update(Reservation)
        .where(Reservation.state.in_(("collected", "cancelled", "declined", "expired")),
               Reservation.personal_data_erased_at.is_(None),
               ended < func.now() - older_than)
        .values(customer_name=None, customer_email=None, customer_phone=None,
                personal_data_erased_at=func.now())
        .returning(Reservation.id)))
    return len(ids)
