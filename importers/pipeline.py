"""Where a stock import starts: the front door of `importers/`.

Every way a shop's stock arrives is one typed function here:

- `import_file`: a file on disk (the staff upload page, `flask stock import`, the demo);
- `import_push`: a body the till streams to the push API (or the upload page received), spooled
  to a file, imported, then removed;
- `import_pull`: a snapshot pulled from the shop's till vendor API (`shop.feed_pull_url`);
- `import_night`: every drop folder, then every active shop with a pull URL.

The caller resolves the shop once (a staff page through the signed-in user's shops, the push API
through the shop's token, a command with `shop_by_slug`) and passes it in: the pipeline reads its
id and feed settings and never looks it up again. One run is one unit of work: take the shop's
lock, record the run as `running` (committed at once, on a second connection, so a killed process
still leaves a trace), read and validate (`registry` picks the format's parser), stage, gate and
merge (`merge`, `gates`), commit. A crash rolls all of it back and marks the run `failed` in a
transaction of its own, so the shop's previous stock stays and its history says what happened; a
run whose process died is marked `interrupted` by the shop's next import. Every statement is
bounded by `ImportLimits`, and a shop already being imported for longer than their lock wait
gets its file refused (`import_in_progress`). Once the run has committed, the caller's
`on_finished` step hears about it (the web and CLI edges pass one that queues the report mail);
the pipeline itself sends nothing. What a run did is read with `importers/report.py`.
"""
from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app import clock
from app.errors import Conflict, NotFound, PayloadTooLarge, RayonsError
from app.models import Shop
from importers import nightly
from importers.column_map import ColumnMap
from importers.json_feed import JsonPullSource, pull_auth
from importers.merge import (
    ImportLimits,
    OpenedRun,
    ShopBusy,
    SourceFile,
    apply_snapshot,
    bound_transaction,
    describe_file,
    lock_shop,
    open_run,
    record_busy,
    record_failure,
)
from importers.records import StockSource
from importers.registry import FORMATS, open_source
from importers.report import RunResult, run_by_id

__all__ = ["FORMATS", "ImportLimits", "IncompleteBody", "Night", "NightLine", "OnFinished",
           "import_file", "import_night", "import_pull", "import_push", "save_column_map",
           "save_location_code", "saved_column_map", "shop_by_slug", "spool"]

logger = logging.getLogger(__name__)

# Told about each run once it has committed (the report mail); it may raise: see import_night.
OnFinished = Callable[[RunResult], None]
PUSH_CHUNK_BYTES = 1 << 16
DEFAULT_LIMITS = ImportLimits()


class IncompleteBody(RayonsError):
    """A body shorter than its announced length: the sender went away mid-file."""

    code = "incomplete_body"


def shop_by_slug(session: Session, slug: str) -> Shop:
    """The shop a command names; NotFound (`unknown_shop`) when there is none."""
    shop = session.scalar(select(Shop).where(Shop.slug == slug))
    if shop is None:
        raise NotFound(f"unknown shop: {slug}", code="unknown_shop")
    return shop


def import_file(factory: sessionmaker[Session], *, shop: Shop, path: Path,
                source_name: str | None = None, format: str | None = None, force: bool = False,
                exported_at: datetime | None = None, on_finished: OnFinished | None = None,
                limits: ImportLimits = DEFAULT_LIMITS,
                columns: ColumnMap | None = None,
                location_code: str | None = None) -> RunResult:
    """Import one file for one shop and commit.

    `format` (one of FORMATS) overrides the shop's feed setting and content detection; an
    unknown one is a `failed` run; `columns` overrides the shop's saved column map and
    `location_code` its ONIX stock location (both for this file only). `force`
    applies a file the shrink or duplicate gates would refuse. `exported_at` dates the snapshot
    when the file does not say (else its mtime). `limits` bound the import's statements and its
    wait for the shop (the edges pass the app's settings).
    """
    file = describe_file(path, name=source_name)
    try:
        source = open_source(path, format=format or shop.feed_format,
                             encoding=shop.feed_encoding, price_unit=shop.feed_price_unit,
                             location_code=location_code or shop.feed_location_code,
                             columns=columns or saved_column_map(shop))
    except ValueError as exc:  # an unknown forced format, a stored map that no longer reads
        result = _record_failure(factory, shop.id, file, format, exc)
    else:
        result = _apply(factory, shop.id, source, file, force=force, exported_at=exported_at,
                        limits=limits)
    return _finished(result, on_finished)


