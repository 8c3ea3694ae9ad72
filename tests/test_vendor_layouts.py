"""Till and e-commerce exports as their vendors document them, imported through the real pipeline.

The samples in `tests/data/vendors/` are our own files written from each vendor's public
description of its export (README there). Each either lands on the shelf with the right code,
quantity and price, or is refused with a reason that tells the bookseller how to choose.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.models import ImportRun, Shop, StockLine
from importers.column_map import ColumnMap
from importers.headers import guess_columns, words_of
from importers.pipeline import import_file
from importers.records import StockRecord
from importers.registry import open_source, preview
from importers.report import column_lines
from tests.factories import make_shop

VENDORS = Path(__file__).parent / "data" / "vendors"

# Price in cents per code, None where the file gives none.
Shelf = dict[str, tuple[int, int | None]]


@pytest.fixture()
def shop(session: Session) -> Shop:
    return make_shop(session, slug="les-halles", name="Librairie des Halles")


def stock(session: Session, shop_id: int) -> Shelf:
    session.expire_all()
    rows = session.execute(select(StockLine.isbn13, StockLine.on_hand, StockLine.price_cents)
                           .where(StockLine.shop_id == shop_id))
    return {code: (on_hand, price) for code, on_hand, price in rows}


def run_of(session: Session, factory: sessionmaker[Session], shop: Shop, path: Path,
           columns: ColumnMap | None = None) -> ImportRun:
    result = import_file(factory, shop=shop, path=path, columns=columns)
    run = session.get(ImportRun, result.run_id)
    assert run is not None
    session.refresh(run)
    return run


@pytest.mark.parametrize(("name", "expected", "taken"), [
    # The image-only row is skipped; the third book has no barcode, its SKU holds the ISBN.
    ("shopify_products.csv",
     {"9782070368228": (3, 890), "9782890061231": (1, 2495), "9791035200121": (2, 2450)},
     {"code": "Variant Barcode", "quantity": "Variant Inventory Qty", "price": "Variant Price"}),
    # One location: taken. `Available` (what is free to sell), not `On hand`, nor `On hand (new)`.
    ("shopify_inventory_one_location.csv",
     {"9782070368228": (2, None), "9782890061231": (1, None)},
     {"code": "SKU", "quantity": "Available (not editable)"}),
    ("square_item_library.csv",
     {"9782070368228": (3, 890), "9782890061231": (1, 2495), "3760099990008": (12, 650)},
     {"code": "GTIN", "quantity": "Current Quantity Librairie du Port", "price": "Price"}),
    ("loyverse_items.csv",
     {"9782070368228": (4, 890), "9782890061231": (0, 2495), "9790600123452": (2, 1800)},
     {"code": "Barcode", "quantity": "In stock [Librairie des Halles]",
      "price": "Price [Librairie des Halles]"}),
    ("lightspeed_xseries_products.csv",
     {"9782070368228": (5, 890), "9782890061231": (1, 2495)},
     {"code": "sku", "quantity": "inventory_Main_Outlet", "price": "retail_price"}),
    ("prism_stock_on_hand.csv",
     {"9780201633610": (2, 5499), "9782762103458": (0, 4995)},
     {"code": "ISBN", "quantity": "Stock On Hand", "price": "Retail Price"}),
    # cp1252, `;`, decimal comma; `Stock mini` and `Prix d'achat HT` are not the stock nor the
    # price; the third line has no ISBN and the till's reference holds it.
    ("fr_caisse_quantite_en_stock.csv",
     {"9782070612758": (3, 750), "9782070368228": (12, 890), "9782890061231": (1, 2495)},
     {"code": "Code ISBN", "quantity": "Quantité en stock", "price": "Prix public TTC"}),
    # What is free to sell, not the physical count that includes copies held for customers.
    ("fr_caisse_stock_disponible.csv",
     {"9782070612758": (3, 750), "9782070368228": (0, 890)},
     {"code": "Code ISBN", "quantity": "Stock disponible", "price": "Prix public TTC"}),
])
def test_vendor_exports_land_on_the_shelf(
        session: Session, test_sessionmaker: sessionmaker[Session], shop: Shop, name: str,
        expected: Shelf, taken: dict[str, str]) -> None:
    run = run_of(session, test_sessionmaker, shop, VENDORS / name)
    assert (run.status, run.gate_message) == ("applied", None)
    assert stock(session, shop.id) == expected
    assert run.column_guess is not None
    read = {c["field"]: c["header"] for c in run.column_guess["columns"] if c["role"] == "main"}
    assert {field: read.get(field) for field in taken} == taken


def test_the_report_says_which_header_was_taken_and_why(
        session: Session, test_sessionmaker: sessionmaker[Session], shop: Shop) -> None:
    run = run_of(session, test_sessionmaker, shop, VENDORS / "shopify_products.csv")
    lines = column_lines(run)
    assert lines[0] == ("code : « Variant Barcode » (colonne 21, mot « barcode »), préférée à "
                        "« Variant SKU »")
    assert lines[1].startswith("code de secours : « Variant SKU » (colonne 11)")
    assert "quantité : « Variant Inventory Qty » (colonne 14, mots « inventory », « qty »)" \
        in lines
    assert lines[-1] == "1 ligne(s) sans code, quantité ni prix ignorée(s)"
    code = run.column_guess["columns"][0] if run.column_guess else {}
    assert code == {"field": "code", "column": 21, "header": "Variant Barcode",
                    "words": ["barcode"], "passed_over": ["Variant SKU"], "role": "main"}


@pytest.mark.parametrize(("name", "gate", "says"), [
    ("shopify_inventory_two_locations.csv", "several_locations",
     ["colonne « Location » (« Boutique », « Entrepôt »)",
      "--columns code=SKU,quantity=Available (not editable),location=Location:Boutique"]),
    ("square_item_library_two_locations.csv", "several_locations",
     ["« Current Quantity Librairie du Port », « Current Quantity Réserve »",
      "--columns code=GTIN,quantity=Current Quantity Librairie du Port,price=Price"]),
    ("lightspeed_xseries_two_outlets.csv", "several_locations",
     ["« inventory_Main_Outlet », « inventory_Entrepot »"]),
    # Without a header, 12 could be the price or the count: never guessed.
    ("headerless_ean_prix_qte.txt", "ambiguous_columns",
     ["première ligne : « 9782070612758 ; 12 ; 3 »", "--columns code=#1,price=#2,quantity=#3"]),
])
def test_layouts_that_cannot_be_read_safely_are_refused_with_the_way_out(
        session: Session, test_sessionmaker: sessionmaker[Session], shop: Shop, name: str,
        gate: str, says: list[str]) -> None:
    run = run_of(session, test_sessionmaker, shop, VENDORS / name)
    assert (run.status, run.gate) == ("rejected", gate)
    assert all(part in (run.gate_message or "") for part in says), run.gate_message
    assert "le stock précédent est conservé" in (run.gate_message or "")
    assert stock(session, shop.id) == {}


@pytest.mark.parametrize(("name", "spec", "expected"), [
    # Shop 2 + warehouse 40 is never 42: the map keeps the shop's own rows.
    ("shopify_inventory_two_locations.csv",
     "code=SKU,quantity=Available (not editable),location=Location:Boutique",
     {"9782070368228": (2, None), "9782890061231": (1, None)}),
    ("square_item_library_two_locations.csv",
     "code=GTIN,quantity=Current Quantity Librairie du Port,price=Price",
     {"9782070368228": (3, 890), "9782890061231": (1, 2495)}),
    ("headerless_ean_prix_qte.txt", "code=#1,price=#2,quantity=#3",
     {"9782070612758": (3, 1200), "9782890061231": (1, 1500), "9782070368228": (2, 900)}),
])
def test_the_column_map_the_refusal_suggests_reads_the_file(
        session: Session, test_sessionmaker: sessionmaker[Session], shop: Shop, name: str,
        spec: str, expected: Shelf) -> None:
    run = run_of(session, test_sessionmaker, shop, VENDORS / name, ColumnMap.parse(spec))
    assert (run.status, run.gate_message) == ("applied", None)
    assert stock(session, shop.id) == expected


def test_a_vendor_layout_saved_as_a_workbook_reads_alike(
        session: Session, test_sessionmaker: sessionmaker[Session], shop: Shop,
        tmp_path: Path) -> None:
    """Square recommends its Excel export: the same header read from cells, codes as text."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    with (VENDORS / "square_item_library.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            sheet.append(row)
    path = tmp_path / "square.xlsx"
    workbook.save(path)
    run = run_of(session, test_sessionmaker, shop, path)
    assert (run.status, run.format) == ("applied", "xlsx")
    assert stock(session, shop.id) == {
        "9782070368228": (3, 890), "9782890061231": (1, 2495), "3760099990008": (12, 650)}


