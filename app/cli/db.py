"""`flask --app wsgi db ...`: the database schema."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app import migrate

db_cli = AppGroup("db", help="Database schema.")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    migrate.upgrade(current_app.config["DATABASE_URL"])
    click.echo("database schema is up to date")
