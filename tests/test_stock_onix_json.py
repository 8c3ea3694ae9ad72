"""ONIX and JSON stock sources: the samples, their traps, and files cut short or hostile."""
from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from importers.json_feed import JsonFileSource, JsonPullSource
from importers.onix import OnixSource
from importers.records import FileRefused, LineIssue, StockRecord
from tests.stock_api_server import serve

DATA = Path(__file__).parent / "data" / "stock"
REF = DATA / "onix30_stock_ref.xml"
SHORT = DATA / "onix30_stock_short.xml"
REF_NAMESPACE = ' xmlns="http://ns.editeur.org/onix/3.0/reference"'
LYON, VILLEURBANNE = "3012345000024", "3012345000031"


def ean13(body: str) -> str:
    """A 12-digit body completed with its check digit, so generated codes are valid."""
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(body))
    return body + str(-total % 10)


def onix(products: str, *, sent: str = "20250314T0205+0100") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<ONIXMessage release="3.0"{REF_NAMESPACE}>'
            f"<Header><SentDateTime>{sent}</SentDateTime><DefaultCurrencyCode>EUR"
            f"</DefaultCurrencyCode></Header>\n{products}</ONIXMessage>\n")


def product(code: str, on_hand: str = "2", *, price: str = "9.50") -> str:
    return ("<Product><RecordReference>r</RecordReference><ProductIdentifier>"
            f"<ProductIDType>15</ProductIDType><IDValue>{code}</IDValue></ProductIdentifier>"
            "<ProductSupply><SupplyDetail><Stock><LocationIdentifier><LocationIDType>06"
            f"</LocationIDType><IDValue>{LYON}</IDValue></LocationIdentifier><OnHand>{on_hand}"
            f"</OnHand></Stock><Price><PriceType>04</PriceType><PriceAmount>{price}</PriceAmount>"
            "</Price></SupplyDetail></ProductSupply></Product>\n")


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def issue_rows(items: list[StockRecord | LineIssue], *fields: str) -> list[tuple[object, ...]]:
    """The issues among a source's items, each as a tuple of the named fields."""
    return [tuple(getattr(item, name) for name in fields)
            for item in items if isinstance(item, LineIssue)]


def refusal(source: Any) -> FileRefused:
    with pytest.raises(FileRefused) as caught:
        list(source)
    return caught.value


# --- ONIX -------------------------------------------------------------------------------------

@pytest.mark.parametrize("location", [LYON, VILLEURBANNE, "LYON-CR"])
def test_reference_and_short_tags_give_identical_records(location: str) -> None:
    reference = list(OnixSource(REF, location_code=location))
    assert reference and reference == list(OnixSource(SHORT, location_code=location))


def test_location_filter_takes_on_hand_only_at_that_location() -> None:
    (lyon,) = OnixSource(REF, location_code=LYON)
    assert lyon == StockRecord(line=16, code="9782070368228", kind="isbn", quantity=3,
                               price_cents=890, title="Le Phare des brumes",
                               authors="Claire Dutilleul")
    (villeurbanne,) = OnixSource(REF, location_code=VILLEURBANNE)
    assert (villeurbanne.code, villeurbanne.quantity) == ("9782070368228", 1)  # OnOrder 2 ignored
    (trap,) = OnixSource(SHORT, location_code="LYON-CR")
    assert (trap.code, trap.quantity, trap.price_cents) == ("9791035200121", 0, 2450)


def test_several_locations_without_location_code_is_refused() -> None:
    refused = refusal(OnixSource(REF))
    assert refused.reason_code == "several_locations"
    assert LYON in refused.message and VILLEURBANNE in refused.message


def test_exported_at_comes_from_sent_date_time() -> None:
    expected = datetime(2025, 3, 14, 2, 5, tzinfo=timezone(timedelta(hours=1)))
    assert OnixSource(REF).exported_at == expected == OnixSource(SHORT).exported_at


@pytest.mark.parametrize(("sent", "expected"), [
    ("20250314", datetime(2025, 3, 13, 23, 0, tzinfo=UTC)),  # Paris, winter time
    ("20250714T101530Z", datetime(2025, 7, 14, 10, 15, 30, tzinfo=UTC)),
    ("garbage", None),
])
def test_sent_date_time_formats(tmp_path: Path, sent: str, expected: datetime | None) -> None:
    assert OnixSource(write(tmp_path, "s.xml", onix("", sent=sent))).exported_at == expected


def test_file_without_namespace_reads_the_same(tmp_path: Path) -> None:
    bare = write(tmp_path, "bare.xml", REF.read_text(encoding="utf-8").replace(REF_NAMESPACE, ""))
    assert list(OnixSource(bare, location_code=LYON)) == list(OnixSource(REF, location_code=LYON))


