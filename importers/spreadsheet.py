"""Excel workbooks (.xlsx): the first sheet, streamed row by row.

Shops without till software keep their stock in a spreadsheet. Numeric cells arrive as numbers,
which the shared row logic turns into codes exactly (an EAN never goes through float formatting).
"""
from __future__ import annotations

import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count
from typing import BinaryIO

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.workbook.workbook import Workbook

from importers.records import FileRefused
from importers.tabular import Row, TabularSource


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
        with _quiet_openpyxl():
            return load_workbook(handle, read_only=True, data_only=True)
    # OSError: a zip holding no workbook part (an .ods or .docx renamed .xlsx).
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise FileRefused(
            "unreadable_file",
            "classeur Excel illisible : enregistrez-le au format .xlsx (Excel 2007 ou plus "
            "récent) ou en CSV",
        ) from exc


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
                rows = sheet.iter_rows(values_only=True)
                for number in count(1):
                    # Warnings may come while parsing, so silence each step, never across a yield.
                    with _quiet_openpyxl():
                        cells = next(rows, None)
                    if cells is None:
                        return
                    yield number, cells
            finally:
                workbook.close()
