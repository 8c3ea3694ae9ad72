"""A reader's request that a shop order a book for them, with what was promised to them."""
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
from app.orders.lifecycle import (
    ACTIVE_STATES,
    DECLINE_REASONS,
    DECLINED,
    INITIAL_STATE,
    STATE_TIMESTAMPS,
    STATES,
    TRANSITIONS,
)

# States the sweeper may expire: those with a deadline (`lifecycle.TRANSITIONS[EXPIRED]`).
EXPIRING_STATES = tuple(sorted(next(rule.sources for rule in TRANSITIONS.values()
                                    if rule.only_when_due)))


class OrderRequest(Base):
    __tablename__ = "order_request"
    __table_args__ = (
        CheckConstraint(in_list("state", STATES), name="state_known"),
        CheckConstraint("octet_length(code_hash) = 32", name="code_hash_sha256"),
        CheckConstraint("isbn13 ~ '^97[89][0-9]{10}$'", name="isbn13_format"),
        CheckConstraint(
            "personal_data_erased_at IS NOT NULL "
            "OR customer_email IS NOT NULL OR customer_phone IS NOT NULL",
            name="customer_reachable",
        ),
        CheckConstraint("decline_reason IS NULL OR "
                        + in_list("decline_reason", tuple(DECLINE_REASONS)),
                        name="decline_reason_known"),
        CheckConstraint(f"state <> '{DECLINED}' OR decline_reason IS NOT NULL",
                        name="declined_has_reason"),
        *(
            CheckConstraint(f"state <> '{state}' OR {column} IS NOT NULL",
                            name=f"{state}_has_{column}")
            for state, column in STATE_TIMESTAMPS.items()
        ),
        Index("uq_order_request_idempotency_key", "idempotency_key", unique=True,
              postgresql_where=text("idempotency_key IS NOT NULL")),
        # The desk: a shop's running orders, oldest first.
        Index("ix_order_request_shop_active", "shop_id", "created_at",
              postgresql_where=text(in_list("state", ACTIVE_STATES))),
        Index("ix_order_request_shop_created", "shop_id", text("created_at DESC")),
        # The sweeper: orders whose deadline may pass.
        Index("ix_order_request_due", "expires_at",
              postgresql_where=text(in_list("state", EXPIRING_STATES))),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # SHA-256 of the reader's secret code (app.orders.request.order_code); never the code.
    code_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    code_seed: Mapped[bytes] = mapped_column(LargeBinary)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="RESTRICT"))
    isbn13: Mapped[str] = mapped_column(String(13))
    state: Mapped[str] = mapped_column(String(12), default=INITIAL_STATE,
                                       server_default=INITIAL_STATE)
    # The running deadline (answer, then pickup); NULL while the supplier works.
    expires_at: Mapped[Timestamp | None]
    # What the reader asked for, frozen: no title when the catalogue does not know the edition.
    title_snapshot: Mapped[str | None] = mapped_column(Text)
    authors_snapshot: Mapped[str] = mapped_column(Text, default="", server_default="")
    shop_name_snapshot: Mapped[str] = mapped_column(Text)
    shop_address_snapshot: Mapped[str] = mapped_column(Text)
    # Personal data, erased some days after the order ends (app.orders.retention).
    customer_name: Mapped[str | None] = mapped_column(String(200))
    customer_email: Mapped[str | None] = mapped_column(String(254))
    customer_phone: Mapped[str | None] = mapped_column(String(40))
    personal_data_erased_at: Mapped[Timestamp | None]
    locale: Mapped[str] = mapped_column(String(5), default="fr", server_default="fr")
    idempotency_key: Mapped[str | None] = mapped_column(String(80))
    request_fingerprint: Mapped[bytes | None] = mapped_column(LargeBinary)
    decline_reason: Mapped[str | None] = mapped_column(String(20))
    # The bookshop's own words to the reader (a decline's detail): free text, erased too.
    staff_note: Mapped[str | None] = mapped_column(Text)
    acted_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"))
    created_at: Mapped[CreatedAt]
    ordered_at: Mapped[Timestamp | None]
    arrived_at: Mapped[Timestamp | None]
    collected_at: Mapped[Timestamp | None]
    declined_at: Mapped[Timestamp | None]
    cancelled_at: Mapped[Timestamp | None]
    expired_at: Mapped[Timestamp | None]
