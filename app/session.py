"""The Flask side of the database: a session per request or command, committed at its edge.

Services receive a `Session` and only flush; the request (or CLI command, or import run) that owns
the session commits once.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_engine


def init_app(app: Flask) -> None:
    """Bind an engine and a session factory to the app and close the request's session after it."""
    url = app.config.get("DATABASE_URL") or ""
    if url:
        engine = make_engine(url, echo=bool(app.config.get("SQLALCHEMY_ECHO")))
        app.extensions["rayons.sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)
    else:
        app.extensions["rayons.sessionmaker"] = None

    @app.teardown_appcontext
    def _close_session(exc: BaseException | None) -> None:
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


def session_factory(app: Flask | None = None) -> sessionmaker[Session]:
    factory = (app or current_app).extensions.get("rayons.sessionmaker")
    if factory is None:
        raise DatabaseNotConfigured("DATABASE_URL is not set")
    return factory


def db_session() -> Session:
    """The session of the current request or command, created on first use."""
    if "db_session" not in g:
        g.db_session = session_factory()()
    return g.db_session


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
