"""Finding editions from what a reader types: an ISBN in any form, or words of a title/author.

Words are folded (case, accents), common abbreviations expanded (`st` -> `saint`), French stop
words dropped, and each word unknown to the catalogue is replaced by its closest known word
(trigram similarity over the vocabulary table, not over the titles: milliseconds, not seconds).
The corrected words then run through full-text search, the last one as a prefix.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from app.isbn import CodeError, looks_like_isbn, normalize_code
from app.text import fold

MAX_WORDS = 8
# Above this many matches, the best-ranked hits are chosen among this many (any of them).
MAX_RANKED = 500
ABBREVIATIONS = {"st": "saint", "ste": "sainte", "s": "saint"}
SIMILARITY_FLOOR = 0.3

# For each query word: is it a French stop word (dropped), is it a known word, and if not the
# closest known one. One round trip for the whole query.
CORRECT_WORDS = text("""
    SELECT q.word,
           numnode(plainto_tsquery('french', q.word)) = 0 AS stop_word,
           EXISTS (SELECT 1 FROM search_word w WHERE w.word = q.word) AS known,
           EXISTS (SELECT 1 FROM search_word w WHERE w.word LIKE q.word || '%') AS prefix_known,
           (SELECT w.word FROM search_word w
            WHERE w.word % q.word AND similarity(w.word, q.word) >= :floor
            ORDER BY w.word <-> q.word LIMIT 1) AS closest
    FROM unnest(CAST(:words AS text[])) WITH ORDINALITY AS q(word, n)
    ORDER BY q.n
""")

# Each term matches either the French-stemmed title or the plain author/publisher lexemes; all
# terms must match. A shop counts when it has a copy available (holds subtracted, as on the book
# page); in-shop and non-book codes never count.
SEARCH_EDITIONS = text("""
    WITH q AS (
        -- A prefix term (`prin:*`) is looked up plain only: stemming a cut word helps nothing
        -- and doubles the index work.
        SELECT rayons_tsquery_and(CASE WHEN right(t, 2) = ':*' THEN to_tsquery('simple', t)
                                       ELSE to_tsquery('simple', t) || to_tsquery('french', t)
                                  END) AS query
        FROM unnest(CAST(:terms AS text[])) AS t
    ),
    -- A common word matches thousands of editions: rank a bounded sample, not all of them.
    matches AS MATERIALIZED (
        SELECT e.isbn13, e.title, e.authors, e.publisher, e.search_vector
        FROM edition e, q
        WHERE e.search_vector @@ q.query
        LIMIT :max_ranked
    ),
    hits AS (
        SELECT m.isbn13, m.title, m.authors, m.publisher,
               ts_rank(m.search_vector, q.query) AS rank
        FROM matches m, q
        ORDER BY rank DESC, m.isbn13
        LIMIT :limit
    ),
    holders AS (
        SELECT sl.isbn13, count(*) AS shops_with_copy,
               CASE WHEN :has_origin THEN min(ST_Distance(
                   s.location, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography)) END
                   AS nearest_m
        FROM stock_line sl JOIN shop s ON s.id = sl.shop_id AND s.active
        LEFT JOIN counting_hold c ON c.shop_id = sl.shop_id AND c.isbn13 = sl.isbn13
        WHERE sl.isbn13 IN (SELECT isbn13 FROM hits)
          AND sl.on_hand > 0  -- lets the planner use the public holders index
          AND sl.on_hand > coalesce(c.holds, 0)
          AND sl.code_kind IN ('isbn', 'ismn')
        GROUP BY sl.isbn13
    )
    SELECT h.isbn13, h.title, h.authors, h.publisher,
           coalesce(c.shops_with_copy, 0) AS shops_with_copy, c.nearest_m
    FROM hits h LEFT JOIN holders c ON c.isbn13 = h.isbn13
    ORDER BY h.rank DESC, shops_with_copy DESC, h.isbn13
""").bindparams(bindparam("has_origin"), bindparam("lat"), bindparam("lon"))


# The public columns of one edition (the ORM object would also load its search vector).
EDITION_SUMMARY = text(
    "SELECT isbn13, title, authors, publisher FROM edition WHERE isbn13 = :isbn13")


@dataclass(frozen=True)
class EditionSummary:
    isbn13: str
    title: str
    authors: str
    publisher: str


def edition_summary(session: Session, isbn13: str) -> EditionSummary | None:
    """What the catalogue knows of `isbn13`, or None: a shop may stock a book no file named."""
    row = session.execute(EDITION_SUMMARY, {"isbn13": isbn13}).first()
    return None if row is None else EditionSummary(*row)


@dataclass(frozen=True)
class EditionHit:
    isbn13: str
    title: str
    authors: str
    publisher: str
    shops_with_copy: int
    nearest_m: float | None


@dataclass(frozen=True)
class TitleSearch:
    hits: list[EditionHit]
    # Words the reader typed that were read as another word, e.g. {"vuillar": "vuillard"}.
    corrections: dict[str, str] = field(default_factory=dict)
    # Words that match nothing known, even approximately.
    unknown: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class IsbnQuery:
    """The box held a code: either a normalised ISBN, or why it is not one."""

    isbn13: str | None
    error: CodeError | None


def read_isbn(query: str) -> IsbnQuery | None:
    """None when the text is words; otherwise the ISBN or the reason it is invalid."""
    if not looks_like_isbn(query):
        return None
    try:
        return IsbnQuery(normalize_code(query).code, None)
    except CodeError as exc:
        return IsbnQuery(None, exc)


def query_words(query: str) -> list[str]:
    words = [w for w in re.split(r"[^a-z0-9]+", fold(query)) if w]
    return [ABBREVIATIONS.get(w, w) for w in words][:MAX_WORDS]


def _terms(words: list[str], *, last_is_prefix: bool) -> list[str]:
    """tsquery terms: words are plain [a-z0-9]+ by construction. The last is a prefix when the
    reader seems not to have finished typing it (no known word is exactly that)."""
    return words[:-1] + [words[-1] + ":*"] if last_is_prefix else words


def search_editions(session: Session, *, query: str, origin: tuple[float, float] | None = None,
                    limit: int = 20) -> TitleSearch:
    words = query_words(query)
    if not words:
        return TitleSearch(hits=[])
    corrections: dict[str, str] = {}
    unknown: list[str] = []
    kept: list[str] = []
    unfinished: str | None = None
    rows = session.execute(CORRECT_WORDS, {"words": words, "floor": SIMILARITY_FLOOR})
    for index, (word, stop_word, known, prefix_known, closest) in enumerate(rows):
        is_last = index == len(words) - 1
        if stop_word:
            continue  # the French title index drops them too
        if known or (is_last and prefix_known):
            # The last word may be cut short while typing: the prefix match handles it.
            kept.append(word)
            if not known:
                unfinished = word
        elif closest:
            corrections[word] = closest
            kept.append(closest)
        else:
            unknown.append(word)
    kept = [w for w in kept if w not in unknown]
    if not kept:
        return TitleSearch(hits=[], corrections=corrections, unknown=unknown)
    lat, lon = origin if origin is not None else (0.0, 0.0)
    result = session.execute(SEARCH_EDITIONS, {
        "terms": _terms(kept, last_is_prefix=kept[-1] == unfinished),
        "limit": max(1, min(limit, 50)), "max_ranked": MAX_RANKED,
        "has_origin": origin is not None, "lat": lat, "lon": lon,
    }).mappings()
    hits = [EditionHit(**row) for row in result]
    return TitleSearch(hits=hits, corrections=corrections, unknown=unknown)
