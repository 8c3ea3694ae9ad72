"""The availability rule of architecture §3 as one view: the holds that count right now.

Every query that needs "copies available" (the nearest holders, title search counts, reserving)
joins this view instead of restating the rule, so the rule lives in exactly one place. Filtered
by (shop_id, isbn13), the planner pushes the filter below the grouping and uses the reservation
indexes.

Revision ID: 37151dc008fe
Revises: 2b936e6312f1
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "37151dc008fe"
down_revision = "2b936e6312f1"
branch_labels = None
depends_on = None

COUNTING_HOLD = """
CREATE VIEW counting_hold AS
SELECT r.shop_id, r.isbn13, count(*) AS holds
FROM reservation r
JOIN shop s ON s.id = r.shop_id
WHERE (r.state IN ('held', 'confirmed') AND r.expires_at > now())
   OR (r.state = 'collected'
       AND (s.stock_exported_at IS NULL OR r.collected_at > s.stock_exported_at))
GROUP BY r.shop_id, r.isbn13
"""


def upgrade() -> None:
    op.create_index("ix_reservation_counting", "reservation", ["isbn13", "shop_id"],
                    postgresql_where=sa.text("state IN ('held', 'confirmed', 'collected')"))
    op.execute(COUNTING_HOLD)


def downgrade() -> None:
    op.execute("DROP VIEW counting_hold")
    op.drop_index("ix_reservation_counting", table_name="reservation")
