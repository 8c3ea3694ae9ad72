"""Which parser reads a stock file, decided by its content.

Shops rename files freely (`stock.txt` holding CSV, `export.csv` holding Excel), so extensions are
not trusted; a shop's feed settings can still force the format when the content is ambiguous.
"""
from __future__ import annotations

from pathlib import Path

from app.text import first_character
from importers.column_map import ColumnMap
from importers.delimited import SAMPLE_BYTES, DelimitedSource
from importers.records import StockSource
from importers.scanner import ScannerSource
from importers.tabular import Preview, TabularSource

FORMATS = ("delimited", "scanner", "xlsx", "onix", "json")

# A legacy .xls (OLE2) goes to the spreadsheet parser too, whose refusal tells how to re-save it.
_WORKBOOK_MAGICS = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
_DELIMITERS = b";,\t|~"
_SCANNER_SAMPLE_LINES = 20


def detect_format(path: Path) -> str:
    """One of FORMATS, judged on the first 64 KB."""
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if sample.startswith(_WORKBOOK_MAGICS):
        return "xlsx"
    start = first_character(sample)  # XML may come in UTF-16 ("Unicode" in Windows tools)
    if start == "<":
        return "onix"
    if start in ("{", "["):
        return "json"
    if _one_code_per_line(sample, complete=len(sample) < SAMPLE_BYTES):
        return "scanner"
    return "delimited"


def _one_code_per_line(sample: bytes, *, complete: bool) -> bool:
    """Every sampled line is a single token with no delimiter: a scanner dump.

    Bytes, not text: delimiters and line ends are ASCII in both encodings we read, and no decoding
    guess is needed. The sample's last line may be cut, so it only counts when the file ended.
    """
    lines = sample.splitlines()
    if not complete:
        lines = lines[:-1]
    sampled = [line.strip() for line in lines if line.strip()][:_SCANNER_SAMPLE_LINES]
    return bool(sampled) and all(
        len(line.split()) == 1 and not any(byte in _DELIMITERS for byte in line)
        for line in sampled
    )


def open_source(path: Path, *, format: str | None = None, encoding: str | None = None,
                price_unit: str = "euros", location_code: str | None = None,
                columns: ColumnMap | None = None) -> StockSource:
    """A parser for the file, nothing read beyond the sniffing sample until it is iterated.

    `encoding` only concerns text formats, `location_code` only ONIX (one stock location of a
    multi-location message) and `columns` (the shop's column map) only delimited and spreadsheet
    files: a scanner dump has a single column and structured formats name their fields.
    Parsers needing heavy libraries (openpyxl, lxml) are imported only when a file needs them:
    the web app imports this module for FORMATS alone.
    """
    chosen = format or detect_format(path)
    match chosen:
        case "delimited":
            return DelimitedSource(path, encoding=encoding, price_unit=price_unit, columns=columns)
        case "scanner":
            return ScannerSource(path, encoding=encoding, price_unit=price_unit)
        case "xlsx":
            from importers.spreadsheet import SpreadsheetSource

            return SpreadsheetSource(path, price_unit=price_unit, columns=columns)
        case "onix":
            from importers.onix import OnixSource

            return OnixSource(path, price_unit=price_unit, location_code=location_code)
        case "json":
            from importers.json_feed import JsonFileSource

            return JsonFileSource(path, price_unit=price_unit)
    raise ValueError(f"unknown stock file format {chosen!r}; known: {', '.join(FORMATS)}")


def preview(path: Path, *, format: str | None = None, encoding: str | None = None,
            limit: int = 6) -> Preview | None:
    """The first rows of a delimited or spreadsheet file and how its header would be read,
    for the column-map form; None for the formats that name their fields (ONIX, JSON)."""
    source = open_source(path, format=format, encoding=encoding)
    return source.preview(limit) if isinstance(source, TabularSource) else None
