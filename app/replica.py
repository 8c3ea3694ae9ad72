"""May reads go to the replica now? Its lag, judged at most every few seconds per process.

The verdict is cached: asking the primary for its WAL position and the replica for its replay
on every request would cost two round trips per page. A replica more than `max_lag_s` behind,
or unreachable, is bypassed until a later check finds it fresh again; a read that fails on it
meanwhile marks it down at once (`mark_failed`). No Flask here: `app.session` routes with it.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.services import health

logger = logging.getLogger(__name__)

NONE, OK, LAGGING, DOWN = "none", "ok", "lagging", "down"
REPLICA_STATES = (NONE, OK, LAGGING, DOWN)


@dataclass(frozen=True)
class ReplicaStatus:
    """What /healthz shows: `none` (no replica configured), `ok`, `lagging` (reads bypass it;
    `lag_s` None when it replayed nothing yet) or `down` (unreachable, or a read failed there)."""
    state: str
    lag_s: float | None = None

    @property
    def usable(self) -> bool:
        return self.state == OK


NO_REPLICA = ReplicaStatus(NONE)


class ReplicaMonitor:
    """The cached verdict on one replica, shared by a process's threads.

    `primary` and `replica` are engines that ping their connections before use (the checks run
    every few seconds: a connection left from before a restart must not count as a failure).
    """

    def __init__(self, *, primary: Engine, replica: Engine, max_lag_s: float,
                 check_every_s: float) -> None:
        self.primary, self.replica = primary, replica
        self.max_lag_s, self.check_every_s = max_lag_s, check_every_s
        self._status = ReplicaStatus(DOWN)
        self._checked_at: float | None = None
        self._lock = threading.Lock()

    def status(self) -> ReplicaStatus:
        """The last verdict while it is recent, else a new one. While one thread checks, the
        others keep the last verdict rather than wait (an unreachable host takes the connect
        timeout); only the very first check is waited for."""
        if self._fresh():
            return self._status
        if not self._lock.acquire(blocking=self._checked_at is None):
            return self._status
        try:
            if not self._fresh():
                self._record(self._check())
            return self._status
        finally:
            self._lock.release()

    def mark_failed(self, error: BaseException) -> None:
        """A read failed on the replica: send reads to the primary until the next check.

        Not under the lock, which a check may hold for the connect timeout: a check that
        started before the failure and ends after it may still say `ok`, and the next read
        that fails there says otherwise again."""
        self._record(ReplicaStatus(DOWN), reason=type(error).__name__)

    def _fresh(self) -> bool:
        return (self._checked_at is not None
                and time.monotonic() - self._checked_at < self.check_every_s)

    def _record(self, status: ReplicaStatus, *, reason: str | None = None) -> None:
        if status.state != self._status.state or self._checked_at is None:
            log = logger.info if status.usable else logger.warning
            log("read replica %s (lag %s s, threshold %s s%s): reads go to the %s",
                status.state, "?" if status.lag_s is None else f"{status.lag_s:.1f}",
                self.max_lag_s, f", {reason}" if reason else "",
                "replica" if status.usable else "primary")
        self._status, self._checked_at = status, time.monotonic()

    def _check(self) -> ReplicaStatus:
        try:
            with Session(self.primary) as session:
                primary_lsn: str | None = health.wal_flushed(session)
        except SQLAlchemyError:
            # The replica can still answer reads: judge it by what it received.
            primary_lsn = None
        try:
            with Session(self.replica) as session:
                lag_s = health.replica_lag(session, primary_lsn=primary_lsn)
        except SQLAlchemyError:
            return ReplicaStatus(DOWN)
        if lag_s is None or lag_s > self.max_lag_s:
            return ReplicaStatus(LAGGING, lag_s)
        return ReplicaStatus(OK, lag_s)