def saved_column_map(shop: Shop) -> ColumnMap | None:
    """The shop's own column map, applied to every file of the shop that has columns."""
    return ColumnMap.from_json(shop.feed_columns) if shop.feed_columns else None


def save_column_map(session: Session, shop: Shop, columns: ColumnMap | None) -> None:
    """Keep (or, with None, forget) the shop's column map; the caller commits."""
    shop.feed_columns = columns.as_json() if columns is not None else None
    session.flush()


def save_location_code(session: Session, shop: Shop, code: str | None) -> None:
    """Keep (or, with None, forget) the ONIX stock location of the shop; the caller commits.

    A location code names one place: Conflict (`location_code_taken`) when another shop has it,
    before the unique constraint would turn it into a failed transaction."""
    code = (code or "").strip() or None
    if code is not None and session.scalar(
            select(Shop.id).where(Shop.feed_location_code == code, Shop.id != shop.id)):
        raise Conflict(f"location code {code} belongs to another shop",
                       code="location_code_taken")
    shop.feed_location_code = code
    session.flush()


def import_push(factory: sessionmaker[Session], *, shop: Shop, body: IO[bytes], spool_dir: Path,
                max_bytes: int, expected_bytes: int | None = None,
                source_name: str | None = None, force: bool = False,
                on_finished: OnFinished | None = None,
                limits: ImportLimits = DEFAULT_LIMITS) -> RunResult:
    """Import a snapshot received as a stream: the till's push body, or a staff upload.

    The body is streamed to a file in `spool_dir`, never held in memory, and refused with
    PayloadTooLarge past `max_bytes`, or with IncompleteBody when it ends before the
    `expected_bytes` its sender announced (nothing is recorded then); the file is imported as
    by `import_file`, under `source_name` (the shop's own file name) when given. The spool file
    is removed whatever happens: the run keeps the file's name, hash and rejected lines, and the
    shop keeps its file, so a copy here would only fill the disk.
    """
    path = spool(body, spool_dir, max_bytes, expected_bytes)
    try:
        return import_file(factory, shop=shop, path=path, source_name=source_name or path.name,
                           force=force, on_finished=on_finished, limits=limits)
    finally:
        path.unlink(missing_ok=True)


def import_pull(factory: sessionmaker[Session], *, shop: Shop, force: bool = False,
                timeout_s: float = 20, on_finished: OnFinished | None = None,
                limits: ImportLimits = DEFAULT_LIMITS) -> RunResult:
    """Pull a shop's stock from its till vendor's API (`feed_pull_url`) and apply it.

    A pulled snapshot has no file to hash: its fingerprint is the URL and the pull time, so the
    duplicate gate never skips it, while every other gate applies as for a file.
    """
    if not shop.feed_pull_url:
        raise NotFound(f"shop {shop.slug} has no pull URL", code="no_pull_url")
    pulled_at = clock.now()
    url, auth = pull_auth(shop.feed_pull_url)
    fingerprint = hashlib.sha256(f"{url}\n{pulled_at.isoformat()}".encode()).hexdigest()
    file = SourceFile(name=url, sha256=fingerprint, mtime=pulled_at)
    source = JsonPullSource(url, price_unit=shop.feed_price_unit, auth=auth, timeout_s=timeout_s)
    result = _apply(factory, shop.id, source, file, force=force, exported_at=None, limits=limits)
    return _finished(result, on_finished)


