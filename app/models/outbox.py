"""Mail waiting to leave: written in the transaction that caused it, sent by the mail worker.

A mail server that is down never loses a reservation, and a mail is never sent for a change
that was rolled back. Each row is about one reservation, one import run or one order request
(exactly one of the three). A row is queued (`sent_at` and `failed_at` empty) until it is sent,
or abandoned (`failed_at`) when it could not leave within
`app.services.mail_queue.GIVE_UP_AFTER`; between attempts `next_attempt_at` backs off.
Inserting rows notifies the `outbox_mail` channel at commit (a trigger, see the migration), which
wakes the worker (`app/mail_worker.py`).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models.types import CreatedAt, Timestamp, in_list
from app.orders.lifecycle import ORDER_MAIL_KINDS
from app.reservations.lifecycle import MAIL_KINDS

# The one kind that is about an import run rather than a reservation.
IMPORT_REPORT = "import_report"
OUTBOX_KINDS = (*MAIL_KINDS, IMPORT_REPORT, *ORDER_MAIL_KINDS)
# The channel the insert trigger notifies and the worker listens to.
MAIL_CHANNEL = "outbox_mail"


class OutboxMail(Base):
    __tablename__ = "outbox_mail"
    __table_args__ = (
        CheckConstraint(in_list("kind", OUTBOX_KINDS), name="kind_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("num_nonnulls(reservation_id, import_run_id, order_request_id) = 1",
                        name="one_subject"),
        CheckConstraint(f"(kind = '{IMPORT_REPORT}') = (import_run_id IS NOT NULL)",
                        name="kind_fits_subject"),
        CheckConstraint(f"({in_list('kind', ORDER_MAIL_KINDS)}) = (order_request_id IS NOT NULL)",
                        name="order_kind_fits_subject"),
        CheckConstraint("sent_at IS NULL OR failed_at IS NULL", name="sent_or_abandoned"),
        Index("ix_outbox_mail_due", "next_attempt_at",
              postgresql_where=text("sent_at IS NULL AND failed_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reservation_id: Mapped[int | None] = mapped_column(
        ForeignKey("reservation.id", ondelete="CASCADE"), index=True)
    import_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_run.id", ondelete="CASCADE"), index=True)
    order_request_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("order_request.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[CreatedAt]
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                      server_default=func.now())
    sent_at: Mapped[Timestamp | None]
    failed_at: Mapped[Timestamp | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
