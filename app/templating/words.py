"""Jinja filters that turn service results into words in the reader's language."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_decimal
from flask import Flask
from flask_babel import format_datetime, get_locale, gettext, lazy_gettext
from geoalchemy2.shape import to_shape

from app.reservations.lifecycle import STATE_LABELS, is_active, staff_verbs
from geo.opening_hours import OpenStatus, format_intervals


def _hhmm(moment: datetime) -> str:
    return moment.strftime("%H:%M")


def open_status_label(status: OpenStatus | None, now: datetime) -> str:
    """`Ouvert · ferme à 19:00`, `Fermé · ouvre à 14:00`, `Fermé · ouvre mardi à 09:30`."""
    if status is None:
        return gettext("Opening hours not given")
    if status.open_now:
        if status.closes_at is None:
            return gettext("Open now")
        return gettext("Open now · closes at %(time)s", time=_hhmm(status.closes_at))
    if status.next_opening is None:
        return gettext("Closed")
    opening = status.next_opening
    local_now = now.astimezone(opening.tzinfo)
    if opening.date() == local_now.date():
        return gettext("Closed · opens at %(time)s", time=_hhmm(opening))
    day = format_date(opening.date(), "EEEE", locale=str(get_locale()))
    return gettext("Closed · opens %(day)s at %(time)s", day=day, time=_hhmm(opening))


def today_hours_label(status: OpenStatus | None) -> str:
    if status is None:
        return ""
    return format_intervals(status.today) or gettext("closed today")


def book_title(title: str | None) -> str:
    """A book's title, or an honest "Titre inconnu" when no file or catalogue named it.

    The one place the fallback is written: search results, book and reservation pages, mails and
    the staff desk all go through it. A made-up "Livre 978..." read like a title and hid that the
    catalogue lacks one; the ISBN is shown beside it wherever it matters, and still finds the book.
    """
    return title.strip() if title and title.strip() else gettext("Unknown title")


def local_datetime(moment: datetime | None) -> str:
    """`23/11/2026 02:05` in the network's time zone (the zone of the shops' tills)."""
    if moment is None:
        return ""
    return format_datetime(moment, "short")


RUN_STATUS_LABELS = {
    "applied": lazy_gettext("Applied"),
    "rejected": lazy_gettext("Refused: previous stock kept"),
    "failed": lazy_gettext("Failed: previous stock kept"),
    "skipped_duplicate": lazy_gettext("Same file as last time: nothing to do"),
    "running": lazy_gettext("In progress"),
    "interrupted": lazy_gettext("Interrupted: previous stock kept"),
}


def run_status_label(status: str) -> str:
    return _label(RUN_STATUS_LABELS, status)


def distance_label(metres: float | None) -> str:
    """`450 m` under a kilometre, `3,2 km` (French decimals) under 10 km, `27 km` beyond."""
    if metres is None:
        return ""
    locale = str(get_locale())
    if metres < 1000:
        return f"{int(round(metres, -1 if metres >= 100 else 0))} m"
    if metres < 10_000:
        return f"{format_decimal(round(metres / 1000, 1), format='0.0', locale=locale)} km"
    return f"{round(metres / 1000)} km"


def date_label(day: date) -> str:
    return format_date(day, "long", locale=str(get_locale()))


def shop_time(moment: datetime | None, zone: str) -> str:
    """A deadline in the shop's own time zone, where the reader will be: `mardi 25 nov., 11:00`."""
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(zone))
    day = format_date(local.date(), "EEEE d MMM", locale=str(get_locale()))
    return f"{day}, {local:%H:%M}"


def reservation_state_label(state: str) -> str:
    """The state's label declared by the lifecycle, in the reader's language."""
    label = STATE_LABELS.get(state)
    if label is None:
        return state  # the code itself if we have no words for it
    translated: str = gettext(label)
    return translated


def _label(labels: dict[str, Any], key: str) -> str:
    """The reader's words for a stored code; the code itself if we have none."""
    return str(labels.get(key, key))


def shop_point(shop: Any) -> Any:
    """The shop's location as a Shapely point (x = longitude, y = latitude), for links."""
    return to_shape(shop.location)


def page_window(current: int, last: int, *, radius: int = 2) -> list[int | None]:
    """The page numbers a pager offers: the first, the last, and `radius` either side of the
    current one, None standing for each gap (`1 … 4 5 6 7 8 … 60`); a few links whatever the
    number of pages."""
    shown = sorted({1, last, *range(max(1, current - radius), min(last, current + radius) + 1)})
    window: list[int | None] = []
    for number in shown:
        if window and number - (window[-1] or 0) > 1:
            window.append(None)
        window.append(number)
    return window


def init_app(app: Flask) -> None:
    app.add_template_filter(open_status_label, "open_status")
    app.add_template_filter(today_hours_label, "today_hours")
    app.add_template_filter(book_title, "book_title")
    app.add_template_filter(local_datetime, "local_datetime")
    app.add_template_filter(run_status_label, "run_status")
    app.add_template_filter(distance_label, "distance")
    app.add_template_filter(date_label, "format_date_filter")
    app.add_template_filter(shop_time, "shop_time")
    app.add_template_filter(reservation_state_label, "reservation_state")
    app.add_template_global(shop_point, "shop_point")
    app.add_template_global(page_window, "page_window")
    # The lifecycle decides which buttons a reservation gets and whether it still runs.
    app.add_template_global(staff_verbs, "staff_verbs")
    app.add_template_test(is_active, "reservation_active")
    app.add_template_global(lambda: str(get_locale()), "current_locale")
