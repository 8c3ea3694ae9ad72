"""Rate limits on public writes and look-ups (Flask-Limiter), keyed on the reader's address.

The address is REMOTE_ADDR, which app/proxies.py sets to the reader's behind the proxies named in
TRUSTED_PROXIES. The store comes from RATELIMIT_STORAGE_URI: `memory://` (per process) by
default, which is right for one process; with several gunicorn workers set it to Redis
(`redis://localhost:6379/0`) so a limit holds across workers.

When the shared store stops answering, the site keeps serving: each worker counts the same
limits in its own memory (Flask-Limiter's in-memory fallback, config.py), so a reader may get
up to one quota per worker until the store is back. Requests that meet the failure at the same
moment on the worker's other threads go unchecked (RATELIMIT_SWALLOW_ERRORS) rather than fail.
The library tries the store again at the first request after waits of 1, 2, 4, 8, 16 and 32
seconds, and round again. Each switch is logged once per worker (ERROR when limits stop being
shared, WARNING when they are shared again), and /healthz says "degraded" meanwhile.
"""
from __future__ import annotations

import logging
import threading
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request
from flask.logging import create_logger
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address)
log = logging.getLogger(__name__)
# A store that hangs costs a request this long before the worker falls back to its memory, and
# then only the library's retries wait for it.
REDIS_TIMEOUT_S = 0.5


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
# Asking for one's reservations again by email: a reader needs it once; a prober gets little.
RESEND_LIMIT = "5 per minute; 20 per hour"
# The desk's pickup-code look-up: staff only, within their shop; a counter needs a few a minute.
PICKUP_LOOKUP_LIMIT = "30 per minute"


def init_app(app: Flask) -> None:
    if _is_shared(app.config["RATELIMIT_STORAGE_URI"]):
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {
            "socket_connect_timeout": REDIS_TIMEOUT_S, "socket_timeout": REDIS_TIMEOUT_S})
        # This module's logger (`app.limits`) is a child of the app's, which Flask gives a handler
        # writing to gunicorn's error log when nothing else is set up to handle logs.
        create_logger(app)
        app.after_request(_watch_store)
    limiter.init_app(app)


def store_state() -> str:
    """What /healthz reports: "off", "per-process" (memory://), "shared" or "degraded" (the
    shared store does not answer, or this worker still counts in memory since it did not)."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return "off"
    if not _is_shared(current_app.config["RATELIMIT_STORAGE_URI"]):
        return "per-process"
    if _counting_in_memory() or not limiter.storage.check():
        return "degraded"
    return "shared"


def _is_shared(uri: str) -> bool:
    return not uri.startswith("memory://")


def _counting_in_memory() -> bool:
    """True while Flask-Limiter counts in its in-memory fallback instead of the shared store."""
    return limiter.limiter.storage is not limiter.storage


class _StoreWatch:
    """Remembers, per worker, whether limits were last counted in memory, to log each switch
    once rather than on every request."""

    def __init__(self) -> None:
        self.in_memory = False
        self.lock = threading.Lock()

    def note(self, in_memory: bool, uri: str) -> None:
        with self.lock:
            if in_memory == self.in_memory:
                return
            self.in_memory = in_memory
        where = _without_password(uri)
        if in_memory:
            log.error("rate-limit store %s unreachable: limits now count in each worker's memory "
                      "(one quota per worker) until it answers again", where)
        else:
            log.warning("rate-limit store %s answers again: limits are shared again", where)


_watch = _StoreWatch()


def _watch_store(response: Response) -> Response:
    if limiter.enabled:
        _watch.note(_counting_in_memory(), current_app.config["RATELIMIT_STORAGE_URI"])
    return response


def _without_password(uri: str) -> str:
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)).geturl()
