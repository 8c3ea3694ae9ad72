"""What happens to reservations without anyone clicking: reminders and erasure.

Correctness never waits for these jobs: availability checks deadlines itself with the database
clock. The sweeper (`flask reservations sweep`, every minute) records expiries through the
transition table (`transitions.expire_due`), reminds readers, and then the Flask side sends the
mail that is due, beside the mail worker (`app/outbox.py`). The purge erases readers' details
once they are no longer needed.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, update
from sqlalchemy.orm import Session

from app import clock
from app.models import OutboxMail, Reservation
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
    queue_mail(session, [(reservation_id, REMINDER_MAIL) for reservation_id in ids])
    return len(ids)


def purge_personal_data(session: Session, *, older_than: timedelta) -> int:
    """Erase reader names and contacts `older_than` after their reservation ended, with every
    other copy the database holds: the scoped idempotency key and fingerprint (derived from the
    contact), the free-text cancel reason (staff may have named the reader in it) and the last
    error of its mails (a refusing mail server quotes the recipient's address)."""
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
    if ids:
        session.execute(update(OutboxMail).where(OutboxMail.reservation_id.in_(ids),
                                                 OutboxMail.last_error.is_not(None))
                        .values(last_error=None))
    return len(ids)


def erase_mail_files(folder: Path, *, older_than: timedelta) -> int:
    """Delete the file mail backend's messages written more than `older_than` ago.

    The file backend (development, the demo, a server without SMTP) keeps every mail it "sends"
    as a file: each holds a reader's name, contact and code, so it must not outlive the rows the
    purge erases. A mail is written when its reservation changes, never after it ended, so a
    file older than the delay only holds reservations that ended longer ago still.
    """
    if not folder.is_dir():
        return 0
    cutoff = (clock.now() - older_than).timestamp()
    erased = 0
    for path in folder.iterdir():
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)  # a concurrent purge may have taken it
            erased += 1
    return erased
