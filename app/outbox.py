"""The mail edge: render and send the mail the reservation lifecycle queued in `outbox_mail`.

The lifecycle (`app/reservations/`) only queues mail, in the transaction that caused it; this
Flask-side module sends it after commit, in the reader's language (Flask-Babel), with links to
PUBLIC_URL and the reader's code (SECRET_KEY), through `app/mail.py`. Views call
`send_pending` for one reservation right after their commit; `flask reservations sweep` calls it
for everything still unsent, so a mail server that was down is retried up to MAX_ATTEMPTS times.
"""
from __future__ import annotations

from flask import current_app
from flask_babel import force_locale, gettext
from geoalchemy2.shape import to_shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app import mail
from app.clock import database_now
from app.models import OutboxMail, Reservation, Shop
from app.reservations.codes import code_for
from app.reservations.lifecycle import DECLINED, REMINDER_MINUTES, SHOP_MAIL_KINDS, TRANSITIONS
from app.reservations.reserve import alternatives as other_holders
from app.services.directory import shop_status

MAX_ATTEMPTS = 8


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
    locale = "fr" if item.kind in SHOP_MAIL_KINDS else reservation.locale
    with force_locale(locale):
        alternatives = (other_holders(session, shop=shop, isbn13=reservation.isbn13)
                        if item.kind == TRANSITIONS[DECLINED].mail else [])
        code = code_for(current_app.config["SECRET_KEY"], reservation.code_seed)
        sent = mail.send(to=to, subject=subject(item.kind, reservation), template="reservation",
                         kind=item.kind, reservation=reservation, shop=shop, code=code,
                         status=shop_status(shop, database_now(session)), base_url=base,
                         alternatives=alternatives, location=to_shape(shop.location),
                         reminder_minutes=REMINDER_MINUTES)
    if sent:
        item.sent_at = func.now()
        item.last_error = None
    else:
        item.last_error = "send failed"
    return sent


def _recipients(reservation: Reservation, shop: Shop, kind: str) -> list[str]:
    if kind in SHOP_MAIL_KINDS:
        return [shop.email] if shop.email else []
    return [reservation.customer_email] if reservation.customer_email else []


def subject(kind: str, reservation: Reservation) -> str:
    title = reservation.title_snapshot
    subjects: dict[str, str] = {
        "reserved": gettext("Your reservation: %(title)s", title=title),
        "shop_new": gettext("New reservation: %(title)s", title=title),
        "confirmed": gettext("Set aside for you: %(title)s", title=title),
        "declined": gettext("Not available after all: %(title)s", title=title),
        "expired": gettext("Your hold has ended: %(title)s", title=title),
        "reminder": gettext("%(minutes)d minutes left to collect %(title)s",
                            minutes=REMINDER_MINUTES, title=title),
        "cancelled": gettext("Reservation cancelled: %(title)s", title=title),
        "collected": gettext("Enjoy your reading: %(title)s", title=title),
    }
    return subjects[kind]