@dataclass(frozen=True)
class NightLine:
    """One shop's line in the night's report, with the counts of its run when there is one."""

    position: int  # in the night's task list, so reports keep the night's order
    slug: str
    status: str
    run_id: int | None
    detail: str  # why a shop failed without a run (unknown shop, crash)
    seconds: float
    lines: int = 0
    added: int = 0
    changed: int = 0
    zeroed: int = 0
    rejected: int = 0


class Night:
    """The night's imports, each shop's listed (`len`) before any starts; iterating runs them,
    yielding each shop's line as its import finishes."""

    def __init__(self, factory: sessionmaker[Session], tasks: list[nightly.Task],
                 workers: int) -> None:
        self._factory = factory
        self._tasks = tasks
        self._workers = workers

    def __len__(self) -> int:
        return len(self._tasks)

    def __iter__(self) -> Iterator[NightLine]:
        for done in nightly.run_tasks(self._tasks, workers=self._workers):
            yield _night_line(self._factory, done)


def import_night(factory: sessionmaker[Session], *, drop_dir: Path, workers: int,
                 on_finished: OnFinished | None = None,
                 limits: ImportLimits = DEFAULT_LIMITS) -> Night:
    """The night: the newest file of every `drop_dir/<shop-slug>/` folder (see `nightly`), then
    a pull for every active shop with a pull URL, `workers` shops at a time.

    A folder naming no shop is reported as `failed` and left in place; a shop whose import (or
    `on_finished` step) crashes is reported as `failed` while every other shop is still imported.
    """
    jobs = nightly.find_drops(drop_dir)
    with factory() as session:
        shops = _shops_by_slug(session, [job.shop_slug for job in jobs])
        pulled = _pulled_shops(session)
    tasks: list[nightly.Task] = [
        (job.shop_slug, _drop_task(factory, job, shops.get(job.shop_slug), on_finished, limits))
        for job in jobs
    ]
    tasks += [(shop.slug, partial(_pull_task, factory, shop, on_finished, limits))
              for shop in pulled]
    return Night(factory, tasks, workers)


def _apply(factory: sessionmaker[Session], shop_id: int, source: StockSource, file: SourceFile,
           *, force: bool, exported_at: datetime | None, limits: ImportLimits) -> RunResult:
    opened: OpenedRun | None = None
    try:
        with factory() as session:  # closing it rolls back whatever a crash left
            bound_transaction(session, limits)
            lock_shop(session, shop_id, wait_s=limits.lock_wait_s)
            opened = _open_run(factory, shop_id, file, source.format, force, limits)
            run = apply_snapshot(session, run_id=opened.run_id, source=source, file=file,
                                 force=force, exported_at=exported_at)
            session.commit()
            return RunResult(run.id, run.status, opened.interrupted)
    except ShopBusy:
        logger.warning("shop %s: import of %s refused, another one holds the shop", shop_id,
                       file.name)
        with factory() as session:
            run = record_busy(session, shop_id=shop_id, file=file, format=source.format)
            session.commit()
            return RunResult(run.id, run.status)
    except Exception as exc:
        return _record_failure(factory, shop_id, file, source.format, exc, opened)


def _open_run(factory: sessionmaker[Session], shop_id: int, file: SourceFile,
              format: str | None, force: bool, limits: ImportLimits) -> OpenedRun:
    """The run's `running` row, committed on a connection of its own while the work's
    connection holds the shop's lock (see `merge.open_run`): an import needs two connections
    for that moment, which bounds the night's workers (app/cli/stock.py)."""
    with factory() as ledger:
        bound_transaction(ledger, limits)
        opened = open_run(ledger, shop_id=shop_id, file=file, format=format, force=force)
        ledger.commit()
        return opened