@pytest.mark.parametrize(("header", "words"), [
    ("Variant Inventory Qty", ["variant", "inventory", "qty"]),
    ("inventory_Main_Outlet", ["inventory", "main", "outlet"]),
    ("stockOnHand", ["stock", "on", "hand"]),
    ("Quantité en stock", ["quantite", "en", "stock"]),
    ("Code-barres (EAN13)", ["code", "barre", "ean", "13"]),
    ("In stock [Réserve]", ["in", "stock", "reserve"]),
])
def test_headers_split_into_words(header: str, words: list[str]) -> None:
    assert [word for word, _ in words_of(header)] == words


@pytest.mark.parametrize(("header", "field", "expected"), [
    # A meaning-changing word rules a column out, whatever other word it holds.
    (["EAN", "Stock", "Stock mini", "Qté commandée"], "quantity", "Stock"),
    (["EAN", "Qté", "Prix d'achat HT", "Prix TTC"], "price", "Prix TTC"),
    (["EAN", "Qté", "supply_price", "retail_price"], "price", "retail_price"),
    (["EAN", "Qté", "Variant Compare At Price", "Variant Price"], "price", "Variant Price"),
    (["EAN", "Qté", "Social Media Link Title", "Item Name"], "title", "Item Name"),
    (["Code fournisseur", "Référence", "Qté"], "code", "Référence"),
    (["ISBN-10", "ISBN-13", "Qté"], "code", "ISBN-13"),
    # Shopify's newer product export: a policy column mentions stock too.
    (["URL handle", "Title", "SKU", "Barcode", "Price", "Compare-at price", "Cost per item",
      "Continue selling when out of stock", "Inventory quantity"], "quantity",
     "Inventory quantity"),
    (["URL handle", "Title", "SKU", "Barcode", "Compare-at price", "Price"], "price", "Price"),
])
def test_words_that_change_the_meaning_rule_a_column_out(header: list[str], field: str,
                                                         expected: str) -> None:
    guess = guess_columns(header)
    assert header[guess.positions[field]] == expected


