"""What readers are shown of one edition: its title, authors and publisher."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.db import driver_rows

# The public columns (the ORM object would also load its search vector), in the driver's own
# syntax: run on every availability request, it skips SQLAlchemy's compiling and result set-up
# (`driver_rows`).
EDITION_SUMMARY = ("SELECT isbn13, title, authors, publisher FROM edition "
                   "WHERE isbn13 = %(isbn13)s")
EDITION_SUMMARIES = ("SELECT isbn13, title, authors, publisher FROM edition "
                     "WHERE isbn13 = ANY(%(isbns)s)")


@dataclass(frozen=True)
class EditionSummary:
    isbn13: str
    title: str
    authors: str
    publisher: str


def edition_summary(session: Session, isbn13: str) -> EditionSummary | None:
    """What the catalogue knows of `isbn13`, or None: a shop may stock a book no file named."""
    rows = driver_rows(session, EDITION_SUMMARY, {"isbn13": isbn13})
    return EditionSummary(*rows[0]) if rows else None


def edition_summaries(session: Session, isbns: list[str]) -> dict[str, EditionSummary]:
    """What the catalogue knows of each of `isbns`, by ISBN; unknown ones are left out."""
    if not isbns:
        return {}
    rows = driver_rows(session, EDITION_SUMMARIES, {"isbns": isbns})
    return {row[0]: EditionSummary(*row) for row in rows}
