"""Opening hours evaluation at the instants where shops' hours usually go wrong."""

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from geo.opening_hours import (
    Hours,
    HoursError,
    OpenStatus,
    format_intervals,
    parse_hours,
)

PARIS = ZoneInfo("Europe/Paris")
EXAMPLE = "Tu-Sa 09:30-12:30,14:00-19:00; Mo 14:00-19:00; PH off"
EXAMPLE_DAY = [(time(9, 30), time(12, 30)), (time(14, 0), time(19, 0))]
CLOSED_MONDAY = "Tu-Sa 09:30-12:30,14:00-19:00; PH off"
OVERNIGHT = "Fr-Sa 18:00-02:00"
DAILY = "Mo-Su 10:00-19:00"


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def assert_same_instant(actual: datetime | None, expected: datetime | None, zone: str) -> None:
    """Instants must match, and results must be expressed in the shop's zone.

    Compared in UTC: PEP 495 makes ``==`` false between zones for a time in a DST fold.
    """
    if expected is None:
        assert actual is None
        return
    assert actual is not None
    assert actual.astimezone(UTC) == expected.astimezone(UTC)
    assert str(actual.tzinfo) == zone


# 2026-01-12 is a Monday, 2026-12-25 a Friday; Paris switches to CEST on 2026-03-29 at
# 02:00 (01:00 UTC) and back to CET on 2026-10-25 at 03:00 (01:00 UTC).
EVALUATIONS = [
    pytest.param(EXAMPLE, paris(2026, 1, 13, 10, 0), True, paris(2026, 1, 13, 12, 30), None,
                 id="morning-open"),
    pytest.param(EXAMPLE, paris(2026, 1, 13, 12, 45), False, None, paris(2026, 1, 13, 14, 0),
                 id="lunch-break"),
    pytest.param(EXAMPLE, paris(2026, 1, 13, 12, 30), False, None, paris(2026, 1, 13, 14, 0),
                 id="closing-minute-is-closed"),
    pytest.param(EXAMPLE, paris(2026, 1, 12, 10, 0), False, None, paris(2026, 1, 12, 14, 0),
                 id="monday-morning"),
    pytest.param(EXAMPLE, paris(2026, 1, 17, 19, 30), False, None, paris(2026, 1, 19, 14, 0),
                 id="saturday-evening-to-monday"),
    pytest.param(CLOSED_MONDAY, paris(2026, 1, 12, 10, 0), False, None,
                 paris(2026, 1, 13, 9, 30), id="closed-day"),
    pytest.param(EXAMPLE, paris(2026, 12, 25, 10, 0), False, None, paris(2026, 12, 26, 9, 30),
                 id="public-holiday"),
    pytest.param(EXAMPLE, paris(2026, 12, 24, 10, 0), True, paris(2026, 12, 24, 12, 30), None,
                 id="eve-of-public-holiday"),
    pytest.param(OVERNIGHT, paris(2026, 1, 16, 17, 59), False, None, paris(2026, 1, 16, 18, 0),
                 id="overnight-before-opening"),
    pytest.param(OVERNIGHT, paris(2026, 1, 16, 23, 0), True, paris(2026, 1, 17, 2, 0), None,
                 id="overnight-before-midnight"),
    pytest.param(OVERNIGHT, paris(2026, 1, 17, 1, 0), True, paris(2026, 1, 17, 2, 0), None,
                 id="overnight-after-midnight"),
    pytest.param(OVERNIGHT, paris(2026, 1, 18, 1, 30), True, paris(2026, 1, 18, 2, 0), None,
                 id="overnight-saturday-night-into-sunday"),
    pytest.param(OVERNIGHT, paris(2026, 1, 18, 2, 0), False, None, paris(2026, 1, 23, 18, 0),
                 id="overnight-closed-at-two"),
    pytest.param(OVERNIGHT, paris(2026, 1, 15, 1, 0), False, None, paris(2026, 1, 16, 18, 0),
                 id="overnight-no-spill-from-wednesday"),
    pytest.param(DAILY, utc(2026, 3, 29, 7, 30), False, None, utc(2026, 3, 29, 8, 0),
                 id="spring-dst-utc-0930-local"),
    pytest.param(DAILY, utc(2026, 3, 29, 8, 30), True, utc(2026, 3, 29, 17, 0), None,
                 id="spring-dst-utc-1030-local"),
    pytest.param(DAILY, utc(2026, 10, 25, 8, 30), False, None, utc(2026, 10, 25, 9, 0),
                 id="autumn-dst-utc-0930-local"),
    pytest.param(DAILY, utc(2026, 10, 25, 9, 30), True, utc(2026, 10, 25, 18, 0), None,
                 id="autumn-dst-utc-1030-local"),
    # 02:00 does not exist that night: the clock jumps to 03:00 at 01:00 UTC.
    pytest.param(OVERNIGHT, utc(2026, 3, 28, 22, 0), True, utc(2026, 3, 29, 1, 0), None,
                 id="overnight-across-spring-dst"),
    # 02:00 happens twice that night: the shop closes the first time.
    pytest.param(OVERNIGHT, utc(2026, 10, 24, 21, 0), True, utc(2026, 10, 25, 0, 0), None,
                 id="overnight-across-autumn-dst"),
    pytest.param(OVERNIGHT, utc(2026, 10, 25, 0, 30), False, None, utc(2026, 10, 30, 17, 0),
                 id="overnight-after-autumn-dst-closing"),
    pytest.param(OVERNIGHT, datetime(2026, 1, 16, 12, 30, tzinfo=ZoneInfo("America/Montreal")),
                 True, paris(2026, 1, 17, 2, 0), None, id="reader-in-another-zone"),
    pytest.param(OVERNIGHT, datetime(2026, 1, 16, 17, 30, tzinfo=UTC), True,
                 paris(2026, 1, 17, 2, 0), None, id="stdlib-utc-tzinfo"),
    pytest.param("24/7", paris(2026, 1, 12, 10, 0), True, None, None, id="never-closes"),
    pytest.param("off", paris(2026, 1, 12, 10, 0), False, None, None, id="never-opens"),
]