def test_a_shelf_position_column_is_not_a_stock_location() -> None:
    """`Bin location` names a shelf in the shop, whose rows add up; `Location` a place."""
    assert guess_columns(["SKU", "Bin location", "On hand"]).location_column is None
    assert guess_columns(["SKU", "Location", "On hand"]).location_column == 1
    assert guess_columns(["SKU", "Nom du magasin", "Stock"]).location_column == 1


def test_a_map_naming_no_location_still_never_sums_two(
        session: Session, test_sessionmaker: sessionmaker[Session], shop: Shop) -> None:
    run = run_of(session, test_sessionmaker, shop, VENDORS / "shopify_inventory_two_locations.csv",
                 ColumnMap.parse("code=SKU,quantity=On hand (current)"))
    assert (run.status, run.gate) == ("rejected", "several_locations")
    assert ("--columns code=SKU,quantity=On hand (current),location=Location:Boutique"
            in (run.gate_message or ""))


def test_the_cli_report_shows_how_the_header_was_read(cli: FlaskCliRunner, shop: Shop) -> None:
    result = cli.invoke(args=["stock", "import", "--shop", shop.slug,
                              str(VENDORS / "loyverse_items.csv")])
    assert result.exit_code == 0, result.output
    assert ("  code : « Barcode » (colonne 14, mot « barcode »), préférée à « SKU »"
            in result.output.splitlines())
    assert "  quantité : « In stock [Librairie des Halles] » (colonne 22, mot « stock »)" \
        in result.output.splitlines()


