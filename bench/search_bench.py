"""Search benchmark: how close "who has this book near me" and title search get to raw SQL.

Run with `make bench-search` (see bench/README.md). It builds (or reuses) a synthetic network of
`bench-s-*` shops in the private database, then measures in one run:

(a) raw SQL through psycopg for "the 10 nearest shops with a copy": the service's own statement
    (the hybrid that counts holders first, then either walks shops nearest-first or sorts the
    few), the same with its LIMIT bound as a parameter (a fresh plan at every execution), and
    the plain join the service used before;
(b) the service `nearest_holders` through a SQLAlchemy session, as an API request gets one;
(c) the availability endpoint under gunicorn (`gunicorn.conf.py`), loaded with wrk;
(d) a hello-world endpoint of the same app under the same gunicorn: the ceiling for (c), loaded
    alternately with (c);
(e) title search (`search_editions`) over the synthetic editions, typo'd queries included.

A benchmark rather than a test: the numbers depend on the machine and on whatever else runs on
it, so they are printed for a human to judge, never asserted. What is asserted is that every
variant returns the same shops as the service's query, so a fast number can never come from a
wrong answer.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from bench_common import Step, ean13, ean13_sql, libpq_url
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_read_engine
from app.isbn import normalize_code
from app.services.availability import (
    HOLDING,
    NEAREST_BY_LIMIT,
    NEAREST_TEMPLATE,
    ORIGIN,
    WALK_FROM_HOLDERS,
    nearest_holders,
)
from app.services.search import EditionHit, search_editions
from app.text import fold

ROOT = Path(__file__).resolve().parent.parent
SLUG_PREFIX = "bench-s-"
# Synthetic ISBNs: 978-0-6 + a 7-digit number + check digit. The demo's French books are 978-2,
# the import benchmark's 978-99: this range is the search benchmark's alone, so cleaning up
# deletes exactly what it created.
ISBN_PREFIX = "97806"
ISBN_FIRST, ISBN_LAST = ISBN_PREFIX + "0" * 8, ISBN_PREFIX + "9" * 8
NUMBER_DIGITS = 7
# Rank r (0 = most popular) becomes number (r * MULTIPLIER + OFFSET) mod 10^7, a bijection, so
# ISBN order says nothing about popularity: search ties broken by ISBN must not favour bestsellers.
MULTIPLIER, OFFSET = 7919, 104729
# Popularity of rank r falls like r ** (1 / SKEW - 1), as in the import benchmark: with 20,000
# titles a shop, the top hundred are in every shop, the top 700 in four shops out of five, the
# long tail in one shop in a hundred.
SKEW = 3.0
# Words this run added to search_word, so that cleaning up removes them and only them.
WORDS_TABLE = "bench_search_words"

GENERATION_CONNECTIONS = 2  # the target machine has two cores
SHOPS_PER_STATEMENT = 25
EDITION_STATEMENTS = 6

NEAREST = 10
BESTSELLER_SHARE = 0.8   # "in most shops": the prototype's bestseller was in 2,400 of 3,000
LONG_TAIL_HOLDERS = 15   # "in ~10-20 shops"
CODES_PER_KIND = 4
ORIGINS = 24
ROUNDS = 4
SEARCH_QUERIES_PER_KIND = 40
LOAD_ROUNDS = 3  # (c) then (d), three times: the ratio reported is the median of the three
TURN = 32  # questions each variant of (a) and (b) runs before the next one's turn
# gunicorn layouts (workers x threads, gthread) that (c) and (d) are measured under; the first
# is the one production's advice (docs/operations.md) rests on; wrk opens one connection a thread.
DEFAULT_LAYOUTS = "2x4"
TARGET_B_OVER_A = 1.5
TARGET_C_OVER_D, AIM_C_OVER_D = 0.30, 0.50
TARGET_C_P99_MS = 50.0
TARGET_E_P99_MS = 20.0

# --- the synthetic network ---------------------------------------------------------------------

# (name, postcode, lat, lon, weight): shops and readers gather around real town centres.
CITIES = (
    ("Paris", "75001", 48.857, 2.352, 20), ("Lyon", "69001", 45.764, 4.836, 6),
    ("Marseille", "13001", 43.297, 5.381, 5), ("Toulouse", "31000", 43.605, 1.444, 4),
    ("Bordeaux", "33000", 44.838, -0.579, 4), ("Nantes", "44000", 47.218, -1.554, 3),
    ("Lille", "59000", 50.629, 3.057, 3), ("Strasbourg", "67000", 48.573, 7.752, 3),
    ("Rennes", "35000", 48.117, -1.678, 3), ("Montpellier", "34000", 43.611, 3.877, 3),
    ("Nice", "06000", 43.710, 7.262, 2), ("Grenoble", "38000", 45.188, 5.724, 2),
    ("Dijon", "21000", 47.322, 5.041, 2), ("Clermont-Ferrand", "63000", 45.778, 3.087, 2),
    ("Tours", "37000", 47.394, 0.685, 2), ("Rouen", "76000", 49.443, 1.099, 2),
    ("Caen", "14000", 49.183, -0.371, 1), ("Brest", "29200", 48.390, -4.486, 1),
    ("Limoges", "87000", 45.834, 1.261, 1), ("Poitiers", "86000", 46.580, 0.340, 1),
    ("Angers", "49000", 47.478, -0.563, 1), ("Metz", "57000", 49.119, 6.176, 1),
    ("Nancy", "54000", 48.692, 6.184, 1), ("Reims", "51100", 49.258, 4.032, 1),
    ("Orléans", "45000", 47.902, 1.909, 1), ("Besançon", "25000", 47.238, 6.024, 1),
    ("Perpignan", "66000", 42.699, 2.895, 1), ("Pau", "64000", 43.295, -0.371, 1),
    ("La Rochelle", "17000", 46.160, -1.151, 1), ("Amiens", "80000", 49.894, 2.296, 1),
    ("Avignon", "84000", 43.949, 4.806, 1), ("Le Mans", "72000", 48.006, 0.199, 1),
    ("Annecy", "74000", 45.899, 6.129, 1), ("Quimper", "29000", 47.996, -4.097, 1),
    ("Bayonne", "64100", 43.493, -1.475, 1), ("Troyes", "10000", 48.297, 4.074, 1),
    ("Nîmes", "30000", 43.837, 4.360, 1), ("Aix-en-Provence", "13100", 43.529, 5.447, 1),
    ("Saint-Étienne", "42000", 45.434, 4.390, 1), ("Valence", "26000", 44.933, 4.892, 1),
)

# Word lists for French-looking titles and authors, so full-text search sees a realistic mix of
# common words (thousands of titles each) and rare ones (names: a handful each).
NOUNS = (
    "le jardin", "la nuit", "la mer", "le silence", "la maison", "l'ombre", "le voyage",
    "la mémoire", "le secret", "la route", "le vent", "la rivière", "le fleuve", "la forêt",
    "le livre", "la lettre", "le temps", "la lumière", "le chemin", "la montagne", "le soleil",
    "la lune", "l'hiver", "l'été", "l'automne", "le printemps", "la ville", "le village",
    "la guerre", "la paix", "l'enfance", "la promesse", "le rêve", "la colère", "la fièvre",
    "le désir", "la chambre", "le miroir", "la porte", "la fenêtre", "le jour", "la saison",
    "le cœur", "l'âme", "la peau", "le sang", "la neige", "la pluie", "l'orage", "le feu",
    "la cendre", "le sel", "le pain", "la table", "l'île", "le port", "la plage", "le phare",
    "le navire", "la tempête", "l'horizon", "le désert", "la frontière", "l'exil", "le retour",
    "l'absence", "la fuite", "la chute", "le visage", "la voix", "le regard", "la main",
    "le nom", "la langue", "l'histoire", "le roman", "la légende", "le mystère", "l'énigme",
    "le crime", "l'enquête", "le témoin", "la victime", "le juge", "le roi", "la reine",
    "le prince", "la princesse", "le loup", "le renard", "l'oiseau", "le chat", "le cheval",
    "la baleine", "l'arbre", "la rose", "le verger", "la vigne", "le moulin", "l'atelier",
    "la gare", "le train", "l'hôtel", "le café", "la librairie", "le musée", "le théâtre",
    "la danse", "la musique", "le chant", "la fête", "le bal", "l'amour", "l'amitié",
    "la solitude", "la liberté", "la vérité", "le mensonge", "la mort", "la vie", "le destin",
    "le hasard", "la chance", "le monde", "la terre", "le ciel", "les étoiles", "les ombres",
    "les vagues", "les enfants", "les oiseaux", "les heures", "les jours", "les nuits",
    "les saisons", "les mots", "les dieux", "les fantômes", "les amants", "les sœurs",
    "les frères", "les îles", "les collines", "les racines",
)
ADJECTIVES = (
    "sauvage", "fragile", "étrange", "immobile", "tranquille", "sombre", "rebelle", "magique",
    "célèbre", "libre", "triste", "pâle", "invisible", "rouge", "calme", "mélancolique",
    "ultime", "sublime", "fidèle", "hostile", "paisible", "terrible", "insolite", "imaginaire",
    "légendaire", "ordinaire", "extraordinaire", "inévitable", "impossible", "éphémère",
)
FIRST_NAMES = (
    "Marguerite", "Louise", "Jeanne", "Camille", "Élise", "Suzanne", "Hélène", "Claire",
    "Juliette", "Agathe", "Léonie", "Colette", "Simone", "Anaïs", "Inès", "Zoé", "Manon",
    "Chloé", "Mathilde", "Blanche", "Rose", "Adèle", "Irène", "Lucie", "Odile", "Margaux",
    "Victor", "Jules", "Émile", "Louis", "Gaston", "Marcel", "Henri", "Paul", "Lucien", "Théo",
    "Hugo", "Antoine", "Bastien", "Mathieu", "Julien", "Étienne", "François", "Olivier",
    "Raphaël", "Gabriel", "Arthur", "Félix", "Noé", "Léon", "Maxime", "Baptiste", "Armand",
    "Clément", "Yves", "Pierre", "Denis", "Rémi", "Sacha", "Alix",
)
# Surnames and invented place names are built from syllables: tens of thousands of rare words,
# so typo correction searches a vocabulary of realistic size.
SURNAME_STARTS = (
    "Ber", "Dal", "Mor", "Lam", "Fau", "Gri", "Vil", "Ro", "Mar", "Che", "Bou", "Tes", "Cla",
    "Du", "Le", "Gar", "Pel", "Sau", "Tho", "Val", "Bri", "Cor", "Dela", "Fon", "Gui", "Her",
    "Jou", "La", "Mal", "Nor", "Pa", "Que", "Ri", "Sé", "Tré", "Vau", "Bé", "Cas", "Mon", "Rou",
)
SURNAME_MIDDLES = ("", "an", "er", "ou", "i", "el", "o", "é", "ar", "on", "es", "a")
SURNAME_ENDS = (
    "det", "ville", "court", "mont", "rand", "lier", "ard", "eau", "ier", "on", "ot", "in",
    "as", "ès", "ac", "aud", "ois", "ert", "y", "enne", "ault", "ieu", "elle", "and", "oux",
)
COINED_STARTS = (
    "Ka", "Lo", "Mi", "Zar", "Vel", "Tor", "An", "Is", "Bel", "Cy", "Dra", "El", "Fi", "Gal",
    "Hor", "Il", "Jo", "Lu", "Mor", "Nal", "Or", "Pa", "Qui", "Ra", "Sel", "Ti", "Ul", "Va",
    "Xe", "Yo",
)
COINED_MIDDLES = (
    "ra", "li", "no", "ve", "ta", "mi", "do", "ri", "sa", "lu", "ke", "ba", "zo", "fe", "go",
    "ni", "pe", "ru", "ti", "va", "", "ma", "lo", "de", "si", "ha", "ce", "po", "mu", "ze",
)
COINED_ENDS = (
    "n", "nel", "mar", "dor", "line", "ac", "is", "ia", "os", "ande", "ette", "wen", "ys",
    "ax", "oria", "elle", "um", "ar", "ine", "ès",
)
PLACES = (
    "Quimper", "Arles", "Biarritz", "Colmar", "Honfleur", "Sarlat", "Carcassonne",
    "Saint-Malo", "Étretat", "Menton", "Chamonix", "Avignon", "Cassis", "Collioure", "Giverny",
    "Vézelay", "Rocamadour", "Concarneau", "Deauville", "Cabourg", "Ouessant", "Bréhat",
    "Nevers", "Tulle", "Aurillac", "Millau", "Rodez", "Albi", "Cahors", "Périgueux",
    "Bergerac", "Cognac", "Saintes", "Royan", "Niort", "Guéret", "Vichy", "Moulins", "Autun",
    "Beaune", "Dole", "Pontarlier", "Épinal", "Verdun", "Sedan", "Laon", "Arras", "Dunkerque",
    "Calais", "Dieppe", "Fécamp", "Lisieux", "Alençon", "Laval", "Vannes", "Lorient", "Morlaix",
    "Dinan",
)
PUBLISHERS = (
    "Éditions du Rivage bleu", "Éditions des Cendres", "Les Presses du Phare", "L'Atelier d'encre",
    "Éditions de la Vigne", "Le Moulin à pages", "Éditions sauvages", "Les Lettres de Loire",
    "La Brune", "Éditions du Chardon", "Le Sextant", "Éditions Marée haute", "Éditions du Lierre",
    "Les Éditions polaires", "L'Ours blanc", "Éditions Papillon", "Le Cercle de minuit",
    "Éditions de l'Estran", "La Lanterne", "Éditions du Sémaphore",
)


def of_noun(noun: str) -> str:
    """`le jardin` -> `du jardin`: the form that follows another noun in a title."""
    for article, contracted in (("le ", "du "), ("les ", "des "), ("la ", "de la "),
                                ("l'", "de l'")):
        if noun.startswith(article):
            return contracted + noun[len(article):]
    raise ValueError(noun)


WORD_LISTS: dict[str, Sequence[str]] = {
    "nouns": NOUNS, "of_nouns": [of_noun(n) for n in NOUNS], "adjectives": ADJECTIVES,
    "first_names": FIRST_NAMES, "surname_starts": SURNAME_STARTS,
    "surname_middles": SURNAME_MIDDLES, "surname_ends": SURNAME_ENDS,
    "coined_starts": COINED_STARTS, "coined_middles": COINED_MIDDLES, "coined_ends": COINED_ENDS,
    "places": PLACES, "publishers": PUBLISHERS,
}


def pick(name: str) -> str:
    """SQL for a random element of the word list bound as `name`, drawn afresh for each row."""
    return f"(%({name})s::text[])[1 + floor(random() * {len(WORD_LISTS[name])})::int]"


def code_number(rank: int) -> int:
    return (rank * MULTIPLIER + OFFSET) % 10 ** NUMBER_DIGITS


def bench_code(rank: int) -> str:
    """The ISBN-13 of popularity rank `rank`, exactly as `code_sql` computes it in SQL."""
    return ean13(ISBN_PREFIX, code_number(rank), NUMBER_DIGITS)


def code_sql(rank: str) -> str:
    """SQL computing `bench_code(rank)` for an integer expression: generation stays in SQL."""
    number = f"mod(({rank})::bigint * {MULTIPLIER} + {OFFSET}, {10 ** NUMBER_DIGITS})"
    return ean13_sql(ISBN_PREFIX, number, NUMBER_DIGITS)


AUTHOR_SQL = (f"{pick('first_names')} || ' ' || {pick('surname_starts')} || "
              f"{pick('surname_middles')} || {pick('surname_ends')}")
COINED_SQL = f"{pick('coined_starts')} || {pick('coined_middles')} || {pick('coined_ends')}"

# Titles follow a few French patterns ("Le jardin des ombres", "L'hiver à Quimper"...).
EDITIONS = f"""
    INSERT INTO edition (isbn13, title, authors, publisher)
    SELECT code, upper(left(title, 1)) || substr(title, 2), authors, publisher
    FROM (
        SELECT {code_sql('rank')} AS code,
               CASE floor(random() * 7)::int
                   WHEN 0 THEN {pick('nouns')} || ' ' || {pick('of_nouns')}
                   WHEN 1 THEN {pick('nouns')} || ' ' || {pick('adjectives')}
                   WHEN 2 THEN {pick('nouns')} || ' et ' || {pick('nouns')}
                   WHEN 3 THEN {pick('nouns')} || ' de ' || {pick('first_names')}
                   WHEN 4 THEN {pick('nouns')} || ' à ' || {pick('places')}
                   WHEN 5 THEN {pick('nouns')} || ' de ' || {COINED_SQL}
                   ELSE {pick('nouns')} || ' ' || {pick('of_nouns')} || ' ' || {pick('adjectives')}
               END AS title,
               {AUTHOR_SQL} || CASE WHEN random() < 0.15 THEN ', ' || {AUTHOR_SQL} ELSE '' END
                   AS authors,
               {pick('publishers')} AS publisher
        FROM generate_series(%(first)s::int, %(last)s::int) AS rank
        OFFSET 0
    ) AS generated
    ON CONFLICT DO NOTHING
