"""Imports against committed data and real concurrent connections: serialised, crash-safe."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.models import ImportRun, Network, Shop
from importers.merge import ADVISORY_NAMESPACE, ImportLimits, lock_shop
from importers.pipeline import import_file, shop_by_slug
from importers.report import RunResult
from tests.factories import point
from tests.stock_helpers import STOCK_DATA, delete_orphan_editions, shelf

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def committed_shop(engine: Engine) -> Iterator[tuple[sessionmaker[Session], int, str]]:
    """A shop committed for real (other connections must see it), removed afterwards."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    slug = f"concurrent-{os.getpid()}-{time.monotonic_ns()}"
    with factory() as session:
        started = session.scalar(select(func.clock_timestamp()))
        shop = Shop(slug=slug, name="Librairie concurrente", location=point(44.84, -0.58))
        session.add(shop)
        session.commit()
        shop_id = shop.id
    yield factory, shop_id, slug
    with factory() as session:
        session.execute(delete(ImportRun).where(ImportRun.shop_id == shop_id))
        session.execute(delete(Shop).where(Shop.id == shop_id))
        session.execute(delete(Network).where(~Network.shops.any()))
        delete_orphan_editions(session, since=started)
        session.commit()


def committed(factory: sessionmaker[Session], slug: str) -> Shop:
    with factory() as session:
        return shop_by_slug(session, slug)


def test_two_imports_of_one_shop_never_interleave(
    committed_shop: tuple[sessionmaker[Session], int, str]
) -> None:
    factory, shop_id, slug = committed_shop
    finished = threading.Event()
    statuses: list[str] = []

    def second_import() -> None:
        statuses.append(import_file(factory, shop=committed(factory, slug),
                                    path=STOCK_DATA / "scanner_dump.txt").status)
        finished.set()

    with factory() as holder:
        lock_shop(holder, shop_id)  # an import of this shop "in progress"
        worker = threading.Thread(target=second_import)
        worker.start()
        assert not finished.wait(1.0), "the second import did not wait for the first"
        holder.commit()
    assert finished.wait(30)
    worker.join()
    assert statuses == ["applied"]
    with factory() as session:
        assert shelf(session, shop_id) == {"9782070368228": 4, "9782890061231": 1}


