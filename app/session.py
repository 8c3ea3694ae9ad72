"""The Flask side of the database: a session per request or command, committed at its edge.

Services receive a `Session` and only flush; the request (or CLI command, or import run) that owns
the session commits once, explicitly. Teardown never commits a change: whatever a view wrote and
did not commit is rolled back (see `_end_request_session`).
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import ParamSpec, TypeVar

from flask import Flask, current_app, g
from sqlalchemy import TextClause, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from app.db import is_read_sql, make_engine, make_read_engine
from importers.merge import ImportLimits

P = ParamSpec("P")
R = TypeVar("R")
READ_SESSIONMAKER = "rayons.read_sessionmaker"


def init_app(app: Flask) -> None:
    """Bind an engine and a session factory to the app and close the request's session after it."""
    url = app.config.get("DATABASE_URL") or ""
    if url:
        echo = bool(app.config.get("SQLALCHEMY_ECHO"))
        app.extensions["rayons.sessionmaker"] = sessionmaker(bind=make_engine(url, echo=echo),
                                                             expire_on_commit=False)
        app.extensions[READ_SESSIONMAKER] = sessionmaker(bind=make_read_engine(url, echo=echo),
                                                         expire_on_commit=False)
    else:
        app.extensions["rayons.sessionmaker"] = None
        app.extensions[READ_SESSIONMAKER] = None

    @app.teardown_appcontext
    def _close_session(exc: BaseException | None) -> None:
        read = g.pop("db_read_session", None)
        if read is not None:
            read.close()
        session = g.pop("db_session", None)
        if session is not None:
            _end_request_session(session, failed=exc is not None)


WROTE = "rayons.wrote"


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: object) -> None:
    session.info[WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if not (state.is_select or _is_text_select(state.statement)):
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
    """The session of the current request or command, created on first use."""
    if "db_session" not in g:
        g.db_session = session_factory()()
    session: Session = g.db_session
    return session


def read_session() -> Session:
    """The session of a view decorated with `reads_only`: autocommit (see `make_read_engine`).

    Never write through it: each statement would commit on its own.
    """
    if "db_read_session" not in g:
        g.db_read_session = session_factory(key=READ_SESSIONMAKER)()
    session: Session = g.db_read_session
    return session


def reads_only(view: Callable[P, R]) -> Callable[P, R]:
    """Run a view that only reads through `read_session` once more if its connection was dead.

    The read engine does not ping connections before use, so the first query after a database
    restart fails; SQLAlchemy then discards the pool's connections, and a view that only reads
    can safely run again, on a fresh one.
    """
    @functools.wraps(view)
    def retried(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return view(*args, **kwargs)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            stale = g.pop("db_read_session", None)
            if stale is not None:
                stale.close()
            return view(*args, **kwargs)
    return retried


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
