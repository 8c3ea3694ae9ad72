"""A hello-world endpoint of the real app: the ceiling for the search benchmark's (d).

The same factory, extensions and request hooks as `wsgi:app`, so under the same gunicorn the gap
between this and the availability endpoint is the availability work itself. `/healthz` would not
do: it queries the database.
"""
from __future__ import annotations

from app import create_app

app = create_app()


@app.get("/bench-hello")
def bench_hello() -> str:
    return "ok"
