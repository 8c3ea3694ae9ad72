"""Stock files built to exhaust an importer: the classes a chaos probe of the push API found.

Shared by the tests (small sizes) and `bench/hostile_bench.py` (the probe's sizes). Each writes
a real file, streamed to disk, so that generating a large one costs no memory either.
"""
from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

CHUNK = 1 << 20
HEADER = b"EAN;Qte\n"
STOCK_LINE = b"9782070368228;1\n"

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships'
    '+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Stock" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
_SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
# The header row and one stock line: shared strings 0 and 1 are `EAN` and `Qte`.
_STOCK_ROWS = ('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
               '<row r="2"><c r="A2" t="inlineStr"><is><t>9782070368228</t></is></c>'
               '<c r="B2"><v>1</v></c></row>')


def long_line_csv(path: Path, *, line_bytes: int) -> Path:
    """A header, one stock line, then a single line of `line_bytes` digits."""
    with path.open("wb") as handle:
        handle.write(HEADER + STOCK_LINE)
        block = b"9" * CHUNK
        for start in range(0, line_bytes, CHUNK):
            handle.write(block[:min(CHUNK, line_bytes - start)])
        handle.write(b"\n")
    return path


def stock_csv_chunks(total_bytes: int) -> Iterator[bytes]:
    """A valid stock CSV body of about `total_bytes`, one megabyte at a time (for pushes)."""
    yield HEADER
    block = STOCK_LINE * (CHUNK // len(STOCK_LINE))
    for _ in range(0, total_bytes, len(block)):
        yield block


def _workbook(path: Path, *, shared_strings: Iterator[str], sheet: Iterator[str]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as book:
        book.writestr("[Content_Types].xml", _CONTENT_TYPES)
        book.writestr("_rels/.rels", _ROOT_RELS)
        book.writestr("xl/workbook.xml", _WORKBOOK)
        book.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        for name, parts in (("xl/sharedStrings.xml", shared_strings),
                            ("xl/worksheets/sheet1.xml", sheet)):
            with book.open(name, "w", force_zip64=True) as part:
                for text in parts:
                    part.write(text.encode())
    return path


def _strings(extra: int, *, distinct: bool = False) -> Iterator[str]:
    yield ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://'
           'schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>EAN</t></si>'
           '<si><t>Qte</t></si>')
    for start in range(0, extra, 10_000):
        yield "".join(f"<si><t>{n if distinct else 'x'}</t></si>"
                      for n in range(start, min(start + 10_000, extra)))
    yield "</sst>"


def xlsx_many_shared_strings(path: Path, *, count: int, distinct: bool = False) -> Path:
    """A one-line stock sheet whose shared-strings part lists `count` more (unused) strings:
    all `x` (a few hundred kilobytes zipped, tens of megabytes unzipped), or all different
    (compressing like real text)."""
    sheet = iter([_SHEET_HEAD, f"<sheetData>{_STOCK_ROWS}</sheetData></worksheet>"])
    return _workbook(path, shared_strings=_strings(count, distinct=distinct), sheet=sheet)


def xlsx_huge_dimensions(path: Path) -> Path:
    """A few kilobytes declaring the whole grid: `A1:XFD1048576`, and a last cell there."""
    sheet = iter([_SHEET_HEAD, '<dimension ref="A1:XFD1048576"/><sheetData>', _STOCK_ROWS,
                  '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
                  "</sheetData></worksheet>"])
    return _workbook(path, shared_strings=_strings(0), sheet=sheet)


def xlsx_empty_rows(path: Path, *, rows: int) -> Path:
    """One stock line, then `rows` rows really written out, each with an empty styled cell."""
    def sheet() -> Iterator[str]:
        yield _SHEET_HEAD + "<sheetData>" + _STOCK_ROWS
        for start in range(3, rows + 3, 10_000):
            yield "".join(f'<row r="{n}"><c r="A{n}" s="1"/></row>'
                          for n in range(start, min(start + 10_000, rows + 3)))
        yield "</sheetData></worksheet>"
    return _workbook(path, shared_strings=_strings(0), sheet=sheet())


def large_json(path: Path, *, entries: int) -> Path:
    """A valid JSON stock file of `entries` entries (about 57 bytes each)."""
    with path.open("w", encoding="utf-8") as handle:
        handle.write('{"exported_at": "2025-03-14T02:05:00+01:00", "stocks": [')
        for start in range(0, entries, 10_000):
            handle.write(",".join(
                f'{{"ref": "9782070368228", "available": {n % 7}, "price": 8.9}}'
                for n in range(start, min(start + 10_000, entries))))
            if start + 10_000 < entries:
                handle.write(",")
        handle.write("]}")
    return path


def deep_json(path: Path, *, depth: int) -> Path:
    """`{"stocks": [[[[...]]]]}`, nested `depth` levels."""
    path.write_bytes(b'{"stocks": ' + b"[" * depth + b"]" * depth + b"}")
    return path
