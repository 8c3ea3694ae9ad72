"""What a shop (or its cron job) is told about import runs: the read side of the pipeline.

Web pages, commands and the report mail read runs through these functions (with a `Session` and
plain values); imports themselves start in `importers/pipeline.py`.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from app.models import ImportRejection, ImportRun, Shop
from app.models.import_run import STOCK_TAKEN
from importers.headers import describe_guess

COUNTS = ("lines_read", "accepted", "rejected_lines", "added", "changed", "zeroed", "unchanged")


@dataclass(frozen=True)
class RunResult:
    """What an entry point of the pipeline returns once the run has committed."""

    run_id: int
    status: str  # applied | rejected | failed | skipped_duplicate
    # The shop's earlier runs this one found dead and marked `interrupted` (see merge.open_run).
    interrupted: tuple[int, ...] = ()


def run_by_id(session: Session, run_id: int) -> ImportRun:
    """A run the caller knows exists (it has its RunResult)."""
    run = session.get(ImportRun, run_id)
    assert run is not None, f"import run {run_id} does not exist"
    return run


def shop_run(session: Session, *, shop_id: int, run_id: int) -> ImportRun | None:
    """The run when it belongs to this shop; None otherwise (another shop's run is not found)."""
    run = session.get(ImportRun, run_id)
    return run if run is not None and run.shop_id == shop_id else None


def recent_runs(session: Session, *, shop_id: int, limit: int) -> list[ImportRun]:
    """The shop's import history, newest first."""
    return list(session.scalars(
        select(ImportRun).where(ImportRun.shop_id == shop_id)
        .order_by(ImportRun.started_at.desc(), ImportRun.id.desc()).limit(limit)))


def latest_runs(session: Session, *, shop_ids: Collection[int]) -> dict[int, ImportRun]:
    """Each shop's newest run, by shop id (a shop never imported has none): what a network
    coordinator scans to see which shops' files were refused last night."""
    runs = session.scalars(
        select(ImportRun).where(ImportRun.shop_id.in_(shop_ids))
        .order_by(ImportRun.shop_id, ImportRun.started_at.desc(), ImportRun.id.desc())
        .ext(distinct_on(ImportRun.shop_id)))
    return {run.shop_id: run for run in runs}


def shops_with_fresh_stock(session: Session, *, slugs: Collection[str],
                           max_age: timedelta) -> int:
    """How many of these shops had a file applied (or confirmed identical) within `max_age`,
    by the database's clock."""
    count = session.scalar(
        select(func.count(func.distinct(ImportRun.shop_id)))
        .join(Shop, Shop.id == ImportRun.shop_id)
        .where(Shop.slug.in_(slugs),
               ImportRun.status.in_(STOCK_TAKEN),
               ImportRun.started_at > func.now() - max_age))
    return count or 0


def interrupted_note(run_ids: Collection[int]) -> str:
    """For the operator: the shop's earlier runs a run found dead (`interrupted`), if any."""
    if not run_ids:
        return ""
    listed = ", ".join(map(str, sorted(run_ids)))
    return f"found earlier run(s) {listed} interrupted (process stopped; previous stock kept)"


def rejections(session: Session, run_id: int, *, limit: int | None = None) -> list[ImportRejection]:
    query = (select(ImportRejection).where(ImportRejection.import_run_id == run_id)
             .order_by(ImportRejection.line, ImportRejection.id))
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def gate_message(run: ImportRun, advice: Mapping[str, str] | None = None) -> str | None:
    """The refusal's reason, followed by what the reader can do where they read it: `advice`
    maps a gate to the edge's own way past it (`gates.CLI_ADVICE`, `gates.PUSH_ADVICE`)."""
    hint = (advice or {}).get(run.gate or "")
    return f"{run.gate_message} ; {hint}" if hint and run.gate_message else run.gate_message


def as_dict(session: Session, run: ImportRun, *, limit: int | None = None,
            interrupted: Collection[int] = (),
            advice: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The JSON report of the CLI and the push API: counts, the gate (its message followed by
    the edge's `advice`), the rejected lines, and the shop's earlier runs this one found
    `interrupted` (from its RunResult)."""
    body: dict[str, Any] = {"run_id": run.id, "status": run.status, "format": run.format}
    body.update({name: getattr(run, name) for name in COUNTS})
    body["gate"] = run.gate
    body["gate_message"] = gate_message(run, advice)
    body["exported_at"] = run.exported_at.isoformat() if run.exported_at else None
    body["interrupted_runs"] = sorted(interrupted)
    body["column_guess"] = run.column_guess
    body["rejections"] = [
        {"line": r.line, "field": r.field, "value": r.raw_value, "reason": r.reason_code,
         "message": r.message}
        for r in rejections(session, run.id, limit=limit)
    ]
    return body


def summary_line(run: ImportRun, advice: Mapping[str, str] | None = None) -> str:
    verdict = (f"refused ({run.gate}: {gate_message(run, advice)})" if run.status == "rejected"
               else run.status)
    return (f"{verdict}: {run.lines_read} lines read, {run.accepted} accepted, "
            f"{run.rejected_lines} rejected; {run.added} added, {run.changed} changed, "
            f"{run.zeroed} zeroed, {run.unchanged} unchanged")


def column_lines(run: ImportRun) -> list[str]:
    """How the file's header was read, one French sentence per column taken (its header, the
    words that chose it, the headers passed over); `run.column_guess` holds the same as data."""
    return describe_guess(run.column_guess)


# A cell starting with one of these is a formula to a spreadsheet: a raw value from a shop's file
# such as `=HYPERLINK(...)` would run when the bookseller opens the CSV.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _inert(text: str) -> str:
    """The text as a spreadsheet shows it, never runs it: a formula start gets a quote."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def rejections_csv(session: Session, run_id: int) -> Iterator[str]:
    """The full list of rejected lines as CSV (for spreadsheet users: `;` and a BOM)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    buffer.write("\ufeff")
    writer.writerow(["ligne", "champ", "valeur", "motif", "message"])
    for r in rejections(session, run_id):
        writer.writerow([r.line, *map(_inert, (r.field, r.raw_value, r.reason_code, r.message))])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
