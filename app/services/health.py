"""Is the database reachable and does it have PostGIS? How far behind is the read replica? For
load balancers, monitoring and the choice of where reads go (`app.replica`)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Health:
    ok: bool
    database: str
    postgis: str | None = None
    reason: str | None = None


def check(session: Session, *, timeout_s: int) -> Health:
    """Ask for the PostGIS version with a statement timeout, so a stuck database answers quickly."""
    try:
        session.execute(text("SELECT set_config('statement_timeout', :ms, true)"),
                        {"ms": str(timeout_s * 1000)})
        version = session.execute(text("SELECT postgis_lib_version()")).scalar_one()
    except SQLAlchemyError as exc:
        session.rollback()
        # The driver's first line names the cause (refused, timeout, auth) without the URL.
        detail = str(getattr(exc, "orig", exc)).strip()
        reason = detail.splitlines()[0] if str(exc) and detail else type(exc).__name__
        return Health(ok=False, database="unreachable", reason=reason)
    session.rollback()
    return Health(ok=True, database="ok", postgis=version)


def wal_flushed(session: Session) -> str:
    """The primary's WAL position that a replica can have reached: flushed, so sendable."""
    position: str = session.execute(
        text("SELECT CAST(pg_current_wal_flush_lsn() AS text)")).scalar_one()
    return position


# Replay timestamps alone would mislead: on a primary with nothing to commit for an hour, the
# last replayed commit is an hour old although the replica misses nothing. So a replica that has
# replayed up to the primary's position (or, with no primary at hand, all it received) is not
# behind at all; one that has not is behind by at most the time since its last replayed commit,
# since whatever it misses was committed after that.
REPLICA_LAG = text("""
    SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0
                WHEN pg_last_wal_replay_lsn()
                     >= coalesce(CAST(:primary_lsn AS pg_lsn), pg_last_wal_receive_lsn()) THEN 0
                ELSE CAST(extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())
                          AS float8)
           END
""")


def replica_lag(session: Session, *, primary_lsn: str | None) -> float | None:
    """Seconds the replica's answers may be behind `primary_lsn` (from `wal_flushed`, read just
    before), or behind what it received when the primary could not be asked; None when it is
    behind and has replayed no transaction yet. A database that is no standby (a promoted
    replica, the primary itself) has nothing to replay: 0."""
    lag = session.execute(REPLICA_LAG, {"primary_lsn": primary_lsn}).scalar_one()
    return None if lag is None else float(lag)
