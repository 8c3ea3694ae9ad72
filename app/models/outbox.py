"""Mail waiting to leave: written in the transaction that caused it, sent after commit.

A mail server that is down never loses a reservation, and a mail is never sent for a change
that was rolled back: the sweeper retries what is still unsent.
"""
from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models.types import CreatedAt, Timestamp, in_list
from app.reservations.lifecycle import MAIL_KINDS


class OutboxMail(Base):
    __tablename__ = "outbox_mail"
    __table_args__ = (
        CheckConstraint(in_list("kind", MAIL_KINDS), name="kind_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_outbox_mail_unsent", "created_at", postgresql_where=text("sent_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reservation_id: Mapped[int] = mapped_column(
        ForeignKey("reservation.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[CreatedAt]
    sent_at: Mapped[Timestamp | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
