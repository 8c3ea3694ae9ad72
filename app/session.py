"""The Flask side of the database: a session per request or command, committed at its edge.

Services receive a `Session` and only flush; the request (or CLI command, or import run) that owns
the session commits once.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from flask import Flask, current_app, g
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_engine, make_read_engine

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
        if session is None:
            return
        # Views commit their own changes. A request that ends well ends its transaction with
        # COMMIT rather than ROLLBACK, because psycopg forgets its prepared statements on
        # rollback, and re-planning every query on every request costs more than the query.
        if exc is None and not (session.new or session.dirty or session.deleted):
            try:
                session.commit()
            except Exception:
                session.rollback()
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
