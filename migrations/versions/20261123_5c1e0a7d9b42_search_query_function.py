"""Title search: the words as one tsquery known when planning, and word starts in the index.

`rayons_search_query(text[])` turns the search's terms into one tsquery; all terms must match.
- A word, or the words a cut one begins (`ombre | ombres`), matches any of its distinct lexemes,
  plain (authors, publisher) or French-stemmed (title): `'hotel' | 'hotel'` would make the planner
  count the word's matches twice.
- A word being typed (`rou:*`) is not stemmed: stemming a cut word helps nothing. Cut at three
  letters it is looked up as a word start (below); longer, as a prefix.
It is declared IMMUTABLE (like the two-argument `to_tsquery` it calls), so that PostgreSQL
computes it while planning a statement whose terms are bound values. The planner then sees the
tsquery and its words' frequencies: for a word in a twentieth of all editions it reads the table
until it has enough matches (3 ms) instead of building the word's whole bitmap from the GIN index
(18 ms).

`rayons_word_starts(text)`: the first three letters of each longer word, as lexemes marked `^`
(`^rou` for "rouge"), which no folded word contains. They join the editions' search vector, from
the title and authors (the words search can complete). A short prefix such as `rou:*` makes GIN
gather every word it begins, 70,000 editions' worth, before the other words narrow anything
(`ombres & rou:*`: 18-36 ms); a word start is one index entry that GIN intersects with the others
as it reads them (5 ms). Two-letter starts as well would have made the search vector 60 % longer
and every common word's search 3 ms slower, for prefixes too short to narrow much.

Revision ID: 5c1e0a7d9b42
Revises: 37151dc008fe
Create Date: 2026-11-23 18:10:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '5c1e0a7d9b42'
down_revision = '37151dc008fe'
branch_labels = None
depends_on = None


WORD_STARTS_FUNCTION = """
CREATE FUNCTION rayons_word_starts(text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$
    SELECT array_to_tsvector(ARRAY(
        SELECT DISTINCT '^' || left(w, 3) FROM rayons_words($1) AS w WHERE length(w) > 3))
$$
"""

SEARCH_QUERY_FUNCTION = """
CREATE FUNCTION rayons_search_query(terms text[]) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$
    SELECT rayons_tsquery_and(CASE
        WHEN t ~ '^[a-z0-9]{3}:\\*$' THEN CAST(quote_literal('^' || left(t, -2)) AS tsquery)
        WHEN right(t, 2) = ':*' THEN to_tsquery('simple', t)
        ELSE (SELECT CAST(string_agg(quote_literal(lexeme), ' | ' ORDER BY lexeme) AS tsquery)
              FROM (SELECT DISTINCT unnest(tsvector_to_array(
                        to_tsvector('simple', t) || to_tsvector('french', t)))) AS l(lexeme))
    END)
    FROM unnest(terms) AS t
$$
"""

TITLE_AUTHORS_PUBLISHER = (
    "setweight(to_tsvector('french'::regconfig, rayons_unaccent(coalesce(title, ''))), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, rayons_unaccent(coalesce(authors, ''))), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, rayons_unaccent(coalesce(publisher, ''))), 'D')"
)
WITH_WORD_STARTS = (TITLE_AUTHORS_PUBLISHER + " || "
                    "rayons_word_starts(coalesce(title, '') || ' ' || coalesce(authors, ''))")


def _search_vector(expression: str) -> None:
    """PostgreSQL 15 cannot change a generated column's expression: drop it, add it again."""
    op.drop_index('ix_edition_search_vector', table_name='edition', postgresql_using='gin')
    op.drop_column('edition', 'search_vector')
    op.add_column('edition', sa.Column('search_vector', postgresql.TSVECTOR(),
                                       sa.Computed(expression, persisted=True), nullable=False))
    op.create_index('ix_edition_search_vector', 'edition', ['search_vector'], unique=False,
                    postgresql_using='gin')


def upgrade() -> None:
    op.execute(WORD_STARTS_FUNCTION)
    op.execute(SEARCH_QUERY_FUNCTION)
    _search_vector(WITH_WORD_STARTS)


def downgrade() -> None:
    _search_vector(TITLE_AUTHORS_PUBLISHER)
    op.execute("DROP FUNCTION rayons_search_query(text[])")
    op.execute("DROP FUNCTION rayons_word_starts(text)")
