"""Nightly stock files for the demonstration network: one per shop, in that shop's till format.

Why: the demo must look like a real network, where the same few bestsellers sit in almost every
shop, popularity falls off like Zipf's law, most titles are on one or two shelves, and the tills
disagree about file formats. Everything is seeded, so two runs write the same bytes (XLSX aside:
its zip container stamps the current time) and tests can rely on the content.

Run: `python demo/generate_stock.py OUT_DIR [--now 2026-11-23T09:00:00+01:00]`.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import heapq
import math
import os
import random
import sys
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:  # run as a script, only demo/ would be on the path
    sys.path.insert(0, str(PROJECT_ROOT))

from app.text import slugify  # noqa: E402
from demo import till_formats  # noqa: E402
from demo.till_formats import Exporter, StockLine  # noqa: E402

DEMO_DIR = PROJECT_ROOT / "demo"
SEED = "rayons-demo-stock-1"
PARIS = ZoneInfo("Europe/Paris")
# (format, share in %): what a French independent network's tills look like.
FORMATS = [("fr_cp1252", 50), ("fr_utf8bom", 15), ("tsv", 10), ("xlsx", 10), ("json", 10),
           ("onix", 5)]
# The hash salt is picked so that the 44 demo shops split close to the shares above.
FORMAT_SALT = "format-947"
EXTENSIONS = {"fr_cp1252": ".csv", "fr_utf8bom": ".csv", "tsv": ".tsv", "xlsx": ".xlsx",
              "json": ".json", "onix": ".xml"}
BESTSELLERS = [
    "Le Petit Prince", "L'Ordre du jour", "L'Étranger", "Chanson douce", "L'Anomalie", "La Peste",
    "Madame Bovary", "Les Misérables", "Germinal", "Bel-Ami", "Candide", "Thérèse Desqueyroux",
    "L'Élégance du hérisson", "La Vérité sur l'affaire Harry Quebert", "Bonjour tristesse",
    "Le Grand Meaulnes", "Les Années", "La Place", "Veiller sur elle", "Houris",
    "Le Mage du Kremlin", "Changer l'eau des fleurs", "La Tresse", "Petit Pays",
    "Au revoir là-haut", "Réparer les vivants", "La plus secrète mémoire des hommes",
    "Le Consentement", "Les Gratitudes", "L'Art de perdre", "Astérix le Gaulois", "Le Lotus bleu",
    "On a marché sur la Lune", "L'Arabe du futur", "Persepolis",
    "Mortelle Adèle – Tout ça finira mal", "Le Petit Nicolas",
    "Le Loup qui voulait changer de couleur", "Le Comte de Monte-Cristo",
    "Vingt mille lieues sous les mers",
]
POCKET = {"Folio", "Le Livre de Poche", "Pocket", "Folio Junior", "L'Escale poche",
          "Poche des Dunes"}
COMICS = {"Casterman", "Dargaud", "Dupuis", "Éditions Albert René", "L'Association",
          "Éditions Blake et Mortimer", "Allary Éditions", "Tourbillon", "Bulles d'Estuaire",
          "Éditions Phylactère"}
YOUTH = {"L'École des loisirs", "Auzou", "Didier Jeunesse", "Gallimard Jeunesse",
         "Éditions Petit Galet", "Les Mirabelles jeunesse"}
# Euro ranges of the fixed book price (loi Lang: the same in every shop), by kind of edition.
PRICE_RANGES = {"pocket": (5, 12), "comics": (11, 23), "youth": (5, 16), "book": (16, 25),
                "ismn": (9, 29), "gtin": (2, 24), "internal": (0, 7)}
# Shops draw from the HEAD_SIZE most popular titles with Zipf weights, plus size // TAIL_SHARE
# personal picks from the rest of the catalogue.
ZIPF_EXPONENT = 1.05
HEAD_SIZE = 500
TAIL_SHARE = 6
CITY_TASTE = {"Angoulême": COMICS}  # the comics capital's shop leans heavily on albums


@dataclass(frozen=True, slots=True)
class Shop:
    slug: str
    name: str
    city: str


def _unit(*parts: str) -> float:
    """A stable number in [0, 1) from strings: unlike hash(), it survives PYTHONHASHSEED."""
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()
    return int(digest[:13], 16) / 16**13


def load_shops(path: Path = DEMO_DIR / "shops.csv") -> list[Shop]:
    """Demo shops with the slug the shop importer gives them (derived from the name if empty)."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return [Shop(row["slug"] or slugify(row["name"]), row["name"], row["city"])
                for row in csv.DictReader(handle, delimiter=";")]


