"""Editions' look-ups in the open bibliographic services, and an index of untitled editions.

The enrichment job (importers/enrichment.py, `stock enrich`) asks the BnF and Open Library for
the title of editions no file named; `edition_lookup` records when and with what outcome, so a
miss is not asked again every night. `ix_edition_untitled` finds the few untitled editions
among millions without reading the table.

Revision ID: e4b8c2d6f0a7
Revises: d2c4e6f8a1b3
Create Date: 2026-12-05 08:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "e4b8c2d6f0a7"
down_revision = "d2c4e6f8a1b3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "edition_lookup",
        sa.Column("isbn13", sa.String(length=13), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="1", nullable=False),
        sa.Column("looked_up_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retry_after", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("outcome IN ('found', 'not_found', 'failed')",
                           name=op.f("ck_edition_lookup_outcome_known")),
        sa.ForeignKeyConstraint(["isbn13"], ["edition.isbn13"], ondelete="CASCADE",
                                name=op.f("fk_edition_lookup_isbn13_edition")),
        sa.PrimaryKeyConstraint("isbn13", name=op.f("pk_edition_lookup")),
    )
    op.create_index("ix_edition_untitled", "edition", ["isbn13"],
                    postgresql_where=sa.text("title = ''"))


def downgrade() -> None:
    op.drop_index("ix_edition_untitled", table_name="edition",
                  postgresql_where=sa.text("title = ''"))
    op.drop_table("edition_lookup")
