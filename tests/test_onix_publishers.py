"""ONIX as publishers and distributors really write it, through the whole import into PostGIS:
stock as text, prices in other currencies, UTF-16, broken encodings, catalogues without stock,
and values past the columns' bounds. The samples are described in tests/data/stock/SAMPLES.md.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.models import ImportRejection, ImportRun, Shop, StockLine
from importers.onix import IN_STOCK_COUNT, stock_count
from importers.pipeline import import_file
from importers.registry import detect_format
from importers.validate import ValueProblem
from tests.factories import make_shop
from tests.stock_helpers import STOCK_DATA, shelf

LYON = "3012345000024"
REF = STOCK_DATA / "onix30_stock_ref.xml"
GOOD = "9782743611071"


@pytest.fixture()
def shop(session: Session) -> Shop:
    """A shop of the two-location network of onix30_stock_ref.xml."""
    return make_shop(session, feed_location_code=LYON)


@pytest.fixture()
def distributor(session: Session) -> Shop:
    """A shop whose feed has a single stock location, named nowhere."""
    return make_shop(session)


def run_of(session: Session, factory: sessionmaker[Session], shop: Shop, path: Path) -> ImportRun:
    result = import_file(factory, shop=shop, path=path)
    session.expire_all()
    run = session.get(ImportRun, result.run_id)
    assert run is not None
    return run


def reported(session: Session, run: ImportRun) -> list[tuple[int, str, str]]:
    rows = session.execute(
        select(ImportRejection.line, ImportRejection.raw_value, ImportRejection.reason_code)
        .where(ImportRejection.import_run_id == run.id).order_by(ImportRejection.line))
    return [(line, raw, reason) for line, raw, reason in rows]


def prices(session: Session, shop: Shop) -> dict[str, int | None]:
    rows = session.execute(select(StockLine.isbn13, StockLine.price_cents)
                           .where(StockLine.shop_id == shop.id))
    return {code: price for code, price in rows}


@pytest.mark.parametrize(("raw", "count", "vague"), [
    ("3", 3, False), (" 12 ", 12, False), ("100-500", 100, False), ("100 - 500", 100, False),
    ("100 to 500", 100, False), ("20+", 20, False), (">20", 21, False), ("Over 20", 21, False),
    ("NYP", 0, False), ("Out of stock", 0, False), ("OOS", 0, False), ("épuisé", 0, False),
    ("Not yet published", 0, False), ("In stock", IN_STOCK_COUNT, True),
    ("IN STOCK", IN_STOCK_COUNT, True), ("En stock", IN_STOCK_COUNT, True),
    ("Low", IN_STOCK_COUNT, True),
])
def test_stock_values_as_feeds_write_them(raw: str, count: int, vague: bool) -> None:
    assert stock_count(raw) == (count, vague)


@pytest.mark.parametrize(("raw", "reason"), [
    ("beaucoup", "invalid_quantity"), ("500-100", "invalid_quantity"),
    ("3000000000-4000000000", "implausible_quantity"), ("3000000000+", "implausible_quantity"),
    ("", "missing_quantity"),
])
def test_stock_values_without_a_sure_count_are_refused(raw: str, reason: str) -> None:
    with pytest.raises(ValueProblem) as caught:
        stock_count(raw)
    assert caught.value.reason == reason


def test_a_distributor_feed_with_text_stock_imports(
    session: Session, test_sessionmaker: sessionmaker[Session], distributor: Shop
) -> None:
    shop = distributor
    run = run_of(session, test_sessionmaker, shop, STOCK_DATA / "onix21_distributor_text_stock.xml")
    assert (run.status, run.format, run.accepted, run.rejected_lines) == ("applied", "onix", 6, 1)
    assert shelf(session, shop.id) == {
        "9782743611002": 100,  # 100-500
        "9782743611019": 0,  # NYP
        "9782743611026": IN_STOCK_COUNT,  # In stock, reported
        "9782743611033": 0,  # Out of stock
        "9782743611040": 20,  # StockQuantityCode 20+
        "9782743611064": 12,
    }
    assert reported(session, run) == [(29, "In stock", "stock_without_count"),
                                      (56, "beaucoup", "invalid_quantity")]
    assert prices(session, shop)["9782743611002"] == 1950  # DefaultCurrencyCode EUR


def test_prices_in_other_currencies_are_dropped_never_relabelled(
    session: Session, test_sessionmaker: sessionmaker[Session], distributor: Shop
) -> None:
    shop = distributor
    run = run_of(session, test_sessionmaker, shop, STOCK_DATA / "onix30_foreign_currencies.xml")
    assert (run.status, run.accepted, run.rejected_lines) == ("applied", 3, 0)
    assert prices(session, shop) == {"9789170000010": None, "9781920000011": None, GOOD: 1450}
    assert reported(session, run) == [(13, "129.00 SEK", "price_not_in_euros"),
                                      (21, "59.95 AUD", "price_not_in_euros")]


def test_a_price_in_no_currency_at_all_is_dropped(
    session: Session, test_sessionmaker: sessionmaker[Session], shop: Shop, tmp_path: Path
) -> None:
    path = tmp_path / "nocurrency.xml"
    path.write_text(REF.read_text(encoding="utf-8")
                    .replace("<DefaultCurrencyCode>EUR</DefaultCurrencyCode>", "")
                    .replace("<CurrencyCode>EUR</CurrencyCode>", ""), encoding="utf-8")
    run = run_of(session, test_sessionmaker, shop, path)
    assert run.status == "applied"
    assert set(prices(session, shop).values()) == {None}
    assert {reason for _, _, reason in reported(session, run)} == {"price_without_currency"}


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_unicode_encodings_are_onix_not_csv(
    session: Session, test_sessionmaker: sessionmaker[Session], shop: Shop, tmp_path: Path,
    encoding: str,
) -> None:
    """Windows tools save XML as "Unicode" (UTF-16, BOM or not) or UTF-8 with a BOM."""
    text = REF.read_text(encoding="utf-8")
    if encoding.startswith("utf-16"):
        text = text.replace('encoding="UTF-8"', 'encoding="UTF-16"')
    path = tmp_path / "stock.xml"
    path.write_bytes(text.encode(encoding))
    assert detect_format(path) == "onix"
    run = run_of(session, test_sessionmaker, shop, path)
    assert (run.status, run.format) == ("applied", "onix")
    assert shelf(session, shop.id)["9782070368228"] == 3
    assert prices(session, shop)["9782070368228"] == 890


@pytest.mark.parametrize(("damage", "gate", "words"), [
    (lambda text: text.replace("Phare", "Ph\u00e2re").encode("cp1252"), "wrong_encoding",
     "réexportez-le en UTF-8"),
    (lambda text: text.replace("Phare", "Ph\x01are").encode("utf-8"), "control_character",
     "caractère de contrôle que le XML interdit (U+0001)"),
    (lambda text: text.replace("</TitleText>", "</Title>", 1).encode("utf-8"), "malformed",
     "mal formé"),
])
def test_broken_files_are_refused_in_honest_words(
    session: Session, test_sessionmaker: sessionmaker[Session], shop: Shop, tmp_path: Path,
    damage: object, gate: str, words: str,
) -> None:
    """Only a file that stops early is said to have been cut during upload."""
    path = tmp_path / "stock.xml"
    path.write_bytes(damage(REF.read_text(encoding="utf-8")))  # type: ignore[operator]
    run = run_of(session, test_sessionmaker, shop, path)
    assert (run.status, run.gate) == ("rejected", gate)
    assert run.gate_message is not None and words in run.gate_message
    assert "coupé" not in run.gate_message


def test_a_catalogue_without_stock_is_refused_and_points_to_the_catalogue_import(
    session: Session, test_sessionmaker: sessionmaker[Session], shop: Shop
) -> None:
    applied = run_of(session, test_sessionmaker, shop, REF)
    assert applied.status == "applied"
    before = shelf(session, shop.id)
    run = run_of(session, test_sessionmaker, shop, STOCK_DATA / "onix30_catalogue_no_stock.xml")
    assert (run.status, run.gate) == ("rejected", "no_stock")
    assert run.gate_message is not None and "rayons stock catalogue" in run.gate_message
    assert reported(session, run) == []  # refused as a catalogue, not as two bad lines
    assert shelf(session, shop.id) == before


def test_values_past_the_columns_bounds_reject_their_line_not_the_run(
    session: Session, test_sessionmaker: sessionmaker[Session], distributor: Shop,
    tmp_path: Path
) -> None:
    """OnHand 3000000000 or a price of 99999999.00 would overflow the stock table's integers
    (NumericValueOutOfRange, ending the run): the same bounds as CSV reject the line instead."""
    shop = distributor
    text = (STOCK_DATA / "onix21_distributor_text_stock.xml").read_text(encoding="utf-8")
    onix = tmp_path / "big.xml"
    onix.write_text(text.replace("<OnHand>12</OnHand>", "<OnHand>3000000000</OnHand>")
                    .replace("<PriceAmount>19.50</PriceAmount>",
                             "<PriceAmount>99999999.00</PriceAmount>"), encoding="utf-8")
    run = run_of(session, test_sessionmaker, shop, onix)
    assert run.status == "applied"
    assert reported(session, run) == [(13, "99999999.00", "invalid_price"),
                                      (29, "In stock", "stock_without_count"),
                                      (56, "beaucoup", "invalid_quantity"),
                                      (63, "3000000000", "implausible_quantity")]
    assert prices(session, shop)["9782743611002"] is None
    stocks = tmp_path / "big.json"
    stocks.write_text(json.dumps({"stocks": [
        {"ref": "9782070368228", "available": 3000000000},
        {"ref": GOOD, "available": 2, "price": 99999999},
        *({"ref": code, "available": 1} for code in shelf(session, shop.id)),
    ]}))
    run = run_of(session, test_sessionmaker, shop, stocks)
    assert run.status == "applied"
    assert reported(session, run) == [(1, "3000000000", "implausible_quantity"),
                                      (2, "99999999", "invalid_price")]
    assert prices(session, shop)[GOOD] is None


def test_short_tags_carry_text_stock_coded_stock_and_the_default_currency(
    session: Session, test_sessionmaker: sessionmaker[Session], distributor: Shop,
    tmp_path: Path
) -> None:
    """The same elements in EDItEUR's 2.1 short tags: m186 DefaultCurrencyCode, j350 OnHand,
    stockquantitycoded with j293 (type, code list 70) and j297 (the code)."""
    path = tmp_path / "short.xml"
    path.write_text("""<?xml version="1.0" encoding="UTF-8"?>
<ONIXmessage release="2.1"><header><m182>20250314</m182><m186>SEK</m186></header>
<product><a001>1</a001><productidentifier><b221>15</b221><b244>9782743611002</b244>
</productidentifier><supplydetail><stock><j350>5 - 10</j350></stock>
<price><j148>02</j148><j151>129.00</j151></price></supplydetail></product>
<product><a001>2</a001><productidentifier><b221>15</b221><b244>9782743611019</b244>
</productidentifier><supplydetail><stock><stockquantitycoded><j293>01</j293><j297>In stock</j297>
</stockquantitycoded></stock><price><j148>02</j148><j151>9.00</j151><j152>EUR</j152></price>
</supplydetail></product>
</ONIXmessage>
""", encoding="utf-8")
    run = run_of(session, test_sessionmaker, distributor, path)
    assert run.status == "applied"
    assert shelf(session, distributor.id) == {"9782743611002": 5, "9782743611019": 1}
    assert prices(session, distributor) == {"9782743611002": None, "9782743611019": 900}
    assert [reason for _, _, reason in reported(session, run)] == ["price_not_in_euros",
                                                                   "stock_without_count"]
