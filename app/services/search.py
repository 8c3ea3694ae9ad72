"""Finding editions from what a reader types: an ISBN in any form, or words of a title/author.

Words are folded (case, accents), common abbreviations expanded (`st` -> `saint`), French stop
words dropped, and each word unknown to the catalogue is replaced by its closest known word
(trigram similarity over the vocabulary table, not over the titles: milliseconds, not seconds).
The corrected words then run through full-text search; a last word the reader seems to be
still typing counts as its word start, the few words it begins, or a prefix (WORD_START).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.db import driver_rows
from app.isbn import CodeError, looks_like_isbn, normalize_code
from app.services.availability import (
    EVERY_SHOP,
    HOLDING_OF,
    ORIGIN,
    PUBLIC_KIND,
    SCOPE_FILTERS,
    Scope,
    nearest_first,
)
from app.text import fold

MAX_WORDS = 8
# Above this many matches, the best-ranked hits are chosen among this many (the first ones in the
# table). Only a word common enough to match thousands of editions gets there, and no ranking tells
# those apart much; the smaller the sample, the sooner reading the table finds it (measured in
# bench/README.md, "Figures behind choices in the code").
MAX_RANKED = 200
ABBREVIATIONS = {"st": "saint", "ste": "sainte", "s": "saint"}
SIMILARITY_FLOOR = 0.3

# A word being typed is looked up, fastest first:
# - cut at WORD_START letters, as the word start the index holds (`^lou`, one entry: see
#   `rayons_word_starts`);
# - if it begins at most MAX_COMPLETIONS known words, as those words: the index finds a few whole
#   words fast, whereas a prefix makes it gather every entry that begins so (`loui:*`: Louis,
#   Louise, Louisiane... thousands of editions) before the other words narrow anything;
# - else as a prefix: a long list of words costs more to check on each candidate.
# Shorter than WORD_START, one that begins more than MAX_COMPLETIONS words narrows little yet and
# is left out until the reader types more.
WORD_START = 3
MAX_COMPLETIONS = 16

# For each query word: is it a French stop word (dropped), is it a known word; for the last word
# when unknown, the known words it begins (up to MAX_COMPLETIONS + 1: it may be cut short while
# typing); for an unknown word the reader did not seem to be typing, the closest known one. One
# round trip for the whole query, and each look-up only where its answer is used: the trigram
# search costs milliseconds, the exact look-up microseconds.
CORRECT_WORDS = text("""
    WITH q AS MATERIALIZED (
        SELECT q.word, q.n,
               numnode(plainto_tsquery('french', q.word)) = 0 AS stop_word,
               EXISTS (SELECT 1 FROM search_word w WHERE w.word = q.word) AS known,
               q.n = cardinality(CAST(:words AS text[])) AS last
        FROM unnest(CAST(:words AS text[])) WITH ORDINALITY AS q(word, n)
    ),
    completed AS MATERIALIZED (
        SELECT q.*,
               CASE WHEN q.last AND NOT (q.known OR q.stop_word) THEN ARRAY(
                   SELECT w.word FROM search_word w WHERE w.word LIKE q.word || '%'
                   LIMIT :most_completions + 1)
               END AS completions
        FROM q
    )
    SELECT c.word, c.stop_word, c.known, coalesce(c.completions, '{}') AS completions,
           CASE WHEN NOT (c.known OR c.stop_word) AND coalesce(cardinality(c.completions), 0) = 0
                THEN (SELECT w.word FROM search_word w
                      WHERE w.word % c.word AND similarity(w.word, c.word) >= :floor
                      ORDER BY w.word <-> c.word LIMIT 1)
           END AS closest
    FROM completed c
    ORDER BY c.n
