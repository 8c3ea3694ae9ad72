"""`flask --app wsgi stock ...`: import one file, or run the night over the drop folders."""
from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session, sessionmaker

from app.errors import RayonsError
from app.models import ImportRun
from app.services import shop_tokens
from app.services.import_mail import import_and_report, mail_after
from app.session import session_factory, unit_of_work
from importers import nightly, report
from importers.registry import FORMATS
from importers.runner import find_shop, import_pull

stock_cli = AppGroup("stock", help="Shops' stock files.")
FAILED = ("rejected", "failed")


@stock_cli.command("import")
@click.option("--shop", "shop_slug", required=True, help="Slug of the shop the file belongs to.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "format_", type=click.Choice(FORMATS), help="Skip content detection.")
@click.option("--force", is_flag=True, help="Apply even if far fewer lines than last time.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
def stock_import(shop_slug: str, file: Path, format_: str | None, force: bool,
                 as_json: bool) -> None:
    """Import one stock file for one shop; exit 1 when it was refused or failed."""
    factory = session_factory()
    try:
        result = import_and_report(factory, shop_slug=shop_slug, path=file, format=format_,
                                   force=force)
    except RayonsError as exc:
        raise click.ClickException(exc.message) from exc
    with factory() as session:
        run = session.get(ImportRun, result.run_id)
        assert run is not None
        if as_json:
            click.echo(json.dumps(report.as_dict(session, run), ensure_ascii=False))
        else:
            for r in report.rejections(session, run.id, limit=20):
                click.echo(f"line {r.line}, field {r.field}: {r.reason_code}: {r.message} "
                           f"[{r.raw_value}]", err=True)
            click.echo(report.summary_line(run))
    if result.status in FAILED:
        sys.exit(1)


@stock_cli.command("token")
@click.argument("shop_slug")
@click.option("--revoke", is_flag=True, help="Revoke the shop's token instead.")
def stock_token(shop_slug: str, revoke: bool) -> None:
    """Issue (or revoke) the bearer token a shop's till uses to PUT its stock file."""
    try:
        with unit_of_work() as session:
            shop = find_shop(session, shop_slug)
            if revoke:
                shop_tokens.revoke_token(session, shop=shop)
                token = None
            else:
                token = shop_tokens.issue_token(session, shop=shop)
    except RayonsError as exc:
        raise click.ClickException(exc.message) from exc
    if token is None:
        click.echo(f"token of {shop_slug} revoked")
    else:
        click.echo(f"new token for {shop_slug} (shown once, keep it in the till's settings):")
        click.echo(token)


@dataclass
class Row:
    shop: str
    status: str
    lines: int
    added: int
    changed: int
    zeroed: int
    rejected: int
    seconds: float


@stock_cli.command("nightly")
@click.argument("drop_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--workers", type=click.IntRange(1, 32), default=2, show_default=True,
              help="Shops imported at the same time (one per core suits a database on the same "
                   "machine).")
def stock_nightly(drop_dir: Path, workers: int) -> None:
    """Import the newest file of every DROP_DIR/<shop-slug>/ folder (then moved to done/ or
    rejected/) and pull the shops that have a pull URL; exit 1 if any shop failed, while every
    other shop is still imported."""
    factory = session_factory()
    # Flask declares current_app as a Flask, hiding the LocalProxy method that unwraps it.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    tasks: list[nightly.Task] = [
        (job.shop_slug, partial(nightly.run_job, job, importer=partial(import_and_report, factory)))
        for job in nightly.find_drops(drop_dir)
    ]
    with factory() as session:
        tasks += [(slug, partial(_pull, factory, slug)) for slug in nightly.pull_shops(session)]
    rows: list[tuple[int, Row]] = []
    show_bar = sys.stdout.isatty()
    with click.progressbar(length=len(tasks), label="stock", show_pos=True,
                           hidden=not show_bar) as bar:
        for done in nightly.run_tasks([(slug, partial(_in_app, app, task))
                                       for slug, task in tasks], workers=workers):
            row = _row(factory, done.slug, done.outcome, done.seconds)
            rows.append((done.position, row))
            bar.update(1)
            if not show_bar:
                click.echo(f"{row.shop}: {row.status} ({row.lines} lines, {row.seconds:.2f}s)"
                           + (f" - {done.outcome.detail}" if done.outcome.detail else ""))
    _print_table([row for _, row in sorted(rows, key=lambda item: item[0])])
    if any(row.status in FAILED for _, row in rows):
        sys.exit(1)


def _in_app(app: Flask, task: Callable[[], nightly.Outcome]) -> nightly.Outcome:
    """Worker threads need the app's context: the shop's report mail reads its settings."""
    with app.app_context():
        return task()


def _pull(factory: sessionmaker[Session], slug: str) -> nightly.Outcome:
    result = mail_after(factory, import_pull(factory, shop_slug=slug))
    return nightly.Outcome(result.status, result.run_id)


def _row(factory: sessionmaker[Session], slug: str, outcome: nightly.Outcome,
         seconds: float) -> Row:
    with factory() as session:
        run = session.get(ImportRun, outcome.run_id) if outcome.run_id else None
        if run is None:
            return Row(slug, outcome.status, 0, 0, 0, 0, 0, seconds)
        return Row(slug, outcome.status, run.lines_read, run.added, run.changed, run.zeroed,
                   run.rejected_lines, seconds)


def _print_table(rows: list[Row]) -> None:
    header = ("shop", "status", "lines", "added", "changed", "zeroed", "rejected", "seconds")
    table = [header] + [(r.shop, r.status, str(r.lines), str(r.added), str(r.changed),
                         str(r.zeroed), str(r.rejected), f"{r.seconds:.2f}") for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
