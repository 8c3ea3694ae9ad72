"""Command-line entry points, one module per group: `flask --app wsgi GROUP COMMAND` in a
checkout, `rayons GROUP COMMAND` wherever Rayons is installed (`main`).

Each command is a thin shell: it parses its arguments, runs a service in a unit of work that
commits at its end (or the stock pipeline's front door, which commits each run itself), and
prints the outcome.
"""
from __future__ import annotations

from flask import Flask


def register_commands(app: Flask) -> None:
    from app.cli.db import db_cli
    from app.cli.demo import demo_cli
    from app.cli.mail import mail_cli
    from app.cli.reservations import reservations_cli
    from app.cli.serve import serve
    from app.cli.shops import shops_cli
    from app.cli.staff import staff_cli
    from app.cli.stock import stock_cli

    for group in (db_cli, shops_cli, staff_cli, demo_cli, stock_cli, reservations_cli,
                  mail_cli, serve):
        app.cli.add_command(group)


def main() -> None:
    """The `rayons` console script: Flask's command line bound to the app, so an installed
    Rayons needs neither `--app` nor the checkout."""
    from flask.cli import FlaskGroup

    from app import create_process_app

    FlaskGroup(create_app=create_process_app, help="Rayons: bookshops pooling their stock.")()