""")

# The editions that match every term (`rayons_search_query`: the French-stemmed title, or the
# plain author and publisher), best first.
# Planned at each run (`prepare=False`), with its terms: `rayons_search_query` is immutable, so
# the planner computes the tsquery and weighs its words. A common word is then found by reading
# the table until MAX_RANKED of them match, where a prepared, generic plan would always build the
# GIN index's bitmap of every match first; a rarer word still goes through the index. Both plans
# read the table in physical order, so they sample the same editions (`synchronize_seqscans` is
# off: see `app.db.CONNECT_ARGS`). Planning this short statement costs less than it saves
# (bench/README.md, "Figures behind choices in the code").
# In a scope (a network's or a shop's search box), only the editions on the scope's shelves
# match: `{scope}` is a SCOPE_FILTERS entry (a probe of the public holders index per match).
MATCHING_EDITIONS_TEMPLATE = """
    WITH matches AS MATERIALIZED (
        -- A common word matches thousands of editions: rank a bounded sample, not all of them.
        SELECT e.isbn13, e.title, e.authors, e.publisher, e.search_vector
        FROM edition e
        WHERE e.search_vector @@ rayons_search_query(CAST(%(terms)s AS text[])){in_scope}
        LIMIT %(max_ranked)s
    )
    SELECT m.isbn13, m.title, m.authors, m.publisher,
           ts_rank(m.search_vector, rayons_search_query(CAST(%(terms)s AS text[]))) AS rank
    FROM matches m
    ORDER BY rank DESC, m.isbn13
    LIMIT %(limit)s
"""
IN_SCOPE = f"""
          AND EXISTS (SELECT FROM stock_line sl WHERE sl.isbn13 = e.isbn13 AND sl.on_hand > 0
                      AND {PUBLIC_KIND}{{scope}})"""
MATCHING_EDITIONS_SCOPED = {
    kind: MATCHING_EDITIONS_TEMPLATE.format(
        in_scope=IN_SCOPE.format(scope=scope) if scope else "")
    for kind, scope in SCOPE_FILTERS.items()}
MATCHING_EDITIONS = MATCHING_EDITIONS_SCOPED["all"]

# For each hit, how many shops have a copy available (holds subtracted, as on the book page: the
# rule of availability.HOLDING_OF, written as filters so that the count reads the covering index
# alone) and, from an origin, how far the nearest is, found the way the book page finds its
# shops (`availability.nearest_first`). At national scale a common word's 20 hits have thousands of
# holders: joining, grouping and measuring all of them cost several times more.
# Both count and measure within the scope (`{scope}`, a SCOPE_FILTERS entry).
HOLDER_COUNTS = f"""
    SELECT hit.isbn13, counted.shops
    FROM unnest(CAST(%(isbns)s AS text[])) AS hit(isbn13)
    CROSS JOIN LATERAL (
        SELECT count(*) AS shops
        FROM stock_line sl
        WHERE sl.isbn13 = hit.isbn13 AND sl.on_hand > 0 AND {PUBLIC_KIND}{{scope}}
          AND sl.shop_id NOT IN (SELECT id FROM shop WHERE NOT active)
          AND NOT EXISTS (SELECT FROM counting_hold c WHERE c.shop_id = sl.shop_id
                          AND c.isbn13 = sl.isbn13 AND c.holds >= sl.on_hand)
    ) AS counted
    WHERE counted.shops > 0
"""
HOLDER_COUNTS_FROM_ORIGIN = f"""
    SELECT hit.isbn13, hit.shops, ST_Distance(nearest.location, {ORIGIN}),
           ROW(nearest.slug, nearest.name)
    FROM ({HOLDER_COUNTS}) AS hit(isbn13, shops)
    CROSS JOIN LATERAL ({nearest_first(
        holding=HOLDING_OF.format(isbn13="hit.isbn13", scope="{scope}"), holders="hit.shops",
        limit=1, columns="s.location, s.slug, s.name",
        shop_columns="s.location, s.slug, s.name")}
    ) AS nearest
