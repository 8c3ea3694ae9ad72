"""The Flask side of the database: a session per request or command, committed at its edge.

Services receive a `Session` and only flush; the request (or CLI command, or import run) that owns
the session commits once, explicitly. Teardown never commits a change: whatever a view wrote and
did not commit is rolled back (see `_end_request_session`).

Where a view reads is chosen per view, in one place: a view marked `reads_only` reads through
`read_session()`, on the replica (DATABASE_REPLICA_URL) when it is fresh enough, else on the
primary, and may not touch `db_session()`; a write of its own goes to the primary in a
`unit_of_work()`. Every other view reads and writes on the primary through `db_session()`, and
may not ask for `read_session()`.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import ParamSpec, TypeVar

from flask import Flask, current_app, g
from sqlalchemy import Engine, TextClause, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from app.db import PoolSize, is_read_sql, make_engine, make_read_engine
from app.replica import NO_REPLICA, ReplicaMonitor, ReplicaStatus
from importers.merge import ImportLimits

P = ParamSpec("P")
R = TypeVar("R")
READ_SESSIONMAKER = "rayons.read_sessionmaker"
REPLICA_SESSIONMAKER = "rayons.replica_sessionmaker"
REPLICA_MONITOR = "rayons.replica"
# The attribute `reads_only` sets on the views it wraps (tests list the routing with it).
READS_ONLY_MARK = "rayons_reads_only"


def init_app(app: Flask) -> None:
    """Bind engines and session factories to the app and close the request's sessions after it."""
    url = app.config.get("DATABASE_URL") or ""
    app.extensions[REPLICA_SESSIONMAKER] = None
    app.extensions[REPLICA_MONITOR] = None
    if url:
        echo = bool(app.config.get("SQLALCHEMY_ECHO"))
        pool = pool_size(app)
        primary = make_engine(url, echo=echo, pool=pool)
        app.extensions["rayons.sessionmaker"] = sessionmaker(bind=primary, expire_on_commit=False)
        app.extensions[READ_SESSIONMAKER] = sessionmaker(
            bind=make_read_engine(url, echo=echo, pool=pool), expire_on_commit=False)
        if app.config.get("DATABASE_REPLICA_URL"):
            _bind_replica(app, primary=primary, echo=echo, pool=pool)
    else:
        app.extensions["rayons.sessionmaker"] = None
        app.extensions[READ_SESSIONMAKER] = None

    @app.teardown_appcontext
    def _close_session(exc: BaseException | None) -> None:
        read = g.pop("db_read_session", None)
        if read is not None:
            # Its commit writes nothing (it refuses writes); ended like the other, so that in
            # tests, where both share one connection, closing it never undoes a unit of work.
            _end_request_session(read, failed=exc is not None)
        session = g.pop("db_session", None)
        if session is not None:
            _end_request_session(session, failed=exc is not None)


def pool_size(app: Flask | None = None) -> PoolSize:
    """Each engine's pool, from DATABASE_POOL_SIZE and DATABASE_MAX_OVERFLOW."""
    config = (app or current_app).config
    return PoolSize(size=int(config["DATABASE_POOL_SIZE"]),
                    overflow=int(config["DATABASE_MAX_OVERFLOW"]))


def _bind_replica(app: Flask, *, primary: Engine, echo: bool, pool: PoolSize) -> None:
    """The replica's read engine, and the monitor that says whether to use it (its own engine,
    pinging: the checks are rare)."""
    url = app.config["DATABASE_REPLICA_URL"]
    app.extensions[REPLICA_SESSIONMAKER] = sessionmaker(
        bind=make_read_engine(url, echo=echo, pool=pool), expire_on_commit=False)
    app.extensions[REPLICA_MONITOR] = ReplicaMonitor(
        primary=primary, replica=make_engine(url),
        max_lag_s=float(app.config["DATABASE_REPLICA_MAX_LAG_S"]),
        check_every_s=float(app.config["DATABASE_REPLICA_CHECK_S"]))


def replica_status() -> ReplicaStatus:
    """The replica's state as reads are routed now (`none` without a replica)."""
    monitor: ReplicaMonitor | None = current_app.extensions.get(REPLICA_MONITOR)
    return NO_REPLICA if monitor is None else monitor.status()


WROTE = "rayons.wrote"
READ_ONLY = "rayons.read_only"


class ReadOnlyViewError(RuntimeError):
    """A view marked `reads_only` wrote through its read session, or asked for the primary's
    request session: its reads may come from a replica, which refuses writes."""


