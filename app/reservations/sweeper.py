"""What happens to reservations without anyone clicking: reminders and erasure.

Correctness never waits for these jobs: availability checks deadlines itself with the database
clock. The sweeper (`flask reservations sweep`, every minute) records expiries through the
transition table (`transitions.expire_due`), reminds readers, and then the Flask side sends or
retries the queued mail (`app/outbox.py`). The purge erases readers' details once they are no
longer needed.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, update
from sqlalchemy.orm import Session

from app.models import Reservation
from app.reservations.lifecycle import (
    ACTIVE_STATES,
    ENDED_STATES,
    REMINDER_BEFORE,
    REMINDER_MAIL,
    STATE_TIMESTAMPS,
)
from app.reservations.transitions import queue_mail


def remind_soon_due(session: Session) -> int:
    """Queue one reminder per active hold whose deadline is less than REMINDER_BEFORE away."""
    ids = list(session.scalars(
        update(Reservation)
        .where(Reservation.state.in_(ACTIVE_STATES),
               Reservation.reminder_sent_at.is_(None),
               Reservation.expires_at > func.now(),
               Reservation.expires_at <= func.now() + REMINDER_BEFORE)
        .values(reminder_sent_at=func.now())
        .returning(Reservation.id)))
    for reservation_id in ids:
        queue_mail(session, reservation_id, REMINDER_MAIL)
    return len(ids)


def purge_personal_data(session: Session, *, older_than: timedelta) -> int:
    """Erase reader names and contacts `older_than` after their reservation ended, with every
    other copy the row holds: the scoped idempotency key and fingerprint (derived from the
    contact) and the free-text cancel reason (staff may have named the reader in it)."""
    # An ended reservation has exactly one of these: the moment it left the active states.
    ended = func.coalesce(*(getattr(Reservation, STATE_TIMESTAMPS[state])
                            for state in ENDED_STATES))
    ids = list(session.scalars(
        update(Reservation)
        .where(Reservation.state.in_(ENDED_STATES),
               Reservation.personal_data_erased_at.is_(None),
               ended < func.now() - older_than)
        .values(customer_name=None, customer_email=None, customer_phone=None,
                idempotency_key=None, request_fingerprint=None, cancel_reason=None,
                personal_data_erased_at=func.now())
        .returning(Reservation.id)))
    return len(ids)
