"""Rows of cells found by header name, whatever file they come from, turned into stock records.

A shop that moves from a CSV export to an Excel one keeps its column names, so delimited text,
spreadsheets and scanner dumps share this base dialect and override only what differs. Columns are
found by name, never by position: tills reorder, add and drop columns between versions.
"""
from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from app.isbn import Code, CodeError, normalize_code, plain_kind
from importers.column_map import ALL_LOCATIONS, ColumnMap
from importers.evidence import LostZeroEvidence
from importers.headers import (
    HeaderGuess,
    LocationWatch,
    fold_header,
    guess_columns,
    several_location_columns,
    several_location_rows,
)
from importers.records import FileRefused, LineIssue, StockRecord, negative_quantity_notice
from importers.validate import MAX_QUANTITY, ValueProblem, parse_price, parse_quantity

FIELD_LABELS = {"code": "code (EAN/ISBN)", "quantity": "quantité"}
# Digits of MAX_QUANTITY: a longer count leaves the fast path before `int()` (which refuses
# strings of thousands of digits) and is reported by the general one.
_MAX_QUANTITY_DIGITS = len(str(MAX_QUANTITY))
REPAIR_MESSAGES = {
    "isbn10_converted": "ISBN à 10 chiffres converti en {code}",
    "leading_zero_restored": "zéro initial perdu par le tableur, rétabli : {code}",
    "ismn10_converted": "ISMN à 10 caractères (M...) converti en {code}",
    "addon_removed": "extension de prix du code-barres ignorée, code retenu : {code}",
}
# A cell that reads as a number (a count or a price), in a headerless row.
_NUMBER = re.compile(r"[-+]?[0-9][0-9\s\u00a0\u202f]*(?:[.,][0-9]+)?\s*(?:€|eur)?", re.IGNORECASE)

# A row's physical line (or sheet row) number and its cells, blank rows included.
Row = tuple[int, Sequence[object]]


def cell_text(cell: object) -> str:
    """A cell as the shop sees it; spreadsheet integers stay integers (never `9.78e12`)."""
    if isinstance(cell, str):
        return cell.strip()
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def is_blank(cells: Sequence[object]) -> bool:
    return not any(cell_text(cell) for cell in cells)


def _is_number(cell: object) -> bool:
    if isinstance(cell, bool):
        return False
    return isinstance(cell, int | float) or bool(_NUMBER.fullmatch(cell_text(cell)))


@dataclass(frozen=True, slots=True)
class Columns:
    """Where each field sits in a row; `header` says whether the row that set it is a header.

    `keep` (folded) is the stock location whose rows are read when a column map names a location
    column: the other locations' rows are skipped, never added to the shelf. When no map chose
    a location, a `location` column recognised by its header is only watched (`watch`: its
    header and the map a refusal suggests): rows of more than one location refuse the file.
    `code_fallback` is the till's own reference, read when a line's barcode cell is empty.
    """

    positions: Mapping[str, int]
    header: bool
    keep: str | None = None
    watch: tuple[str, str] | None = None

    def cell(self, cells: Sequence[object], field: str) -> object:
        position = self.positions.get(field)
        return cells[position] if position is not None and position < len(cells) else None


@dataclass(frozen=True, slots=True)
class PlainLayout:
    """A layout's positions unpacked once, for the per-line fast path (`_plain_record`)."""

    code: int
    quantity: int | None
    price: int | None
    title: int | None
    authors: int | None
    publisher: int | None
    width: int  # cells a row needs to hold them all

    @classmethod
    def of(cls, columns: Columns) -> PlainLayout:
        at = columns.positions.get
        code = columns.positions["code"]
        # The fast path reads the main code only: a line whose barcode is empty is unusual.
        return cls(code, at("quantity"), at("price"), at("title"), at("authors"), at("publisher"),
                   width=max(columns.positions.values()) + 1)


def read_code(line: int, raw: object, *, zero_lost: bool = False) -> Code | LineIssue:
    """The normalised code, or the rejection to report; numbers go in as integers, exactly
    (a numeric cell is the evidence that a 9-digit ISBN-10 lost its zero: `importers.evidence`)."""
    value = int(raw) if isinstance(raw, float) and raw.is_integer() else raw
    try:
        return normalize_code(value if isinstance(value, int) else cell_text(value),
                              zero_lost=zero_lost)
    except CodeError as exc:
        return LineIssue(line, "code", cell_text(raw), exc.reason, str(exc))


