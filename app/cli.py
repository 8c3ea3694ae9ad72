"""Command-line entry points (`flask --app wsgi ...`): thin wrappers over services."""
from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app import PROJECT_ROOT, clock, migrate
from app.errors import RayonsError
from app.services import shop_import, staff
from app.session import session_factory, unit_of_work
from importers import pipeline
from importers.report import shops_with_fresh_stock

db_cli = AppGroup("db", help="Database schema.")
shops_cli = AppGroup("shops", help="The network's shops.")
staff_cli = AppGroup("staff", help="Bookshop staff accounts.")
demo_cli = AppGroup("demo", help="The demonstration network.")

DEMO_SHOPS = PROJECT_ROOT / "demo" / "shops.csv"
DEMO_STOCK_MAX_AGE = timedelta(hours=20)


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    migrate.upgrade(current_app.config["DATABASE_URL"])
    click.echo("database schema is up to date")


def _print_shop_report(report: shop_import.ShopImportReport, *, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
        return
    for r in report.rejected:
        where = f"line {r.line}" + (f", field {r.field}" if r.field else "")
        value = f" [{r.value}]" if r.value else ""
        click.echo(f"{where}: {r.reason}: {r.message}{value}", err=True)
    click.echo(f"created: {len(report.created)}, updated: {len(report.updated)}, "
               f"rejected: {len(report.rejected)}")


@shops_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def shops_import(file: Path, as_json: bool) -> None:
    """Create or update shops from a CSV file (UTF-8 or cp1252, `;` or `,`)."""
    with unit_of_work() as session:
        report = shop_import.import_shops(session, file)
    _print_shop_report(report, as_json=as_json)
    if not report.ok:
        sys.exit(1)


@staff_cli.command("add")
@click.argument("email")
@click.option("--shop", "shops", multiple=True, required=True, help="Shop slug (repeatable).")
@click.option("--role", type=click.Choice(["staff", "network_admin"]), default="staff")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def staff_add(email: str, shops: tuple[str, ...], role: str, password_stdin: bool) -> None:
    """Create a staff account (the password is hashed with argon2id)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with unit_of_work() as session:
            user = staff.add_staff(session, email=email, password=password,
                                   shop_slugs=list(shops), role=role)
            user_id = user.id
    except RayonsError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"staff account {user_id} created for {email} ({role}: {', '.join(shops)})")


@demo_cli.command("load")
@click.option("--refresh", is_flag=True, help="Import fresh stock files even if today's are in.")
def demo_load(refresh: bool) -> None:
    """Bring the schema up to date, then load (or refresh) the demonstration network and its
    stock through the ordinary paths: the shops spreadsheet import, then one till file per shop
    through the stock importer (once a day, like the nightly run, unless --refresh)."""
    from demo.generate_stock import generate

    migrate.upgrade(current_app.config["DATABASE_URL"])
    with unit_of_work() as session:
        report = shop_import.import_shops(session, DEMO_SHOPS)
        demo_slugs = report.created + report.updated
        fresh = shops_with_fresh_stock(session, slugs=demo_slugs, max_age=DEMO_STOCK_MAX_AGE)
    _print_shop_report(report, as_json=False)
    if not report.ok:
        sys.exit(1)
    if fresh == len(demo_slugs) and not refresh:
        click.echo("demo stock: already imported in the last hours (--refresh to redo)")
        return
    files = generate(Path(current_app.config["DEMO_STOCK_DIR"]), now=clock.now())
    factory = session_factory()
    with factory() as session:
        shops = {slug: pipeline.shop_by_slug(session, slug) for slug in files}
    statuses = Counter(pipeline.import_file(factory, shop=shops[slug], path=path).status
                       for slug, path in sorted(files.items()))
    counts = ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
    click.echo(f"demo stock: {counts}")


def register_commands(app: Flask) -> None:
    from app.cli_reservations import reservations_cli
    from app.cli_stock import stock_cli

    for group in (db_cli, shops_cli, staff_cli, demo_cli, stock_cli, reservations_cli):
        app.cli.add_command(group)
