"""Writers for the stock files bookshop tills really export, one function per format.

Why: the demo network must exercise every parser the import pipeline has, with the quirks each
source really has (cp1252 and CRLF, a BOM, English headers, EANs stored as spreadsheet numbers,
the JSON shape till vendors serve to aggregators, ONIX 3.0 reference tags). The shapes follow the
samples in the shared `stock-samples` folder. Stdlib only, except openpyxl for XLSX.
"""
from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

FRENCH_HEADER = ["EAN", "Titre", "Auteur", "Editeur", "Prix TTC", "Stock"]
ONIX_NS = "http://ns.editeur.org/onix/3.0/reference"
# ONIX code list 5: 15 = ISBN-13, 25 = ISMN-13, 03 = GTIN-13. In-shop codes have no public
# identifier, so they never go into an ONIX feed.
_ONIX_ID_TYPES = {"isbn": ("15", "03"), "ismn": ("25", "03"), "gtin": ("03",)}
# Code list 150: BB hardback (albums), BC paperback, BZ other book format, PZ other printed item.
_ONIX_FORMS = {"isbn": "BC", "ismn": "BZ", "gtin": "PZ"}


@dataclass(frozen=True, slots=True)
class StockLine:
    """One line of a till export: a code and what the till knows about it."""

    code: str
    kind: str  # isbn | ismn | gtin | internal
    title: str
    authors: str
    publisher: str
    quantity: int
    price_cents: int | None
    hardback: bool = False


@dataclass(frozen=True, slots=True)
class Exporter:
    """The shop sending the file, as an ONIX header and stock location name it."""

    slug: str
    name: str


def _euros(cents: int | None, decimal_mark: str) -> str:
    if cents is None:
        return ""
    return f"{cents // 100}{decimal_mark}{cents % 100:02d}"


def write_french_csv(path: Path, lines: list[StockLine], *, encoding: str) -> None:
    """French till export: `;`, CRLF, decimal comma. cp1252 turns what it cannot hold into `?`."""
    with open(path, "w", encoding=encoding, errors="replace", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(FRENCH_HEADER)
        for line in lines:
            writer.writerow([line.code, line.title, line.authors, line.publisher.upper(),
                             _euros(line.price_cents, ","), line.quantity])


def write_tsv(path: Path, lines: list[StockLine]) -> None:
    """Tab-separated with English headers and dot decimals, as English-language tills write it."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write("isbn\tquantity\tprice\n")
        for line in lines:
            handle.write(f"{line.code}\t{line.quantity}\t{_euros(line.price_cents, '.')}\n")


def write_xlsx(path: Path, lines: list[StockLine], *, exported_at: datetime) -> None:
    """A spreadsheet kept by hand: the EAN column holds numbers, not text, as Excel stores it."""
    workbook = Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)  # a new workbook has one worksheet, active
    sheet.title = "Stock"
    sheet.append(["EAN", "Titre", "Qté", "Prix"])
    for line in lines:
        price = None if line.price_cents is None else line.price_cents / 100
        sheet.append([int(line.code), line.title, line.quantity, price])
    for row in sheet.iter_rows(min_row=2):
        row[0].number_format = "0"
        row[3].number_format = "0.00"
    # openpyxl stamps `modified` itself at save time; `created` records when the till exported.
    workbook.properties.creator = "Caisse"
    workbook.properties.created = exported_at.astimezone(UTC).replace(tzinfo=None)
    workbook.save(path)


def write_json(path: Path, lines: list[StockLine]) -> None:
    """The provider API shape: `{"stocks": [{"ref", "available", "price"}]}`; price is optional."""
    stocks = []
    for line in lines:
        item: dict[str, str | int | float] = {"ref": line.code, "available": line.quantity}
        if line.price_cents is not None:
            item["price"] = line.price_cents / 100
        stocks.append(item)
    payload = {"total": len(stocks), "limit": len(stocks), "offset": 0, "stocks": stocks}
    path.write_text(json.dumps(payload, ensure_ascii=False) + "\n", encoding="utf-8")


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element


def _onix_product(root: ET.Element, line: StockLine, shop: Exporter) -> None:
    product = _sub(root, "Product")
    _sub(product, "RecordReference", f"{shop.slug}-{line.code}")
    _sub(product, "NotificationType", "03")
    for id_type in _ONIX_ID_TYPES[line.kind]:
        identifier = _sub(product, "ProductIdentifier")
        _sub(identifier, "ProductIDType", id_type)
        _sub(identifier, "IDValue", line.code)
    detail = _sub(product, "DescriptiveDetail")
    _sub(detail, "ProductComposition", "00")
    _sub(detail, "ProductForm", "BB" if line.hardback else _ONIX_FORMS[line.kind])
    title = _sub(detail, "TitleDetail")
    _sub(title, "TitleType", "01")
    element = _sub(title, "TitleElement")
    _sub(element, "TitleElementLevel", "01")
    _sub(element, "TitleText", line.title)
    for number, name in enumerate(filter(None, line.authors.split(", ")), start=1):
        contributor = _sub(detail, "Contributor")
        _sub(contributor, "SequenceNumber", str(number))
        _sub(contributor, "ContributorRole", "A01")
        _sub(contributor, "PersonName", name)
    if line.publisher:
        publisher = _sub(_sub(product, "PublishingDetail"), "Publisher")
        _sub(publisher, "PublishingRole", "01")
        _sub(publisher, "PublisherName", line.publisher)
    supply = _sub(_sub(product, "ProductSupply"), "SupplyDetail")
    supplier = _sub(supply, "Supplier")
    _sub(supplier, "SupplierRole", "08")
    _sub(supplier, "SupplierName", shop.name)
    _sub(supply, "ProductAvailability", "21" if line.quantity > 0 else "31")
    stock = _sub(supply, "Stock")
    location = _sub(stock, "LocationIdentifier")
    _sub(location, "LocationIDType", "01")
    _sub(location, "IDTypeName", "Rayons shop slug")
    _sub(location, "IDValue", shop.slug)
    _sub(stock, "LocationName", shop.name)
    _sub(stock, "OnHand", str(line.quantity))
    if line.price_cents is not None:
        price = _sub(supply, "Price")
        _sub(price, "PriceType", "04")
        _sub(price, "PriceAmount", _euros(line.price_cents, "."))
        _sub(price, "CurrencyCode", "EUR")
        _sub(_sub(price, "Territory"), "CountriesIncluded", "FR")


def write_onix(path: Path, lines: list[StockLine], *, shop: Exporter,
               exported_at: datetime) -> None:
    """ONIX for Books 3.0, reference tags, one stock location (the shop) per file."""
    root = ET.Element("ONIXMessage", {"release": "3.0", "xmlns": ONIX_NS})
    header = _sub(root, "Header")
    _sub(_sub(header, "Sender"), "SenderName", shop.name)
    _sub(header, "SentDateTime", exported_at.strftime("%Y%m%dT%H%M%z"))
    _sub(header, "MessageNote", "Instantané de stock nocturne")
    _sub(header, "DefaultLanguageOfText", "fre")
    _sub(header, "DefaultCurrencyCode", "EUR")
    for line in lines:
        if line.kind in _ONIX_ID_TYPES:
            _onix_product(root, line, shop)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    path.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n', encoding="utf-8")
