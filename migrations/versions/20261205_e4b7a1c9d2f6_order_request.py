"""Order requests: a reader asks a shop to order a book; their mail in the outbox; their count in
unmet demand.

`order_request` mirrors `reservation` (hashed code, snapshots, personal data erased after the
end, one timestamp per state); `outbox_mail` gains a third subject, `order_request_id`, with its
own mail kinds; `search_miss` gains the kind `order`.

Revision ID: e4b7a1c9d2f6
Revises: e4b8c2d6f0a7
Create Date: 2026-12-05 07:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = "e4b7a1c9d2f6"
down_revision = "e4b8c2d6f0a7"
branch_labels = None
depends_on = None

STATES = "'requested', 'ordered', 'arrived', 'collected', 'declined', 'cancelled', 'expired'"
TIMESTAMPS = {"ordered": "ordered_at", "arrived": "arrived_at", "collected": "collected_at",
              "declined": "declined_at", "cancelled": "cancelled_at", "expired": "expired_at"}
RESERVATION_KINDS = ("'reserved', 'shop_new', 'confirmed', 'declined', 'collected', 'cancelled', "
                     "'expired', 'reminder', 'import_report'")
ORDER_KINDS = ("'order_requested', 'order_shop_new', 'order_ordered', 'order_arrived', "
               "'order_collected', 'order_declined', 'order_cancelled', 'order_expired', "
               "'order_shop_cancelled'")


def upgrade() -> None:
    op.create_table(
        "order_request",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(), nullable=False),
        sa.Column("code_seed", sa.LargeBinary(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("isbn13", sa.String(length=13), nullable=False),
        sa.Column("state", sa.String(length=12), server_default="requested", nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("title_snapshot", sa.Text(), nullable=True),
        sa.Column("authors_snapshot", sa.Text(), server_default="", nullable=False),
        sa.Column("shop_name_snapshot", sa.Text(), nullable=False),
        sa.Column("shop_address_snapshot", sa.Text(), nullable=False),
        sa.Column("customer_name", sa.String(length=200), nullable=True),
        sa.Column("customer_email", sa.String(length=254), nullable=True),
        sa.Column("customer_phone", sa.String(length=40), nullable=True),
        sa.Column("personal_data_erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locale", sa.String(length=5), server_default="fr", nullable=False),
        sa.Column("idempotency_key", sa.String(length=80), nullable=True),
        sa.Column("request_fingerprint", sa.LargeBinary(), nullable=True),
        sa.Column("decline_reason", sa.String(length=20), nullable=True),
        sa.Column("staff_note", sa.Text(), nullable=True),
        sa.Column("acted_by_staff_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        *(sa.Column(column, sa.DateTime(timezone=True), nullable=True)
          for column in TIMESTAMPS.values()),
        sa.CheckConstraint(f"state IN ({STATES})", name=op.f("ck_order_request_state_known")),
        sa.CheckConstraint("octet_length(code_hash) = 32",
                           name=op.f("ck_order_request_code_hash_sha256")),
        sa.CheckConstraint("isbn13 ~ '^97[89][0-9]{10}$'",
                           name=op.f("ck_order_request_isbn13_format")),
        sa.CheckConstraint("personal_data_erased_at IS NOT NULL OR customer_email IS NOT NULL "
                           "OR customer_phone IS NOT NULL",
                           name=op.f("ck_order_request_customer_reachable")),
        sa.CheckConstraint("decline_reason IS NULL OR decline_reason IN ('out_of_print', "
                           "'unavailable', 'not_supplied', 'other')",
                           name=op.f("ck_order_request_decline_reason_known")),
        sa.CheckConstraint("state <> 'declined' OR decline_reason IS NOT NULL",
                           name=op.f("ck_order_request_declined_has_reason")),
        *(sa.CheckConstraint(f"state <> '{state}' OR {column} IS NOT NULL",
                             name=op.f(f"ck_order_request_{state}_has_{column}"))
          for state, column in TIMESTAMPS.items()),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], ondelete="RESTRICT",
                                name=op.f("fk_order_request_shop_id_shop")),
        sa.ForeignKeyConstraint(["acted_by_staff_id"], ["staff_user.id"], ondelete="SET NULL",
                                name=op.f("fk_order_request_acted_by_staff_id_staff_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_request")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_order_request_code_hash")),
    )
    op.create_index("uq_order_request_idempotency_key", "order_request", ["idempotency_key"],
                    unique=True, postgresql_where=sa.text("idempotency_key IS NOT NULL"))
    op.create_index("ix_order_request_shop_active", "order_request", ["shop_id", "created_at"],
                    postgresql_where=sa.text("state IN ('requested', 'ordered', 'arrived')"))
    op.create_index("ix_order_request_shop_created", "order_request",
                    ["shop_id", sa.text("created_at DESC")])
    op.create_index("ix_order_request_due", "order_request", ["expires_at"],
                    postgresql_where=sa.text("state IN ('arrived', 'requested')"))

    op.add_column("outbox_mail", sa.Column("order_request_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(op.f("fk_outbox_mail_order_request_id_order_request"), "outbox_mail",
                          "order_request", ["order_request_id"], ["id"], ondelete="CASCADE")
    op.create_index(op.f("ix_outbox_mail_order_request_id"), "outbox_mail",
                    ["order_request_id"])
    _outbox_checks(kinds=f"{RESERVATION_KINDS}, {ORDER_KINDS}",
                   subjects="reservation_id, import_run_id, order_request_id")
    op.create_check_constraint(op.f("ck_outbox_mail_order_kind_fits_subject"), "outbox_mail",
                               f"(kind IN ({ORDER_KINDS})) = (order_request_id IS NOT NULL)")
    _miss_kinds("'isbn', 'query', 'order'")


def downgrade() -> None:
    op.execute("DELETE FROM search_miss WHERE kind = 'order'")
    _miss_kinds("'isbn', 'query'")
    op.execute("DELETE FROM outbox_mail WHERE order_request_id IS NOT NULL")
    op.drop_constraint(op.f("ck_outbox_mail_order_kind_fits_subject"), "outbox_mail",
                       type_="check")
    _outbox_checks(kinds=RESERVATION_KINDS, subjects="reservation_id, import_run_id")
    op.drop_index(op.f("ix_outbox_mail_order_request_id"), table_name="outbox_mail")
    op.drop_constraint(op.f("fk_outbox_mail_order_request_id_order_request"), "outbox_mail",
                       type_="foreignkey")
    op.drop_column("outbox_mail", "order_request_id")
    op.drop_table("order_request")


def _outbox_checks(*, kinds: str, subjects: str) -> None:
    for name in ("kind_known", "one_subject"):
        op.drop_constraint(op.f(f"ck_outbox_mail_{name}"), "outbox_mail", type_="check")
    op.create_check_constraint(op.f("ck_outbox_mail_kind_known"), "outbox_mail",
                               f"kind IN ({kinds})")
    op.create_check_constraint(op.f("ck_outbox_mail_one_subject"), "outbox_mail",
                               f"num_nonnulls({subjects}) = 1")


def _miss_kinds(kinds: str) -> None:
    op.drop_constraint(op.f("ck_search_miss_kind_known"), "search_miss", type_="check")
    op.create_check_constraint(op.f("ck_search_miss_kind_known"), "search_miss",
                               f"kind IN ({kinds})")
