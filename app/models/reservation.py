"""A copy held for a reader, with what was promised to them."""
from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models.types import CreatedAt, Timestamp, in_list
from app.reservations.lifecycle import (
    ACTIVE_STATES,
    COUNTING_STATES,
    COUNTS_UNTIL_NEXT_FILE,
    INITIAL_STATE,
    PICKUP_CODE_PATTERN,
    STATE_TIMESTAMPS,
    STATES,
)


class Reservation(Base):
    __tablename__ = "reservation"
    __table_args__ = (
        CheckConstraint(in_list("state", STATES), name="state_known"),
        CheckConstraint("octet_length(code_hash) = 32", name="code_hash_sha256"),
        CheckConstraint("isbn13 ~ '^97[89][0-9]{10}$'", name="isbn13_format"),
        CheckConstraint("expires_at > created_at", name="expires_after_creation"),
        CheckConstraint(
            "personal_data_erased_at IS NOT NULL "
            "OR customer_email IS NOT NULL OR customer_phone IS NOT NULL",
            name="customer_reachable",
        ),
        CheckConstraint(
            "redirected_from_shop_id IS NULL OR redirected_from_shop_id <> shop_id",
            name="redirect_to_another_shop",
        ),
        # Each state past `held` has the timestamp of the transition that led to it.
        *(
            CheckConstraint(f"state <> '{state}' OR {column} IS NOT NULL",
                            name=f"{state}_has_{column}")
            for state, column in STATE_TIMESTAMPS.items()
        ),
        # A retried or double-clicked form creates one reservation, not two.
        Index(
            "uq_reservation_idempotency_key",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
        # Availability subtracts these: active holds and collections not yet seen by a file.
        Index(
            "ix_reservation_active_holds",
            "shop_id",
            "isbn13",
            "expires_at",
            postgresql_where=text(in_list("state", ACTIVE_STATES)),
        ),
        Index(
            "ix_reservation_collected",
            "shop_id",
            "isbn13",
            "collected_at",
            postgresql_where=text(in_list("state", COUNTS_UNTIL_NEXT_FILE)),
        ),
        Index("ix_reservation_shop_created", "shop_id", text("created_at DESC")),
        # The code read aloud at the counter names one active reservation of its shop.
        CheckConstraint(f"pickup_code ~ '{PICKUP_CODE_PATTERN}'", name="pickup_code_format"),
        Index(
            "uq_reservation_active_pickup_code",
            "shop_id",
            "pickup_code",
            unique=True,
            postgresql_where=text(in_list("state", ACTIVE_STATES)),
        ),
        # The `counting_hold` view filtered by ISBN, as availability queries ask it.
        Index(
            "ix_reservation_counting",
            "isbn13",
            "shop_id",
            postgresql_where=text(in_list("state", COUNTING_STATES)),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # SHA-256 of the >= 128-bit code given to the reader; the code itself is never stored.
    code_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    # The server's random seed the code is derived from (app.reservations.codes), so that every
    # mail can carry the code; never anything a client sent.
    code_seed: Mapped[bytes] = mapped_column(LargeBinary)
    # Six characters to read aloud at the counter (app.reservations.codes.new_pickup_code);
    # only the staff desk looks them up, within its shop. None before they existed.
    pickup_code: Mapped[str | None] = mapped_column(String(8))
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="RESTRICT"))
    isbn13: Mapped[str] = mapped_column(String(13))
    state: Mapped[str] = mapped_column(String(12), default=INITIAL_STATE,
                                       server_default=INITIAL_STATE)
    expires_at: Mapped[Timestamp]
    # What the reader was promised, frozen at reserve time.
    title_snapshot: Mapped[str] = mapped_column(Text)
    authors_snapshot: Mapped[str] = mapped_column(Text, default="")
    shop_name_snapshot: Mapped[str] = mapped_column(Text)
    shop_address_snapshot: Mapped[str] = mapped_column(Text)
    # Personal data, erased some days after the reservation ends.
    customer_name: Mapped[str | None] = mapped_column(String(200))
    customer_email: Mapped[str | None] = mapped_column(String(254))
    customer_phone: Mapped[str | None] = mapped_column(String(40))
    personal_data_erased_at: Mapped[Timestamp | None]
    locale: Mapped[str] = mapped_column(String(5), default="fr", server_default="fr")
    # An HMAC of the requester's scope and their idempotency key, and the SHA-256 of the fields
    # of their request: a retry replays only the same requester's identical request.
    idempotency_key: Mapped[str | None] = mapped_column(String(80))
    request_fingerprint: Mapped[bytes | None] = mapped_column(LargeBinary)
    redirected_from_shop_id: Mapped[int | None] = mapped_column(
        ForeignKey("shop.id", ondelete="SET NULL")
    )
    created_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    acted_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[CreatedAt]
    confirmed_at: Mapped[Timestamp | None]
    declined_at: Mapped[Timestamp | None]
    collected_at: Mapped[Timestamp | None]
    expired_at: Mapped[Timestamp | None]
    cancelled_at: Mapped[Timestamp | None]
    reminder_sent_at: Mapped[Timestamp | None]