def load_editions() -> list[StockLine]:
    """Catalogue and non-book codes as quantity-less lines, priced the same for every shop."""
    with open(DEMO_DIR / "catalogue.csv", encoding="utf-8", newline="") as handle:
        books = [StockLine(row["isbn13"], "isbn", row["title"], row["authors"], row["publisher"],
                           0, None) for row in csv.DictReader(handle, delimiter=";")]
    with open(DEMO_DIR / "other_codes.csv", encoding="utf-8", newline="") as handle:
        others = [StockLine(row["code"], row["kind"], row["label"], "", "", 0, None)
                  for row in csv.DictReader(handle, delimiter=";")]
    return [_priced(line) for line in books + others]


def _priced(line: StockLine) -> StockLine:
    kind = line.kind
    if kind == "isbn":
        kind = ("pocket" if line.publisher in POCKET else "comics" if line.publisher in COMICS
                else "youth" if line.publisher in YOUTH else "book")
    low, high = PRICE_RANGES[kind]
    euros = low + int(_unit("price", line.code) * (high - low + 1))
    cents = (0, 20, 50, 80, 90, 95)[int(_unit("cents", line.code) * 6)]
    return replace(line, price_cents=max(euros * 100 + cents, 50), hardback=kind == "comics")


def till_format(slug: str) -> str:
    """The shop's format, from its slug alone: adding a shop never changes another one's."""
    point, total = _unit(FORMAT_SALT, slug) * 100, 0
    for name, share in FORMATS:
        total += share
        if point < total:
            return name
    return FORMATS[-1][0]


def export_time(slug: str, now: datetime) -> datetime:
    """The last nightly export before `now`: 02:00-02:45 Paris time, a few minutes per shop."""
    local = now.astimezone(PARIS)
    minutes = int(_unit("export", slug) * 45)
    export = local.replace(hour=2, minute=minutes, second=0, microsecond=0)
    if export > local:
        export -= timedelta(days=1)
    return export.astimezone(UTC).astimezone(PARIS)  # 02:xx may not exist (DST)


def rank_by_popularity(pool: list[StockLine]) -> list[StockLine]:
    """Most popular first: real books among the first 200, invented ones anywhere."""
    with open(DEMO_DIR / "real_books.csv", encoding="utf-8", newline="") as handle:
        real = {row["title"] for row in csv.DictReader(handle, delimiter=";")}
    rng = random.Random(f"{SEED}|popularity")
    draws = {book.code: rng.random() * (200 if book.title in real else len(pool))
             for book in pool}
    return sorted(pool, key=lambda book: draws[book.code])


def _quantity(rng: random.Random) -> int:
    return rng.choices((0, 1, 2, 3, 4, 5, 6), weights=(3, 55, 22, 11, 5, 2, 2))[0]


