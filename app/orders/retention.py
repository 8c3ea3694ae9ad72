"""Erasing readers' details from ended orders, under the reservations' rule.

An order ends (collected, declined, cancelled, expired) and, PERSONAL_DATA_DAYS later, the
reader's name and contacts go, with every other copy the database holds: the scoped
idempotency key and fingerprint (derived from the contact), the bookshop's free-text note (staff
may have named the reader in it) and the last error of the order's mails (a refusing server
quotes the recipient). What stays is what the shop and the demand report need: the book, the
shop, the states and their moments. The file mail backend's files are erased by the
reservations' purge (`sweeper.erase_mail_files`), which reads the folder, not the rows.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, update
from sqlalchemy.orm import Session

from app.models import OrderRequest, OutboxMail
from app.orders.lifecycle import ENDED_STATES, STATE_TIMESTAMPS


def purge_personal_data(session: Session, *, older_than: timedelta) -> int:
    """Erase the readers' details of orders that ended more than `older_than` ago; how many."""
    # An ended order has exactly one of these: the moment it left the active states.
    ended = func.coalesce(*(getattr(OrderRequest, STATE_TIMESTAMPS[state])
                            for state in ENDED_STATES))
    ids = list(session.scalars(
        update(OrderRequest)
        .where(OrderRequest.state.in_(ENDED_STATES),
               OrderRequest.personal_data_erased_at.is_(None),
               ended < func.now() - older_than)
        .values(customer_name=None, customer_email=None, customer_phone=None,
                idempotency_key=None, request_fingerprint=None, staff_note=None,
                personal_data_erased_at=func.now())
        .returning(OrderRequest.id)))
    if ids:
        session.execute(update(OutboxMail).where(OutboxMail.order_request_id.in_(ids),
                                                 OutboxMail.last_error.is_not(None))
                        .values(last_error=None))
    return len(ids)