"""

# Stratified skewed sampling: a shop's ranks are cut into `lines` consecutive strata, stratum j
# starting at j + floor(spread * (j / lines) ^ SKEW + phase), and line j takes a uniform rank in
# stratum j. Strata are disjoint, so a shop's codes are distinct without any deduplication pass.
# A rank's chance of being in a shop is 1 / (its stratum's width); the shop's random phase moves
# the stratum edges, so that chance is smooth across ranks rather than stepping between 1/1 and
# 1/2: every popularity between "in every shop" and "in one shop in a hundred" exists.
STOCK_LINES = f"""
    INSERT INTO stock_line (shop_id, isbn13, code_kind, on_hand, exported_at, updated_at)
    SELECT shop_id, {code_sql('rank')}, 'isbn', on_hand, %(at)s, %(at)s
    FROM (
        SELECT s.id AS shop_id,
               j + t.start + floor(random() * (1 + t.stop - t.start))::int AS rank,
               1 + floor(random() ^ 4 * 5)::int AS on_hand
        FROM unnest(%(shop_ids)s::int[], %(phases)s::float8[]) AS s(id, phase)
        CROSS JOIN generate_series(0, %(lines)s - 1) AS j
        CROSS JOIN LATERAL (
            SELECT floor(%(spread)s * (j::float8 / %(lines)s) ^ %(skew)s + s.phase)::int AS start,
                   floor(%(spread)s * ((j + 1)::float8 / %(lines)s) ^ %(skew)s + s.phase)::int
                       AS stop
        ) AS t
        OFFSET 0
    ) AS drawn
