"""Network coordinators: the networks a `network_admin` account follows.

The role existed but nothing read it. A coordinator now follows every shop of its networks
(stock freshness and imports, read only) from the staff pages.

Revision ID: a3f8c1e26b57
Revises: e7a2c5d19f30
Create Date: 2026-12-04 18:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = "a3f8c1e26b57"
down_revision = "e7a2c5d19f30"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_network",
        sa.Column("staff_user_id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["network_id"], ["network.id"], ondelete="CASCADE",
                                name=op.f("fk_staff_network_network_id_network")),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_user.id"], ondelete="CASCADE",
                                name=op.f("fk_staff_network_staff_user_id_staff_user")),
        sa.PrimaryKeyConstraint("staff_user_id", "network_id", name=op.f("pk_staff_network")),
    )


def downgrade() -> None:
    op.drop_table("staff_network")
