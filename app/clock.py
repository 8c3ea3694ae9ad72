"""The one clock of the Python side: every "what time is it" in Python code reads `now()`.

Why one place: a reader finds with one search which code depends on the wall clock, and tests
pin it (`time-machine` moves `datetime.now`, which this reads: the `pinned_clock` fixture in
`tests/conftest.py`) so that no page, label or deadline depends on the hour the suite runs at.

The other clock is the database's, used on purpose wherever SQL decides a state, so that every
app process agrees with the one database: whether a hold still counts or has expired, and the
moments a transition records. `now()` in SQL is the transaction's start, the same for every
statement of a unit of work; `clock_timestamp()` is used only where a recorded moment must be
later than anything committed while the transaction was open (a collection against a stock file
exported meanwhile, a new hold's start). Python code that must compare with those columns asks
the database for its time (`database_now`) instead of mixing the two clocks.
"""
from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session


def now() -> datetime:
    """The current moment, timezone-aware, in UTC."""
    return datetime.now(UTC)


def today() -> date:
    """Today's date in UTC: the day a search miss is counted under."""
    return now().date()


def database_now(session: Session) -> datetime:
    """The database's `now()` (the transaction's start), for Python code that compares with
    moments SQL wrote or will check."""
    moment: datetime | None = session.scalar(select(func.now()))
    assert moment is not None
    return moment