"""

INSERT_SHOPS = """
    INSERT INTO shop (slug, name, address, postcode, city, country, location, phone, email,
                      website, timezone, opening_hours, stock_exported_at)
    SELECT %(prefix)s || lpad(t.n::text, 5, '0'), 'Librairie du Banc ' || t.n,
           t.n || ' rue du Banc d''essai', t.postcode, t.city, 'FR',
           ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326)::geography, '', '', '', 'Europe/Paris',
           'Tu-Sa 09:30-19:00', %(at)s
    FROM unnest(%(cities)s::text[], %(postcodes)s::text[], %(lats)s::float8[],
                %(lons)s::float8[]) WITH ORDINALITY AS t(city, postcode, lat, lon, n)
"""

# The words of the synthetic editions that search_word did not know yet, found with the one
# definition of "words" (rayons_words); CREATE TABLE AS may use both cores, INSERT cannot.
COLLECT_WORDS = f"""
    CREATE UNLOGGED TABLE {WORDS_TABLE} AS
    SELECT DISTINCT rayons_words(title || ' ' || authors) AS word
    FROM edition WHERE isbn13 BETWEEN '{ISBN_FIRST}' AND '{ISBN_LAST}'
"""
NEW_WORDS_ONLY = f"DELETE FROM {WORDS_TABLE} b USING search_word w WHERE w.word = b.word"
ADD_WORDS = f"INSERT INTO search_word (word) SELECT word FROM {WORDS_TABLE} ON CONFLICT DO NOTHING"

# Only what the benchmark created: its editions that no remaining stock line refers to, and the
# words it added that no remaining edition uses.
DELETE_EDITIONS = f"""
    DELETE FROM edition AS e
    WHERE e.isbn13 BETWEEN '{ISBN_FIRST}' AND '{ISBN_LAST}'
      AND NOT EXISTS (SELECT 1 FROM stock_line AS s WHERE s.isbn13 = e.isbn13)
