"""A reader who lost their mail or code gets their active reservations sent again.

The reader gives an email address; every active reservation made with it is mailed again (kind
`resent`: the book, the deadline, both codes, the link). Whether any exists is never said to the
asker: the page answers the same either way, so the form tells no one whose address reserved
what. A reservation is re-sent at most once per RESEND_EVERY, whoever asks, so the form cannot
be used to flood someone's mailbox (the view also limits the asker's address).
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from app.models import OutboxMail, Reservation
from app.reservations.lifecycle import ACTIVE_STATES, RESENT_MAIL
from app.reservations.transitions import queue_mail

RESEND_EVERY = timedelta(minutes=15)


def resend_active(session: Session, *, email: str) -> int:
    """Queue a `resent` mail for each running hold made with `email` (case ignored) and not
    re-sent within RESEND_EVERY; return how many (for logs and tests, never for the asker)."""
    recently_resent = exists().where(
        OutboxMail.reservation_id == Reservation.id, OutboxMail.kind == RESENT_MAIL,
        OutboxMail.created_at > func.now() - RESEND_EVERY)
    ids = list(session.scalars(
        select(Reservation.id).where(
            func.lower(Reservation.customer_email) == email.strip().lower(),
            Reservation.state.in_(ACTIVE_STATES), Reservation.expires_at > func.now(),
            ~recently_resent)
        .order_by(Reservation.expires_at)))
    queue_mail(session, [(reservation_id, RESENT_MAIL) for reservation_id in ids])
    return len(ids)
