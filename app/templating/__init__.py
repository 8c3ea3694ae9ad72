"""What templates get besides Flask's defaults: service results worded in the reader's language.

`words` turns opening status, distances, dates and stored codes (a run's status, a
reservation's state) into the reader's words; `problems` says why a typed code or place was not
understood. Views use the same functions where they word things outside a template (map popups,
the API's problem details); `hours` words a shop's week on its page.
"""
from __future__ import annotations

from flask import Flask

from app.templating import hours, problems, words


def init_app(app: Flask) -> None:
    words.init_app(app)
    problems.init_app(app)
    hours.init_app(app)
