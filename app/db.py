"""The declarative base, the engine and the unit-of-work boundary.

Services receive a `Session` and only flush; the request (or CLI command, or import run) that owns
the session commits once at its edge.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g
from sqlalchemy import Engine, MetaData, create_engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

# Stable constraint names make migrations reviewable and errors recognisable
# (e.g. "ck_stock_line_on_hand_not_negative").
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def sqlalchemy_url(url: str) -> str:
    """Accept the libpq-style `postgresql://` URLs people paste and pick the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Build an engine without connecting: connections open lazily on first use."""
    return create_engine(
        sqlalchemy_url(url),
        echo=echo,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 5},
    )


def init_app(app: Flask) -> None:
    """Bind an engine and a session factory to the app and close the request's session after it."""
    url = app.config.get("DATABASE_URL") or ""
    if url:
        engine = make_engine(url, echo=bool(app.config.get("SQLALCHEMY_ECHO")))
        app.extensions["rayons.sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)
    else:
        app.extensions["rayons.sessionmaker"] = None

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
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
