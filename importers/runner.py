"""One import run as a unit of work: open the file, apply it, commit; record a crash.

Used by the CLI (single file and nightly), the upload page and the push API, so they all behave
the same way.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app import clock
from app.errors import NotFound
from app.models import ImportRun, Shop
from importers.json_feed import JsonPullSource
from importers.merge import SourceFile, apply_snapshot, describe_file, record_failure
from importers.records import StockSource
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
        try:
            source = open_source(path, format=format or shop.feed_format,
                                 encoding=shop.feed_encoding, price_unit=shop.feed_price_unit,
                                 location_code=shop.feed_location_code)
        except ValueError as exc:  # an unknown forced format
            return _failed(factory, session, shop.id, file, format, exc)
        return _apply(factory, session, shop, source, file, force=force, exported_at=exported_at)


def _apply(factory: sessionmaker[Session], session: Session, shop: Shop, source: StockSource,
           file: SourceFile, *, force: bool, exported_at: datetime | None) -> RunResult:
    try:
        run = apply_snapshot(session, shop=shop, source=source, file=file, force=force,
                             exported_at=exported_at)
        session.commit()
        return RunResult(run.id, run.status)
    except Exception as exc:
        return _failed(factory, session, shop.id, file, source.format, exc)


def _failed(factory: sessionmaker[Session], session: Session, shop_id: int, file: SourceFile,
            format: str | None, exc: Exception) -> RunResult:
    session.rollback()
    logger.exception("shop %s: import of %s failed", shop_id, file.name)
    failed = _record_failure(factory, shop_id, file, format, exc)
    return RunResult(failed.id, failed.status)


def pull_auth(url: str) -> tuple[str, tuple[str, str] | None]:
    """Basic-auth credentials ride in the configured URL's user info; they never reach a log."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, None
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return clean, (unquote(parts.username), unquote(parts.password or ""))


def import_pull(factory: sessionmaker[Session], *, shop_slug: str, force: bool = False,
                timeout_s: float = 20) -> RunResult:
    """Pull a shop's stock from its till vendor's API (`feed_pull_url`) and apply it.

    A pulled snapshot has no file to hash: its fingerprint is the URL and the pull time, so the
    duplicate gate never skips it, while every other gate applies as for a file.
    """
    pulled_at = clock.now()
    with factory() as session:
        shop = find_shop(session, shop_slug)
        if not shop.feed_pull_url:
            raise NotFound(f"shop {shop_slug} has no pull URL", code="no_pull_url")
        url, auth = pull_auth(shop.feed_pull_url)
        fingerprint = hashlib.sha256(f"{url}\n{pulled_at.isoformat()}".encode()).hexdigest()
        file = SourceFile(name=url, sha256=fingerprint, mtime=pulled_at)
        source = JsonPullSource(url, price_unit=shop.feed_price_unit, auth=auth,
                                timeout_s=timeout_s)
        return _apply(factory, session, shop, source, file, force=force, exported_at=None)


def _record_failure(factory: sessionmaker[Session], shop_id: int, file: SourceFile,
                    format: str | None, exc: Exception) -> ImportRun:
    with factory() as session:
        shop = session.get(Shop, shop_id)
        assert shop is not None
        run = record_failure(session, shop=shop, file=file, format=format, error=exc)
        session.commit()
        return run
