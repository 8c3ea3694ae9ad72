"""The one record shape every stock file format is parsed into.

A parser yields, line by line, either a `StockRecord` (a line to apply) or a `LineIssue` (a line
rejected, or applied with a correction the shop should know about). Parsers never hold the whole
file: the merge streams records straight into PostgreSQL with COPY.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, final, runtime_checkable


# Final: the merge tells records from issues with `type(item) is StockRecord` (cheaper than
# isinstance in its hot loop), which only narrows the other branch for a final class.
@final
@dataclass(slots=True)
class StockRecord:
    line: int  # 1-based physical line (or record number for ONIX/JSON/XLSX rows)
    code: str  # normalised: 13 digits
    kind: str  # isbn | ismn | gtin | internal (see app.isbn)
    quantity: int  # >= 0; duplicates of a code are summed by the merge
    price_cents: int | None = None
    title: str = ""
    authors: str = ""
    publisher: str = ""


@dataclass(frozen=True, slots=True)
class LineIssue:
    line: int
    field: str
    raw_value: str
    reason_code: str  # stable English code, e.g. invalid_check_digit
    message: str  # French sentence for the shop
    # False: the line was still applied (e.g. a negative quantity stored as 0).
    rejected: bool = True


def negative_quantity_notice(line: int, field: str, raw: str, quantity: int) -> LineIssue:
    """A negative count (returns not yet booked, a till glitch) is stored as 0 and reported."""
    return LineIssue(line, field, raw, "negative_quantity",
                     f"quantité négative ({quantity}) enregistrée comme 0", rejected=False)


class FileRefused(Exception):
    """The whole file is unusable (empty, cut short, not a stock file): nothing may be applied."""

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message


class StockSource(Protocol):
    """A parsed file, iterated once."""

    format: str  # delimited | scanner | xlsx | onix | json

    @property
    def exported_at(self) -> datetime | None:
        """From the file's content when it says; else None. A source may learn it only while
        being iterated (a streamed JSON's top-level keys), so the merge reads it afterwards."""

    def __iter__(self) -> Iterator[StockRecord | LineIssue]: ...


@runtime_checkable
class ReadsHeader(Protocol):
    """A source whose columns are found from a header row (delimited text, spreadsheets)."""

    @property
    def column_guess(self) -> dict[str, Any] | None:
        """How the header was read and why (`importers.headers`), known once iterated."""
