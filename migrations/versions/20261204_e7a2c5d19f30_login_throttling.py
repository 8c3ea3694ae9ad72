"""Sign-in throttling instead of account lockout.

Five wrong passwords locked a staff account for 15 minutes, so anyone knowing a bookseller's
email could keep them out. Failures are now counted per account and address, and per account
(table login_failure, keys hashed), and answered with growing delays (app/services/auth.py).

Revision ID: e7a2c5d19f30
Revises: d41c7a09e5b8
Create Date: 2026-12-04 17:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = "e7a2c5d19f30"
down_revision = "d41c7a09e5b8"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failure",
        sa.Column("key", sa.LargeBinary(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("octet_length(key) = 32", name=op.f("ck_login_failure_key_sha256")),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_failure")),
    )
    op.drop_column("staff_user", "locked_until")
    op.drop_column("staff_user", "failed_logins")


def downgrade() -> None:
    op.add_column("staff_user", sa.Column("failed_logins", sa.Integer(), server_default="0",
                                          nullable=False))
    op.add_column("staff_user", sa.Column("locked_until", sa.DateTime(timezone=True),
                                          nullable=True))
    op.drop_table("login_failure")
