"""What the header of a run's file was read as: each field's column and the words that chose it.

`importers.headers.HeaderGuess.as_json` writes it; runs of files without a guessed header (ONIX,
JSON, a column map, a headerless file) and every earlier run have none, so it is added empty.

Revision ID: e7a1c3b5d9f2
Revises: e5a7c3d1b9f4
Create Date: 2026-12-05 07:30:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "e7a1c3b5d9f2"
down_revision = "e5a7c3d1b9f4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("import_run", sa.Column("column_guess", postgresql.JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("import_run", "column_guess")
