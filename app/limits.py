"""Rate limits on public writes and look-ups (Flask-Limiter).

The store comes from RATELIMIT_STORAGE_URI: `memory://` (per process) by default, which is right
for one process; with several gunicorn workers set it to Redis (`redis://localhost:6379/0`) so a
limit holds across workers.
"""
from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address)


@limiter.request_filter
def open_read_api() -> bool:
    """The open read API (`/api/v1` availability, editions, shops) is not limited.

    It only says what the public pages show, answers may be cached for a minute, and a limit per
    address would make a school's or a library's readers, behind one address, share it. Filtered
    out here, its requests also skip the limiter's look-ups, a tenth of their CPU time.
    """
    return request.blueprint == "public_api"

RESERVE_LIMIT = "10 per minute; 60 per hour"
CODE_LOOKUP_LIMIT = "30 per minute"
# Every way to try a reservation code (its page, cancelling, the API's read and cancel) draws
# on one budget per address: a guesser cannot multiply their tries by switching endpoints.
code_lookup = limiter.shared_limit(CODE_LOOKUP_LIMIT, scope="reservation-code")
LOGIN_LIMIT = "10 per minute"


def init_app(app: Flask) -> None:
    limiter.init_app(app)
