"""A shop's column map: which column of its stock files holds the code, quantity, price, location.

Stored as the small JSON object `importers.column_map.ColumnMap.as_json` writes; no row has one
until a bookseller (or the CLI) saves a map, so the column is added empty.

Revision ID: d2c4e6f8a1b3
Revises: c5e81f3a9d27
Create Date: 2026-12-05 00:00:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "d2c4e6f8a1b3"
down_revision = "c5e81f3a9d27"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("shop", sa.Column("feed_columns", postgresql.JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("shop", "feed_columns")
