"""Import runs can be `interrupted`.

The `running` row of an import is now committed before the work starts, so an import whose
process was killed leaves it behind; the next import of that shop marks it `interrupted`
(importers/merge.py, `open_run`).

Revision ID: a3f8c1d2e4b6
Revises: a3f8c1e26b57
Create Date: 2026-12-05 18:10:00
"""
from alembic import op

revision = "a3f8c1d2e4b6"
down_revision = "a3f8c1e26b57"
branch_labels = None
depends_on = None

BEFORE = ("running", "applied", "rejected", "failed", "skipped_duplicate")
AFTER = (*BEFORE, "interrupted")


def _statuses(statuses: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{status}'" for status in statuses) + ")"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_import_run_status_known"), "import_run", type_="check")
    op.create_check_constraint(op.f("ck_import_run_status_known"), "import_run", _statuses(AFTER))


def downgrade() -> None:
    # An interrupted run kept the previous stock, as a failed one did.
    op.execute("UPDATE import_run SET status = 'failed' WHERE status = 'interrupted'")
    op.drop_constraint(op.f("ck_import_run_status_known"), "import_run", type_="check")
    op.create_check_constraint(op.f("ck_import_run_status_known"), "import_run", _statuses(BEFORE))
