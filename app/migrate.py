"""Run the Alembic chain from code, so the CLI, `make` and the test suite share one path."""
from __future__ import annotations

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection

from app import PROJECT_ROOT


def alembic_config(url: str | None = None, *, connection: Connection | None = None) -> AlembicConfig:
    cfg = AlembicConfig(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.attributes["configure_logging"] = False
    if url:
        # ConfigParser interpolation would read a password's '%' as a placeholder.
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(url: str | None = None, *, connection: Connection | None = None) -> None:
    command.upgrade(alembic_config(url, connection=connection), "head")
