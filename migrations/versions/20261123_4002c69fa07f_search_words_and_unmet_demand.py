"""Search vocabulary (for typo correction) and unmet demand.

`rayons_tsquery_and` combines one tsquery per query word. `rayons_words(text)` is the one definition of "the words of a title or author" (folded, split on
anything not a letter or digit); the importer feeds new editions' words through it, and this
migration backfills the editions already there.

Revision ID: 4002c69fa07f
Revises: 9763bfb5d2d8
Create Date: 2026-11-23 13:43:08.490997
"""
import sqlalchemy as sa
from alembic import op

revision = '4002c69fa07f'
down_revision = '9763bfb5d2d8'
branch_labels = None
depends_on = None


WORDS_FUNCTION = """
CREATE OR REPLACE FUNCTION rayons_words(text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$
    SELECT DISTINCT w
    FROM regexp_split_to_table(lower(rayons_unaccent($1)), '[^a-z0-9]+') AS w
    WHERE length(w) >= 2
$$
"""


# AND of many tsqueries (one per query word), so a query is built from bound words in SQL.
AND_AGGREGATE = """
CREATE AGGREGATE rayons_tsquery_and(tsquery) (SFUNC = tsquery_and, STYPE = tsquery)
"""


def upgrade() -> None:
    op.execute(WORDS_FUNCTION)
    op.execute(AND_AGGREGATE)
    op.create_table('search_miss',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('term', sa.String(length=200), nullable=False),
    sa.Column('area', sa.String(length=20), server_default='', nullable=False),
    sa.Column('times', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("kind IN ('isbn', 'query')", name=op.f('ck_search_miss_kind_known')),
    sa.CheckConstraint('times > 0', name=op.f('ck_search_miss_times_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_miss')),
    sa.UniqueConstraint('day', 'kind', 'term', 'area', name='uq_search_miss_day_kind_term_area')
    )
    op.create_table('search_word',
    sa.Column('word', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('word', name=op.f('pk_search_word'))
    )
    op.create_index('ix_search_word_trgm', 'search_word', ['word'], unique=False, postgresql_using='gin', postgresql_ops={'word': 'gin_trgm_ops'})
    op.execute("INSERT INTO search_word (word) "
               "SELECT DISTINCT rayons_words(title || ' ' || authors) FROM edition "
               "ON CONFLICT DO NOTHING")


def downgrade() -> None:
    op.drop_index('ix_search_word_trgm', table_name='search_word', postgresql_using='gin', postgresql_ops={'word': 'gin_trgm_ops'})
    op.drop_table('search_word')
    op.drop_table('search_miss')
    op.execute("DROP AGGREGATE rayons_tsquery_and(tsquery)")
    op.execute("DROP FUNCTION rayons_words(text)")
