"""The mail worker's sending side: render each queued mail and hand it to the mail server.

Requests and commands only queue mail in `outbox_mail`, in the transaction that causes it; this
Flask-side module sends it, from `flask mail work` (`app/mail_worker.py` wakes it) and from the
minute's sweep. A reservation mail is rendered in the reader's language (Flask-Babel), with links
to PUBLIC_URL and the reader's code (SECRET_KEY); an import report by
`app/import_report_mail.py`. Claiming, backoff and abandoning are `app/services/mail_queue.py`.
"""
from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale, gettext
from flask_mailman import EmailMultiAlternatives
from geoalchemy2.shape import to_shape
from sqlalchemy.orm import Session, sessionmaker

from app import mail
from app.clock import database_now
from app.import_report_mail import import_report
from app.models import OutboxMail, Reservation, Shop
from app.reservations.codes import code_for
from app.reservations.lifecycle import DECLINED, REMINDER_MINUTES, SHOP_MAIL_KINDS, TRANSITIONS
from app.reservations.reserve import alternatives as other_holders
from app.services import mail_queue
from app.services.directory import shop_status
from app.templating.words import book_title

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pass:
    """What one pass over the due mail did."""

    sent: int = 0
    failed: int = 0
    abandoned: int = 0
    # Stopped early because the server could not be reached.
    server_down: bool = False
    # Stopped after `limit` mails with more still due.
    more_due: bool = False


def send_due(session_factory: sessionmaker[Session], *, limit: int = 500) -> Pass:
    """Send the mail that is due, one claimed mail per small transaction, up to `limit`.

    The pass stops at the first failure that is not about the message itself (no connection,
    no greeting, a timeout): the server is down for every mail, and trying each of them would
    cost a timeout apiece. The others wait for the next pass.
    """
    sent = failed = abandoned = 0
    for _ in range(limit):
        with session_factory() as session:
            item = mail_queue.claim_due(session)
            if item is None:
                return Pass(sent=sent, failed=failed, abandoned=abandoned)
            mail_id, kind = item.id, item.kind
            try:
                message = compose(session, item)
                if message is not None:
                    message.send()
            except Exception as exc:  # whatever it was, the mail stays queued with its reason
                # The class only: the server's words may quote an address (kept in last_error,
                # which the personal-data purge erases).
                logger.warning("mail %d (%s) not sent: %s", mail_id, kind, type(exc).__name__)
                # A failed query leaves the transaction unusable: record the failure in a fresh
                # one, so that even a mail that cannot be rendered backs off and is abandoned.
                session.rollback()
                item = mail_queue.claim_due(session, mail_id)
                if item is not None:
                    abandoned += mail_queue.record_failure(session, item, exc)
                    session.commit()
                failed += 1
                if server_unreachable(exc):
                    return Pass(sent=sent, failed=failed, abandoned=abandoned, server_down=True)
                continue
            mail_queue.record_sent(item)
            session.commit()
            sent += 1
    return Pass(sent=sent, failed=failed, abandoned=abandoned, more_due=True)


def server_unreachable(error: BaseException) -> bool:
    """A failure of the connection rather than the server's answer about one message."""
    answered = (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused)
    return isinstance(error, OSError) and not isinstance(error, answered)


def compose(session: Session, item: OutboxMail) -> EmailMultiAlternatives | None:
    """The rendered mail for a queued row; None if there is no one left to tell."""
    if item.import_run_id is not None:
        return import_report(session, run_id=item.import_run_id)
    reservation = session.get(Reservation, item.reservation_id)
    shop = session.get(Shop, reservation.shop_id) if reservation else None
    if reservation is None or shop is None or reservation.personal_data_erased_at:
        return None
    to = _recipients(reservation, shop, item.kind)
    if not to:
        return None
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    locale = "fr" if item.kind in SHOP_MAIL_KINDS else reservation.locale
    with force_locale(locale):
        alternatives = (other_holders(session, shop=shop, isbn13=reservation.isbn13)
                        if item.kind == TRANSITIONS[DECLINED].mail else [])
        code = code_for(current_app.config["SECRET_KEY"], reservation.code_seed)
        return mail.compose(to=to, subject=subject(item.kind, reservation),
                            template="reservation", kind=item.kind, reservation=reservation,
                            shop=shop, code=code,
                            status=shop_status(shop, database_now(session)), base_url=base,
                            alternatives=alternatives, location=to_shape(shop.location),
                            reminder_minutes=REMINDER_MINUTES)


def _recipients(reservation: Reservation, shop: Shop, kind: str) -> list[str]:
    if kind in SHOP_MAIL_KINDS:
        return [shop.email] if shop.email else []
    return [reservation.customer_email] if reservation.customer_email else []


def subject(kind: str, reservation: Reservation) -> str:
    title = book_title(reservation.title_snapshot)
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
