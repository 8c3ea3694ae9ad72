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
