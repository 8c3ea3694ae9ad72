"""No input crashes an import: the three parsers (delimited, ONIX, JSON) fuzzed with Hypothesis
through the real pipeline into PostGIS.

Each example is a whole file, imported with `force` so that the gates let it reach the merge:
the run must end `applied` or `rejected` (a refusal with its reason), never `failed` (an
exception: a crash, or a value PostgreSQL refuses, such as NumericValueOutOfRange). Values are
drawn where parsers have failed before: huge and negative numbers, exponents, text where a
number is due, codes of every length, control characters, foreign currencies.
Bounded in examples and without a deadline, so the test stays a few seconds in `make test`.
"""
from __future__ import annotations

import json
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from app.models import ImportRun, Shop
from importers.pipeline import import_file
from tests.factories import make_shop

FUZZ = settings(max_examples=25, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
VALID_CODES = ("9782070368228", "9782743611002", "9790321765467", "3760099990008")

# Integers straddling every bound: the quantity bound, 32-bit columns, 64-bit, and beyond.
edge_ints = st.one_of(st.integers(-10, 10), st.integers(-(2**70), 2**70),
                      st.sampled_from([100_000, 100_001, 2**31 - 1, 2**31, 3_000_000_000,
                                       99_999_999, 10**12, -(2**31) - 1]))
number_texts = st.one_of(
    edge_ints.map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["1e999999", "-0", "3,5", "1 234,50", "100-500", "NYP", "In stock", "20+",
                     ">20", "9.99 €", "0x10", "", " ", "\u00a012", "١٢"]),
    st.text(max_size=12),
)
code_texts = st.one_of(
    st.sampled_from(VALID_CODES + ("201633612", "965724921", "0000000000", "0000000000000",
                                   "M-3217-6546-7", "9,78207E+12", "ISBN-978-2-07-036822-8",
                                   "978\u20132\u201307\u2013036822\u20138", "X", "")),
    st.text(alphabet="0123456789-X ", max_size=20),
    st.text(max_size=20),
)


@st.composite
def delimited_files(draw: st.DrawFn) -> bytes:
    """A till export: a header (or none), rows of code / quantity / price, any separator."""
    separator = draw(st.sampled_from([";", ",", "\t", "|"]))
    lines = [separator.join(["EAN", "Qté", "Prix"])] if draw(st.booleans()) else []
    rows = draw(st.lists(st.tuples(code_texts, number_texts, number_texts), min_size=1,
                         max_size=12))
    lines += [separator.join(cell.replace(separator, " ").replace("\n", " ")
                             .replace("\r", " ").replace('"', "") for cell in row)
              for row in rows]
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    return ("\n".join(lines) + "\n").encode(encoding, errors="replace")


@st.composite
def onix_files(draw: st.DrawFn) -> bytes:
    """An ONIX 3.0 message whose stock, codes, prices and currencies are drawn."""
    products = []
    for code, on_hand, coded, amount, currency in draw(st.lists(st.tuples(
            code_texts, number_texts, st.none() | number_texts, number_texts,
            st.sampled_from(["", "EUR", "SEK", "AUD", "eur", "XXX"])), min_size=1, max_size=8)):
        stock = (f"<StockQuantityCoded><StockQuantityCodeType>01</StockQuantityCodeType>"
                 f"<StockQuantityCode>{escape(coded)}</StockQuantityCode></StockQuantityCoded>"
                 if coded is not None else f"<OnHand>{escape(on_hand)}</OnHand>")
        currency_code = f"<CurrencyCode>{currency}</CurrencyCode>" if currency else ""
        products.append(
            f"<Product><RecordReference>r</RecordReference><ProductIdentifier><ProductIDType>15"
            f"</ProductIDType><IDValue>{escape(code)}</IDValue></ProductIdentifier>"
            f"<ProductSupply><SupplyDetail><Stock>{stock}</Stock><Price><PriceType>02</PriceType>"
            f"<PriceAmount>{escape(amount)}</PriceAmount>{currency_code}</Price></SupplyDetail>"
            "</ProductSupply></Product>\n")
    default = draw(st.sampled_from(["", "<DefaultCurrencyCode>EUR</DefaultCurrencyCode>",
                                    "<DefaultCurrencyCode>SEK</DefaultCurrencyCode>"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-16", "utf-16-le", "utf-16-be"]))
    declared = "UTF-16" if encoding.startswith("utf-16") else "UTF-8"
    text = (f'<?xml version="1.0" encoding="{declared}"?>\n<ONIXMessage release="3.0" '
            'xmlns="http://ns.editeur.org/onix/3.0/reference"><Header><SentDateTime>20250314'
            f"</SentDateTime>{default}</Header>\n{''.join(products)}</ONIXMessage>\n")
    data = text.encode(encoding, errors="surrogatepass")
    if draw(st.booleans()):  # sometimes cut short, or with a stray byte
        data = data[: draw(st.integers(0, len(data)))] + draw(st.binary(max_size=3))
    return data


json_values = st.one_of(st.none(), st.booleans(), edge_ints, number_texts, code_texts,
                        st.floats(allow_nan=False, allow_infinity=False),
                        st.lists(st.integers(), max_size=2))


@st.composite
def json_files(draw: st.DrawFn) -> bytes:
    """The vendors' `{"stocks": [...]}` with every member drawn, numbers as numbers or text."""
    entries = draw(st.lists(st.fixed_dictionaries(
        {"ref": st.one_of(code_texts, edge_ints, json_values)},
        optional={"available": json_values, "price": json_values}), min_size=1, max_size=10))
    return json.dumps({"stocks": entries, "exported_at": draw(st.text(max_size=30))},
                      ensure_ascii=draw(st.booleans())).encode()


def import_survives(factory: sessionmaker[Session], session: Session, shop: Shop, path: Path,
                    data: bytes) -> None:
    path.write_bytes(data)
    result = import_file(factory, shop=shop, path=path, force=True)
    session.expire_all()
    run = session.get(ImportRun, result.run_id)
    assert run is not None
    assert run.status in {"applied", "rejected"}, (run.status, run.gate, run.gate_message)
    if run.status == "rejected":
        assert run.gate and run.gate != "internal_error" and run.gate_message


any_bytes = st.one_of(st.binary(max_size=300),
                    st.text(max_size=200).map(lambda text: text.encode("utf-16")))


@pytest.mark.parametrize(("files", "name"), [
    pytest.param(delimited_files(), "stock.csv", id="delimited"),
    pytest.param(onix_files(), "stock.xml", id="onix"),
    pytest.param(json_files(), "stock.json", id="json"),
    # Whatever the content, the format is detected and its parser refuses or reads it.
    pytest.param(any_bytes, "stock", id="any-bytes"),
])
def test_no_file_crashes_an_import(session: Session, test_sessionmaker: sessionmaker[Session],
                                   tmp_path: Path, files: st.SearchStrategy[bytes],
                                   name: str) -> None:
    shop = make_shop(session)

    @FUZZ
    @given(data=files)
    def check(data: bytes) -> None:
        import_survives(test_sessionmaker, session, shop, tmp_path / name, data)

    check()
