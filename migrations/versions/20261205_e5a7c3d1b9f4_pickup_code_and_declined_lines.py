"""Short pickup codes, re-sent reservations, and declined lines withheld until the next file.

- `reservation.pickup_code`: six characters a reader reads aloud at the counter, unique among a
  shop's active reservations (partial unique index); reservations made before have none.
- `outbox_mail.kind` also allows `resent` (a reader asked for their active reservations again).
- `counting_hold`: a declined reservation withholds every copy of its line (holds = 10^9, more
  than any shelf: importers/validate.MAX_QUANTITY is 100,000) until a file exported after the
  decline; `ix_reservation_counting` covers declined rows so the view keeps using it.

Revision ID: e5a7c3d1b9f4
Revises: e4b7a1c9d2f6
Create Date: 2026-12-05 07:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = "e5a7c3d1b9f4"
down_revision = "e4b7a1c9d2f6"
branch_labels = None
depends_on = None

KINDS = ("'reserved', 'shop_new', 'confirmed', 'declined', 'expired', 'reminder', "
         "'cancelled', 'collected'")
# The order requests' mail kinds (migration e4b7a1c9d2f6, the one before): kept as they are.
ORDER_KINDS = ("'order_requested', 'order_shop_new', 'order_ordered', 'order_arrived', "
               "'order_collected', 'order_declined', 'order_cancelled', 'order_expired', "
               "'order_shop_cancelled'")

COUNTING_HOLD = """
CREATE OR REPLACE VIEW counting_hold AS
SELECT r.shop_id, r.isbn13,
       CASE WHEN bool_or(r.state = 'declined') THEN 1000000000 ELSE count(*) END AS holds
FROM reservation r
JOIN shop s ON s.id = r.shop_id
WHERE (r.state IN ('held', 'confirmed') AND r.expires_at > now())
   OR (r.state = 'collected'
       AND (s.stock_exported_at IS NULL OR r.collected_at > s.stock_exported_at))
   OR (r.state = 'declined'
       AND (s.stock_exported_at IS NULL OR r.declined_at > s.stock_exported_at))
GROUP BY r.shop_id, r.isbn13
"""

OLD_COUNTING_HOLD = """
CREATE OR REPLACE VIEW counting_hold AS
SELECT r.shop_id, r.isbn13, count(*) AS holds
FROM reservation r
JOIN shop s ON s.id = r.shop_id
WHERE (r.state IN ('held', 'confirmed') AND r.expires_at > now())
   OR (r.state = 'collected'
       AND (s.stock_exported_at IS NULL OR r.collected_at > s.stock_exported_at))
GROUP BY r.shop_id, r.isbn13
"""


def upgrade() -> None:
    op.add_column("reservation", sa.Column("pickup_code", sa.String(length=8), nullable=True))
    op.create_check_constraint(op.f("ck_reservation_pickup_code_format"), "reservation",
                               "pickup_code ~ '^[2-9A-HJKMNP-TV-Z]{6}$'")
    op.create_index("uq_reservation_active_pickup_code", "reservation",
                    ["shop_id", "pickup_code"], unique=True,
                    postgresql_where=sa.text("state IN ('held', 'confirmed')"))
    op.drop_constraint(op.f("ck_outbox_mail_kind_known"), "outbox_mail", type_="check")
    op.create_check_constraint(op.f("ck_outbox_mail_kind_known"), "outbox_mail",
                               f"kind IN ({KINDS}, 'resent', 'import_report', {ORDER_KINDS})")
    op.drop_index("ix_reservation_counting", table_name="reservation")
    op.create_index("ix_reservation_counting", "reservation", ["isbn13", "shop_id"],
                    postgresql_where=sa.text(
                        "state IN ('held', 'confirmed', 'collected', 'declined')"))
    op.execute(COUNTING_HOLD)


def downgrade() -> None:
    op.execute(OLD_COUNTING_HOLD)
    op.drop_index("ix_reservation_counting", table_name="reservation")
    op.create_index("ix_reservation_counting", "reservation", ["isbn13", "shop_id"],
                    postgresql_where=sa.text("state IN ('held', 'confirmed', 'collected')"))
    op.execute("DELETE FROM outbox_mail WHERE kind = 'resent'")
    op.drop_constraint(op.f("ck_outbox_mail_kind_known"), "outbox_mail", type_="check")
    op.create_check_constraint(op.f("ck_outbox_mail_kind_known"), "outbox_mail",
                               f"kind IN ({KINDS}, 'import_report', {ORDER_KINDS})")
    op.drop_index("uq_reservation_active_pickup_code", table_name="reservation",
                  postgresql_where=sa.text("state IN ('held', 'confirmed')"))
    op.drop_constraint(op.f("ck_reservation_pickup_code_format"), "reservation", type_="check")
    op.drop_column("reservation", "pickup_code")
