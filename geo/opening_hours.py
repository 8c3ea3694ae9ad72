"""Evaluate a shop's OpenStreetMap ``opening_hours`` expression in the shop's own timezone.

Shops keep their hours in the OSM syntax because booksellers already publish them
there and because one string covers lunch breaks, overnight openings and public
holidays. The parsing and evaluation are delegated to opening-hours-py; this module
only pins down the timezone rules the library leaves to its caller:

* The library's ``timezone`` argument must be a ``zoneinfo.ZoneInfo`` (a string raises
  ``TypeError``), and an aware input datetime must carry a ``ZoneInfo`` too: a
  ``datetime.timezone.utc`` value raises ``TypeError``. Every input is therefore
  converted to the shop's ``ZoneInfo`` first, which also makes the evaluation follow
  the shop's wall clock across DST changes.
* The library works on wall-clock times and resolves a repeated time of the autumn DST
  change (02:00-03:00 in Paris) to its second occurrence, although ``is_open`` flips at
  the first one; :meth:`Hours.closes_at` and :meth:`Hours.next_opening` correct that.
* A blank string parses as ``24/7`` in the library, so it is rejected here.

The ``unknown`` state of the OSM syntax counts as closed everywhere in this module.
"""

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

# The package's generated stub (opening_hours/__init__.pyi) omits ParserError, which the
# compiled module defines and raises for an invalid expression.
from opening_hours import OpeningHours, ParserError, State  # type: ignore[attr-defined]

# How far ahead closes_at and next_opening look before answering None.
_HORIZON: Final = timedelta(days=366)

_POSITION: Final = re.compile(r"-->\s*(\d+):(\d+)")
_SNIPPET_LENGTH: Final = 20


class HoursError(ValueError):
    """An opening hours expression that cannot be used, with a reason fit for a form.

    ``reason`` is a short French sentence for the bookseller's import report or form;
    ``detail`` keeps the parser's full (English) caret snippet for whoever has to fix the
    expression by hand.
    """

    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class OpenStatus:
    """Everything the shop card shows about the hours, computed at one instant."""

    open_now: bool
    closes_at: datetime | None
    next_opening: datetime | None
    today: list[tuple[time, time]]


