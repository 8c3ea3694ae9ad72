"""`flask --app wsgi stock ...`: import one file, or run the night over the drop folders."""
from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.errors import RayonsError
from app.import_report_mail import report_mailer
from app.models.import_run import STOCK_KEPT
from app.services import shop_tokens
from app.session import import_limits, pool_size, session_factory, unit_of_work
from importers import catalogue, enrichment, gates, pipeline, report
from importers.column_map import ColumnMap, ColumnMapError

stock_cli = AppGroup("stock", help="Shops' stock files.")


@stock_cli.command("import")
@click.option("--shop", "shop_slug", required=True, help="Slug of the shop the file belongs to.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "format_", type=click.Choice(pipeline.FORMATS),
              help="Skip content detection.")
@click.option("--force", is_flag=True, help="Apply even if far fewer lines than last time.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.option("--columns", "columns_spec", metavar="MAP",
              help="Say which column holds what, e.g. code=EAN,quantity=Qté,price=#4,"
                   "location=Magasin:Boutique (columns by header or #position; "
                   "location=COLUMN:* adds up the rows of every location, for shelves of one "
                   "shop).")
@click.option("--save-columns", is_flag=True,
              help="Keep --columns as the shop's map for its later files.")
@click.option("--location-code", metavar="CODE",
              help="ONIX: the LocationIdentifier of the shop's own stock in a multi-location "
                   "file (instead of the shop's feed setting).")
def stock_import(shop_slug: str, file: Path, format_: str | None, force: bool,
                 as_json: bool, columns_spec: str | None, save_columns: bool,
                 location_code: str | None) -> None:
    """Import one stock file for one shop; exit 1 when it was refused or failed."""
    try:
        columns = ColumnMap.parse(columns_spec) if columns_spec else None
    except ColumnMapError as exc:
        raise click.BadParameter(str(exc), param_hint="--columns") from exc
    if save_columns and columns is None:
        raise click.BadParameter("needs --columns", param_hint="--save-columns")
    factory = session_factory()
    try:
        with factory() as session:
            shop = pipeline.shop_by_slug(session, shop_slug)
            if save_columns and columns is not None:
                pipeline.save_column_map(session, shop, columns)
                session.commit()
    except RayonsError as exc:
        raise click.ClickException(exc.message) from exc
    result = pipeline.import_file(factory, shop=shop, path=file, format=format_, force=force,
                                  on_finished=report_mailer(factory), limits=import_limits(),
                                  columns=columns, location_code=location_code)
    with factory() as session:
        run = report.run_by_id(session, result.run_id)
        if as_json:
            click.echo(json.dumps(report.as_dict(session, run, interrupted=result.interrupted,
                                                 advice=gates.CLI_ADVICE),
                                  ensure_ascii=False))
        else:
            for r in report.rejections(session, run.id, limit=20):
                click.echo(f"line {r.line}, field {r.field}: {r.reason_code}: {r.message} "
                           f"[{r.raw_value}]", err=True)
            click.echo(report.summary_line(run, gates.CLI_ADVICE))
            for line in report.column_lines(run):
                click.echo(f"  {line}")
            if result.interrupted:
                click.echo(report.interrupted_note(result.interrupted))
    if result.status in STOCK_KEPT:
        sys.exit(1)


@stock_cli.command("catalogue")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "format_", type=click.Choice(catalogue.CATALOGUE_FORMATS),
              help="Skip content detection.")
@click.option("--replace", is_flag=True,
              help="Let the catalogue's values replace those the shops' files gave (never with "
                   "a blank); by default only empty titles, authors and publishers are filled.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
def stock_catalogue(file: Path, format_: str | None, replace: bool, as_json: bool) -> None:
    """Fill the titles, authors and publishers of known editions from a catalogue file
    (metadata-only ONIX, or CSV/XLSX with ISBN, Titre, Auteur, Éditeur columns); stock is not
    touched. Exit 1 when the file was refused."""
    with unit_of_work() as session:
        result = catalogue.import_catalogue(session, path=file, format=format_, replace=replace)
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False))
    else:
        for r in result.rejections[:20]:
            click.echo(f"{file.name}, line {r.line}, field {r.field}: {r.reason_code}: "
                       f"{r.message} [{r.raw_value}]", err=True)
        click.echo(result.summary_line())
    if result.refused is not None:
        sys.exit(1)