def test_onix_21_short_tags_with_doctype(tmp_path: Path) -> None:
    path = write(tmp_path, "onix21.xml", """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE ONIXmessage SYSTEM "http://www.editeur.org/onix/2.1/short/onix-international.dtd">
<ONIXmessage release="2.1">
  <header><m174>Librairie</m174><m182>201311150153</m182></header>
  <product>
    <a001>x</a001>
    <productidentifier><b221>02</b221><b244>207036822X</b244></productidentifier>
    <title><b202>01</b202><b203>Le Phare des brumes</b203></title>
    <contributor><b035>A01</b035><b039>Claire</b039><b040>Dutilleul</b040></contributor>
    <contributor><b035>B06</b035><b036>Un Traducteur</b036></contributor>
    <publisher><b291>01</b291><b081>Éditions du Large</b081></publisher>
    <supplydetail>
      <stock><j350>4</j350><j351>9</j351></stock>
      <price><j148>02</j148><j151>7.00</j151></price>
      <price><j148>04</j148><j151>8.90</j151><j152>EUR</j152></price>
    </supplydetail>
  </product>
</ONIXmessage>
""")
    source = OnixSource(path)
    assert source.exported_at == datetime(2013, 11, 15, 0, 53, tzinfo=UTC)
    assert list(source) == [StockRecord(line=5, code="9782070368228", kind="isbn", quantity=4,
                                        price_cents=890, title="Le Phare des brumes",
                                        authors="Claire Dutilleul",
                                        publisher="Éditions du Large")]


def test_a_bad_product_never_stops_the_others(tmp_path: Path) -> None:
    good = ean13("978207036822")
    path = write(tmp_path, "mixed.xml", onix(
        product("9782070368229") + product(good, "deux") + product(good, "-2")
        + product(good, price="abc")
        + "<Product><ProductIdentifier><ProductIDType>01</ProductIDType><IDValue>X</IDValue>"
          "</ProductIdentifier></Product>\n"
        + product(good)))
    items = list(OnixSource(path))
    issues = [(i.field, i.reason_code, i.rejected) for i in items if isinstance(i, LineIssue)]
    assert issues == [("ProductIdentifier", "invalid_check_digit", True),
                      ("OnHand", "invalid_quantity", True),
                      ("OnHand", "negative_quantity", False),
                      ("PriceAmount", "invalid_price", False),
                      ("OnHand", "missing_quantity", True)]
    records = [(r.line, r.quantity, r.price_cents) for r in items if isinstance(r, StockRecord)]
    assert records == [(5, 0, 950), (6, 2, None), (8, 2, 950)]


def test_onix_counts_and_prices_past_the_column_bounds_are_line_problems(tmp_path: Path) -> None:
    """Bounded as in every other format, never an overflow that ends the run in PostgreSQL."""
    good = ean13("978207036822")
    two_stocks = product(good, "60000").replace("</SupplyDetail>", "<Stock><LocationIdentifier>"
                                                 f"<LocationIDType>06</LocationIDType><IDValue>"
                                                 f"{LYON}</IDValue></LocationIdentifier>"
                                                 "<OnHand>60000</OnHand></Stock></SupplyDetail>")
    path = write(tmp_path, "big.xml", onix(product(good, "3000000000") + two_stocks
                                           + product(good, price="99999999.00")))
    items = list(OnixSource(path))
    issues = [(i.raw_value, i.reason_code, i.rejected) for i in items if isinstance(i, LineIssue)]
    assert issues == [("3000000000", "implausible_quantity", True),
                      ("60000 + 60000", "implausible_quantity", True),
                      ("99999999.00", "invalid_price", False)]
    assert [(r.quantity, r.price_cents) for r in items if isinstance(r, StockRecord)] == [
        (2, None)]


