"""`flask --app wsgi shops ...`: onboard or update a network's shops from a spreadsheet."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from app.services import shop_import
from app.session import unit_of_work

shops_cli = AppGroup("shops", help="The network's shops.")


def print_shop_report(report: shop_import.ShopImportReport, *, as_json: bool) -> None:
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
    print_shop_report(report, as_json=as_json)
    if not report.ok:
        sys.exit(1)
