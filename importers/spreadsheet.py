"""Excel workbooks (.xlsx): the first sheet, streamed row by row.

Shops without till software keep their stock in a spreadsheet. Numeric cells arrive as numbers,
which the shared row logic turns into codes exactly (an EAN never goes through float formatting).

An .xlsx is a zip of XML parts, and a few kilobytes of it can unzip to gigabytes, list millions
of shared strings (which openpyxl loads whole, even read-only) or declare the whole 16,384 x
1,048,576 grid. Its parts are therefore checked before openpyxl opens it (declared sizes, which
Python's zipfile enforces while reading, compression ratio, shared-string count), rows are read
MAX_COLUMNS wide whatever a row declares, and reading stops after MAX_BLANK_ROWS empty rows.
"""
from __future__ import annotations

import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count
from typing import Any, BinaryIO

from lxml import etree
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.workbook.workbook import Workbook

from importers.records import FileRefused
from importers.tabular import Row, TabularSource, is_blank

# A part's uncompressed size: a sheet of some 350,000 lines fits (openpyxl reads 4 MB a second).
MAX_PART_BYTES = 128 * 1024 * 1024
# Real XML compresses 5 to 30 times; a part past this ratio (and a megabyte) is a zip bomb.
MAX_COMPRESSION_RATIO = 100
_RATIO_FLOOR_BYTES = 1024 * 1024
# Distinct texts of the workbook (titles, authors, codes typed as text): some 200,000 lines of
# stock. openpyxl holds them all, at about 100 bytes and 6 µs each, before the first row.
MAX_SHARED_STRINGS = 500_000
MAX_SHARED_STRINGS_BYTES = 64 * 1024 * 1024
# Rows written in a sheet, empty ones included: the lines MAX_PART_BYTES allows, with room.
MAX_SHEET_ROWS = 400_000
# Columns read; cells further right are ignored (a stock sheet has a dozen at most).
MAX_COLUMNS = 256
# Empty rows in a row after which the sheet is taken to have ended: formatting applied down to
# row 1,048,576 must not be read as a million blank lines.
MAX_BLANK_ROWS = 10_000
_SHARED_STRINGS_TYPE = ("application/vnd.openxmlformats-officedocument.spreadsheetml."
                        "sharedStrings+xml")
_CONTENT_TYPES_TAG = "{http://schemas.openxmlformats.org/package/2006/content-types}Override"
_WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_STRING_TAG = f"{_MAIN}si"
_ROW_TAG = f"{_MAIN}row"
_PARSER_OPTIONS: dict[str, Any] = {"resolve_entities": False, "no_network": True,
                                   "load_dtd": False}


@contextmanager
def _quiet_openpyxl() -> Iterator[None]:
    """openpyxl warns about what it drops (styles, data validation, extensions): we read values
    only, so these say nothing about the stock and must not fail an import."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
        yield


def _open_workbook(handle: BinaryIO) -> Workbook:
    """A file object, not a path: openpyxl would refuse a real workbook named `stock.dat`."""
    try:
        with zipfile.ZipFile(handle) as archive:
            _check_parts(archive)
        handle.seek(0)
        with _quiet_openpyxl():
            return load_workbook(handle, read_only=True, data_only=True)
    # OSError: a zip holding no workbook part (an .ods or .docx renamed .xlsx).
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError,
            etree.XMLSyntaxError) as exc:
        raise FileRefused(
            "unreadable_file",
            "classeur Excel illisible : enregistrez-le au format .xlsx (Excel 2007 ou plus "
            "récent) ou en CSV",
        ) from exc


def _check_parts(archive: zipfile.ZipFile) -> None:
    """Refuse a workbook that would unzip or load far beyond any shop's stock."""
    for part in archive.infolist():
        if part.file_size > MAX_PART_BYTES or (
                part.file_size > _RATIO_FLOOR_BYTES
                and part.file_size > MAX_COMPRESSION_RATIO * part.compress_size):
            raise _too_big(f"la partie « {part.filename} » du classeur se décompresse en "
                           f"{part.file_size // 2**20} Mo")
    for name in _parts_of_type(archive, _SHARED_STRINGS_TYPE):
        if archive.getinfo(name).file_size > MAX_SHARED_STRINGS_BYTES:
            raise _too_big("ses textes (titres, auteurs…) dépassent "
                           f"{MAX_SHARED_STRINGS_BYTES // 2**20} Mo")
        if _count(archive, name, _STRING_TAG, stop_after=MAX_SHARED_STRINGS) > MAX_SHARED_STRINGS:
            raise _too_big(f"il contient plus de {_french(MAX_SHARED_STRINGS)} textes différents")
    # openpyxl sizes every sheet when it opens the workbook; without a `dimension` element it
    # parses the whole sheet for it, keeping an object per row: rows are bounded here first.
    for name in _parts_of_type(archive, _WORKSHEET_TYPE):
        if _count(archive, name, _ROW_TAG, stop_after=MAX_SHEET_ROWS) > MAX_SHEET_ROWS:
            raise _too_big(f"une feuille compte plus de {_french(MAX_SHEET_ROWS)} lignes")


def _parts_of_type(archive: zipfile.ZipFile, content_type: str) -> list[str]:
    """The parts the manifest declares with this type (openpyxl finds them the same way)."""
    names = []
    with archive.open("[Content_Types].xml") as manifest:
        for _, override in etree.iterparse(manifest, tag=_CONTENT_TYPES_TAG, **_PARSER_OPTIONS):
            if override.get("ContentType") == content_type:
                names.append(override.get("PartName", "").lstrip("/"))
    return [name for name in names if name in archive.namelist()]


def _count(archive: zipfile.ZipFile, name: str, tag: str, *, stop_after: int) -> int:
    """`tag` elements in the part, counted up to `stop_after` + 1 by libxml2, nothing kept."""
    seen = 0
    with archive.open(name) as part:
        for _, element in etree.iterparse(part, tag=tag, **_PARSER_OPTIONS):
            seen += 1
            if seen > stop_after:
                break
            element.clear()
            parent = element.getparent()
            while parent is not None and element.getprevious() is not None:
                del parent[0]
    return seen


def _french(number: int) -> str:
    return f"{number:,}".replace(",", "\u202f")


def _too_big(why: str) -> FileRefused:
    return FileRefused("workbook_too_large",
                       f"classeur trop volumineux pour être lu : {why}. Exportez le stock en CSV "
                       "(Fichier > Enregistrer sous > CSV), sans limite de taille")


class SpreadsheetSource(TabularSource):
    """The first worksheet; line numbers are the sheet's row numbers."""

    format = "xlsx"

    def _rows(self) -> Iterator[Row]:
        with self.path.open("rb") as handle:
            workbook = _open_workbook(handle)
            try:
                sheet = workbook.worksheets[0]
                # Some writers store a wrong size: read what is there, from A1, not what is said.
                sheet.reset_dimensions()
                rows = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)
                blank_run = 0
                for number in count(1):
                    # Warnings may come while parsing, so silence each step, never across a yield.
                    with _quiet_openpyxl():
                        cells = next(rows, None)
                    if cells is None:
                        return
                    blank_run = blank_run + 1 if is_blank(cells) else 0
                    if blank_run > MAX_BLANK_ROWS:
                        return
                    yield number, cells
            finally:
                workbook.close()
