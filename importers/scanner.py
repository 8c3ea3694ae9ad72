"""Barcode scanner dumps: one scanned code per line, one line per copy on the shelf.

Shops without till software count their stock with a handheld scanner; the merge sums the lines
of a code, so each line is simply one copy.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import ClassVar, TextIO

from importers.delimited import DelimitedSource, bounded_lines
from importers.tabular import Row


class ScannerSource(DelimitedSource):
    """A delimited file of one column with no header and no quantity: each line counts one."""

    format = "scanner"
    headerless_columns: ClassVar[Mapping[str, int]] = {"code": 0}
    may_have_header: ClassVar[bool] = False

    def _split(self, handle: TextIO) -> Iterator[Row]:
        for line, text in enumerate(bounded_lines(handle), start=1):
            yield line, [text.strip()]
