"""Run the Alembic chain from code, so the CLI, `make` and the test suite share one path."""
from __future__ import annotations

from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from geoalchemy2 import alembic_helpers
from sqlalchemy import Connection

from app.paths import SITE_ROOT

# Expression indexes with an operator class that Alembic cannot compare with the database: the
# migrations create them, and tests/test_schema.py checks them by name instead.
UNCOMPARABLE_INDEXES = {"ix_edition_title_authors_trgm"}


def include_object(obj: Any, name: str | None, type_: str, reflected: bool,
                   compare_to: Any) -> bool:
    """Autogenerate filter: GeoAlchemy2's (no duplicate spatial index) minus the indexes above."""
    if type_ == "index" and name in UNCOMPARABLE_INDEXES:
        return False
    return bool(alembic_helpers.include_object(obj, name, type_, reflected, compare_to))


def alembic_config(url: str | None = None, *,
                   connection: Connection | None = None) -> AlembicConfig:
    cfg = AlembicConfig(str(SITE_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(SITE_ROOT / "migrations"))
    cfg.attributes["configure_logging"] = False
    if url:
        # ConfigParser interpolation would read a password's '%' as a placeholder.
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(url: str | None = None, *, connection: Connection | None = None) -> None:
    command.upgrade(alembic_config(url, connection=connection), "head")
