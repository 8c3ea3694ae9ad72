"""Drop shop.opening_hours_weekly: written at every shops import, never read.

It was meant to let SQL pre-filter "open now" without parsing the OSM expression; no query ever
did, and opening status is computed from `shop.opening_hours` (geo.opening_hours). Going down
restores an empty week for every shop; a shops import fills nothing back, as nothing reads it.

Revision ID: b6d40f1c2a73
Revises: 5c1e0a7d9b42
Create Date: 2026-12-04 15:45:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "b6d40f1c2a73"
down_revision = "5c1e0a7d9b42"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_column("shop", "opening_hours_weekly")


def downgrade() -> None:
    op.add_column("shop", sa.Column("opening_hours_weekly", postgresql.JSONB(), nullable=False,
                                    server_default=sa.text("'[]'::jsonb")))
