"""`flask --app wsgi demo load`: the demonstration network, through the ordinary paths."""
from __future__ import annotations

import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

import demo
from app import clock, migrate
from app.cli.shops import print_shop_report
from app.services import shop_import
from app.session import session_factory, unit_of_work
from importers import pipeline
from importers.report import shops_with_fresh_stock

demo_cli = AppGroup("demo", help="The demonstration network.")

DEMO_SHOPS = Path(demo.__file__).resolve().parent / "shops.csv"
DEMO_STOCK_MAX_AGE = timedelta(hours=20)


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
    print_shop_report(report, as_json=False)
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