@dataclass(frozen=True, slots=True)
class Preview:
    """A file's first rows as text and, when the first is a header, how it would be read
    (`HeaderGuess.as_json`): what a column-map form shows before the bookseller chooses."""

    rows: list[list[str]]
    guess: dict[str, Any] | None


class TabularSource(ABC):
    """A file read row by row; subclasses supply `_rows()` and override class attributes."""

    format: str
    required_fields: ClassVar[tuple[str, ...]] = ("code", "quantity")
    # Order-file style `EAN;qty` lines; a layout without a quantity counts one copy per line.
    headerless_columns: ClassVar[Mapping[str, int]] = {"code": 0, "quantity": 1}
    may_have_header: ClassVar[bool] = True

    def __init__(self, path: Path, *, price_unit: str = "euros",
                 columns: ColumnMap | None = None) -> None:
        self.path = path
        self.price_unit = price_unit
        self.column_map = columns
        self.exported_at: datetime | None = None
        self.guess: HeaderGuess | None = None
        self.skipped_rows = 0  # rows with no code, quantity nor price (Shopify's image rows)

    @property
    def column_guess(self) -> dict[str, Any] | None:
        """What the header was read as, and why (None when a column map or no header said it):
        kept with the run for the report and the upload page."""
        if self.guess is None:
            return None
        body = self.guess.as_json()
        if self.skipped_rows:
            body["skipped_rows"] = self.skipped_rows
        return body

    def preview(self, limit: int = 6) -> Preview:
        """The first `limit` non-blank rows and the guess for the first one, whatever the file
        holds: a layout the import would refuse is what the form is for. Only reading errors
        (an unreadable encoding, a line too long) raise FileRefused."""
        rows = self._first_rows(limit)
        texts = [[cell_text(cell) for cell in cells] for cells in rows]
        if not rows or not self.may_have_header:
            return Preview(texts, None)
        guess = guess_columns(texts[0])
        if self._is_data(rows[0], recognised=guess.recognised):
            return Preview(texts, None)
        return Preview(texts, guess.as_json())

    def _first_rows(self, count: int) -> list[Sequence[object]]:
        """The first `count` non-blank rows as read (cells with their spreadsheet types)."""
        rows: list[Sequence[object]] = []
        all_rows = self._rows()
        try:
            for _line, cells in all_rows:
                if not is_blank(cells):
                    rows.append(cells)
                if len(rows) >= count:
                    break
        finally:  # closes the file now, not when the generator is collected
            if isinstance(all_rows, Generator):
                all_rows.close()
        return rows

    @abstractmethod
    def _rows(self) -> Iterator[Row]:
        """Every row of the file, blank ones included, opened and closed during the iteration."""

    def head(self, count: int) -> list[list[str]]:
        """The first `count` non-blank rows as the shop sees them, header included: what the
        upload page previews for a bookseller choosing the columns (`importers.preview`)."""
        return [[cell_text(cell) for cell in cells] for cells in self._first_rows(count)]

    def __iter__(self) -> Iterator[StockRecord | LineIssue]:
        """Every data line yields a record, or exactly one rejected issue, plus notices.

        The merge counts rejected lines by counting rejected issues, hence never two per line.
        """
        columns: Columns | None = None
        plain: PlainLayout | None = None
        watched: LocationWatch | None = None
        data_lines = 0
        zeros = LostZeroEvidence()
        for line, cells in self._rows():
            if plain is not None and (record := self._plain_record(line, cells, plain)):
                data_lines += 1
                yield record
                continue
            if is_blank(cells):
                continue
            if columns is None:
                columns = self._columns(cells)
                watched = LocationWatch(*columns.watch) if columns.watch is not None else None
                # Rows of other locations must be skipped or watched: the fast path does not.
                plain = (PlainLayout.of(columns) if columns.keep is None and watched is None
                         else None)
                if columns.header:
                    continue
            if columns.keep is not None and not self._kept(cells, columns):
                continue
            if watched is not None:
                watched.see(cell_text(columns.cell(cells, "location")))
            if self.guess is not None and self._no_stock_in(cells, columns):
                self.skipped_rows += 1
                continue
            data_lines += 1
            yield from zeros.screen(self._read_row(line, cells, columns),
                                    partial(self._read_row, line, cells, columns, zero_lost=True))
        yield from zeros.settle()
        if watched is not None and len(watched.seen) > 1:
            raise FileRefused("several_locations", several_location_rows(
                watched.column, list(watched.seen.values()), watched.base_map))
        if data_lines == 0:
            raise FileRefused("empty_file", "le fichier est vide" if columns is None else
                              "le fichier ne contient que l'en-tête, aucune ligne de stock")

    def _columns(self, first_row: Sequence[object]) -> Columns:
        """The header's columns, or the headerless layout when the first row is already data."""
        if self.column_map is not None:
            return self._mapped_columns(first_row, self.column_map)
        if not self.may_have_header:
            return Columns(self.headerless_columns, header=False)
        guess = guess_columns([cell_text(cell) for cell in first_row])
        if self._is_data(first_row, recognised=guess.recognised):
            return self._headerless(first_row)
        self.guess = guess
        missing = [FIELD_LABELS[field] for field in self.required_fields
                   if field not in guess.positions]
        if missing:
            # Spreadsheet rows come padded to a fixed width: the empty cells say nothing.
            found_header = " ; ".join(map(cell_text, first_row)).rstrip(" ;")
            raise FileRefused(
                "missing_columns",
                f"colonne introuvable : {', '.join(missing)} (en-tête lu : « {found_header} »)"
                " ; indiquez une fois quelle colonne contient quoi dans la correspondance des "
                "colonnes (page « Importer mon stock », ou en ligne de commande --columns "
                "code=…,quantity=…) ; le stock précédent est conservé",
            )
        if guess.location_columns:
            raise FileRefused("several_locations", several_location_columns(guess))
        positions = dict(guess.positions)
        if guess.location_column is None:
            return Columns(positions, header=True)
        positions["location"] = guess.location_column
        return Columns(positions, header=True, watch=(guess.headers[guess.location_column],
                                                      guess.suggested_map()))

    def _headerless(self, first_row: Sequence[object]) -> Columns:
        """`EAN;qty` lines; with two numbers besides the code (`EAN;PRIX;QTE`) nothing says
        which is the count, and a guess would store prices as copies: the shop must map."""
        numbers = [position for position, cell in enumerate(first_row)
                   if position != self.headerless_columns["code"] and _is_number(cell)]
        if len(numbers) > 1:
            shown = " ; ".join(map(cell_text, first_row)).rstrip(" ;")
            raise FileRefused(
                "ambiguous_columns",
                f"fichier sans en-tête avec plusieurs colonnes de nombres (première ligne : "
                f"« {shown} ») : impossible de savoir laquelle est la quantité et laquelle le "
                "prix. Indiquez-le une fois dans la correspondance des colonnes (page « Importer "
                "mon stock », ou en ligne de commande --columns code=#1,price=#2,quantity=#3 "
                "selon votre fichier) ; le stock précédent est conservé",
            )
        if numbers and "quantity" in self.headerless_columns:
            return Columns({**self.headerless_columns, "quantity": numbers[0]}, header=False)
        return Columns(self.headerless_columns, header=False)

    @staticmethod
    def _no_stock_in(cells: Sequence[object], columns: Columns) -> bool:
        """No code, quantity nor price: not a stock line (Shopify lists extra images so)."""
        return not any(cell_text(columns.cell(cells, field))
                       for field in ("code", "code_fallback", "quantity", "price"))

    @staticmethod
    def _mapped_columns(first_row: Sequence[object], column_map: ColumnMap) -> Columns:
        """The shop's own map applied: by position (a header row is skipped when the code's
        cell holds no digit) or by header name, refusing a header that lacks a mapped column."""
        keep = (fold_header(column_map.keep)
                if column_map.keep not in (None, ALL_LOCATIONS) else None)
        if column_map.by_position:
            positions = {field: ref.position - 1 for field, ref in column_map.refs().items()
                         if ref.position is not None}
            code_cell = first_row[positions["code"]] if positions["code"] < len(first_row) else ""
            header = not any(c.isdigit() for c in cell_text(code_cell))
            return Columns(positions, header=header, keep=keep)
        folded = [fold_header(cell_text(cell)) for cell in first_row]
        positions = {}
        missing = []
        for field, ref in column_map.refs().items():
            if (name := fold_header(ref.name)) in folded:
                positions[field] = folded.index(name)
            else:
                missing.append(f"« {ref.name} »")
        if missing:
            found_header = " ; ".join(map(cell_text, first_row)).rstrip(" ;")
            raise FileRefused(
                "mapped_columns_missing",
                f"colonne de la correspondance enregistrée absente : {', '.join(missing)} "
                f"(en-tête lu : « {found_header} ») ; corrigez la correspondance des colonnes",
            )
        if column_map.location is not None:  # a location to keep, or all of them on purpose
            return Columns(positions, header=True, keep=keep)
        # A map that names no location still must not sum several: a location column of the
        # header is watched as in a guessed file.
        headers = [cell_text(cell) for cell in first_row]
        location = guess_columns(headers).location_column
        if location is None or location in positions.values():
            return Columns(positions, header=True)
        spec = ",".join(f"{name}={ref}" for name, ref in column_map.as_json().items())
        return Columns({**positions, "location": location}, header=True,
                       watch=(headers[location], spec))

    @staticmethod
    def _kept(cells: Sequence[object], columns: Columns) -> bool:
        """Whether a row belongs to the shop's own stock location."""
        return fold_header(cell_text(columns.cell(cells, "location"))) == columns.keep

    @staticmethod
    def _is_data(first_row: Sequence[object], *, recognised: bool) -> bool:
        """A valid code first, or digits under no known column name (a code with a typo)."""
        first = first_row[0] if first_row else None
        if isinstance(read_code(1, first), Code):
            return True
        return not recognised and any(c.isdigit() for c in cell_text(first))

    def _plain_record(self, line: int, cells: Sequence[object],
                      layout: PlainLayout) -> StockRecord | None:
        """The record of an ordinary line (a valid EAN-13 and a plain count, as text), else None.

        Nearly every line of a till export is one, and a night reads millions of them: this
        skips the general path's cleaning and repairs, which give the same record for such a
        line. Anything unusual returns None and goes through `_read_row`, which reports it.
        """
        if len(cells) < layout.width:
            return None
        raw_code = cells[layout.code]
        if type(raw_code) is not str or (kind := plain_kind(raw_code)) is None:
            return None
        quantity = 1
        if layout.quantity is not None:
            raw_quantity = cells[layout.quantity]
            if (type(raw_quantity) is not str or len(raw_quantity) > _MAX_QUANTITY_DIGITS
                    or not (raw_quantity.isdigit() and raw_quantity.isascii())):
                return None
            quantity = int(raw_quantity)
            if quantity > MAX_QUANTITY:
                return None
        price_cents = None
        if layout.price is not None:
            try:
                price_cents = self._price(cells[layout.price])
            except ValueProblem:
                return None
        return StockRecord(
            line, raw_code, kind, quantity, price_cents,
            title=cell_text(cells[layout.title]) if layout.title is not None else "",
            authors=cell_text(cells[layout.authors]) if layout.authors is not None else "",
            publisher=cell_text(cells[layout.publisher]) if layout.publisher is not None else "",
        )

    def _read_row(self, line: int, cells: Sequence[object], columns: Columns, *,
                  zero_lost: bool = False) -> Iterable[StockRecord | LineIssue]:
        raw_code = columns.cell(cells, "code")
        if not cell_text(raw_code) and "code_fallback" in columns.positions:
            raw_code = columns.cell(cells, "code_fallback")
        code = read_code(line, raw_code, zero_lost=zero_lost)
        if isinstance(code, LineIssue):
            return [code]
        notices: list[LineIssue] = []
        if code.repair is not None:
            notices.append(LineIssue(line, "code", cell_text(raw_code), code.repair,
                                     REPAIR_MESSAGES[code.repair].format(code=code.code),
                                     rejected=False))
        quantity = 1
        if "quantity" in columns.positions:
            raw_quantity = columns.cell(cells, "quantity")
            try:
                quantity = self._quantity(raw_quantity)
            except ValueProblem as exc:
                return [LineIssue(line, "quantity", cell_text(raw_quantity), exc.reason, str(exc))]
            if quantity < 0:
                notices.append(negative_quantity_notice(line, "quantity", cell_text(raw_quantity),
                                                        quantity))
                quantity = 0
        raw_price = columns.cell(cells, "price")
        try:
            price_cents = self._price(raw_price)
        except ValueProblem as exc:
            price_cents = None
            notices.append(LineIssue(line, "price", cell_text(raw_price), exc.reason,
                                     f"{exc} ; ligne enregistrée sans prix", rejected=False))
        record = StockRecord(
            line, code.code, code.kind, quantity, price_cents,
            title=cell_text(columns.cell(cells, "title")),
            authors=cell_text(columns.cell(cells, "authors")),
            publisher=cell_text(columns.cell(cells, "publisher")),
        )
        return [record, *notices]

    @staticmethod
    def _quantity(raw: object) -> int:
        return parse_quantity(raw if isinstance(raw, int | float) else cell_text(raw) or None)

    def _price(self, raw: object) -> int | None:
        return parse_price(raw if isinstance(raw, int | float) else cell_text(raw),
                           unit=self.price_unit)
