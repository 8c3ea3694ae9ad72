"""Mail outbox: reservation mails queued in the transaction, sent after commit, retried.

Revision ID: 2b936e6312f1
Revises: 4002c69fa07f
Create Date: 2026-11-23 13:56:03.589729
"""
import sqlalchemy as sa
from alembic import op

revision = '2b936e6312f1'
down_revision = '4002c69fa07f'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outbox_mail',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reservation_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.CheckConstraint("kind IN ('reserved', 'shop_new', 'confirmed', 'declined', 'expired', 'reminder', 'cancelled', 'collected')", name=op.f('ck_outbox_mail_kind_known')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_outbox_mail_attempts_not_negative')),
    sa.ForeignKeyConstraint(['reservation_id'], ['reservation.id'], name=op.f('fk_outbox_mail_reservation_id_reservation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_mail'))
    )
    op.create_index(op.f('ix_outbox_mail_reservation_id'), 'outbox_mail', ['reservation_id'], unique=False)
    op.create_index('ix_outbox_mail_unsent', 'outbox_mail', ['created_at'], unique=False, postgresql_where=sa.text('sent_at IS NULL'))


def downgrade() -> None:
    op.drop_index('ix_outbox_mail_unsent', table_name='outbox_mail', postgresql_where=sa.text('sent_at IS NULL'))
    op.drop_index(op.f('ix_outbox_mail_reservation_id'), table_name='outbox_mail')
    op.drop_table('outbox_mail')
