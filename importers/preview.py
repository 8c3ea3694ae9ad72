"""The first rows of a stock file, for a bookseller choosing its columns on the upload page.

When a file is refused because its columns are not understood (or the bookseller asks), the page
shows what the file holds and lets them say which column is the code, the quantity, the price:
the answer is a `ColumnMap`. The preview is bounded (a few rows, a few dozen columns, short
cells) whatever the file, since it is drawn in a page; it reads the file with the same parser,
encoding detection and limits as the import, so what is shown is what the import would read.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from app.isbn import Code
from importers.headers import fold_header
from importers.records import FileRefused
from importers.registry import open_source
from importers.tabular import TabularSource, read_code

PREVIEW_ROWS = 5  # data rows shown under the header
MAX_COLUMNS = 40
MAX_CELL_CHARS = 60
MAX_HEADER_CHARS = 200  # a longer header is named by position (the map form's field limit)
# Formats whose columns a map can place (`registry.open_source` passes `columns` to these only).
MAPPABLE_FORMATS = ("delimited", "xlsx")


@dataclass(frozen=True)
class ColumnChoice:
    """One column the bookseller may pick: `ref` is what the map stores (its header, or `#N`
    when the file has no usable header), `header` what the first row says."""

    ref: str
    position: int  # 1-based, as `#N`
    header: str


@dataclass(frozen=True)
class Preview:
    """What the page draws; `columns` is empty when the file has none to choose (ONIX, JSON, a
    scanner dump) or could not be read, and `problem` then says why in the latter case."""

    format: str
    rows: list[list[str]] = field(default_factory=list)
    columns: list[ColumnChoice] = field(default_factory=list)
    header: bool = False
    problem: str | None = None


def preview(path: Path, *, format: str | None = None, encoding: str | None = None,
            rows: int = PREVIEW_ROWS) -> Preview:
    """The file's first rows (header included) and the columns a map may name."""
    try:
        source = open_source(path, format=format, encoding=encoding)
    except ValueError as exc:  # a format the bookseller forced that does not exist
        return Preview(format=format or "?", problem=str(exc))
    if not isinstance(source, TabularSource) or source.format not in MAPPABLE_FORMATS:
        return Preview(format=getattr(source, "format", format or "?"))
    try:
        head = source.head(rows + 1)
    except FileRefused as exc:
        return Preview(format=source.format, problem=exc.message)
    if not head:
        return Preview(format=source.format, problem="le fichier est vide")
    width = min(max(len(row) for row in head), MAX_COLUMNS)
    shown = [[_short(row[i]) if i < len(row) else "" for i in range(width)] for row in head]
    header = _looks_like_header(head[0][:width])
    return Preview(format=source.format, rows=shown, header=header,
                   columns=_choices(head[0][:width] if header else [], width))


def _short(text: str) -> str:
    return text if len(text) <= MAX_CELL_CHARS else text[:MAX_CELL_CHARS - 1] + "…"


def _looks_like_header(first: list[str]) -> bool:
    """Words, not data: no cell is a book code or a plain number."""
    def is_data(cell: str) -> bool:
        bare = cell.replace(" ", "").replace(",", "").replace(".", "").replace("-", "")
        return bare.isdigit() or isinstance(read_code(1, cell), Code)

    return any(first) and not any(is_data(cell) for cell in first if cell)


def _choices(header: list[str], width: int) -> list[ColumnChoice]:
    """Columns by header name when every name is there and unique once folded (a map by name
    survives a till adding or moving columns), else by position for all of them (a map cannot
    mix the two)."""
    names = [header[i] if i < len(header) else "" for i in range(width)]
    folded = Counter(fold_header(name) for name in names)
    by_name = all(fold_header(name) and folded[fold_header(name)] == 1
                  and not name.startswith("#") and len(name) <= MAX_HEADER_CHARS
                  for name in names)
    return [ColumnChoice(ref=names[i] if by_name else f"#{i + 1}", position=i + 1,
                         header=names[i])
            for i in range(width)]


__all__ = ["MAPPABLE_FORMATS", "PREVIEW_ROWS", "ColumnChoice", "Preview", "preview"]
