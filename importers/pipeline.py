"""Where a stock import starts: the front door of `importers/`.

Every way a shop's stock arrives is one typed function here:

- `import_file`: a file on disk (the staff upload page, `flask stock import`, the demo);
- `import_push`: a body the till streams to the push API, spooled to a file, then imported;
- `import_pull`: a snapshot pulled from the shop's till vendor API (`shop.feed_pull_url`);
- `import_night`: every drop folder, then every active shop with a pull URL.

The caller resolves the shop once (a staff page through the signed-in user's shops, the push API
through the shop's token, a command with `shop_by_slug`) and passes it in: the pipeline reads its
id and feed settings and never looks it up again. One run is one unit of work: read and validate
(`registry` picks the format's parser), stage, gate and merge (`merge`, `gates`), commit. A crash
rolls all of it back and becomes a `failed` run, recorded in a transaction of its own, so the
shop's previous stock stays and its history says what happened. Once the run has committed, the
caller's `on_finished` step hears about it (the web and CLI edges pass one that queues the report
mail); the pipeline itself sends nothing. What a run did is read with `importers/report.py`.
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
from app.errors import NotFound, PayloadTooLarge
from app.models import Shop
from importers import nightly
from importers.json_feed import JsonPullSource, pull_auth
from importers.merge import SourceFile, apply_snapshot, describe_file, record_failure
from importers.records import StockSource
from importers.registry import FORMATS, open_source
from importers.report import RunResult, run_by_id

__all__ = ["FORMATS", "Night", "NightLine", "OnFinished", "import_file", "import_night",
           "import_pull", "import_push", "shop_by_slug"]

logger = logging.getLogger(__name__)

# Told about each run once it has committed (the report mail); it may raise: see import_night.
OnFinished = Callable[[RunResult], None]
PUSH_CHUNK_BYTES = 1 << 16


def shop_by_slug(session: Session, slug: str) -> Shop:
    """The shop a command names; NotFound (`unknown_shop`) when there is none."""
    shop = session.scalar(select(Shop).where(Shop.slug == slug))
    if shop is None:
        raise NotFound(f"unknown shop: {slug}", code="unknown_shop")
    return shop


def import_file(factory: sessionmaker[Session], *, shop: Shop, path: Path,
                source_name: str | None = None, format: str | None = None, force: bool = False,
                exported_at: datetime | None = None,
                on_finished: OnFinished | None = None) -> RunResult:
    """Import one file for one shop and commit.

    `format` (one of FORMATS) overrides the shop's feed setting and content detection; an
    unknown one is a `failed` run. `force` applies a file the shrink or duplicate gates would
    refuse. `exported_at` dates the snapshot when the file does not say (else its mtime).
    """
    file = describe_file(path, name=source_name)
    try:
        source = open_source(path, format=format or shop.feed_format,
                             encoding=shop.feed_encoding, price_unit=shop.feed_price_unit,
                             location_code=shop.feed_location_code)
    except ValueError as exc:  # an unknown forced format
        result = _record_failure(factory, shop.id, file, format, exc)
    else:
        result = _apply(factory, shop.id, source, file, force=force, exported_at=exported_at)
    return _finished(result, on_finished)


def import_push(factory: sessionmaker[Session], *, shop: Shop, body: IO[bytes], spool_dir: Path,
                max_bytes: int, source_name: str | None = None, force: bool = False,
                on_finished: OnFinished | None = None) -> RunResult:
    """Import a snapshot the till sends as a request body.

    The body is streamed to a file in `spool_dir`, never held in memory, and refused with
    PayloadTooLarge past `max_bytes` (nothing is recorded then); the file is then imported as
    by `import_file`, under `source_name` (the till's own file name) when given.
    """
    path = _spool(body, spool_dir, max_bytes)
    return import_file(factory, shop=shop, path=path, source_name=source_name or path.name,
                       force=force, on_finished=on_finished)


def import_pull(factory: sessionmaker[Session], *, shop: Shop, force: bool = False,
                timeout_s: float = 20, on_finished: OnFinished | None = None) -> RunResult:
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
    result = _apply(factory, shop.id, source, file, force=force, exported_at=None)
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
                 on_finished: OnFinished | None = None) -> Night:
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
        (job.shop_slug, _drop_task(factory, job, shops.get(job.shop_slug), on_finished))
        for job in jobs
    ]
    tasks += [(shop.slug, partial(_pull_task, factory, shop, on_finished)) for shop in pulled]
    return Night(factory, tasks, workers)


def _apply(factory: sessionmaker[Session], shop_id: int, source: StockSource, file: SourceFile,
           *, force: bool, exported_at: datetime | None) -> RunResult:
    try:
        with factory() as session:  # closing it rolls back whatever a crash left
            run = apply_snapshot(session, shop_id=shop_id, source=source, file=file, force=force,
                                 exported_at=exported_at)
            session.commit()
            return RunResult(run.id, run.status)
    except Exception as exc:
        return _record_failure(factory, shop_id, file, source.format, exc)


def _record_failure(factory: sessionmaker[Session], shop_id: int, file: SourceFile,
                    format: str | None, error: Exception) -> RunResult:
    logger.error("shop %s: import of %s failed", shop_id, file.name, exc_info=error)
    with factory() as session:
        run = record_failure(session, shop_id=shop_id, file=file, format=format, error=error)
        session.commit()
        return RunResult(run.id, run.status)


def _finished(result: RunResult, on_finished: OnFinished | None) -> RunResult:
    if on_finished is not None:
        on_finished(result)
    return result


def _spool(body: IO[bytes], folder: Path, max_bytes: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=folder, prefix="push-", delete=False)
    written = 0
    with handle:
        while chunk := body.read(PUSH_CHUNK_BYTES):
            written += len(chunk)
            if written > max_bytes:
                handle.close()
                Path(handle.name).unlink()
                raise PayloadTooLarge(f"file larger than {max_bytes} bytes",
                                      code="file_too_large")
            handle.write(chunk)
    return Path(handle.name)


def _shops_by_slug(session: Session, slugs: Collection[str]) -> dict[str, Shop]:
    return {shop.slug: shop for shop in session.scalars(select(Shop).where(Shop.slug.in_(slugs)))}


def _pulled_shops(session: Session) -> list[Shop]:
    """The active shops whose stock is pulled from their till vendor's API."""
    return list(session.scalars(
        select(Shop).where(Shop.active.is_(True), Shop.feed_pull_url.is_not(None))
        .order_by(Shop.slug)))


def _drop_task(factory: sessionmaker[Session], job: nightly.DropJob, shop: Shop | None,
               on_finished: OnFinished | None) -> Callable[[], nightly.Outcome]:
    if shop is None:
        return partial(_unknown_drop_shop, job.shop_slug)

    def import_newest(path: Path) -> RunResult:
        return import_file(factory, shop=shop, path=path, on_finished=on_finished)

    return partial(nightly.run_job, job, import_newest=import_newest)


def _unknown_drop_shop(slug: str) -> nightly.Outcome:
    """A folder whose name is no shop's slug: its files stay where they are, for a human."""
    message = f"unknown shop: {slug}"
    logger.warning("drop folder %s: %s", slug, message)
    return nightly.Outcome("failed", None, message)


def _pull_task(factory: sessionmaker[Session], shop: Shop,
               on_finished: OnFinished | None) -> nightly.Outcome:
    result = import_pull(factory, shop=shop, on_finished=on_finished)
    return nightly.Outcome(result.status, result.run_id)


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
