"""Words for a shop's week on its page: the day's name and its hours, in the reader's language."""
from __future__ import annotations

from datetime import date, time

from babel.dates import format_date
from flask import Flask
from flask_babel import get_locale, gettext

from geo.opening_hours import format_intervals


def weekday_label(day: date) -> str:
    """`mardi 24 novembre`, `Tuesday 24 November`: the date too, so that a holiday closing
    reads as that day's, not as every Tuesday's."""
    return format_date(day, "EEEE d MMMM", locale=str(get_locale()))


def hours_label(intervals: list[tuple[time, time]]) -> str:
    return format_intervals(intervals) or gettext("Closed")


def init_app(app: Flask) -> None:
    app.add_template_filter(weekday_label, "weekday_label")
    app.add_template_filter(hours_label, "hours_label")