def test_truncated_file_is_refused_with_its_line(tmp_path: Path) -> None:
    data = REF.read_bytes()
    refused = refusal(OnixSource(write(tmp_path, "cut.xml", data[: len(data) // 2]),
                                 location_code=LYON))
    assert refused.reason_code == "truncated"
    assert "ligne" in refused.message


@pytest.mark.parametrize(("content", "reason"), [
    ("", "empty_file"), ("  \n", "empty_file"),
    ('<?xml version="1.0"?><html><body/></html>', "not_onix"),
    ("EAN;Qté\n9782070368228;3\n", "malformed"),
])
def test_files_that_are_not_onix_are_refused(tmp_path: Path, content: str, reason: str) -> None:
    source = OnixSource(write(tmp_path, "f.xml", content))
    assert source.exported_at is None
    assert refusal(source).reason_code == reason


def test_external_entities_are_never_read(tmp_path: Path) -> None:
    path = write(tmp_path, "xxe.xml", f"""<?xml version="1.0"?>
<!DOCTYPE ONIXMessage [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<ONIXMessage><Header><SentDateTime>&xxe;</SentDateTime><DefaultCurrencyCode>EUR</DefaultCurrencyCode></Header>
{product(ean13("978207036822")).replace("<Product>", "<Product><DescriptiveDetail><TitleDetail>"
    "<TitleType>01</TitleType><TitleElement><TitleText>&xxe;</TitleText></TitleElement>"
    "</TitleDetail></DescriptiveDetail>", 1)}</ONIXMessage>""")
    source = OnixSource(path)
    (record,) = source
    assert isinstance(record, StockRecord) and "root" not in record.title
    assert source.exported_at is None


def resident_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc")
def test_a_large_file_streams_in_constant_memory(tmp_path: Path) -> None:
    """Resident memory, not tracemalloc: libxml2's tree lives outside Python's allocator.

    Kept whole, these 50,000 products would take some 150 MB.
    """
    count = 50_000
    path = tmp_path / "big.xml"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(onix("").removesuffix("</ONIXMessage>\n"))
        handle.writelines(product(ean13(f"978{n:09d}")) for n in range(count))
        handle.write("</ONIXMessage>\n")
    seen, baseline = 0, 0
    for seen, _ in enumerate(OnixSource(path, location_code=LYON), start=1):
        if seen == 1000:
            baseline = resident_bytes()
    assert seen == count
    assert resident_bytes() - baseline < 20 * 1024 * 1024


# --- JSON file --------------------------------------------------------------------------------

def test_json_sample() -> None:
    source = JsonFileSource(DATA / "provider_api_stocks.json")
    assert source.exported_at is None
    assert list(source) == [
        StockRecord(line=1, code="9782070368228", kind="isbn", quantity=4, price_cents=890),
        StockRecord(line=2, code="9782890061231", kind="isbn", quantity=1, price_cents=2495),
        StockRecord(line=3, code="9791035200121", kind="isbn", quantity=0, price_cents=None),
    ]


def test_json_prices_in_cents_and_export_time(tmp_path: Path) -> None:
    path = write(tmp_path, "s.json", json.dumps({
        "generated_at": "2025-03-14T02:05:00", "stocks": [{"ref": 9782070368228,
                                                           "available": "3", "price": 1250}]}))
    source = JsonFileSource(path, price_unit="cents")
    assert source.exported_at == datetime(2025, 3, 14, 1, 5, tzinfo=UTC)
    assert [(r.code, r.quantity, r.price_cents) for r in source] == [("9782070368228", 3, 1250)]


@pytest.mark.parametrize(("content", "reason"), [
    (b'{"stocks": [{"ref": "9782070368228", "available": 4,}]}', "invalid_json"),
    (b'{"stocks": [{"ref": "9782070368228", "avail', "truncated"),
    (b'{"stocks": [{"ref": "9782070368228", "available": 4}', "truncated"),
    (b'{"items": []}', "not_stock_json"),
    (b'[1, 2]', "not_stock_json"),
    (b"", "empty_file"),
    (b'{"stocks": ["\xe9"]}', "invalid_json"),
    (b'{"stocks": 3}', "not_stock_json"),
    (b'{"stocks": [1]} x', "invalid_json"),
    (b" \n ", "empty_file"),
    (b'{"stocks": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}", "too_deep"),
    (b"[" * 100_000, "not_stock_json"),
])
def test_unusable_json_is_refused(tmp_path: Path, content: bytes, reason: str) -> None:
    refused = refusal(JsonFileSource(write(tmp_path, "bad.json", content)))
    assert refused.reason_code == reason


def test_json_line_problems(tmp_path: Path) -> None:
    path = write(tmp_path, "lines.json", json.dumps({"stocks": [
        {"ref": "9782070368228", "available": -2, "price": 8.9},
        {"available": 1},
        {"ref": "9782070368228", "available": "beaucoup"},
        "9782070368228",
        {"ref": "978-2-07-036822-8", "available": 1, "price": "8,90 €"},
    ]}))
    items = list(JsonFileSource(path))
    assert issue_rows(items, "line", "field", "reason_code", "rejected") == [
        (1, "available", "negative_quantity", False),
        (2, "ref", "missing_code", True),
        (3, "available", "invalid_quantity", True),
        (4, "stocks", "invalid_entry", True)]
    records = [(r.line, r.quantity, r.price_cents) for r in items if isinstance(r, StockRecord)]
    assert records == [(1, 0, 890), (5, 1, 890)]


def test_json_numbers_out_of_bounds_are_line_problems(tmp_path: Path) -> None:
    """Numbers are read exactly (never as float): 1e400 is not infinity, 3e9 not an overflow."""
    path = write(tmp_path, "numbers.json", b'{"stocks": ['
                 b'{"ref": "9782070368228", "available": 1e400},'
                 b'{"ref": "9782070368228", "available": 3000000000},'
                 b'{"ref": "9782070368228", "available": 2, "price": 99999999},'
                 b'{"ref": "9782070368228", "available": 2, "price": 1e400},'
                 b'{"ref": "9782070368228", "available": {"deep": [[[1]]]}},'
                 b'{"ref": "9782070368228", "available": 1, "extra": {"a": [1, 2]}},'
                 b'[1, 2]]}')
    items = list(JsonFileSource(path))
    assert issue_rows(items, "line", "raw_value", "reason_code", "rejected") == [
        (1, "1E+400", "implausible_quantity", True),
        (2, "3000000000", "implausible_quantity", True),
        (3, "99999999", "invalid_price", False),
        (4, "1E+400", "invalid_price", False),
        (5, "{…}", "invalid_quantity", True),
        (7, "{…}", "invalid_entry", True)]
    records = [(r.line, r.quantity, r.price_cents) for r in items if isinstance(r, StockRecord)]
    assert records == [(3, 2, None), (4, 2, None), (6, 1, None)]


def test_json_nan_refuses_the_file_and_shows_where(tmp_path: Path) -> None:
    """NaN is no JSON number (RFC 8259): the parser stops there, and says where."""
    path = write(tmp_path, "nan.json",
                 b'{"stocks": [{"ref": "9782070368228", "available": NaN}]}')
    refused = refusal(JsonFileSource(path))
    assert refused.reason_code == "invalid_json"
    assert '"available": NaN' in refused.message and "null" in refused.message


def test_json_export_time_may_follow_the_stocks(tmp_path: Path) -> None:
    path = write(tmp_path, "late.json", b'{"stocks": [{"ref": "9782070368228", "available": 1}],'
                                        b' "exported_at": "2025-03-14T02:05:00+00:00"}')
    source = JsonFileSource(path)
    assert source.exported_at == datetime(2025, 3, 14, 2, 5, tzinfo=UTC)
    assert len(list(source)) == 1
    assert source.exported_at == datetime(2025, 3, 14, 2, 5, tzinfo=UTC)


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc")
def test_a_large_json_file_streams_in_constant_memory(tmp_path: Path) -> None:
    """Loaded whole, these 300,000 entries (17 MB) would take some 120 MB."""
    count = 300_000
    path = tmp_path / "big.json"
    with path.open("w", encoding="utf-8") as handle:
        handle.write('{"stocks": [')
        handle.write(",".join(f'{{"ref": "{ean13(f"978{n:09d}")}", "available": 2, '
                              f'"price": 8.9}}' for n in range(count)))
        handle.write("]}")
    seen, baseline = 0, 0
    for seen, _ in enumerate(JsonFileSource(path), start=1):
        if seen == 1000:
            baseline = resident_bytes()
    assert seen == count
    assert resident_bytes() - baseline < 20 * 1024 * 1024


# --- JSON pulled over HTTP --------------------------------------------------------------------

@pytest.mark.parametrize(("count", "page_size", "cap"), [
    (5, 2, 1000), (4, 2, 1000),
    (5, 3, 2),  # the API serves 2 where 3 were asked: its total keeps the pull going
])
def test_pull_follows_pages_with_after(count: int, page_size: int, cap: int) -> None:
    refs = [ean13(f"978207036{n:03d}") for n in range(count)]
    with serve(refs=refs, cap=cap) as (url, afters):
        source = JsonPullSource(url, auth=("libraire", "secret"), page_size=page_size)
        records = list(source)
    assert [(r.line, r.code, r.price_cents) for r in records if isinstance(r, StockRecord)] == [
        (n + 1, ref, 1000) for n, ref in enumerate(refs)]
    assert afters == [None, refs[1], refs[3]]
    assert source.exported_at is None


@pytest.mark.parametrize(("mode", "auth", "detail"), [
    ("broken", ("libraire", "secret"), "HTTP 500"),
    ("ok", ("libraire", "faux"), "HTTP 401"),
    ("slow", None, "0.5 s"),
])
def test_pull_failures_refuse_the_run(mode: str, auth: tuple[str, str] | None,
                                      detail: str) -> None:
    with serve(mode) as (url, _):
        refused = refusal(JsonPullSource(url, auth=auth, timeout_s=0.5))
    assert refused.reason_code == "pull_failed"
    assert detail in refused.message


def test_pull_from_nowhere_is_refused() -> None:
    with serve() as (url, _):
        pass
    assert refusal(JsonPullSource(url, timeout_s=0.5)).reason_code == "pull_failed"
