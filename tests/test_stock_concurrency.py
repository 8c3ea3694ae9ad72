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
from importers.merge import lock_shop
from importers.pipeline import import_file, shop_by_slug
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
    (tmp_path / shops[2].slug / "stock.txt").write_bytes(b"")  # refused: exit code 1
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
        assert result.exit_code == 1, result.output
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


def test_an_import_killed_midway_leaves_the_previous_stock(
    committed_shop: tuple[sessionmaker[Session], int, str], database_url: str, tmp_path: Path
) -> None:
    factory, shop_id, slug = committed_shop
    first = big_file(tmp_path / "night1.csv", 2_000, 1)
    assert import_file(factory, shop=committed(factory, slug), path=first).status == "applied"
    with factory() as session:
        before = shelf(session, shop_id)
    second = big_file(tmp_path / "night2.csv", 300_000, 7)
    env = {**os.environ, "DATABASE_URL": database_url}
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "stock", "import", "--shop", slug,
         "--force", str(second)], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with factory() as session:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                copying = session.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY stock_staging%'"))
                session.rollback()
                if copying:
                    break
                time.sleep(0.05)
            else:
                pytest.fail("the import never reached its COPY")
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(30)
    with factory() as session:
        # The server noticed the dead client and rolled its transaction back.
        deadline = time.monotonic() + 30
        while session.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY stock_staging%'")):
            session.rollback()
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert shelf(session, shop_id) == before
        runs = session.scalars(select(ImportRun.status).where(ImportRun.shop_id == shop_id))
        assert list(runs) == ["applied"]
