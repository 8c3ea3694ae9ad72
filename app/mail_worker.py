"""The long-running mail worker's loop (`flask --app wsgi mail work`): send what is due, then
sleep until more mail is queued.

Queuing a mail notifies the `outbox_mail` channel at commit (a trigger on the table), and the
worker LISTENs on its own connection, so a reservation's mail leaves within a moment of its
commit. It also wakes every `poll_s` seconds whatever happens: a retry coming due sends no
notification, and a notification sent while the worker was reconnecting is lost. When the mail
server cannot be reached the worker waits a whole `poll_s` before trying again, rather than
spending a timeout on each new mail.

No Flask here: the edge passes the pass to run (`app.outbox.send_due` in its app context).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol, cast

import psycopg
from sqlalchemy.engine import make_url

from app.db import CONNECT_ARGS, sqlalchemy_url
from app.models.outbox import MAIL_CHANNEL

logger = logging.getLogger(__name__)
# How often a sleeping worker looks at `stop` (SIGTERM): a service stops within this.
STOP_CHECK_S = 1.0


class PassOutcome(Protocol):
    """What the loop needs to know of a pass (`app.outbox.Pass`)."""

    @property
    def server_down(self) -> bool: ...

    @property
    def more_due(self) -> bool: ...


def libpq_url(url: str) -> str:
    """DATABASE_URL as psycopg itself takes it (no SQLAlchemy driver name)."""
    return make_url(sqlalchemy_url(url)).set(drivername="postgresql").render_as_string(
        hide_password=False)


def run(send_pass: Callable[[], PassOutcome], *, database_url: str, poll_s: float,
        stop: threading.Event) -> None:
    """Run passes until `stop` is set; an error (database restarting, say) is logged and the
    worker starts again after `poll_s`."""
    timeout_s = cast(int, CONNECT_ARGS["connect_timeout"])
    while not stop.is_set():
        try:
            with psycopg.connect(libpq_url(database_url), autocommit=True,
                                 connect_timeout=timeout_s) as listener:
                listener.execute(f"LISTEN {MAIL_CHANNEL}")
                _serve(send_pass, listener, poll_s=poll_s, stop=stop)
        except Exception:
            logger.exception("mail worker: pass failed; trying again in %s s", poll_s)
            stop.wait(poll_s)


def _serve(send_pass: Callable[[], PassOutcome], listener: psycopg.Connection[object], *,
           poll_s: float, stop: threading.Event) -> None:
    while not stop.is_set():
        outcome = send_pass()
        if outcome.server_down:
            stop.wait(poll_s)
        elif not outcome.more_due:
            _wait_for_mail(listener, poll_s=poll_s, stop=stop)


def _wait_for_mail(listener: psycopg.Connection[object], *, poll_s: float,
                   stop: threading.Event) -> None:
    """Return when mail was queued, after `poll_s`, or soon after `stop` is set."""
    deadline = time.monotonic() + poll_s
    while not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        if any(True for _ in listener.notifies(timeout=min(left, STOP_CHECK_S), stop_after=1)):
            # Several commits may have notified: one pass sends all their mail.
            for _ in listener.notifies(timeout=0):
                pass
            return
