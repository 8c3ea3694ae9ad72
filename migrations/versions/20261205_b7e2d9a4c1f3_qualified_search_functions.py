"""Search functions that name their helpers with their schema, so a dump restores.

pg_restore runs with an empty search_path. The generated `edition.search_vector` calls
`rayons_word_starts`, whose body called `rayons_words` (and that one `rayons_unaccent`) without a
schema: the restore drill (scripts/backup_drill.sh) failed on `CREATE TABLE edition` with
"function rayons_words(text) does not exist". The bodies are the same, with `public.` in front
of each of our functions; they stay plain SQL functions, so the planner still inlines them.

Revision ID: b7e2d9a4c1f3
Revises: a3f8c1d2e4b6
Create Date: 2026-12-04 19:15:00
"""
from alembic import op

revision = "b7e2d9a4c1f3"
down_revision = "a3f8c1d2e4b6"
branch_labels = None
depends_on = None

_WORDS = """
CREATE OR REPLACE FUNCTION public.rayons_words(text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT DISTINCT w
    FROM regexp_split_to_table(lower({schema}rayons_unaccent($1)), '[^a-z0-9]+') AS w
    WHERE length(w) >= 2
$$
"""
_WORD_STARTS = """
CREATE OR REPLACE FUNCTION public.rayons_word_starts(text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT array_to_tsvector(ARRAY(
        SELECT DISTINCT '^' || left(w, 3) FROM {schema}rayons_words($1) AS w WHERE length(w) > 3))
$$
"""
_SEARCH_QUERY = """
CREATE OR REPLACE FUNCTION public.rayons_search_query(terms text[]) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT {schema}rayons_tsquery_and(CASE
        WHEN t ~ '^[a-z0-9]{{3}}:\\*$' THEN CAST(quote_literal('^' || left(t, -2)) AS tsquery)
        WHEN right(t, 2) = ':*' THEN to_tsquery('simple', t)
        ELSE (SELECT CAST(string_agg(quote_literal(lexeme), ' | ' ORDER BY lexeme) AS tsquery)
              FROM (SELECT DISTINCT unnest(tsvector_to_array(
                        to_tsvector('simple', t) || to_tsvector('french', t)))) AS l(lexeme))
    END)
    FROM unnest(terms) AS t
$$
"""


def _define(schema: str) -> None:
    for body in (_WORDS, _WORD_STARTS, _SEARCH_QUERY):
        op.execute(body.format(schema=schema))


def upgrade() -> None:
    _define("public.")


def downgrade() -> None:
    _define("")
