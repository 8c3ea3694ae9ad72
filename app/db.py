"""The declarative base and the engine. No Flask here: importers and scripts use it too."""
from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import psycopg
from psycopg.rows import TupleRow
from sqlalchemy import Engine, MetaData, create_engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import DBAPIModule

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


# JIT compilation costs tens of milliseconds per query and never pays off for our short, indexed
# queries. A sequential scan starts at the table's first page even while another one is under
# way, so that title search samples a common word's matches the same way every time (see
# `app.services.search.MATCHING_EDITIONS`).
CONNECT_OPTIONS = "-c jit=off -c synchronize_seqscans=off"
CONNECT_ARGS = {"connect_timeout": 5, "options": CONNECT_OPTIONS}


@dataclass(frozen=True)
class PoolSize:
    """Connections one engine keeps (`size`) and may open beyond them under load (`overflow`).

    A gunicorn worker has two engines (primary and reads; three with a replica) and each of its
    threads uses at most one connection of each at a time, two of the primary's during an
    import; docs/operations.md has the sum to keep under PostgreSQL's max_connections."""

    size: int = 4
    overflow: int = 4

    @property
    def total(self) -> int:
        return self.size + self.overflow


DEFAULT_POOL = PoolSize()


def make_engine(url: str, *, echo: bool = False, pool: PoolSize = DEFAULT_POOL) -> Engine:
    """Build an engine without connecting: connections open lazily on first use."""
    return create_engine(sqlalchemy_url(url), echo=echo, pool_pre_ping=True,
                         pool_size=pool.size, max_overflow=pool.overflow,
                         connect_args=CONNECT_ARGS)


# The read engine's connections refuse to write: on the primary exactly as a hot standby
# would, so a view routed to the replica that writes fails in development, not first in
# production.
READ_CONNECT_ARGS = {**CONNECT_ARGS,
                     "options": CONNECT_OPTIONS + " -c default_transaction_read_only=on"}


def make_read_engine(url: str, *, echo: bool = False, pool: PoolSize = DEFAULT_POOL) -> Engine:
    """An engine for requests that only read: autocommit, read-only connections, not pinged
    before use.

    In autocommit each statement is its own transaction: no BEGIN and COMMIT round trips around
    a request's one or two queries, and psycopg keeps its prepared statements, which it forgets
    at every ROLLBACK (a closed session rolls back). The pre-use ping would be one more round
    trip per request; a connection the server closed meanwhile fails on first use instead, and
    `app.session.reads_only` runs the view again on a fresh one.
    """
    return create_engine(sqlalchemy_url(url), echo=echo, isolation_level="AUTOCOMMIT",
                         pool_size=pool.size, max_overflow=pool.overflow,
                         connect_args=READ_CONNECT_ARGS)


_WRITING_WORD = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE|TRUNCATE|COPY)\b", re.IGNORECASE)


@functools.lru_cache(maxsize=512)
def is_read_sql(sql: str) -> bool:
    """Whether hand-written SQL only reads: a SELECT, or a WITH naming no writing command (a
    CTE may insert, update or delete). Used to tell reads from writes where SQLAlchemy cannot.

    Cached: the statements are the modules' constants, and scanning a long one for the writing
    words costs tens of microseconds, which the hot reads (`driver_rows`) must not pay each time.
    """
    head = sql.lstrip()[:6].upper()
    return head == "SELECT" or (head.startswith("WITH") and not _WRITING_WORD.search(sql))


def driver_rows(session: Session, sql: str, params: Mapping[str, Any], *,
                prepare: bool | None = None) -> list[tuple[Any, ...]]:
    """All rows of a hot read statement (driver syntax), fetched by psycopg itself.

    For the queries behind every book page and availability request, SQLAlchemy's result set-up
    (execution context, cursor metadata, row objects) costs about a third of the indexed query
    itself. The statement still runs on the session's connection, in its transaction, and psycopg
    prepares it after a few runs as it would any other (`prepare=False`: never, so that each run
    is planned with its own values). A dead connection is handled the way
    SQLAlchemy handles one: invalidated, the pool's idle connections dropped, and a DBAPIError
    marked `connection_invalidated`, which `app.session.reads_only` answers by running the view
    again.
    """
    if not is_read_sql(sql):
        raise ValueError("driver_rows runs reads only: write through the session")
    connection = session.connection()
    pooled = connection.connection
    # SQLAlchemy types the driver's connection as Any; with the psycopg dialect it is this.
    raw = cast(psycopg.Connection[TupleRow], pooled.driver_connection)
    try:
        with raw.cursor() as cursor:
            cursor.execute(sql, params, prepare=prepare)
            return cursor.fetchall()
    except psycopg.Error as exc:
        # SQLAlchemy types the error as its DB-API protocol's nested Error class, which no
        # driver's exception can subclass; psycopg.Error is what the dialect expects.
        # (pooled.dbapi_connection is `raw` as well, for a driver without an async adapter.)
        dead = connection.dialect.is_disconnect(cast("DBAPIModule.Error", exc),
                                                pooled.dbapi_connection, None)
        if dead:
            connection.invalidate(exc)
            connection.engine.pool.dispose()
        raise DBAPIError.instance(sql, params, exc, psycopg.Error,
                                  connection_invalidated=dead) from exc
