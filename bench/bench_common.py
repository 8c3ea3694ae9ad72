"""Helpers shared by the benchmark scripts (run as `python bench/<name>.py`)."""
from __future__ import annotations

import time

from sqlalchemy import make_url

from app.db import sqlalchemy_url


def libpq_url(database_url: str) -> str:
    """The DATABASE_URL without SQLAlchemy's `+psycopg` driver suffix, for psycopg itself."""
    url = make_url(sqlalchemy_url(database_url)).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class Step:
    """A phase of a run, announced and timed: how long building the data takes matters too."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.seconds = 0.0
        self._start = 0.0

    def __enter__(self) -> Step:
        print(f"  .. {self.label} ...", flush=True)
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._start
        print(f"  .. {self.label}: {self.seconds:.1f} s", flush=True)


def _weight(position: int) -> int:
    """EAN-13 weights: 1 on even positions of the 12-digit body, 3 on odd ones."""
    return 3 if position % 2 else 1


def ean13(prefix: str, number: int, digits: int) -> str:
    """`prefix` + `number` on `digits` digits + the check digit the importer verifies."""
    body = f"{prefix}{number:0{digits}d}"
    return body + str(-sum(int(c) * _weight(i) for i, c in enumerate(body)) % 10)


def ean13_sql(prefix: str, number: str, digits: int) -> str:
    """SQL computing `ean13(prefix, number, digits)` for an integer expression, so that bulk
    generation stays in the database."""
    prefix_sum = sum(int(c) * _weight(i) for i, c in enumerate(prefix))
    body_end = len(prefix) + digits - 1
    # mod() rather than `%`, which psycopg would read as a placeholder.
    terms = " + ".join(f"{_weight(body_end - k)} * mod({number} / {10 ** k}, 10)"
                       for k in range(digits))
    return (f"'{prefix}' || lpad(({number})::text, {digits}, '0') "
            f"|| mod(10 - mod({prefix_sum} + {terms}, 10), 10)")