def _shop_lines(shop: Shop, bestsellers: list[StockLine], ranked: list[StockLine],
                others: list[StockLine]) -> list[StockLine]:
    """What one shop holds: most bestsellers, a Zipf draw from the popular head of the
    catalogue, a few personal picks from the tail (why most titles sit on one or two shelves),
    and a few non-book codes."""
    rng = random.Random(f"{SEED}|{shop.slug}")
    size = rng.randint(350, 600) if shop.city == "Bordeaux" else rng.randint(150, 400)
    lines = [replace(book, quantity=rng.choices(range(1, 9), (10, 22, 22, 16, 10, 8, 6, 6))[0])
             for book in bestsellers if rng.random() < 0.9]
    head, tail = ranked[:HEAD_SIZE], ranked[HEAD_SIZE:]
    picks = rng.sample(tail, size // TAIL_SHARE)
    taste = CITY_TASTE.get(shop.city, set())
    # Weighted sampling without replacement (Efraimidis-Spirakis), in log space for tiny weights.
    keys = [math.log(1.0 - rng.random()) * (rank + 8) ** ZIPF_EXPONENT
            / (8 if book.publisher in taste else 1) for rank, book in enumerate(head)]
    chosen = heapq.nlargest(size - len(lines) - len(picks), range(len(head)),
                            key=keys.__getitem__)
    lines += [replace(book, quantity=_quantity(rng)) for book in picks + [head[i] for i in chosen]]
    lines += [replace(code, quantity=rng.randint(1, 15))
              for code in rng.sample(others, rng.randint(2, 5))]
    return sorted(lines, key=lambda line: line.code)


def _add_defects(lines: list[StockLine], rng: random.Random, *, negative: bool) -> None:
    """What real exports contain: an EAN on two lines (two shelves), maybe a negative count."""
    twice = rng.choice([line for line in lines if line.quantity >= 2])
    index = lines.index(twice)
    lines[index] = replace(twice, quantity=twice.quantity - 1)
    lines.append(replace(twice, quantity=1))
    if negative:
        index = rng.randrange(len(lines) - 1)
        lines[index] = replace(lines[index], quantity=-1)


def _write(path: Path, fmt: str, lines: list[StockLine], shop: Shop,
           exported_at: datetime) -> None:
    if fmt in ("fr_cp1252", "fr_utf8bom"):
        encoding = "cp1252" if fmt == "fr_cp1252" else "utf-8-sig"
        till_formats.write_french_csv(path, lines, encoding=encoding)
    elif fmt == "tsv":
        till_formats.write_tsv(path, lines)
    elif fmt == "xlsx":
        by_title = sorted(lines, key=lambda line: (line.title, line.code))
        till_formats.write_xlsx(path, by_title, exported_at=exported_at)
    elif fmt == "json":
        till_formats.write_json(path, lines)
    else:
        till_formats.write_onix(path, lines, shop=Exporter(shop.slug, shop.name),
                                exported_at=exported_at)


def generate(out_dir: Path, *, now: datetime) -> dict[str, Path]:
    """Write `out_dir/<slug>/stock-YYYYMMDD.<ext>` for every demo shop; return slug -> file.

    Earlier `stock-*` files in a shop's folder are removed: the folder holds last night's
    snapshot only. A naive `now` is taken as UTC.
    """
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    shops = load_shops()
    editions = load_editions()
    books = [line for line in editions if line.kind == "isbn"]
    others = [line for line in editions if line.kind != "isbn"]
    first_edition = {book.title: book for book in reversed(books)}
    bestsellers = [first_edition[title] for title in BESTSELLERS]
    best_codes = {book.code for book in bestsellers}
    pool = [book for book in books if book.code not in best_codes]
    ranked = rank_by_popularity(pool)
    defect_shops = sorted((s.slug for s in shops if till_format(s.slug) in ("fr_cp1252", "tsv")),
                          key=lambda slug: _unit("defects", slug))[:2]
    written = {}
    for shop in shops:
        fmt = till_format(shop.slug)
        lines = _shop_lines(shop, bestsellers, ranked, others)
        if shop.slug in defect_shops:
            _add_defects(lines, random.Random(f"{SEED}|defects|{shop.slug}"),
                         negative=shop.slug == defect_shops[0])
        exported_at = export_time(shop.slug, now)
        folder = out_dir / shop.slug
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("stock-*"):
            old.unlink()
        path = folder / f"stock-{exported_at:%Y%m%d}{EXTENSIONS[fmt]}"
        _write(path, fmt, lines, shop, exported_at)
        os.utime(path, (exported_at.timestamp(), exported_at.timestamp()))
        written[shop.slug] = path
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--now", type=datetime.fromisoformat, default=None,
                        help="ISO date-time of the run, UTC if naive (default: now)")
    args = parser.parse_args(argv)
    written = generate(args.out_dir, now=args.now or datetime.now(UTC))
    formats = Counter(till_format(slug) for slug in written)
    summary = ", ".join(f"{name} {count}" for name, count in sorted(formats.items()))
    print(f"{len(written)} stock files in {args.out_dir} ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
