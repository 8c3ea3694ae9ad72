"""The demo network's stock files: one per shop, mixed formats, a sound catalogue, stable bytes.

The demo is what a visitor and the import pipeline see first, so it must keep looking like a real
network: valid codes, famous books on many shelves, and only a handful of defective lines.
"""
from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from demo import generate_stock

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
DEMO_DIR = Path(generate_stock.__file__).resolve().parent
ONIX = "{http://ns.editeur.org/onix/3.0/reference}"


def _check_digit_ok(code: str) -> bool:
    """EAN-13 rule, written independently of the generator."""
    if len(code) != 13 or not code.isdigit():
        return False
    weighted = sum(int(digit) * (1, 3)[i % 2] for i, digit in enumerate(code[:12]))
    return (10 - weighted % 10) % 10 == int(code[12])


def _read_rows(path: Path) -> list[tuple[str, int]]:
    """(code, quantity) per line of a stock file, whatever its format: a minimal test reader."""
    if path.suffix == ".json":
        return [(s["ref"], s["available"]) for s in json.loads(path.read_text("utf-8"))["stocks"]]
    if path.suffix == ".xml":
        rows = []
        for product in ET.parse(path).getroot().iter(f"{ONIX}Product"):
            code = product.find(f"{ONIX}ProductIdentifier/{ONIX}IDValue").text
            rows.append((code, int(product.find(f".//{ONIX}OnHand").text)))
        return rows
    if path.suffix == ".xlsx":
        workbook = load_workbook(path, read_only=True)
        try:
            rows = workbook.worksheets[0].iter_rows(min_row=2, values_only=True)
            return [(str(ean), qty) for ean, _, qty, _ in rows]
        finally:
            workbook.close()
    raw = path.read_bytes()
    if path.suffix == ".tsv":
        lines = raw.decode().splitlines()[1:]
        return [(r[0], int(r[1])) for r in csv.reader(lines, delimiter="\t")]
    text = raw.decode("utf-8-sig") if raw.startswith(b"\xef\xbb\xbf") else raw.decode("cp1252")
    return [(r[0], int(r[5])) for r in csv.reader(text.splitlines()[1:], delimiter=";")]


def _stock(path: Path) -> Counter[str]:
    """Quantities per code, duplicates summed as the merge does."""
    totals: Counter[str] = Counter()
    for code, quantity in _read_rows(path):
        totals[code] += quantity
    return totals


def _catalogue() -> list[dict[str, str]]:
    with open(DEMO_DIR / "catalogue.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return generate_stock.generate(tmp_path_factory.mktemp("stock"), now=NOW)


def test_every_demo_shop_gets_exactly_one_file(written: dict[str, Path]) -> None:
    slugs = [shop.slug for shop in generate_stock.load_shops()]
    assert len(slugs) == 44 and len(set(slugs)) == 44
    assert "librairie-l-aeroplane-de-papier" in slugs  # empty slug in shops.csv, derived from name
    assert sorted(written) == sorted(slugs)
    for slug, path in written.items():
        assert list(path.parent.iterdir()) == [path]
        assert path.parent.name == slug and path.name.startswith("stock-2026112")


def test_till_formats_mix_like_a_real_network(written: dict[str, Path]) -> None:
    extensions = Counter(path.suffix for path in written.values())
    assert len(extensions) >= 4
    assert extensions.most_common(1)[0][0] == ".csv"
    formats = Counter(generate_stock.till_format(slug) for slug in written)
    assert set(formats) == {name for name, _ in generate_stock.FORMATS}


def test_files_date_from_the_last_nightly_export(written: dict[str, Path]) -> None:
    for path in written.values():
        mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        assert NOW - timedelta(days=1) < mtime <= NOW
        assert mtime.astimezone(generate_stock.PARIS).hour == 2


def test_catalogue_codes_are_valid_and_unique() -> None:
    isbns = [row["isbn13"] for row in _catalogue()]
    assert 1_900 <= len(isbns) <= 2_200
    assert len(set(isbns)) == len(isbns)
    assert all(isbn.startswith("9782") and _check_digit_ok(isbn) for isbn in isbns)
    with open(DEMO_DIR / "other_codes.csv", encoding="utf-8", newline="") as handle:
        others = list(csv.DictReader(handle, delimiter=";"))
    assert {row["kind"] for row in others} == {"ismn", "gtin", "internal"}
    assert all(_check_digit_ok(row["code"]) for row in others)
    assert not {row["code"] for row in others} & set(isbns)


@pytest.mark.parametrize("title, author", [("Le Petit Prince", "Antoine de Saint-Exupéry"),
                                           ("L'Ordre du jour", "Éric Vuillard")])
def test_famous_books_are_on_many_shelves(written: dict[str, Path], title: str,
                                          author: str) -> None:
    editions = {row["isbn13"] for row in _catalogue()
                if row["title"] == title and row["authors"] == author}
    assert editions
    holders = [slug for slug, path in written.items()
               if any(_stock(path)[isbn] > 0 for isbn in editions)]
    assert len(holders) >= 20


def test_shops_look_plausible_and_almost_every_line_is_valid(written: dict[str, Path]) -> None:
    duplicates = negatives = 0
    for path in written.values():
        rows = _read_rows(path)
        valid = [code for code, quantity in rows if _check_digit_ok(code) and quantity >= 0]
        assert len(valid) / len(rows) > 0.95, path
        assert 150 <= len(set(valid)) <= 610, path
        duplicates += len(rows) - len({code for code, _ in rows})
        negatives += sum(1 for _, quantity in rows if quantity < 0)
    assert duplicates >= 1 and negatives >= 1  # the import reports have something to show


def test_two_runs_write_the_same_bytes(written: dict[str, Path], tmp_path: Path) -> None:
    again = generate_stock.generate(tmp_path, now=NOW)
    for slug, path in written.items():
        assert again[slug].name == path.name
        if path.suffix != ".xlsx":  # the zip container stamps the current time
            assert again[slug].read_bytes() == path.read_bytes(), slug