@pytest.mark.parametrize(("expr", "at", "open_now", "closes_at", "next_opening"), EVALUATIONS)
def test_evaluation(
    expr: str,
    at: datetime,
    open_now: bool,
    closes_at: datetime | None,
    next_opening: datetime | None,
) -> None:
    hours = parse_hours(expr)
    assert hours.is_open(at) is open_now
    assert_same_instant(hours.closes_at(at), closes_at, "Europe/Paris")
    assert_same_instant(hours.next_opening(at), next_opening, "Europe/Paris")


def test_status_gathers_everything_for_the_shop_card() -> None:
    status = parse_hours(EXAMPLE).status(utc(2026, 1, 13, 11, 45))
    assert status == OpenStatus(
        open_now=False,
        closes_at=None,
        next_opening=paris(2026, 1, 13, 14, 0),
        today=EXAMPLE_DAY,
    )


def test_status_is_computed_once_a_minute_and_exact_at_the_minute() -> None:
    hours = parse_hours(EXAMPLE)
    assert hours.status(utc(2026, 1, 13, 11, 45, 10)) is hours.status(utc(2026, 1, 13, 11, 45, 50))
    just_before = hours.status(paris(2026, 1, 13, 13, 59, 59))
    assert not just_before.open_now and just_before.next_opening == paris(2026, 1, 13, 14, 0)
    opening = hours.status(paris(2026, 1, 13, 14, 0, 0))
    assert opening.open_now and opening.closes_at == paris(2026, 1, 13, 19, 0)


def test_status_uses_the_shop_calendar_day() -> None:
    # 23:30 UTC on Friday is already Saturday in Paris.
    status = parse_hours(EXAMPLE).status(utc(2026, 1, 16, 23, 30))
    assert status.today == EXAMPLE_DAY
    assert status.next_opening == paris(2026, 1, 17, 9, 30)


def test_other_shop_zone() -> None:
    hours = parse_hours("Mo-Fr 10:00-18:00", timezone="America/Toronto", country="CA")
    at = paris(2026, 1, 12, 16, 30)  # 10:30 in Toronto.
    assert hours.is_open(at)
    assert_same_instant(
        hours.closes_at(at),
        datetime(2026, 1, 12, 18, 0, tzinfo=ZoneInfo("America/Toronto")),
        "America/Toronto",
    )