"""
DELETE_WORDS = f"""
    DELETE FROM search_word
    WHERE word IN (SELECT word FROM {WORDS_TABLE}
                   EXCEPT SELECT rayons_words(title || ' ' || authors) FROM edition
                   WHERE title <> '' OR authors <> '')
"""


@dataclass(frozen=True)
class Scale:
    shops: int
    titles_per_shop: int
    isbns: int

    @property
    def stock_lines(self) -> int:
        return self.shops * self.titles_per_shop


def scatter(rng: random.Random, count: int) -> list[tuple[str, str, float, float]]:
    """`count` points around the towns of CITIES, weighted by size: most within a few km of a
    centre, a third in the surrounding country, all inside metropolitan France's box."""
    towns = rng.choices(CITIES, weights=[c[4] for c in CITIES], k=count)
    points = []
    for name, postcode, lat, lon, _ in towns:
        spread = 0.35 if rng.random() < 0.3 else 0.04
        points.append((name, postcode, min(51.0, max(42.5, rng.gauss(lat, spread))),
                       min(8.0, max(-4.5, rng.gauss(lon, spread * 1.4)))))
    return points


def existing_scale(conn: psycopg.Connection) -> Scale | None:
    """The size of a complete network left by an earlier run, or None if there is none."""
    if conn.execute("SELECT to_regclass(%s)", (WORDS_TABLE,)).fetchone() == (None,):
        return None
    row = conn.execute("""
        SELECT count(*), min(n), max(n) FROM (
            SELECT (SELECT count(*) FROM stock_line sl WHERE sl.shop_id = s.id) AS n
            FROM shop s WHERE s.slug LIKE %s || '%%') AS per_shop
    """, (SLUG_PREFIX,)).fetchone()
    assert row is not None
    shops, fewest, most = row
    isbns = conn.execute(f"SELECT count(*) FROM edition WHERE isbn13 BETWEEN '{ISBN_FIRST}' "
                         f"AND '{ISBN_LAST}'").fetchone()[0]  # type: ignore[index]
    if not shops or fewest != most:
        return None
    return Scale(shops, fewest, isbns)


