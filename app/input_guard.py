"""One check at the edge for text no handler can store: a NUL byte or a lone surrogate.

PostgreSQL refuses both (a NUL in any text, a surrogate that UTF-8 cannot encode), and a request
carrying one reached the database and answered 500 from half a dozen places (a shop slug in a
URL, the login email, the staff partner search, the reserve forms). Every request's path, query
and form fields are checked here before any view runs, so each view need not remember to; JSON
bodies are checked where the API reads them (`views/reservations_api._text`), with the same rule.

Whole numbers in a URL (`<int:run_id>`) have no bound in the router: one beyond the database's
`integer` overflowed in SQL (500). No row has such an id, so the answer is 404, here too.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from flask import Flask, abort, request

from app.errors import InvalidInput

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# A NUL byte or a lone surrogate: text PostgreSQL cannot store.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# PostgreSQL's `integer`, the type of every id.
_LARGEST_ID = 2**31 - 1


def check_text(name: str, value: str) -> str:
    """`value`, or InvalidInput naming the field when it holds what no column can store."""
    if _UNSTORABLE.search(value):
        raise InvalidInput(f"{name}: invalid characters (NUL byte or lone surrogate)",
                           code="invalid_characters")
    return value


def _fields() -> Iterable[tuple[str, str]]:
    yield "path", request.path
    for key, value in request.args.items(multi=True):
        yield key, key
        yield key, value
    if request.mimetype in FORM_TYPES:
        for key, value in request.form.items(multi=True):
            yield key, key
            yield key, value


def init_app(app: Flask) -> None:
    @app.before_request
    def _refuse_unstorable_text() -> None:
        for name, value in _fields():
            check_text(name, value)

    @app.before_request
    def _no_id_beyond_the_database() -> None:
        if any(isinstance(value, int) and value > _LARGEST_ID
               for value in (request.view_args or {}).values()):
            abort(404)
