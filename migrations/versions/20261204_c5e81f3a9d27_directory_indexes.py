"""Indexes for a national directory: its order, and the map's view boxes.

The home page lists active shops a page at a time by town, name and id (OFFSET over
`ix_shop_directory_order`, which also answers a shop's position), and the map asks for the
shops inside a latitude/longitude box: `location` is a geography, whose own GiST index compares
boxes on the sphere, so the plane box of a view needs an index on `location::geometry`.

Revision ID: c5e81f3a9d27
Revises: c5e81f3a7d20
Create Date: 2026-12-04 19:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "c5e81f3a9d27"
down_revision = "c5e81f3a7d20"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_shop_directory_order", "shop", ["city", "name", "id"],
                    postgresql_where=sa.text("active IS TRUE"))
    op.create_index("ix_shop_active_geometry", "shop", [sa.text("(location::geometry)")],
                    postgresql_using="gist", postgresql_where=sa.text("active IS TRUE"))


def downgrade() -> None:
    op.drop_index("ix_shop_active_geometry", table_name="shop")
    op.drop_index("ix_shop_directory_order", table_name="shop")
