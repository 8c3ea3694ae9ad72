"""Reservation codes never reach the access log: a hash prefix stands in for them."""
from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.access_log import redact_codes
from app.reservations.codes import hash_code
from tests.live_gunicorn import gunicorn

CODE = "k7q2mz4xw3p5ta6rbn2c7d4ef5gh6jk7"
HASHED = "#" + hash_code(CODE).hex()[:12]


@pytest.mark.parametrize(("line", "expected"), [
    (f"GET /reservations/{CODE} HTTP/1.1", f"GET /reservations/{HASHED} HTTP/1.1"),
    (f"POST /reservations/{CODE}/cancel HTTP/1.1", f"POST /reservations/{HASHED}/cancel HTTP/1.1"),
    (f"DELETE /api/v1/reservations/{CODE}?x=1 HTTP/1.1",
     f"DELETE /api/v1/reservations/{HASHED}?x=1 HTTP/1.1"),
    (f"https://rayons.example/reservations/{CODE}", f"https://rayons.example/reservations/{HASHED}"),
    (f"/reservations/{CODE.upper()}", f"/reservations/{HASHED}"),  # the same code, as looked up
    # Staff routes carry row ids, the reserve page a shop and a book: nothing to hide.
    ("POST /staff/reservations/12/confirm HTTP/1.1",
     "POST /staff/reservations/12/confirm HTTP/1.1"),
    ("POST /api/v1/reservations HTTP/1.1", "POST /api/v1/reservations HTTP/1.1"),
    ("GET /reserver/la-mouette/9782070360024 HTTP/1.1",
     "GET /reserver/la-mouette/9782070360024 HTTP/1.1"),
    # An order request's secret link is a code too; the order form's URL is not.
    (f"GET /commandes/{CODE}?new=1 HTTP/1.1", f"GET /commandes/{HASHED}?new=1 HTTP/1.1"),
    (f"POST /commandes/{CODE}/cancel HTTP/1.1", f"POST /commandes/{HASHED}/cancel HTTP/1.1"),
    ("GET /commander/la-mouette/9782070360024 HTTP/1.1",
     "GET /commander/la-mouette/9782070360024 HTTP/1.1"),
])
def test_codes_in_urls_are_replaced_by_their_hash(line: str, expected: str) -> None:
    assert redact_codes(line) == expected


def test_gunicorn_logs_no_code(engine: Engine, database_url: str, tmp_path: Path) -> None:
    """Through the real server and its configuration: the request line, the path and the
    Referer of an asset loaded by the confirmation page. (`engine` builds the schema.)"""
    log = tmp_path / "access.log"
    with gunicorn(database_url, workers=1, threads=2, access_log=log) as base:
        for path, referer in [(f"/reservations/{CODE}", None),
                              (f"/api/v1/reservations/{CODE}", None),
                              ("/healthz", f"{base}/reservations/{CODE}")]:
            request = urllib.request.Request(base + path,
                                             headers={"Referer": referer} if referer else {})
            try:
                urllib.request.urlopen(request, timeout=10).read()
            except urllib.error.HTTPError as answer:  # an unknown code: 404, logged all the same
                assert answer.code == 404
    text = log.read_text()
    assert CODE not in text and CODE.upper() not in text
    assert text.count(HASHED) == 3, text
