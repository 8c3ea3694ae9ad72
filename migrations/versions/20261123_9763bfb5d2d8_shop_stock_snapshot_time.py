"""Shop stock snapshot time: when the shop's last applied stock file was exported.

Stock lines keep the export time of the file that last changed them; the shop carries the time of
the latest snapshot, which is what "stock as of" shows and what the availability rule compares a
collection with. This lets the nightly merge rewrite only the rows that changed.

Revision ID: 9763bfb5d2d8
Revises: 9722d459a119
Create Date: 2026-11-23 13:24:03.688959
"""
import sqlalchemy as sa
from alembic import op

revision = "9763bfb5d2d8"
down_revision = "9722d459a119"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("shop", sa.Column("stock_exported_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("shop", "stock_exported_at")