@pytest.mark.parametrize(("content", "expected"), [
    # The count is the one number besides the code, wherever it stands.
    ("9782070368228;Le Phare des brumes;3\n", [("9782070368228", 3, None)]),
    ("9782070368228;3\n", [("9782070368228", 3, None)]),
    # A barcode cell left empty: the reference column holds the code.
    ("GTIN,SKU,Qty\n,9782890061231,2\n9782070368228,LP-1,1\n",
     [("9782890061231", 2, None), ("9782070368228", 1, None)]),
])
def test_tabular_reads(tmp_path: Path, content: str,
                       expected: list[tuple[str, int, int | None]]) -> None:
    path = tmp_path / "stock.csv"
    path.write_text(content, encoding="utf-8")
    records = [item for item in open_source(path) if isinstance(item, StockRecord)]
    assert [(r.code, r.quantity, r.price_cents) for r in records] == expected


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(max_size=40), max_size=30))
def test_any_header_is_guessed_without_crashing(header: list[str]) -> None:
    """Whatever a header row holds (ligatures, fractions, NULs, emoji), the guess is made and
    stores as JSON text PostgreSQL can hold."""
    guess = guess_columns(header)
    stored = json.dumps(guess.as_json(), ensure_ascii=False)
    assert "\x00" not in stored and "\\u0000" not in stored
    assert all(0 <= position < len(header) for position in guess.positions.values())
    assert len(set(guess.positions.values())) == len(guess.positions)


def test_shelves_of_one_shop_are_added_up_once_the_map_says_so(
        session: Session, test_sessionmaker: sessionmaker[Session], shop: Shop,
        tmp_path: Path) -> None:
    """`Emplacement` may be a shelf (Vitrine, Réserve) as well as another shop: refused until
    the bookseller says which; `location=Emplacement:*` adds the shelves up."""
    path = tmp_path / "stock.csv"
    path.write_text("EAN;Emplacement;Qté\n9782070368228;Vitrine;1\n9782070368228;Réserve;2\n",
                    encoding="utf-8")
    refused = run_of(session, test_sessionmaker, shop, path)
    assert (refused.status, refused.gate) == ("rejected", "several_locations")
    assert "location=Emplacement:*" in (refused.gate_message or "")
    applied = run_of(session, test_sessionmaker, shop, path,
                     ColumnMap.parse("code=EAN,quantity=Qté,location=Emplacement:*"))
    assert applied.status == "applied"
    assert stock(session, shop.id) == {"9782070368228": (3, None)}


def test_the_json_report_carries_the_guess_as_data(cli: FlaskCliRunner, shop: Shop) -> None:
    """What the upload page and the push API's clients read: plain data, no sentences."""
    result = cli.invoke(args=["stock", "import", "--shop", shop.slug, "--json",
                              str(VENDORS / "square_item_library_two_locations.csv")])
    report = json.loads(result.output)
    assert (report["status"], report["gate"]) == ("rejected", "several_locations")
    guess = report["column_guess"]
    assert guess["location_columns"] == ["Current Quantity Librairie du Port",
                                         "Current Quantity Réserve"]
    assert guess["locations"] == ["Librairie du Port", "Réserve"]
    assert [(c["field"], c["header"], c["role"]) for c in guess["columns"]][:3] == [
        ("code", "GTIN", "main"), ("code", "SKU", "fallback"),
        ("quantity", "Current Quantity Librairie du Port", "main")]


def test_a_preview_shows_the_first_rows_and_the_guess_without_refusing() -> None:
    """The column-map form's view of a file the import refuses."""
    shown = preview(VENDORS / "square_item_library_two_locations.csv", limit=2)
    assert shown is not None and len(shown.rows) == 2
    assert shown.rows[1][:4] == ["VTK1", "Le Phare des brumes", "Regular", "LP-001"]
    assert shown.guess is not None
    assert shown.guess["locations"] == ["Librairie du Port", "Réserve"]
    headerless = preview(VENDORS / "headerless_ean_prix_qte.txt")
    assert headerless is not None and headerless.guess is None
    assert headerless.rows[0] == ["9782070612758", "12", "3"]
    assert preview(Path(__file__).parent / "data" / "stock" / "onix30_stock_ref.xml") is None