def test_nightly_workers_import_other_shops_while_one_waits(
    engine: Engine, app: Flask, tmp_path: Path
) -> None:
    """With two workers, a shop whose import is stuck (here: locked) does not hold up the rest."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    app.extensions["rayons.sessionmaker"] = factory
    app.config["IMPORT_LOCK_WAIT_S"] = 120  # stuck, not refused: the holder lets go below
    prefix = f"night-{os.getpid()}-{time.monotonic_ns()}"
    with factory() as session:
        started = session.scalar(select(func.clock_timestamp()))
        shops = [Shop(slug=f"{prefix}-{n}", name=f"Librairie {n}", location=point(44.84, -0.58))
                 for n in ("a", "b", "c")]
        session.add_all(shops)
        session.commit()
        ids = [shop.id for shop in shops]
    for shop in shops:
        (tmp_path / shop.slug).mkdir()
        shutil.copy(STOCK_DATA / "scanner_dump.txt", tmp_path / shop.slug / "stock.txt")
    (tmp_path / shops[2].slug / "stock.txt").write_bytes(b"")  # refused: the shop is told
    outputs: list[Result] = []
    try:
        with factory() as holder:
            lock_shop(holder, ids[0])  # the first shop of the night is stuck
            night = threading.Thread(target=lambda: outputs.append(app.test_cli_runner().invoke(
                args=["stock", "nightly", "--workers", "2", str(tmp_path)])))
            night.start()
            deadline = time.monotonic() + 30
            while not (tmp_path / shops[2].slug / "rejected").exists():
                assert time.monotonic() < deadline, "the other shops waited for the stuck one"
                time.sleep(0.05)
            with factory() as session:
                assert shelf(session, ids[1]) == {"9782070368228": 4, "9782890061231": 1}
                assert shelf(session, ids[0]) == {}
            holder.commit()
        night.join(60)
        [result] = outputs
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        table = [line.split()[:2] for line in lines[lines.index(next(
            line for line in lines if line.startswith("shop "))) + 1:]]
        assert table == [[shops[0].slug, "applied"], [shops[1].slug, "applied"],
                         [shops[2].slug, "rejected"]]
        with factory() as session:
            assert shelf(session, ids[0]) == {"9782070368228": 4, "9782890061231": 1}
    finally:
        with factory() as session:
            session.execute(delete(ImportRun).where(ImportRun.shop_id.in_(ids)))
            session.execute(delete(Shop).where(Shop.id.in_(ids)))
            delete_orphan_editions(session, since=started)
            session.commit()


def big_file(path: Path, lines: int, quantity: int) -> Path:
    with path.open("w") as handle:
        handle.write("EAN;Stock\n")
        for i in range(lines):
            body = f"978{i:09d}"
            weighted = sum((1 if k % 2 == 0 else 3) * int(d) for k, d in enumerate(body))
            check = (10 - weighted % 10) % 10
            handle.write(f"{body}{check};{quantity}\n")
    return path


def start_import(slug: str, path: Path, database_url: str,
                 **settings: str) -> subprocess.Popen[bytes]:
    """`flask stock import` of a file in a process of its own, with these environment settings."""
    env = {**os.environ, "DATABASE_URL": database_url, **settings}
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "stock", "import", "--shop", slug,
         "--force", str(path)], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for(session: Session, sql: str, *, until: bool, what: str, seconds: float = 60,
             **params: object) -> None:
    """Poll a yes/no query on committed data until it gives `until`, failing past a deadline."""
    deadline = time.monotonic() + seconds
    while bool(session.scalar(text(sql), params)) != until:
        session.rollback()
        if time.monotonic() > deadline:
            pytest.fail(what)
        time.sleep(0.05)
    session.rollback()


COPYING = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY stock_staging%'"
SHOP_LOCKED = ("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
               "AND classid = :ns AND objid = :shop")


def import_scanner_file(factory: sessionmaker[Session], slug: str,
                        limits: ImportLimits) -> RunResult:
    return import_file(factory, shop=committed(factory, slug),
                       path=STOCK_DATA / "scanner_dump.txt", limits=limits)


def gate_of(session: Session, run_id: int) -> tuple[str | None, str | None]:
    run = session.get(ImportRun, run_id)
    assert run is not None
    return run.gate, run.gate_message


def run_statuses(session: Session, shop_id: int) -> list[tuple[int, str]]:
    session.expire_all()
    return list(session.execute(select(ImportRun.id, ImportRun.status)
                                .where(ImportRun.shop_id == shop_id).order_by(ImportRun.id)))


def test_an_import_killed_midway_leaves_the_previous_stock_and_a_trace(
    committed_shop: tuple[sessionmaker[Session], int, str], app: Flask, database_url: str,
    tmp_path: Path
) -> None:
    factory, shop_id, slug = committed_shop
    first = big_file(tmp_path / "night1.csv", 2_000, 1)
    applied = import_file(factory, shop=committed(factory, slug), path=first)
    assert applied.status == "applied"
    with factory() as session:
        before = shelf(session, shop_id)
    process = start_import(slug, big_file(tmp_path / "night2.csv", 300_000, 7), database_url)
    try:
        with factory() as session:
            wait_for(session, COPYING, until=True, what="the import never reached its COPY")
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(30)
    with factory() as session:
        # The server noticed the dead client and rolled its transaction back...
        wait_for(session, COPYING, until=False, what="the dead import's COPY ran on", seconds=30)
        assert shelf(session, shop_id) == before
        # ...but not its run, recorded before the work started: the history shows it.
        runs = run_statuses(session, shop_id)
        assert [status for _, status in runs] == ["applied", "running"]
        dead = runs[1][0]
    # The shop's next import finds it dead, says so, and goes ahead.
    app.extensions["rayons.sessionmaker"] = factory
    result = app.test_cli_runner().invoke(args=["stock", "import", "--shop", slug, str(first)])
    assert result.exit_code == 0, result.output
    assert f"found earlier run(s) {dead} interrupted" in result.output
    with factory() as session:
        runs = run_statuses(session, shop_id)
        assert [status for _, status in runs] == ["applied", "interrupted", "skipped_duplicate"]
        after = runs[2][0]
        run = session.get(ImportRun, dead)
        assert run is not None and run.finished_at is not None
        assert run.gate_message is not None and f"n° {after}" in run.gate_message
        assert shelf(session, shop_id) == before


def test_a_second_import_of_a_busy_shop_is_refused_after_the_wait(
    committed_shop: tuple[sessionmaker[Session], int, str]
) -> None:
    factory, shop_id, slug = committed_shop
    with factory() as holder:
        lock_shop(holder, shop_id)  # an import of this shop in progress
        refused = import_scanner_file(factory, slug, ImportLimits(lock_wait_s=1))
        holder.commit()
    assert refused.status == "rejected"
    with factory() as session:
        assert gate_of(session, refused.run_id) == (
            "import_in_progress",
            "une autre importation de cette librairie est en cours ; réessayez plus tard")
        assert shelf(session, shop_id) == {}
    again = import_scanner_file(factory, slug, ImportLimits(lock_wait_s=1))
    assert again.status == "applied"


WAITING_ON_SHOP = ("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                   "AND query LIKE 'UPDATE shop %'")


def hold_shop_row(holder: Session, shop_id: int) -> None:
    """Lock the shop's row as a long transaction would (FOR NO KEY UPDATE, so the run's record
    can still refer to the shop): a merge's last step waits on it."""
    holder.execute(select(Shop.id).where(Shop.id == shop_id).with_for_update(key_share=True))


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGSTOP], ids=["killed", "frozen"])
def test_an_import_stuck_in_a_statement_lets_go_of_its_shop(
    committed_shop: tuple[sessionmaker[Session], int, str], database_url: str, tmp_path: Path,
    stop: signal.Signals
) -> None:
    """An import waiting in a statement when its process is killed (its statement orphaned) or
    frozen (alive, silent) holds its shop only for a bounded time: the killed one until the
    server sees its client gone, the frozen one until its statement times out (3 s here; the
    default would be minutes). Either way the run it left `running` is then found dead."""
    factory, shop_id, slug = committed_shop
    process = start_import(slug, big_file(tmp_path / "stock.csv", 2_000, 1), database_url,
                           RAYONS_IMPORT_STATEMENT_TIMEOUT="3" if stop == signal.SIGSTOP
                           else "600")
    try:
        with factory() as holder, factory() as session:
            hold_shop_row(holder, shop_id)
            wait_for(session, WAITING_ON_SHOP, until=True,
                     what="the import never reached the shop's row")
            os.kill(process.pid, stop)
            [(stuck, status)] = run_statuses(session, shop_id)
            assert status == "running"
            # Unbounded, the shop would stay locked as long as the row (the whole test).
            wait_for(session, SHOP_LOCKED, until=False, what="the stuck import kept the shop",
                     seconds=30, ns=ADVISORY_NAMESPACE, shop=shop_id)
            holder.commit()
        result = import_scanner_file(factory, slug, ImportLimits(lock_wait_s=1))
        assert (result.status, result.interrupted) == ("applied", (stuck,))
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
    with factory() as session:
        assert run_statuses(session, shop_id) == [(stuck, "interrupted"),
                                                  (result.run_id, "applied")]


def test_a_statement_over_its_timeout_fails_the_run_and_keeps_the_stock(
    committed_shop: tuple[sessionmaker[Session], int, str]
) -> None:
    """Here the merge waits on the shop's row, held by another transaction, for longer than a
    statement may run: the run fails, recorded once (no `running` row left behind)."""
    factory, shop_id, slug = committed_shop
    with factory() as holder:
        hold_shop_row(holder, shop_id)
        result = import_scanner_file(factory, slug, ImportLimits(statement_timeout_s=1))
        holder.commit()
    assert result.status == "failed"
    with factory() as session:
        assert run_statuses(session, shop_id) == [(result.run_id, "failed")]
        assert gate_of(session, result.run_id) == (
            "timeout", "l'importation a dépassé le temps permis pour une étape")
        assert shelf(session, shop_id) == {}