def run_parallel(url: str, statements: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """Execute independent statements on GENERATION_CONNECTIONS connections at once.

    One INSERT ... SELECT keeps one core busy; the other core would otherwise sit idle.
    """
    def execute(statement: tuple[str, dict[str, Any]]) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(*statement)

    with ThreadPoolExecutor(GENERATION_CONNECTIONS) as pool:
        list(pool.map(execute, statements))


def cleanup(conn: psycopg.Connection) -> None:
    """Remove the synthetic network; its stock lines go through ON DELETE CASCADE."""
    conn.execute("DELETE FROM shop WHERE slug LIKE %s || '%%'", (SLUG_PREFIX,))
    conn.execute(DELETE_EDITIONS)
    if conn.execute("SELECT to_regclass(%s)", (WORDS_TABLE,)).fetchone() != (None,):
        conn.execute(DELETE_WORDS)
        conn.execute(f"DROP TABLE {WORDS_TABLE}")
    # Leave no dead rows behind for whatever runs next (the import benchmark, tests).
    for table in ("stock_line", "edition", "search_word"):
        conn.execute(f"VACUUM (ANALYZE) {table}")


def build_network(conn: psycopg.Connection, url: str, scale: Scale) -> None:
    with Step("removing any earlier network"):
        cleanup(conn)
    yesterday = datetime.now(UTC) - timedelta(days=1)
    rng = random.Random(1)
    cities, postcodes, lats, lons = zip(*scatter(rng, scale.shops), strict=True)
    conn.execute(INSERT_SHOPS, {"prefix": SLUG_PREFIX, "cities": list(cities),
                                "postcodes": list(postcodes), "lats": list(lats),
                                "lons": list(lons), "at": yesterday})
    ids = [row[0] for row in conn.execute(
        "SELECT id FROM shop WHERE slug LIKE %s || '%%' ORDER BY id", (SLUG_PREFIX,))]
    phases = [rng.random() for _ in ids]
    words = {name: list(values) for name, values in WORD_LISTS.items()}
    step = -(-scale.isbns // EDITION_STATEMENTS)
    with Step(f"{scale.isbns:,} editions and {scale.stock_lines:,} stock lines"):
        run_parallel(url, [
            *((EDITIONS, {**words, "first": first, "last": min(first + step, scale.isbns) - 1})
              for first in range(0, scale.isbns, step)),
            *((STOCK_LINES, {"shop_ids": ids[i:i + SHOPS_PER_STATEMENT],
                             "phases": phases[i:i + SHOPS_PER_STATEMENT], "at": yesterday,
                             "spread": scale.isbns - scale.titles_per_shop,
                             "lines": scale.titles_per_shop, "skew": SKEW})
              for i in range(0, len(ids), SHOPS_PER_STATEMENT)),
        ])
    with Step("search words"):
        conn.execute(COLLECT_WORDS)
        conn.execute(NEW_WORDS_ONLY)
        conn.execute(ADD_WORDS)
    # Fresh statistics, a full visibility map (index-only scans) and flushed GIN pending lists
    # now, rather than autovacuum waking mid-measurement.
    with Step("VACUUM ANALYZE"):
        for table in ("shop", "stock_line", "edition", "search_word"):
            conn.execute(f"VACUUM (ANALYZE) {table}")
    for (code,) in conn.execute(f"SELECT isbn13 FROM edition WHERE isbn13 BETWEEN '{ISBN_FIRST}' "
                                f"AND '{ISBN_LAST}' LIMIT 100"):
        assert normalize_code(code).code == code, f"{code}: bad check digit from code_sql"


# --- the queries -------------------------------------------------------------------------------

# The service's own statement for this limit: the hybrid (see NEAREST_TEMPLATE), LIMIT literal.
SERVICE_SQL = NEAREST_BY_LIMIT[NEAREST]
# The same with LIMIT bound, which makes PostgreSQL re-plan at every execution: shown because
# that planning costs more than the query.
HYBRID_LIMIT_BOUND_SQL = NEAREST_TEMPLATE.format(limit="%(limit)s", edition="", scope="")
# For comparison, the plain join the service ran before the hybrid: the ISBN's holders through
# the covering index, joined to their shops, all sorted by distance.
PLAIN_JOIN_SQL = f"""
    SELECT s.id AS shop_id, s.slug, s.name, s.address, s.postcode, s.city, s.country,
           s.phone, s.website, s.timezone, s.opening_hours,
           ST_Y(s.location::geometry) AS lat, ST_X(s.location::geometry) AS lon,
           h.on_hand, h.available, s.stock_exported_at AS stock_as_of,
           ST_Distance(s.location, {ORIGIN}) AS distance_m
    FROM ({HOLDING}) AS h
    JOIN shop s ON s.id = h.shop_id AND s.active
    WHERE h.available > 0
    ORDER BY s.location <-> {ORIGIN}, s.city, s.name
    LIMIT %(limit)s
"""
RAW_VARIANTS = {"service query": SERVICE_SQL, "plain join": PLAIN_JOIN_SQL,
                "hybrid, LIMIT bound": HYBRID_LIMIT_BOUND_SQL}


# --- measuring ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Probe:
    """One question: who near `origin` has `isbn13`."""

    kind: str
    isbn13: str
    holders: int
    origin: tuple[float, float]


@dataclass(frozen=True)
class Timing:
    p50_ms: float
    p99_ms: float
    per_s: float


def percentile(values: Sequence[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def timing(seconds: Sequence[float]) -> Timing:
    """p50 and p99 of `seconds`; for one client in a loop the rate is 1 / mean latency."""
    return Timing(percentile(seconds, 50) * 1000, percentile(seconds, 99) * 1000,
                  len(seconds) / sum(seconds))


def measure_in_turns(calls: dict[str, Callable[[Any], object]],
                     items: Sequence[Any]) -> dict[str, list[float]]:
    """Seconds taken by each call for each item, one client, after an untimed pass over a few
    items (statements prepared, caches warm).

    The calls take turns by blocks of TURN items, starting with a different one each block, so
    that a busy minute on the shared machine slows them all alike rather than whichever ran
    then. Blocks rather than single items: switching code and PostgreSQL backend at every call
    made both slower in a trial, the heavier client most (service 0.8-0.9 -> 1.6 ms, raw
    0.5 -> 0.77 ms at p50).
    """
    for item in items[:20]:
        for call in calls.values():
            call(item)
    names = list(calls)
    seconds: dict[str, list[float]] = {name: [0.0] * len(items) for name in names}
    for block, first in enumerate(range(0, len(items), TURN)):
        for name in names[block % len(names):] + names[:block % len(names)]:
            for n in range(first, min(first + TURN, len(items))):
                start = time.perf_counter()
                calls[name](items[n])
                seconds[name][n] = time.perf_counter() - start
    return seconds


def by_kind(items: Sequence[Any], seconds: Sequence[float]) -> dict[str, Timing]:
    """Timings per `kind` of item, and over all of them."""
    kinds = dict.fromkeys(item.kind for item in items)
    result = {kind: timing([s for item, s in zip(items, seconds, strict=True)
                            if item.kind == kind]) for kind in kinds}
    result["all"] = timing(seconds)
    return result


def pick_codes(conn: psycopg.Connection, scale: Scale) -> list[tuple[str, str, int]]:
    """(kind, isbn13, holders): the ISBNs whose number of holders is closest to a bestseller's
    (BESTSELLER_SHARE of the shops) and to a long-tail title's (LONG_TAIL_HOLDERS)."""
    ranks = sorted({int(scale.isbns ** (i / 600)) - 1 for i in range(601)} | set(range(0, 3000, 7)))
    codes = [bench_code(rank) for rank in ranks if rank < scale.isbns]
    counts = dict(conn.execute(
        "SELECT isbn13, count(*) FROM stock_line WHERE isbn13 = ANY(%s) AND on_hand > 0 "
        "AND code_kind IN ('isbn', 'ismn') GROUP BY isbn13", (codes,)).fetchall())
    picked = []
    for kind, target in (("bestseller", BESTSELLER_SHARE * scale.shops),
                         ("long tail", LONG_TAIL_HOLDERS)):
        closest = sorted(counts, key=lambda code: (abs(counts[code] - target), code))
        picked += [(kind, code, counts[code]) for code in closest[:CODES_PER_KIND]]
    return picked


def probes_for(codes: Sequence[tuple[str, str, int]],
               origins: Sequence[tuple[float, float]]) -> list[Probe]:
    """Every code from every origin, ROUNDS times, in an order that never repeats a question
    twice in a row."""
    return [Probe(kind, code, holders, origin) for _ in range(ROUNDS) for origin in origins
            for kind, code, holders in codes]


def raw_params(probe: Probe) -> dict[str, Any]:
    lat, lon = probe.origin
    return {"isbn13": probe.isbn13, "lat": lat, "lon": lon, "limit": NEAREST}


def check_answers(conn: psycopg.Connection, factory: sessionmaker[Session],
                  probes: Sequence[Probe]) -> None:
    """Every raw variant must list the same shops as the service's query, in the same order,
    and the service the same again (cut at its radius): otherwise timings would mean nothing."""
    for probe in probes:
        answers = {name: [row[0] for row in conn.execute(sql, raw_params(probe))]
                   for name, sql in RAW_VARIANTS.items()}
        plain = answers["service query"]
        with factory() as session:
            found = nearest_holders(session, isbn13=probe.isbn13, origin=probe.origin,
                                    limit=NEAREST)
        service = [h.shop_id for h in found.holders]
        if len(plain) != min(NEAREST, probe.holders) or not service \
                or service != plain[:len(service)] \
                or any(answer != plain for answer in answers.values()):
            raise SystemExit(f"{probe}: {answers}, service {service}: "
                             "the network changed under the benchmark?")


# --- (c) and (d): gunicorn under wrk -----------------------------------------------------------

WRK_SCRIPT = """
local paths = {%(paths)s}
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RAYONS %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, deadline_s: float = 60.0) -> bytes:
    """The body of `url` once the server answers 200, for the caller to check."""
    end = time.monotonic() + deadline_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read()
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.3)


@dataclass(frozen=True)
class Layout:
    """gunicorn's gthread workers and threads per worker; wrk opens one connection per thread,
    so every handler is busy and none is queued inside gunicorn."""

    workers: int
    threads: int

    @classmethod
    def parse(cls, text: str) -> Layout:
        workers, _, threads = text.partition("x")
        return cls(int(workers), int(threads))

    @property
    def connections(self) -> int:
        return self.workers * self.threads

    def __str__(self) -> str:
        return f"{self.workers}x{self.threads}"


@dataclass(frozen=True)
class Loaded:
    """(c) and (d) under one layout: every run of each, in the order they ran."""

    layout: Layout
    api: list[Timing]
    hello: list[Timing]

    @property
    def ratios(self) -> list[float]:
        return [c.per_s / d.per_s for c, d in zip(self.api, self.hello, strict=True)]

    @property
    def median_ratio(self) -> float:
        return statistics.median(self.ratios)

    def median_run(self) -> tuple[Timing, Timing]:
        """The (c), (d) pair whose ratio is the median one."""
        order = sorted(range(len(self.ratios)), key=self.ratios.__getitem__)
        middle = order[len(order) // 2]
        return self.api[middle], self.hello[middle]


def load(app: str, paths: Sequence[str], duration: str, check: Callable[[bytes], bool],
         layout: Layout) -> Timing:
    """Serve `app` with the production gunicorn configuration, check one answer, then load it with
    wrk rotating over `paths`: a short warm-up, then the measured run."""
    port = free_port()
    env = {**os.environ, "RAYONS_WORKERS": str(layout.workers),
           "RAYONS_THREADS": str(layout.threads), "RAYONS_BIND": f"127.0.0.1:{port}"}
    with tempfile.TemporaryDirectory(prefix="rayons-bench-") as tmp:
        script = Path(tmp) / "rotate.lua"
        script.write_text(WRK_SCRIPT % {"paths": ", ".join(f'"{p}"' for p in paths)})
        errors = Path(tmp) / "gunicorn.err"
        with errors.open("wb") as err:
            server = subprocess.Popen(
                [str(Path(sys.executable).with_name("gunicorn")), "-c", "gunicorn.conf.py", app],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
        try:
            base = f"http://127.0.0.1:{port}"
            if not check(wait_for(base + paths[0])):
                raise SystemExit(f"{app}: unexpected answer to {paths[0]}")
            wrk = ["wrk", "-t1", f"-c{layout.connections}", "-s", str(script), base]
            subprocess.run([*wrk, "-d2s"], check=True, capture_output=True)
            out = subprocess.run([*wrk, f"-d{duration}"], check=True, capture_output=True,
                                 text=True).stdout
        finally:
            server.terminate()
            server.wait(timeout=30)
        match = re.search(r"^RAYONS (\d+) (\d+) (\d+) (\d+) (\d+)$", out, re.MULTILINE)
        if match is None:
            raise SystemExit(f"unexpected wrk output:\n{out}")
        requests, duration_us, p50_us, p99_us, failed = map(int, match.groups())
        if failed:
            raise SystemExit(f"{app}: {failed} failed requests out of {requests}; gunicorn said:\n"
                             + errors.read_text()[-3000:])
    return Timing(p50_us / 1000, p99_us / 1000, requests / duration_us * 1e6)


def load_alternating(probes: Sequence[Probe], duration: str, layout: Layout) -> Loaded:
    """(c) and (d), LOAD_ROUNDS runs each, alternating: whatever else runs on the machine only
    ever slows a run down, and alternating keeps one endpoint from being measured in a quiet
    minute and the other in a busy one; each (c) is compared with the (d) that followed it."""
    paths = [availability_path(p) for p in probes]
    loaded = Loaded(layout, [], [])
    for _ in range(LOAD_ROUNDS):
        loaded.api.append(load("wsgi:app", paths, duration,
                               check=lambda body: b'"shops"' in body, layout=layout))
        loaded.hello.append(load("bench.hello_app:app", ["/bench-hello"], duration,
                                 check=lambda body: body == b"ok", layout=layout))
    return loaded


def availability_path(probe: Probe) -> str:
    lat, lon = probe.origin
    return f"/api/v1/availability?isbn={probe.isbn13}&lat={lat:.5f}&lon={lon:.5f}&limit={NEAREST}"


# --- (e) title search --------------------------------------------------------------------------

TITLE_STOP_WORDS = {"le", "la", "les", "l", "de", "du", "des", "d", "et", "a"}


@dataclass(frozen=True)
class SearchCase:
    kind: str
    query: str
    isbn13: str
    origin: tuple[float, float]


def misspell(word: str, rng: random.Random) -> str:
    """One letter dropped inside the word, as a hurried reader would."""
    at = rng.randrange(1, len(word) - 1)
    return word[:at] + word[at + 1:]


def search_cases(conn: psycopg.Connection, scale: Scale, origins: Sequence[tuple[float, float]],
                 rng: random.Random) -> list[SearchCase]:
    """Queries readers type, built from random synthetic editions: title words with the author
    (specific), the author alone, the same with a typo, a word being typed (prefix), and a
    single common title word (thousands of matches)."""
    codes = [bench_code(rng.randrange(scale.isbns)) for _ in range(SEARCH_QUERIES_PER_KIND)]
    rows = conn.execute("SELECT isbn13, title, authors FROM edition WHERE isbn13 = ANY(%s) "
                        "ORDER BY isbn13", (codes,)).fetchall()
    cases = []
    for n, (isbn13, title, authors) in enumerate(rows):
        words = [w for w in re.split(r"[^a-z0-9]+", fold(title)) if w and w not in TITLE_STOP_WORDS]
        author = fold(authors.split(",")[0])
        surname = author.split()[-1]
        origin = origins[n % len(origins)]
        specific = " ".join([*words[:2], surname])
        cases += [
            SearchCase("title + author", specific, isbn13, origin),
            SearchCase("author", author, isbn13, origin),
            SearchCase("title + author, typo", " ".join([*words[:2], misspell(surname, rng)]),
                       isbn13, origin),
            SearchCase("typing (prefix)", " ".join([*words[:1], words[-1][:3]]), isbn13, origin),
            SearchCase("one common word", words[0], isbn13, origin),
        ]
    return cases


# --- the report --------------------------------------------------------------------------------

def row(label: str, t: Timing) -> str:
    return f"{label:50}{t.p50_ms:>9.2f}{t.p99_ms:>9.2f}{t.per_s:>10,.0f}"


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def parse_args() -> tuple[argparse.Namespace, Scale]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shops", type=int, default=300,
                        help="shops in the synthetic network (3000 for national scale)")
    parser.add_argument("--titles-per-shop", type=int, default=20_000,
                        help="stock lines per shop")
    parser.add_argument("--isbns", type=int, default=1_500_000,
                        help="synthetic editions, the pool the shops draw from")
    parser.add_argument("--duration", default="10s", help="wrk's run for (c) and (d), e.g. 10s")
    parser.add_argument("--layouts", default=DEFAULT_LAYOUTS,
                        help="gunicorn workers x threads for (c) and (d), comma-separated, e.g. "
                             "2x4,3x2,5x1 (the first one's figures fill the table)")
    parser.add_argument("--keep", action="store_true",
                        help=f"keep the synthetic {SLUG_PREFIX}* network for the next run")
    parser.add_argument("--rebuild", action="store_true",
                        help="rebuild the network even if one of the same size is there")
    args = parser.parse_args()
    scale = Scale(args.shops, args.titles_per_shop, args.isbns)
    if not 0 < scale.titles_per_shop <= scale.isbns // 2 or scale.isbns > 10 ** NUMBER_DIGITS:
        parser.error(f"--titles-per-shop must be between 1 and --isbns / 2, "
                     f"and --isbns at most {10 ** NUMBER_DIGITS:,}")
    if scale.shops < NEAREST * 2:
        parser.error(f"--shops must be at least {NEAREST * 2}")
    return args, scale


def main() -> None:
    args, scale = parse_args()
    if "DATABASE_URL" not in os.environ:
        raise SystemExit("DATABASE_URL is not set: run `make bench-search`")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: `apt-get install wrk` as root, or `make bench-search`, "
                         "which installs it")
    url = libpq_url(os.environ["DATABASE_URL"])
    # Sessions as the open API's requests get them (app.session.read_session).
    factory = sessionmaker(bind=make_read_engine(os.environ["DATABASE_URL"]),
                           expire_on_commit=False)
    rng = random.Random(7)
    load_before = os.getloadavg()
    print(f"Rayons search benchmark: {scale.shops:,} shops x {scale.titles_per_shop:,} titles, "
          f"{scale.isbns:,} ISBNs", flush=True)
    with psycopg.connect(url, autocommit=True) as conn:
        built = None
        if args.rebuild or existing_scale(conn) != scale:
            with Step("building the synthetic network (2 connections)") as built:
                build_network(conn, url, scale)
        else:
            print(f"  .. reusing the synthetic network already there ({SLUG_PREFIX}*)")
        server = conn.execute("SELECT current_setting('server_version'), postgis_lib_version(), "
                              "(SELECT count(*) FROM edition), (SELECT count(*) FROM search_word)"
                              ).fetchone()
        assert server is not None
        codes = pick_codes(conn, scale)
        origins = [(lat, lon) for _, _, lat, lon in scatter(random.Random(2), ORIGINS)]
        probes = probes_for(codes, origins)
        rng.shuffle(probes)

        with Step("checking that every variant gives the same shops"):
            check_answers(conn, factory, probes[:len(codes) * 3])

        with Step("(a) raw SQL through psycopg, (b) the service, taking turns"):
            def service(probe: Probe) -> None:
                with factory() as session:
                    nearest_holders(session, isbn13=probe.isbn13, origin=probe.origin,
                                    limit=NEAREST)

            calls: dict[str, Callable[[Probe], object]] = {
                name: lambda p, sql=sql: conn.execute(sql, raw_params(p)).fetchall()
                for name, sql in RAW_VARIANTS.items()}
            seconds = measure_in_turns({**calls, "service": service}, probes)
            raw = {name: by_kind(probes, seconds[name]) for name in RAW_VARIANTS}
            served = by_kind(probes, seconds["service"])
        best = min(raw, key=lambda name: raw[name]["all"].p50_ms)

        loads = []
        for layout in map(Layout.parse, args.layouts.split(",")):
            with Step(f"(c) availability API and (d) hello-world under gunicorn {layout}, "
                      f"{LOAD_ROUNDS} x wrk {args.duration} each, alternating"):
                loads.append(load_alternating(probes, args.duration, layout))
        api, hello = loads[0].median_run()

        with Step("(e) title search"):
            cases = search_cases(conn, scale, origins, rng)

            def search(case: SearchCase) -> list[EditionHit]:
                with factory() as session:
                    return search_editions(session, query=case.query, origin=case.origin).hits

            found = dict.fromkeys((case.kind for case in cases), 0)
            for case in cases:  # untimed: is the wanted edition among the hits?
                found[case.kind] += any(hit.isbn13 == case.isbn13 for hit in search(case))
            searched = by_kind(cases, measure_in_turns({"search": search}, cases)["search"])

        if args.keep:
            print(f"  .. synthetic data kept ({SLUG_PREFIX}* shops, editions {ISBN_PREFIX}*, "
                  f"table {WORDS_TABLE})", flush=True)
        else:
            with Step("removing the synthetic data"):
                cleanup(conn)
    load_after = os.getloadavg()

    def holders(kind: str) -> str:
        counts = [h for k, _, h in codes if k == kind]
        return f"{min(counts)}-{max(counts)}"

    a, b = raw[best]["all"], served["all"]
    c_over_d = loads[0].median_ratio
    kinds = [kind for kind in served if kind != "all"]
    report = [
        f"Rayons search benchmark, {datetime.now():%Y-%m-%d %H:%M}: {scale.shops:,} shops x "
        f"{scale.titles_per_shop:,} titles = {scale.stock_lines:,} stock lines over "
        f"{scale.isbns:,} synthetic ISBNs",
        f"{os.cpu_count()} CPUs shared by everything; PostgreSQL {server[0]}, PostGIS {server[1]}; "
        f"edition table {server[2]:,} rows, search_word {server[3]:,} words; load average "
        f"{load_before[0]:.2f} before, {load_after[0]:.2f} after; network "
        + (f"built in {built.seconds:.0f} s" if built else "reused"),
        f"{NEAREST} nearest shops with a copy, {len(probes)} questions from {ORIGINS} origins "
        f"around French towns: {CODES_PER_KIND} bestsellers in {holders('bestseller')} shops, "
        f"{CODES_PER_KIND} long-tail titles in {holders('long tail')} shops",
        "",
        f"{'':50}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>10}",
        *(row(f"(a) raw SQL, {name}, {kind}", raw[name][kind])
          for name in raw for kind in (*kinds, "all")),
        *(row(f"(b) service, session per call, {kind}", served[kind])
          for kind in (*kinds, "all")),
        row(f"(c) GET /api/v1/availability, wrk -c{loads[0].layout.connections}", api),
        row("(d) GET /bench-hello, same gunicorn", hello),
        *(row(f"(e) search_editions: {kind}", searched[kind]) for kind in searched),
        "",
        f"(a) = best raw SQL = {best} (hybrid: walk from {WALK_FROM_HOLDERS} holders); "
        f"(a)(b)(e) req/s: one client in a loop; (c)(d): gunicorn gthread "
        f"{loads[0].layout.workers} workers x {loads[0].layout.threads} threads, access log on, "
        f"wrk on the same 2 cores, {LOAD_ROUNDS} alternating runs each, the median pair shown",
        f"b/a = {b.p50_ms / a.p50_ms:.2f} at p50, {b.p99_ms / a.p99_ms:.2f} at p99 (target <= "
        f"{TARGET_B_OVER_A}): {verdict(b.p50_ms / a.p50_ms <= TARGET_B_OVER_A)}; session and "
        f"mapping alone (b over the same SQL raw): "
        f"{b.p50_ms / raw['service query']['all'].p50_ms:.2f}",
        f"c/d = {c_over_d:.0%} of the hello-world req/s, median of {LOAD_ROUNDS} (target >= "
        f"{TARGET_C_OVER_D:.0%}, aim {AIM_C_OVER_D:.0%}): {verdict(c_over_d >= TARGET_C_OVER_D)}",
        *(f"  gunicorn {run.layout}: c/d " + ", ".join(f"{r:.0%}" for r in run.ratios)
          + f" (median {run.median_ratio:.0%}); (c) req/s "
          + ", ".join(f"{t.per_s:,.0f}" for t in run.api) + "; (c) p99 ms "
          + ", ".join(f"{t.p99_ms:.0f}" for t in run.api) for run in loads),
        f"c p99 = {api.p99_ms:.1f} ms (target < {TARGET_C_P99_MS:.0f} ms at national scale): "
        f"{verdict(api.p99_ms < TARGET_C_P99_MS)}",
        f"e p99 = {searched['all'].p99_ms:.1f} ms over {len(cases)} queries (target < "
        f"{TARGET_E_P99_MS:.0f} ms): {verdict(searched['all'].p99_ms < TARGET_E_P99_MS)}",
        "wanted edition among the 20 hits: " + ", ".join(
            f"{kind} {found[kind]}/{len(cases) // len(found)}" for kind in found),
    ]
    print("\n" + "\n".join(report))


if __name__ == "__main__":
    main()
