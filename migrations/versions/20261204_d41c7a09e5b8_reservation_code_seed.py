"""Reservation codes from a server seed; idempotency keys scoped to their requester.

Until now the reader's code was HMAC(secret, the client's idempotency key), and the key was
stored as the client sent it: anyone who sent the same key got the same reservation and its code.
The code now comes from `code_seed`, random bytes the server draws; `idempotency_key` holds an
HMAC of the requester's scope and key, and `request_fingerprint` the SHA-256 of the request's
fields (app/reservations/codes.py).

Existing reservations keep their codes: their seed is their old key's bytes, which the same
formula turns into the same code. Their raw keys are then cleared (a retry of a request made
before this migration creates a new hold instead of replaying; those retries are seconds old
at most). A reservation without a key gets a random seed: its code never came from one.

Revision ID: d41c7a09e5b8
Revises: b6d40f1c2a73
Create Date: 2026-12-04 17:35:00
"""
import sqlalchemy as sa
from alembic import op

revision = "d41c7a09e5b8"
down_revision = "b6d40f1c2a73"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("reservation", sa.Column("code_seed", sa.LargeBinary(), nullable=True))
    op.add_column("reservation", sa.Column("request_fingerprint", sa.LargeBinary(),
                                           nullable=True))
    op.execute("""
        UPDATE reservation
        SET code_seed = coalesce(convert_to(idempotency_key, 'UTF8'),
                                 decode(md5(random()::text || id::text), 'hex')),
            idempotency_key = NULL
    """)
    op.alter_column("reservation", "code_seed", nullable=False)


def downgrade() -> None:
    # Codes made since cannot be derived from a key any more: their reservations keep working
    # by code (code_hash), but mails sent after a downgrade would carry a wrong code.
    op.drop_column("reservation", "request_fingerprint")
    op.drop_column("reservation", "code_seed")
