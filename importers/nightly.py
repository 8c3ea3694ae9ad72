"""The night's machinery: drop folders, and the loop that runs every shop's import.

`DIR/<shop-slug>/` holds the files a shop's till sent. The newest file of each folder is
imported; it then moves to `done/` (applied or duplicate) or `rejected/` (refused or failed), so
the folder shows at a glance what still waits. Older files left in the folder are superseded by
the newest and move to `done/` untouched. The night starts in `importers.pipeline.import_night`.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from app.models.import_run import STOCK_KEPT
from importers.report import RunResult, interrupted_note

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DropJob:
    shop_slug: str
    newest: Path
    superseded: tuple[Path, ...]


@dataclass(frozen=True)
class Outcome:
    status: str
    run_id: int | None
    detail: str = ""


def outcome(result: RunResult) -> Outcome:
    """A run's outcome for the night's report, which says if it found earlier runs dead."""
    return Outcome(result.status, result.run_id, interrupted_note(result.interrupted))


def find_drops(drop_dir: Path) -> list[DropJob]:
    """One job per shop folder that holds at least one file, by shop slug."""
    jobs = []
    for folder in sorted(p for p in drop_dir.iterdir() if p.is_dir()):
        files = sorted((p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")),
                       key=lambda p: (p.stat().st_mtime, p.name))
        if files:
            jobs.append(DropJob(folder.name, files[-1], tuple(files[:-1])))
    return jobs


def _archive(path: Path, where: str) -> None:
    target_dir = path.parent / where
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    n = 1
    while target.exists():
        target = target_dir / f"{path.stem}.{n}{path.suffix}"
        n += 1
    path.rename(target)


def run_job(job: DropJob, *, import_newest: Callable[[Path], RunResult]) -> Outcome:
    """Import the job's newest file with `import_newest`, then archive the folder's files."""
    result = import_newest(job.newest)
    _archive(job.newest, "rejected" if result.status in STOCK_KEPT else "done")
    for old in job.superseded:
        _archive(old, "done")
    return outcome(result)


# One shop's work for the night: its slug, and the import (of a drop or a pull) to run.
Task = tuple[str, Callable[[], Outcome]]


@dataclass(frozen=True)
class Finished:
    position: int  # in the task list, so reports keep the night's order
    slug: str
    outcome: Outcome
    seconds: float


def run_tasks(tasks: Sequence[Task], *, workers: int) -> Iterator[Finished]:
    """Run the night's imports on `workers` threads, yielding each as it finishes.

    Threads rather than processes: an import waits on PostgreSQL for about half its time, with
    the GIL released, and on a 2-core machine two threads measured the same speed-up as two
    processes (bench/README.md) without a second copy of the app. Imports of different shops
    never wait for each other (each locks only its own shop). A task that crashes is reported as
    failed and the others carry on: one shop's problem must not cost the rest their night.
    """
    def timed(position: int, slug: str, task: Callable[[], Outcome]) -> Finished:
        started = time.monotonic()
        try:
            outcome = task()
        except Exception as exc:
            logger.exception("shop %s: the night's import crashed", slug)
            outcome = Outcome("failed", None, f"erreur inattendue : {type(exc).__name__}")
        return Finished(position, slug, outcome, time.monotonic() - started)

    if workers == 1:
        # In the caller's thread, one after the other: the caller may read each result with
        # the same connection before the next import starts.
        for position, (slug, task) in enumerate(tasks):
            yield timed(position, slug, task)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stock-import") as pool:
        futures = [pool.submit(timed, position, slug, task)
                   for position, (slug, task) in enumerate(tasks)]
        for future in as_completed(futures):
            yield future.result()
