"""Delimited text stock files (CSV, TSV, `|` or `~` separated) streamed line by line.

Till software exports these nightly in whatever encoding, separator and line ending it was built
with; nothing about them is declared, so everything is sniffed, and the shop's feed settings can
pin the encoding when sniffing guesses wrong.
"""
from __future__ import annotations

import codecs
import csv
import os
from collections.abc import Iterable, Iterator
from functools import partial
from itertools import chain
from pathlib import Path
from typing import ClassVar, TextIO

from app.text import UnreadableText, detect_encoding, sniff_delimiter
from importers.column_map import ColumnMap
from importers.records import FileRefused
from importers.tabular import Row, TabularSource, is_blank

SAMPLE_BYTES = 64 * 1024
# A title may hold a line break or two; a quote never closed swallows every following line, which
# the snapshot would then zero, so a row spanning more lines than this refuses the file.
MAX_LINES_PER_ROW = 10
# A stock line is a few hundred characters, a title with its blurb a few thousand. A longer line
# is a binary file or a broken export: the file is refused as soon as it is seen, without ever
# holding the line whole (a single 190 MB line took a worker to 1.4 GB).
MAX_LINE_CHARS = 65_536


def choose_encoding(path: Path) -> str:
    """UTF-8 or Windows-1252, judged on the first 64 KB block that holds a non-ASCII byte.

    A plain-ASCII start says nothing: the first accented title may come much later, and a UTF-8
    guess would then break on a cp1252 `é` in the middle of the import.
    """
    with path.open("rb") as handle:
        while block := handle.read(SAMPLE_BYTES):
            if block.isascii():
                continue
            try:
                return detect_encoding(block)
            except UnreadableText as exc:
                raise FileRefused(
                    "unreadable_encoding",
                    "encodage du fichier inconnu : enregistrez-le en UTF-8 ou en Windows-1252 "
                    "(ANSI)",
                ) from exc
    return "utf-8-sig"


def open_text(path: Path, encoding: str | None) -> TextIO:
    """Decoded incrementally; `newline=''` leaves CRLF inside quoted fields to the csv module."""
    if encoding is None:
        encoding = choose_encoding(path)
    elif codecs.lookup(encoding).name == "utf-8":
        # Same decoding, but a BOM does not end up glued to the first header cell.
        encoding = "utf-8-sig"
    return path.open(encoding=encoding, newline="")


def bounded_lines(handle: TextIO) -> Iterator[str]:
    """The handle's lines, each read at most MAX_LINE_CHARS (its line end included) at a time;
    FileRefused at the first longer one, with its number."""
    for number, text in enumerate(iter(partial(handle.readline, MAX_LINE_CHARS + 1), ""), 1):
        if len(text) > MAX_LINE_CHARS:
            limit = f"{MAX_LINE_CHARS:,}".replace(",", "\u202f")  # 65 536, as written in French
            raise FileRefused(
                "line_too_long",
                f"ligne {number} trop longue (plus de {limit} caractères) : ce n'est pas une "
                "ligne de stock, le fichier est endommagé ou n'est pas un export de stock ; le "
                "stock précédent est conservé",
            )
        yield text


def ends_with_newline(path: Path) -> bool:
    """Whether the writer finished its last line: an export killed mid-write usually did not."""
    with path.open("rb") as handle:
        if handle.seek(0, os.SEEK_END) == 0:
            return True
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) in (b"\n", b"\r")


class DelimitedSource(TabularSource):
    """A delimited export: separator sniffed on the first line, columns found by header name."""

    format = "delimited"
    delimiters: ClassVar[str] = ";,\t|~"

    def __init__(self, path: Path, *, encoding: str | None = None, price_unit: str = "euros",
                 columns: ColumnMap | None = None) -> None:
        super().__init__(path, price_unit=price_unit, columns=columns)
        self.encoding = encoding

    def _rows(self) -> Iterator[Row]:
        finished = ends_with_newline(self.path)
        with open_text(self.path, self.encoding) as handle:
            try:
                yield from _refuse_cut_last_line(self._split(handle), finished=finished)
            except UnicodeDecodeError as exc:
                raise FileRefused(
                    "unreadable_encoding",
                    "caractères illisibles : le fichier mélange des encodages (UTF-8 et "
                    "Windows-1252) ; enregistrez-le entièrement en UTF-8",
                ) from exc

    def _split(self, handle: TextIO) -> Iterator[Row]:
        """Rows with the physical line they start on (a quoted field may span a few lines)."""
        lines = bounded_lines(handle)
        skipped = 0
        for first in lines:
            if first.strip():
                break
            skipped += 1
        else:
            return
        reader = csv.reader(chain([first], lines),
                            delimiter=sniff_delimiter(first, self.delimiters))
        start = skipped + 1
        try:
            for cells in reader:
                if skipped + reader.line_num - start >= MAX_LINES_PER_ROW:
                    raise csv.Error("runaway quoted field")
                yield start, cells
                start = skipped + reader.line_num + 1
        except csv.Error as exc:
            raise FileRefused(
                "malformed_file",
                f"fichier mal formé à partir de la ligne {start} : un guillemet ouvert n'est "
                "sans doute jamais refermé",
            ) from exc


def _refuse_cut_last_line(rows: Iterable[Row], *, finished: bool) -> Iterator[Row]:
    """Pass rows through, refusing the file when its unfinished last line lacks fields.

    The first row (header, or first data line) sets the expected width. A shorter last line with
    no final newline means the export stopped mid-line: the rest of the stock is missing, and
    applying the file would zero every book after the cut.
    """
    remaining = iter(rows)
    pending = next(remaining, None)
    if pending is None:
        return
    width = len(pending[1])
    for row in remaining:
        yield pending
        pending = row
    line, cells = pending
    if not finished and len(cells) < width and not is_blank(cells):
        raise FileRefused(
            "truncated",
            f"fichier coupé en cours de ligne (ligne {line}) : {len(cells)} champ(s) au lieu de "
            f"{width}, l'export semble interrompu ; le stock précédent est conservé",
        )
    yield pending
