"""Mail worker: the outbox also carries import reports, backs off, records abandoned mail and
wakes its worker.

Mail left the request after its commit, retried by the minute's sweep up to 8 times; it is now
sent by a worker only (`flask mail work`). A row is about a reservation or an import run (exactly
one), is retried at `next_attempt_at` with a growing delay, and is abandoned (`failed_at`) once
it could not leave for two days. Rows the old code gave up on (8 attempts) are marked abandoned.
A statement trigger notifies channel `outbox_mail` when rows are queued: NOTIFY is delivered at
commit, so the worker wakes for committed mail only.

Revision ID: c5e81f3a7d20
Revises: b7e2d9a4c1f3
Create Date: 2026-12-04 18:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = "c5e81f3a7d20"
down_revision = "b7e2d9a4c1f3"
branch_labels = None
depends_on = None

RESERVATION_KINDS = ("'reserved', 'shop_new', 'confirmed', 'declined', 'expired', 'reminder', "
                     "'cancelled', 'collected'")


def upgrade() -> None:
    op.add_column("outbox_mail", sa.Column("import_run_id", sa.Integer(), nullable=True))
    op.add_column("outbox_mail", sa.Column("next_attempt_at", sa.DateTime(timezone=True),
                                           server_default=sa.text("now()"), nullable=False))
    op.add_column("outbox_mail", sa.Column("failed_at", sa.DateTime(timezone=True),
                                           nullable=True))
    op.alter_column("outbox_mail", "reservation_id", existing_type=sa.Integer(), nullable=True)
    op.create_foreign_key(op.f("fk_outbox_mail_import_run_id_import_run"), "outbox_mail",
                          "import_run", ["import_run_id"], ["id"], ondelete="CASCADE")
    op.create_index(op.f("ix_outbox_mail_import_run_id"), "outbox_mail", ["import_run_id"])
    op.drop_constraint(op.f("ck_outbox_mail_kind_known"), "outbox_mail", type_="check")
    op.create_check_constraint(op.f("ck_outbox_mail_kind_known"), "outbox_mail",
                               f"kind IN ({RESERVATION_KINDS}, 'import_report')")
    op.create_check_constraint(op.f("ck_outbox_mail_one_subject"), "outbox_mail",
                               "num_nonnulls(reservation_id, import_run_id) = 1")
    op.create_check_constraint(op.f("ck_outbox_mail_kind_fits_subject"), "outbox_mail",
                               "(kind = 'import_report') = (import_run_id IS NOT NULL)")
    op.execute("UPDATE outbox_mail SET failed_at = now() "
               "WHERE sent_at IS NULL AND attempts >= 8")
    op.create_check_constraint(op.f("ck_outbox_mail_sent_or_abandoned"), "outbox_mail",
                               "sent_at IS NULL OR failed_at IS NULL")
    op.drop_index("ix_outbox_mail_unsent", table_name="outbox_mail",
                  postgresql_where=sa.text("sent_at IS NULL"))
    op.create_index("ix_outbox_mail_due", "outbox_mail", ["next_attempt_at"],
                    postgresql_where=sa.text("sent_at IS NULL AND failed_at IS NULL"))
    op.execute("""
        CREATE FUNCTION rayons_outbox_mail_queued() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('outbox_mail', '');
            RETURN NULL;
        END $$
    """)
    op.execute("CREATE TRIGGER outbox_mail_queued AFTER INSERT ON outbox_mail "
               "FOR EACH STATEMENT EXECUTE FUNCTION rayons_outbox_mail_queued()")


def downgrade() -> None:
    op.execute("DROP TRIGGER outbox_mail_queued ON outbox_mail")
    op.execute("DROP FUNCTION rayons_outbox_mail_queued()")
    op.drop_index("ix_outbox_mail_due", table_name="outbox_mail",
                  postgresql_where=sa.text("sent_at IS NULL AND failed_at IS NULL"))
    op.create_index("ix_outbox_mail_unsent", "outbox_mail", ["created_at"],
                    postgresql_where=sa.text("sent_at IS NULL"))
    op.execute("DELETE FROM outbox_mail WHERE import_run_id IS NOT NULL")
    for name in ("sent_or_abandoned", "kind_fits_subject", "one_subject", "kind_known"):
        op.drop_constraint(op.f(f"ck_outbox_mail_{name}"), "outbox_mail", type_="check")
    op.create_check_constraint(op.f("ck_outbox_mail_kind_known"), "outbox_mail",
                               f"kind IN ({RESERVATION_KINDS})")
    op.drop_index(op.f("ix_outbox_mail_import_run_id"), table_name="outbox_mail")
    op.drop_constraint(op.f("fk_outbox_mail_import_run_id_import_run"), "outbox_mail",
                       type_="foreignkey")
    # An abandoned mail was one the old code had given up on: 8 attempts.
    op.execute("UPDATE outbox_mail SET attempts = greatest(attempts, 8) "
               "WHERE failed_at IS NOT NULL")
    op.alter_column("outbox_mail", "reservation_id", existing_type=sa.Integer(), nullable=False)
    op.drop_column("outbox_mail", "failed_at")
    op.drop_column("outbox_mail", "next_attempt_at")
    op.drop_column("outbox_mail", "import_run_id")
