"""Whether a file shows that its codes lost their leading zero: repairs only with evidence.

A spreadsheet that stored codes as numbers turns the ISBN-10 `0201633612` into `201633612`, and a
CSV saved from it keeps the wreck as text. Putting the zero back is right for such a file, but a
9-digit code can also be a 10-digit one with another digit dropped, and one time in eleven that
still passes the ISBN-10 check once padded: `965724921` would become a different, real book.

A code that came as a number (a numeric cell, a JSON number) carries its own evidence and is
repaired by `app.isbn.normalize_code`. A 9-digit code written as text is held here until the end
of the file; the file's code column is the evidence. Its zeros count as lost when every 9-digit
code in it is a valid ISBN-10 once padded, and there are at least MIN_CONSISTENT of them: a single
one is no pattern, and one 9-digit code that does not fit shows digits went missing some other
way. Otherwise each held line is rejected with the reason and what to do.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from app.isbn import lost_zero_candidate
from importers.records import LineIssue, StockRecord

Items = Iterable[StockRecord | LineIssue]
UNPROVEN = "unproven_leading_zero"
# Two independent dropped-digit accidents both passing the check: about one file in 121 that has
# exactly two such codes. Each further one divides that by eleven.
MIN_CONSISTENT = 2
# Held lines are kept in memory until the end of the file; past this many, all consistent, the
# pattern is beyond doubt: they are repaired at once, and so is every later one.
MAX_HELD = 10_000


class LostZeroEvidence:
    """One file's 9-digit text codes: held, then repaired or rejected together.

    `screen` sees every data line's outcome with a way to read the line again as repaired;
    `settle`, after the last line, releases what was held.
    """

    def __init__(self) -> None:
        self._held: list[tuple[LineIssue, Callable[[], Items]]] = []
        self._against = 0  # 9-digit codes that are no ISBN-10 once padded
        self._proven = False

    def screen(self, items: Items, repaired: Callable[[], Items]) -> Items:
        """The line's items, or nothing while its code waits for the file's verdict."""
        items = list(items)
        first = items[0] if items else None
        if not isinstance(first, LineIssue) or first.field != "code":
            return items
        if first.reason_code == UNPROVEN:
            if self._proven:
                return repaired()
            self._held.append((first, repaired))
            if len(self._held) >= MAX_HELD and not self._against:
                self._proven = True
                return self._release()
            return []
        if lost_zero_candidate(first.raw_value) is False:
            self._against += 1
        return items

    def settle(self) -> Iterator[StockRecord | LineIssue]:
        """After the last line: the held lines, repaired when the file proves the zeros lost."""
        if len(self._held) >= MIN_CONSISTENT and not self._against:
            yield from self._release()
            return
        for issue, _ in self._held:
            yield issue
        self._held.clear()

    def _release(self) -> list[StockRecord | LineIssue]:
        released = [item for _, repaired in self._held for item in repaired()]
        self._held.clear()
        return released
