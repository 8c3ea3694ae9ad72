"""`rayons_search_query(text[])`: a title search's words as one tsquery, known when planning.

Each term matches either the French-stemmed title or the plain author and publisher lexemes; a
prefix term (`prin:*`) is looked up plain only (stemming a cut word helps nothing and doubles the
index work). Any other term (a word, or the words a cut one begins: `ombre | ombres`) matches
any of its distinct lexemes, plain or stemmed: `'hotel' | 'hotel'` would make the planner count
the word's matches twice. All terms must match.

Declared IMMUTABLE (like the two-argument `to_tsquery` it calls), so that PostgreSQL computes it
while planning a statement whose terms are bound values. The planner then sees the tsquery and
its words' frequencies: for a word in a twentieth of all editions it reads the table until it has
enough matches (3 ms) instead of building the word's whole bitmap from the GIN index (18 ms).

Revision ID: 5c1e0a7d9b42
Revises: 37151dc008fe
Create Date: 2026-11-23 18:10:00
"""
from alembic import op


revision = '5c1e0a7d9b42'
down_revision = '37151dc008fe'
branch_labels = None
depends_on = None


SEARCH_QUERY_FUNCTION = """
CREATE FUNCTION rayons_search_query(terms text[]) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$
    SELECT rayons_tsquery_and(CASE
        WHEN right(t, 2) = ':*' THEN to_tsquery('simple', t)
        ELSE (SELECT CAST(string_agg(quote_literal(lexeme), ' | ' ORDER BY lexeme) AS tsquery)
              FROM (SELECT DISTINCT unnest(tsvector_to_array(
                        to_tsvector('simple', t) || to_tsvector('french', t)))) AS l(lexeme))
    END)
    FROM unnest(terms) AS t
$$
"""


def upgrade() -> None:
    op.execute(SEARCH_QUERY_FUNCTION)


def downgrade() -> None:
    op.execute("DROP FUNCTION rayons_search_query(text[])")
