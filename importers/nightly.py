"""The night's run over drop folders: `DIR/<shop-slug>/` holds the files a shop's till sent.

The newest file of each folder is imported; it then moves to `done/` (applied or duplicate) or
`rejected/` (refused or failed), so the folder shows at a glance what still waits. Older files
left in the folder are superseded by the newest and move to `done/` untouched.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import Shop
from importers.runner import RunResult

logger = logging.getLogger(__name__)
ARCHIVE_DIRS = ("done", "rejected")


class Importer(Protocol):
    def __call__(self, *, shop_slug: str, path: Path) -> RunResult: ...


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


def pull_shops(session: Session) -> list[str]:
    """Slugs of the active shops whose stock is pulled from their till vendor's API."""
    return list(session.scalars(
        select(Shop.slug).where(Shop.active.is_(True), Shop.feed_pull_url.is_not(None))
        .order_by(Shop.slug)))


def run_job(job: DropJob, *, importer: Importer) -> Outcome:
    """Import the job's newest file with `importer` (import_file, or a wrapper that also mails)."""
    try:
        result = importer(shop_slug=job.shop_slug, path=job.newest)
    except NotFound as exc:
        logger.warning("drop folder %s: %s", job.shop_slug, exc.message)
        return Outcome("failed", None, exc.message)
    _archive(job.newest, "rejected" if result.status in ("rejected", "failed") else "done")
    for old in job.superseded:
        _archive(old, "done")
    return Outcome(result.status, result.run_id)