@dataclass(frozen=True)
class Hours:
    """A parsed expression bound to its shop's timezone, so callers never juggle zones.

    Build it with :func:`parse_hours`, which caches instances. Every method takes an aware
    datetime in any zone and answers in the shop's zone.
    """

    expression: str
    timezone: str
    country: str
    normalized: str
    zone: ZoneInfo = field(repr=False, compare=False)
    _parsed: OpeningHours = field(repr=False, compare=False)

    def is_open(self, at: datetime) -> bool:
        return self._parsed.is_open(self._local(at))

    def next_opening(self, at: datetime) -> datetime | None:
        """None when already open, so a card shows either a closing or an opening time."""
        local = self._local(at)
        for index, (start, _end, state, _comment) in enumerate(self._intervals(local)):
            if state == State.OPEN:
                return None if index == 0 else self._first_occurrence(start, local)
        return None

    def closes_at(self, at: datetime) -> datetime | None:
        """None when closed, or when the shop stays open for the whole look-ahead year."""
        local = self._local(at)
        intervals = self._intervals(local)
        first = next(intervals, None)
        if first is None or first[2] != State.OPEN:
            return None
        end = first[1]
        # Consecutive open intervals only differ by their comment: one opening for a reader.
        for _start, finish, state, _comment in intervals:
            if state != State.OPEN:
                return self._first_occurrence(end, local)
            end = finish
        return None

    def day_intervals(self, day: date) -> list[tuple[time, time]]:
        """Hours of one local day the way a bookseller writes them.

        An evening opening that runs past midnight belongs to the day it starts on and
        keeps its real end, so ``Fr-Sa 18:00-02:00`` gives Friday ``(18:00, 02:00)`` and
        Sunday nothing: an end not after its start means the next day, and an end of
        ``00:00`` means midnight. A period already open at midnight that did not start
        during the previous day, or that lasts beyond this day, is shown from ``00:00``,
        so a round-the-clock day is ``(00:00, 00:00)``.
        """
        before, start, end, after = (
            self._midnight(day + timedelta(days=offset)) for offset in (-1, 0, 1, 2)
        )
        result: list[tuple[time, time]] = []
        for begin, finish in self._open_periods(before, after):
            if finish <= start or begin >= end:
                continue
            if begin < start:
                if before < begin and finish < end:
                    continue  # The small hours of an opening listed the day before.
                piece_start = start
            else:
                piece_start = begin
            runs_over = start < begin and end < finish < after
            piece_end = finish if runs_over else min(finish, end)
            result.append((self._wall_time(piece_start), self._wall_time(piece_end)))
        return result

    def status(self, at: datetime) -> OpenStatus:
        """The same for every instant of a minute, since the OSM syntax counts in whole minutes:
        computed once per shop and minute (a listing asks for dozens of shops per request)."""
        return _status_at_minute(self, self._local(at).replace(second=0, microsecond=0))

    def _status(self, at: datetime) -> OpenStatus:
        return OpenStatus(
            open_now=self.is_open(at),
            closes_at=self.closes_at(at),
            next_opening=self.next_opening(at),
            today=self.day_intervals(self._local(at).date()),
        )

    def after_open_time(self, start: datetime, duration: timedelta,
                        *, horizon_days: int = 14) -> datetime | None:
        """The instant when `duration` of opening time has passed since `start`.

        Time counts only while the shop is open: a hold of two hours taken at 18:30 in a shop
        closing at 19:00 and opening at 09:30 runs until 11:00 the next opening day, and one
        taken while the shop is closed starts counting at the next opening. None when the shop
        does not open long enough within the horizon.
        """
        local = self._local(start)
        remaining = duration
        end_of_horizon = local + timedelta(days=horizon_days)
        for begin, finish in self._open_periods(local, end_of_horizon):
            begin = max(begin, local.astimezone(UTC))
            if finish <= begin:
                continue
            if finish - begin >= remaining:
                return (begin + remaining).astimezone(self.zone)
            remaining -= finish - begin
        return None

    def _local(self, at: datetime) -> datetime:
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(f"naive datetime {at.isoformat()}: the instant is ambiguous")
        return at.astimezone(self.zone)

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.zone)

    def _wall_time(self, instant: datetime) -> time:
        return instant.astimezone(self.zone).time()

    def _intervals(self, local: datetime) -> Iterator[tuple[datetime, datetime, State, str]]:
        return self._parsed.intervals(local, local + _HORIZON)

    def _open_periods(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """Open periods in UTC, since comparing datetimes sharing a zone ignores ``fold``."""
        periods: list[tuple[datetime, datetime]] = []
        for begin, finish, state, _comment in self._parsed.intervals(start, end):
            if state != State.OPEN:
                continue
            begin, finish = begin.astimezone(UTC), finish.astimezone(UTC)
            if periods and periods[-1][1] == begin:
                periods[-1] = (periods[-1][0], finish)
            else:
                periods.append((begin, finish))
        return periods

    @staticmethod
    def _first_occurrence(boundary: datetime, after: datetime) -> datetime:
        """Undo the library's choice of the second 02:xx when the first is still ahead.

        On the autumn DST change the state follows the wall clock, so it changes the
        first time the clock reads the boundary; the library reports the second time.
        """
        first = boundary.replace(fold=0)
        return first if first.astimezone(UTC) > after.astimezone(UTC) else boundary


def parse_hours(expr: str, *, timezone: str = "Europe/Paris", country: str = "FR") -> Hours:
    """Parse once per distinct (expression, timezone, country): listings evaluate hundreds.

    ``country`` selects the public holiday calendar behind ``PH``. An unknown timezone
    raises ``zoneinfo.ZoneInfoNotFoundError`` and an unknown country
    ``opening_hours.UnknownCountryError``: those are configuration errors, not a
    bookseller's typo.
    """
    stripped = expr.strip()
    if not stripped:
        raise HoursError("horaires vides")
    return _parse(stripped, timezone, country)


@functools.lru_cache(maxsize=4096)
def _parse(expr: str, timezone: str, country: str) -> Hours:
    zone = ZoneInfo(timezone)
    try:
        parsed = OpeningHours(expr, timezone=zone, country=country)
    except ParserError as error:
        raise HoursError(_syntax_reason(expr, str(error)), detail=str(error)) from error
    return Hours(
        expression=expr,
        timezone=timezone,
        country=country,
        normalized=str(parsed.normalize()),
        zone=zone,
        _parsed=parsed,
    )


@functools.lru_cache(maxsize=4096)
def _status_at_minute(hours: Hours, minute: datetime) -> OpenStatus:
    return hours._status(minute)


def _syntax_reason(expr: str, message: str) -> str:
    """Quote the offending text: the parser's own wording lists grammar rule names."""
    match = _POSITION.search(message)
    if match is None:
        return message.splitlines()[0]
    line, column = int(match[1]), int(match[2])
    lines = expr.split("\n")
    offset = sum(len(text) + 1 for text in lines[: line - 1]) + column - 1
    rest = expr[offset:]
    if not rest:
        tail = expr if len(expr) <= _SNIPPET_LENGTH else "…" + expr[-_SNIPPET_LENGTH:]
        return f"expression incomplète après « {tail} »"
    return f"erreur de syntaxe au caractère {offset + 1} : « {rest[:_SNIPPET_LENGTH]} »"


def format_intervals(intervals: list[tuple[time, time]]) -> str:
    """French shop-door style, joined with an en dash as on printed opening signs."""
    return ", ".join(f"{start:%H:%M}–{_format_end(end)}" for start, end in intervals)


def _format_end(end: time) -> str:
    """A closing at midnight reads 24:00: "18:00–00:00" looks like an empty opening."""
    return "24:00" if end == time(0) else f"{end:%H:%M}"