def _record_failure(factory: sessionmaker[Session], shop_id: int, file: SourceFile,
                    format: str | None, error: Exception,
                    opened: OpenedRun | None = None) -> RunResult:
    logger.error("shop %s: import of %s failed", shop_id, file.name, exc_info=error)
    with factory() as session:
        run = record_failure(session, shop_id=shop_id, file=file, format=format, error=error,
                             run_id=opened.run_id if opened is not None else None)
        session.commit()
        return RunResult(run.id, run.status, opened.interrupted if opened is not None else ())


def _finished(result: RunResult, on_finished: OnFinished | None) -> RunResult:
    if on_finished is not None:
        on_finished(result)
    return result


def spool(body: IO[bytes], folder: Path, max_bytes: int, expected_bytes: int | None = None,
          *, prefix: str = "push-") -> Path:
    """The body in a new file of `folder`, which no failure leaves behind.

    Reading may raise on its own: werkzeug's 413 past MAX_CONTENT_LENGTH for a chunked body, a
    client that disconnects mid-body, a full disk. Each would otherwise leave a partial file.
    A disconnect may also look like a clean end: gunicorn hands the application a body that
    simply stops, so the byte count is checked against the announced length.
    """
    folder.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=folder, prefix=prefix, delete=False)
    path = Path(handle.name)
    written = 0
    try:
        with handle:
            while chunk := body.read(PUSH_CHUNK_BYTES):
                written += len(chunk)
                if written > max_bytes:
                    raise PayloadTooLarge(f"file larger than {max_bytes} bytes",
                                          code="file_too_large")
                handle.write(chunk)
        if expected_bytes is not None and written < expected_bytes:
            raise IncompleteBody(f"body ended after {written} of the {expected_bytes} bytes "
                                 "announced: the connection was cut", code="incomplete_body")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _shops_by_slug(session: Session, slugs: Collection[str]) -> dict[str, Shop]:
    return {shop.slug: shop for shop in session.scalars(select(Shop).where(Shop.slug.in_(slugs)))}


def _pulled_shops(session: Session) -> list[Shop]:
    """The active shops whose stock is pulled from their till vendor's API."""
    return list(session.scalars(
        select(Shop).where(Shop.active.is_(True), Shop.feed_pull_url.is_not(None))
        .order_by(Shop.slug)))


def _drop_task(factory: sessionmaker[Session], job: nightly.DropJob, shop: Shop | None,
               on_finished: OnFinished | None,
               limits: ImportLimits) -> Callable[[], nightly.Outcome]:
    if shop is None:
        return partial(_unknown_drop_shop, job.shop_slug)

    def import_newest(path: Path) -> RunResult:
        return import_file(factory, shop=shop, path=path, on_finished=on_finished,
                           limits=limits)

    return partial(nightly.run_job, job, import_newest=import_newest)


def _unknown_drop_shop(slug: str) -> nightly.Outcome:
    """A folder whose name is no shop's slug: its files stay where they are, for a human."""
    message = f"unknown shop: {slug}"
    logger.warning("drop folder %s: %s", slug, message)
    return nightly.Outcome("failed", None, message)


def _pull_task(factory: sessionmaker[Session], shop: Shop, on_finished: OnFinished | None,
               limits: ImportLimits) -> nightly.Outcome:
    return nightly.outcome(import_pull(factory, shop=shop, on_finished=on_finished,
                                       limits=limits))


def _night_line(factory: sessionmaker[Session], done: nightly.Finished) -> NightLine:
    outcome = done.outcome
    line = NightLine(done.position, done.slug, outcome.status, outcome.run_id, outcome.detail,
                     done.seconds)
    if outcome.run_id is None:
        return line
    with factory() as session:
        run = run_by_id(session, outcome.run_id)
        return replace(line, lines=run.lines_read, added=run.added, changed=run.changed,
                       zeroed=run.zeroed, rejected=run.rejected_lines)
