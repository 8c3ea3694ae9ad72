"""One import run as a unit of work: open the file, apply it, commit; record a crash.

Used by the CLI (single file and nightly), the upload page and the push API, so they all behave
the same way.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.errors import NotFound
from app.models import ImportRun, Shop
from importers.merge import SourceFile, apply_snapshot, describe_file, record_failure
from importers.registry import open_source

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    run_id: int
    status: str


def find_shop(session: Session, slug: str) -> Shop:
    shop = session.scalar(select(Shop).where(Shop.slug == slug))
    if shop is None:
        raise NotFound(f"unknown shop: {slug}", code="unknown_shop")
    return shop


def import_file(factory: sessionmaker[Session], *, shop_slug: str, path: Path,
                source_name: str | None = None, format: str | None = None, force: bool = False,
                exported_at: datetime | None = None) -> RunResult:
    """Import one file for one shop and commit. Exceptions other than an unknown shop become a
    `failed` run (recorded in a fresh transaction) so the shop's history shows them."""
    file = describe_file(path, name=source_name)
    with factory() as session:
        shop = find_shop(session, shop_slug)
        shop_id = shop.id
        try:
            source = open_source(path, format=format or shop.feed_format,
                                 encoding=shop.feed_encoding, price_unit=shop.feed_price_unit,
                                 location_code=shop.feed_location_code)
            run = apply_snapshot(session, shop=shop, source=source, file=file, force=force,
                                 exported_at=exported_at)
            session.commit()
            return RunResult(run.id, run.status)
        except Exception as exc:
            session.rollback()
            logger.exception("shop %s: import of %s failed", shop_id, file.name)
            failed = _record_failure(factory, shop_id, file, format, exc)
            return RunResult(failed.id, failed.status)


def _record_failure(factory: sessionmaker[Session], shop_id: int, file: SourceFile,
                    format: str | None, exc: Exception) -> ImportRun:
    with factory() as session:
        shop = session.get(Shop, shop_id)
        assert shop is not None
        run = record_failure(session, shop=shop, file=file, format=format, error=exc)
        session.commit()
        return run