DAYS = [
    pytest.param(EXAMPLE, date(2026, 1, 13), EXAMPLE_DAY, id="tuesday"),
    pytest.param(EXAMPLE, date(2026, 1, 12), [(time(14, 0), time(19, 0))], id="monday"),
    pytest.param(EXAMPLE, date(2026, 1, 18), [], id="sunday"),
    pytest.param(EXAMPLE, date(2026, 12, 25), [], id="public-holiday"),
    pytest.param(OVERNIGHT, date(2026, 1, 16), [(time(18, 0), time(2, 0))],
                 id="overnight-friday"),
    pytest.param(OVERNIGHT, date(2026, 1, 17), [(time(18, 0), time(2, 0))],
                 id="overnight-saturday"),
    pytest.param(OVERNIGHT, date(2026, 1, 18), [], id="overnight-sunday-small-hours"),
    pytest.param(OVERNIGHT, date(2026, 3, 28), [(time(18, 0), time(3, 0))],
                 id="overnight-into-spring-dst"),
    pytest.param("24/7", date(2026, 1, 14), [(time(0, 0), time(0, 0))], id="round-the-clock"),
    pytest.param("Mo 18:00-24:00", date(2026, 1, 12), [(time(18, 0), time(0, 0))],
                 id="until-midnight"),
    pytest.param("Mo 10:00-12:00,12:00-14:00", date(2026, 1, 12), [(time(10, 0), time(14, 0))],
                 id="adjacent-merged"),
    pytest.param('Mo 10:00-12:00 "vente", Mo 12:00-14:00 "retraits"', date(2026, 1, 12),
                 [(time(10, 0), time(14, 0))], id="adjacent-with-comments-merged"),
    pytest.param(DAILY, date(2026, 3, 29), [(time(10, 0), time(19, 0))], id="spring-dst-day"),
    pytest.param(DAILY, date(2026, 10, 25), [(time(10, 0), time(19, 0))], id="autumn-dst-day"),
]


@pytest.mark.parametrize(("expr", "day", "expected"), DAYS)
def test_day_intervals(expr: str, day: date, expected: list[tuple[time, time]]) -> None:
    assert parse_hours(expr).day_intervals(day) == expected


@pytest.mark.parametrize(
    ("intervals", "expected"),
    [
        pytest.param([], "", id="none"),
        pytest.param([(time(9, 30), time(12, 30)), (time(14, 0), time(19, 0))],
                     "09:30–12:30, 14:00–19:00", id="lunch-break"),
        pytest.param([(time(18, 0), time(2, 0))], "18:00–02:00", id="overnight"),
        pytest.param([(time(18, 0), time(0, 0))], "18:00–24:00", id="until-midnight"),
        pytest.param([(time(0, 0), time(0, 0))], "00:00–24:00", id="round-the-clock"),
    ],
)
def test_format_intervals(intervals: list[tuple[time, time]], expected: str) -> None:
    assert format_intervals(intervals) == expected


@pytest.mark.parametrize(
    ("expr", "reason", "has_caret"),
    [
        pytest.param("", "horaires vides", False, id="empty"),
        pytest.param("  \t ", "horaires vides", False, id="blank-not-24/7"),
        pytest.param("Lu-Sa 10:00-19:00",
                     "erreur de syntaxe au caractère 1 : « Lu-Sa 10:00-19:00 »", True,
                     id="french-day-names"),
        pytest.param("Mo 25:00-26:00", "erreur de syntaxe au caractère 4 : « 25:00-26:00 »",
                     True, id="hour-out-of-range"),
        pytest.param("Mo 10h-12h", "erreur de syntaxe au caractère 4 : « 10h-12h »", True,
                     id="french-hour-style"),
        pytest.param("Tu-Sa 09:30-12:30,14:00",
                     "expression incomplète après « …Sa 09:30-12:30,14:00 »", True,
                     id="truncated"),
    ],
)
def test_invalid_expressions(expr: str, reason: str, has_caret: bool) -> None:
    with pytest.raises(HoursError) as caught:
        parse_hours(expr)
    error = caught.value
    assert isinstance(error, ValueError)
    assert error.reason == reason
    assert str(error) == error.reason
    assert (error.detail is not None and "^" in error.detail) is has_caret


@pytest.mark.parametrize(
    "method",
    [Hours.is_open, Hours.next_opening, Hours.closes_at, Hours.status],
    ids=lambda method: method.__name__,
)
def test_naive_datetime_rejected(method: Callable[[Hours, datetime], object]) -> None:
    hours = parse_hours(EXAMPLE)
    with pytest.raises(ValueError, match="naive"):
        method(hours, datetime(2026, 1, 13, 10, 0))


def test_parse_is_cached_on_the_stripped_expression() -> None:
    assert parse_hours(f"  {EXAMPLE}\n") is parse_hours(EXAMPLE)
    assert parse_hours(EXAMPLE, timezone="America/Toronto") is not parse_hours(EXAMPLE)


def test_normalized() -> None:
    assert parse_hours(EXAMPLE).normalized == (
        "Mo 14:00-19:00; Tu-Sa 09:30-12:30,14:00-19:00; PH closed"
    )