"""
HOLDER_COUNTS_SCOPED = {
    (kind, from_origin): (HOLDER_COUNTS_FROM_ORIGIN if from_origin else HOLDER_COUNTS)
    .format(scope=scope)
    for kind, scope in SCOPE_FILTERS.items() for from_origin in (False, True)}


@dataclass(frozen=True)
class EditionHit:
    isbn13: str
    title: str
    authors: str
    publisher: str
    shops_with_copy: int
    nearest_m: float | None
    # The nearest holder (slug, name), given an origin: results name it and link to its page.
    nearest_shop: tuple[str, str] | None = None


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


@dataclass
class _Reading:
    """The query's words as the catalogue knows them."""

    kept: list[str] = field(default_factory=list)
    corrections: dict[str, str] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    # The known words the last kept word begins, when the reader seems to be still typing it.
    completions: list[str] | None = None

    def terms(self) -> list[str]:
        """tsquery terms: words are plain [a-z0-9]+ by construction. A word being typed becomes
        a prefix (`rou:*`, which `rayons_search_query` reads as the word start `^rou`), or the
        words it begins (`ombr` -> `ombre | ombres`) when they are few, or a prefix again."""
        if self.completions is None:
            return self.kept
        last = self.kept[-1]
        few = len(self.completions) <= MAX_COMPLETIONS
        typed = " | ".join(self.completions) if few and len(last) != WORD_START else last + ":*"
        return [*self.kept[:-1], typed]


def _read_words(session: Session, words: list[str]) -> _Reading:
    reading = _Reading()
    rows = session.execute(CORRECT_WORDS, {"words": words, "floor": SIMILARITY_FLOOR,
                                           "most_completions": MAX_COMPLETIONS})
    for word, stop_word, known, completions, closest in rows:
        if stop_word:
            continue  # the French title index drops them too
        if known:
            reading.kept.append(word)
        elif completions:
            # The last word, cut short while typing (left out while too short: see WORD_START).
            if len(word) >= WORD_START or len(completions) <= MAX_COMPLETIONS:
                reading.kept.append(word)
                reading.completions = completions
        elif closest:
            reading.corrections[word] = closest
            reading.kept.append(closest)
        else:
            reading.unknown.append(word)
    return reading


def _holder_counts(session: Session, isbns: list[str], origin: tuple[float, float] | None,
                   scope: Scope) -> dict[str, tuple[int, float | None, tuple[str, str] | None]]:
    """Shops of the scope with a copy available, and the nearest one's distance and (slug,
    name), by ISBN (absent: none)."""
    if not isbns:
        return {}
    statement = HOLDER_COUNTS_SCOPED[scope.kind, origin is not None]
    if origin is None:
        rows = driver_rows(session, statement, {"isbns": isbns, **scope.params()})
        return {isbn13: (shops, None, None) for isbn13, shops in rows}
    rows = driver_rows(session, statement,
                       {"isbns": isbns, "lat": origin[0], "lon": origin[1], **scope.params()})
    return {isbn13: (shops, nearest, shop) for isbn13, shops, nearest, shop in rows}


def search_editions(session: Session, *, query: str, origin: tuple[float, float] | None = None,
                    limit: int = 20, scope: Scope = EVERY_SHOP) -> TitleSearch:
    """Editions matching the words, best first, with their copies in `scope` (every shop, a
    network's or a shop's); in a narrower scope, only the editions on its shelves."""
    words = query_words(query)
    if not words:
        return TitleSearch(hits=[])
    reading = _read_words(session, words)
    if not reading.kept:
        return TitleSearch(hits=[], corrections=reading.corrections, unknown=reading.unknown)
    matches = driver_rows(session, MATCHING_EDITIONS_SCOPED[scope.kind], {
        "terms": reading.terms(), "limit": max(1, min(limit, 50)), "max_ranked": MAX_RANKED,
        **scope.params()}, prepare=False)
    counts = _holder_counts(session, [isbn13 for isbn13, *_ in matches], origin, scope)
    hits = [EditionHit(isbn13, title, authors, publisher, *counts.get(isbn13, (0, None, None)))
            for isbn13, title, authors, publisher, _rank in matches]
    # Best match first; among equal matches, the most widely available.
    ranks = {isbn13: rank for isbn13, *_, rank in matches}
    hits.sort(key=lambda hit: (-ranks[hit.isbn13], -hit.shops_with_copy, hit.isbn13))
    return TitleSearch(hits=hits, corrections=reading.corrections, unknown=reading.unknown)