@event.listens_for(Session, "before_flush")
def _flushing(session: Session, _context: object, _instances: object) -> None:
    if session.info.get(READ_ONLY) and (session.new or session.dirty or session.deleted):
        raise ReadOnlyViewError("a reads_only view changed objects of its read session")


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: object) -> None:
    session.info[WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if not (state.is_select or _is_text_select(state.statement)):
        if state.session.info.get(READ_ONLY):
            raise ReadOnlyViewError("a reads_only view wrote through its read session")
        state.session.info[WROTE] = True


def _is_text_select(statement: object) -> bool:
    """A hand-written read (`text()`), which SQLAlchemy cannot classify itself."""
    return isinstance(statement, TextClause) and is_read_sql(statement.text)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _transaction_ended(session: Session) -> None:
    session.info.pop(WROTE, None)


def _end_request_session(session: Session, *, failed: bool) -> None:
    """End the request's transaction without ever committing what the view did not commit.

    A view commits its own changes, explicitly. What it flushed or executed and left
    uncommitted (a forgotten commit, an error caught halfway) is rolled back here. A request
    that only read ends its transaction with COMMIT rather than ROLLBACK, because psycopg
    forgets the statements it prepared on that connection at every rollback, and re-planning
    the hot queries on every request costs more than the queries: that COMMIT has nothing to
    write, which the `WROTE` mark (set on any flush or non-SELECT statement, cleared at commit
    and rollback) guarantees.
    """
    try:
        if failed or session.info.get(WROTE) or session.new or session.dirty or session.deleted:
            session.rollback()
        else:
            session.commit()
    except Exception:
        session.rollback()
    finally:
        session.close()


class DatabaseNotConfigured(RuntimeError):
    """DATABASE_URL is unset: `make run` sets it, or export it yourself."""


def session_factory(app: Flask | None = None, *,
                    key: str = "rayons.sessionmaker") -> sessionmaker[Session]:
    factory: sessionmaker[Session] | None = (app or current_app).extensions.get(key)
    if factory is None:
        raise DatabaseNotConfigured("DATABASE_URL is not set")
    return factory


def db_session() -> Session:
    """The session of the current request or command, on the primary, created on first use."""
    if g.get("reads_only"):
        raise ReadOnlyViewError("a reads_only view reads through read_session(); a write of "
                                  "its own goes through unit_of_work()")
    if "db_session" not in g:
        g.db_session = session_factory()()
    session: Session = g.db_session
    return session


def read_session() -> Session:
    """The session of a view marked `reads_only`: on the replica while it is usable, else on the
    primary; autocommit (see `make_read_engine`) and refusing writes, on the server (read-only
    connections, a hot standby) and here (`ReadOnlyViewError`), even in tests."""
    if not g.get("reads_only"):
        raise RuntimeError("read_session() is for views marked @reads_only: another view "
                           "reads its own writes on the primary, through db_session()")
    if "db_read_session" not in g:
        on_replica = replica_status().usable
        session = session_factory(key=REPLICA_SESSIONMAKER if on_replica
                                  else READ_SESSIONMAKER)()
        session.info[READ_ONLY] = True
        g.db_read_on_replica = on_replica
        g.db_read_session = session
    read: Session = g.db_read_session
    return read


def view_session() -> Session:
    """The session the current view reads with: `read_session()` in a `reads_only` view, else
    the primary's `db_session()`. For helpers shared by both kinds of views (the reader's
    place, read by the book pages and by the order pages that write)."""
    return read_session() if g.get("reads_only") else db_session()


def reads_only(view: Callable[P, R]) -> Callable[P, R]:
    """Route a view that only reads to `read_session()` (the replica when one is usable).

    Search, book pages, the directory and the read API are marked so; a page that must see its
    own writes (a reservation's page right after reserving, staff pages) is not. The view runs
    once more, on the primary, if its read failed on the replica (unreachable, stopped, a query
    cancelled by replay), which then stays bypassed until its next check; and once more on a
    fresh connection if the first one was dead (the read engine does not ping before use: the
    first query after a database restart fails, and SQLAlchemy discards the pool's connections).
    """
    @functools.wraps(view)
    def routed(*args: P.args, **kwargs: P.kwargs) -> R:
        g.reads_only = True
        try:
            return view(*args, **kwargs)
        except DBAPIError as exc:
            if not _may_read_again(exc):
                raise
            return view(*args, **kwargs)
    setattr(routed, READS_ONLY_MARK, True)
    return routed


def _may_read_again(exc: DBAPIError) -> bool:
    """Whether a read that failed may run again: on the primary after a failure on the replica
    (marked down meanwhile), or on a fresh connection after a dead one. Reads only: running the
    view twice changes nothing (but for a miss it counted before failing, counted twice)."""
    if g.pop("db_read_on_replica", False) and isinstance(exc, OperationalError):
        monitor: ReplicaMonitor = current_app.extensions[REPLICA_MONITOR]
        monitor.mark_failed(exc)
    elif not exc.connection_invalidated:
        return False
    stale = g.pop("db_read_session", None)
    if stale is not None:
        stale.close()
    return True


@contextmanager
def unit_of_work(app: Flask | None = None) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises."""
    session = session_factory(app)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# The app's settings behind each bound of a stock import.
IMPORT_LIMIT_SETTINGS = {"IMPORT_STATEMENT_TIMEOUT_S": "statement_timeout_s",
                         "IMPORT_LOCK_WAIT_S": "lock_wait_s",
                         "IMPORT_IDLE_TIMEOUT_S": "idle_timeout_s"}


def import_limits(app: Flask | None = None) -> ImportLimits:
    """The bounds the app's settings give a stock import; the importer's own where unset."""
    config = (app or current_app).config
    return replace(ImportLimits(), **{field: config[key]
                                      for key, field in IMPORT_LIMIT_SETTINGS.items()
                                      if config.get(key) is not None})