@stock_cli.command("enrich")
@click.option("--limit", type=click.IntRange(min=1), help="Editions looked up at most "
              "(default: ENRICH_LIMIT).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
def stock_enrich(limit: int | None, as_json: bool) -> None:
    """Ask the open bibliographic services named in ENRICH_SOURCES (bnf, openlibrary) for the
    titles of editions no file named; off, and a no-op, while ENRICH_SOURCES is empty."""
    config = current_app.config
    try:
        sources = enrichment.build_sources(
            config["ENRICH_SOURCES"], bnf_url=config["ENRICH_BNF_URL"],
            openlibrary_url=config["ENRICH_OPENLIBRARY_URL"],
            timeout_s=config["ENRICH_TIMEOUT_S"], min_interval_s=config["ENRICH_MIN_INTERVAL_S"],
            user_agent=f"Rayons ({config['PUBLIC_URL']})")
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    if not sources:
        click.echo("enrichment is off: ENRICH_SOURCES names no service")
        return
    result = enrichment.enrich_editions(session_factory(), sources=sources,
                                        limit=limit or config["ENRICH_LIMIT"],
                                        retry_days=config["ENRICH_RETRY_DAYS"])
    click.echo(json.dumps(result.as_dict()) if as_json else result.summary_line())


@stock_cli.command("token")
@click.argument("shop_slug")
@click.option("--revoke", is_flag=True, help="Revoke the shop's token instead.")
def stock_token(shop_slug: str, revoke: bool) -> None:
    """Issue (or revoke) the bearer token a shop's till uses to PUT its stock file."""
    try:
        with unit_of_work() as session:
            shop = pipeline.shop_by_slug(session, shop_slug)
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




# Exit statuses of `stock nightly`, for cron and monitoring. At 3,000 shops some file is refused
# most nights: that is the shop's business (it gets the report by mail), not a failed night.
NIGHT_DONE = 0  # every shop ran: applied, unchanged, or its file refused
NIGHT_FAILED = 1  # nothing could be imported: every shop failed, or the command itself did
SHOPS_FAILED = 3  # the night ran, but some shops' imports failed (a crash, a timeout, a folder
#                   naming no shop): the operator's business


def night_status(lines: list[pipeline.NightLine]) -> int:
    failed = sum(line.status == "failed" for line in lines)
    if failed and failed == len(lines):
        return NIGHT_FAILED
    return SHOPS_FAILED if failed else NIGHT_DONE


@stock_cli.command("nightly")
@click.argument("drop_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="Shops imported at the same time (one per core suits a database on the same "
                   "machine); at most half the connection pool (DATABASE_POOL_SIZE + "
                   "DATABASE_MAX_OVERFLOW).")
@click.option("--json", "as_json", is_flag=True,
              help="Print the night as one JSON object (shops, counts, exit status) and "
                   "nothing else.")
def stock_nightly(drop_dir: Path, workers: int, as_json: bool) -> None:
    """Import the newest file of every DROP_DIR/<shop-slug>/ folder (then moved to done/ or
    rejected/) and pull the shops that have a pull URL. Exit 0 when every shop ran (refused
    files included: each shop is told by mail), 3 when some shops' imports failed while the
    others were imported, 1 when nothing could be imported."""
    # Each import briefly holds two connections (its work and its run's record): more workers
    # than half the pool could take them all and leave every import waiting for its second one.
    capacity = max(1, pool_size().total // 2)
    if workers > capacity:
        click.echo(f"--workers {workers} needs {2 * workers} connections; the pool has "
                   f"{pool_size().total}: {capacity} workers (raise DATABASE_POOL_SIZE)", err=True)
        workers = capacity
    factory = session_factory()
    night = pipeline.import_night(factory, drop_dir=drop_dir, workers=workers,
                                  on_finished=report_mailer(factory), limits=import_limits())
    lines: list[pipeline.NightLine] = []
    show_bar = sys.stdout.isatty() and not as_json
    with click.progressbar(length=len(night), label="stock", show_pos=True,
                           hidden=not show_bar) as bar:
        for line in night:
            lines.append(line)
            bar.update(1)
            if not (show_bar or as_json):
                click.echo(f"{line.slug}: {line.status} ({line.lines} lines, "
                           f"{line.seconds:.2f}s)" + (f" - {line.detail}" if line.detail else ""))
    lines.sort(key=lambda line: line.position)
    status = night_status(lines)
    if as_json:
        statuses = Counter(line.status for line in lines)
        click.echo(json.dumps({"exit_status": status, "shops": len(lines),
                               "statuses": dict(sorted(statuses.items())),
                               "lines": [asdict(line) for line in lines]}, ensure_ascii=False))
    else:
        _print_table(lines)
    sys.exit(status)


def _print_table(lines: list[pipeline.NightLine]) -> None:
    header = ("shop", "status", "lines", "added", "changed", "zeroed", "rejected", "seconds")
    table = [header] + [(n.slug, n.status, str(n.lines), str(n.added), str(n.changed),
                         str(n.zeroed), str(n.rejected), f"{n.seconds:.2f}") for n in lines]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    # Under the table, which has no room for them: why a shop failed without a run, which dead
    # runs an import found (shown by the progress lines only when there is no progress bar).
    for line in lines:
        if line.detail:
            click.echo(f"{line.slug}: {line.detail}")
