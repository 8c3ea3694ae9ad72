"""The declarative base and the engine. No Flask here: importers and scripts use it too."""
from __future__ import annotations

from sqlalchemy import Engine, MetaData, create_engine
from sqlalchemy.orm import DeclarativeBase

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
        # JIT compilation costs tens of milliseconds per query and never pays off for our
        # short, indexed queries.
        connect_args={"connect_timeout": 5, "options": "-c jit=off"},
    )
