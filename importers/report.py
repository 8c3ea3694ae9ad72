"""What a shop (or its cron job) is told about one import run."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ImportRejection, ImportRun

COUNTS = ("lines_read", "accepted", "rejected_lines", "added", "changed", "zeroed", "unchanged")


def rejections(session: Session, run_id: int, *, limit: int | None = None) -> list[ImportRejection]:
    query = (select(ImportRejection).where(ImportRejection.import_run_id == run_id)
             .order_by(ImportRejection.line, ImportRejection.id))
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def as_dict(session: Session, run: ImportRun, *, limit: int | None = None) -> dict[str, Any]:
    """The JSON report of the CLI and the push API: counts, the gate, the rejected lines."""
    body: dict[str, Any] = {"run_id": run.id, "status": run.status, "format": run.format}
    body.update({name: getattr(run, name) for name in COUNTS})
    body["gate"] = run.gate
    body["gate_message"] = run.gate_message
    body["exported_at"] = run.exported_at.isoformat() if run.exported_at else None
    body["rejections"] = [
        {"line": r.line, "field": r.field, "value": r.raw_value, "reason": r.reason_code,
         "message": r.message}
        for r in rejections(session, run.id, limit=limit)
    ]
    return body


def summary_line(run: ImportRun) -> str:
    verdict = (f"refused ({run.gate}: {run.gate_message})" if run.status == "rejected"
               else run.status)
    return (f"{verdict}: {run.lines_read} lines read, {run.accepted} accepted, "
            f"{run.rejected_lines} rejected; {run.added} added, {run.changed} changed, "
            f"{run.zeroed} zeroed, {run.unchanged} unchanged")


def rejections_csv(session: Session, run_id: int) -> Iterator[str]:
    """The full list of rejected lines as CSV (for spreadsheet users: `;` and a BOM)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    buffer.write("\ufeff")
    writer.writerow(["ligne", "champ", "valeur", "motif", "message"])
    for r in rejections(session, run_id):
        writer.writerow([r.line, r.field, r.raw_value, r.reason_code, r.message])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
