"""The pipeline's failure paths: a crash becomes a `failed` run, the night carries on.

Failures come from real bad input or from a failing `on_finished` step, never from a mocked
database: the crash happens in PostgreSQL or in the caller's own code.
"""
from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.models import ImportRejection, ImportRun, Shop
from importers.pipeline import NightLine, import_file, import_night
from importers.report import RunResult, run_by_id
from tests.factories import make_shop
from tests.stock_helpers import STOCK_DATA, shelf

SCANNER_SHELF = {"9782070368228": 4, "9782890061231": 1}


def runs_of(session: Session, shop_id: int) -> list[ImportRun]:
    session.expire_all()
    return list(session.scalars(select(ImportRun).where(ImportRun.shop_id == shop_id)
                                .order_by(ImportRun.id)))


def stock_date(session: Session, shop: Shop) -> datetime | None:
    session.refresh(shop)
    return shop.stock_exported_at


def test_a_crash_inside_the_merge_is_a_failed_run_and_the_stock_stays(
    session: Session, test_sessionmaker: sessionmaker[Session], tmp_path: Path
) -> None:
    shop = make_shop(session)
    first = import_file(test_sessionmaker, shop=shop, path=STOCK_DATA / "scanner_dump.txt")
    assert first.status == "applied"
    dated = stock_date(session, shop)
    # Each count is bounded, but not the sum of a code's duplicate lines: past a PostgreSQL
    # integer, the merge's sum fails inside the merge, after the run started.
    too_many = tmp_path / "stock.json"
    too_many.write_text(json.dumps({"stocks": [{"ref": "9782070368228", "available": 1}] + [
        {"ref": "9782890061231", "available": 100_000}] * 21_475}), encoding="utf-8")
    failed = import_file(test_sessionmaker, shop=shop, path=too_many)
    assert failed.status == "failed"
    assert shelf(session, shop.id) == SCANNER_SHELF
    assert stock_date(session, shop) == dated
    runs = runs_of(session, shop.id)
    # The crash rolled the work back; the run ends `failed`, recorded in a transaction of its
    # own, and nothing else of the crashed run survives (the run's row itself was committed
    # before the work: test_stock_concurrency shows it with real connections).
    assert [(r.id, r.status) for r in runs] == [(first.run_id, "applied"),
                                                 (failed.run_id, "failed")]
    run = runs[1]
    assert (run.format, run.source_name, run.gate) == ("json", "stock.json", "internal_error")
    assert run.gate_message == "erreur inattendue pendant l'import : DataError"
    assert run.finished_at is not None and run.lines_read == 0
    assert session.scalars(select(ImportRejection)
                           .where(ImportRejection.import_run_id == run.id)).all() == []


def test_an_unknown_forced_format_is_a_failed_run(
    session: Session, test_sessionmaker: sessionmaker[Session]
) -> None:
    shop = make_shop(session)
    import_file(test_sessionmaker, shop=shop, path=STOCK_DATA / "scanner_dump.txt")
    result = import_file(test_sessionmaker, shop=shop, path=STOCK_DATA / "scanner_dump.txt",
                         format="pdf", force=True)
    assert result.status == "failed"
    run = runs_of(session, shop.id)[-1]
    assert (run.id, run.format, run.gate) == (result.run_id, "pdf", "internal_error")
    assert run.gate_message == "erreur inattendue pendant l'import : ValueError"
    assert shelf(session, shop.id) == SCANNER_SHELF


def drop(folder: Path, slug: str, sample: str) -> Path:
    (folder / slug).mkdir()
    return Path(shutil.copy(STOCK_DATA / sample, folder / slug / "stock.txt"))


def test_a_crashing_shop_fails_alone_in_the_night(
    session: Session, test_sessionmaker: sessionmaker[Session], tmp_path: Path
) -> None:
    first, crashing, last = (make_shop(session, slug=s) for s in ("a-first", "b-crash", "c-last"))
    for shop in (first, crashing, last):
        drop(tmp_path, shop.slug, "scanner_dump.txt")
    finished: list[RunResult] = []

    def mail_step(result: RunResult) -> None:
        """The edge's step after each committed run: it breaks on one shop's run."""
        finished.append(result)
        if run_by_id(session, result.run_id).shop_id == crashing.id:
            raise RuntimeError("mail server exploded")

    # One worker: the test's sessions share one connection.
    lines = list(import_night(test_sessionmaker, drop_dir=tmp_path, workers=1,
                              on_finished=mail_step))
    assert [(n.slug, n.status, n.detail) for n in lines] == [
        ("a-first", "applied", ""),
        ("b-crash", "failed", "erreur inattendue : RuntimeError"),
        ("c-last", "applied", ""),
    ]
    assert lines[1].run_id is None and lines[1].lines == 0
    assert [line.lines for line in (lines[0], lines[2])] == [5, 5]
    assert len(finished) == 3  # the step ran for every shop, the crash stopped no one
    assert shelf(session, first.id) == shelf(session, last.id) == SCANNER_SHELF
    for shop in (first, last):
        assert [p.name for p in (tmp_path / shop.slug / "done").iterdir()] == ["stock.txt"]


def test_a_drop_folder_naming_no_shop_is_reported_and_left_alone(
    session: Session, test_sessionmaker: sessionmaker[Session], tmp_path: Path
) -> None:
    shop = make_shop(session, slug="known")
    drop(tmp_path, shop.slug, "scanner_dump.txt")
    stray = drop(tmp_path, "nobody-here", "scanner_dump.txt")
    night = import_night(test_sessionmaker, drop_dir=tmp_path, workers=1)
    assert len(night) == 2
    lines = sorted(night, key=lambda line: line.position)
    assert lines == [
        NightLine(0, "known", "applied", lines[0].run_id, "", lines[0].seconds,
                  lines=5, added=2, changed=0, zeroed=0, rejected=0),
        NightLine(1, "nobody-here", "failed", None, "unknown shop: nobody-here",
                  lines[1].seconds),
    ]
    assert stray.exists() and not (tmp_path / "nobody-here" / "rejected").exists()
    assert shelf(session, shop.id) == SCANNER_SHELF


def test_night_lines_count_what_each_run_did(
    session: Session, test_sessionmaker: sessionmaker[Session], tmp_path: Path
) -> None:
    shop = make_shop(session, slug="counted")
    drop(tmp_path, shop.slug, "fr_pos_export_cp1252.csv")
    (line,) = import_night(test_sessionmaker, drop_dir=tmp_path, workers=1)
    run = runs_of(session, shop.id)[-1]
    assert (line.run_id, line.status) == (run.id, "applied")
    assert (line.lines, line.added, line.changed, line.zeroed, line.rejected) == \
        (run.lines_read, run.added, run.changed, run.zeroed, run.rejected_lines) == (8, 7, 0, 0, 0)
