"""Races on committed data with real concurrent connections: imports during reservations, and
two staff actions on one reservation at once."""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from app.clock import database_now
from app.errors import Conflict
from app.models import ImportRun, Reservation, Shop, StockLine
from app.reservations.lifecycle import MAX_ACTIVE_PER_CONTACT
from app.reservations.reserve import Customer, reserve
from app.reservations.transitions import transition
from importers.pipeline import import_file
from tests.concurrency import outcomes_at_once
from tests.factories import point
from tests.stock_helpers import delete_orphan_editions, write_csv

ISBN = "9782070368228"


@pytest.fixture()
def shop(engine: Engine) -> Iterator[tuple[sessionmaker[Session], Shop]]:
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with factory() as session:
        started = session.scalar(select(func.clock_timestamp()))
        shop = Shop(slug=f"race-{os.getpid()}-{time.monotonic_ns()}", name="Course",
                    location=point(44.84, -0.58), opening_hours="Mo-Su 00:00-24:00")
        session.add(shop)
        session.flush()
        session.add(StockLine(shop_id=shop.id, isbn13=ISBN, code_kind="isbn", on_hand=40,
                              exported_at=database_now(session)))
        session.commit()
    yield factory, shop
    with factory() as session:
        for model in (Reservation, ImportRun, StockLine):
            session.execute(delete(model).where(model.shop_id == shop.id))
        session.execute(delete(Shop).where(Shop.id == shop.id))
        delete_orphan_editions(session, since=started)
        session.commit()


def test_a_nightly_import_during_reservations_refuses_no_one(
    shop: tuple[sessionmaker[Session], Shop], tmp_path: Path
) -> None:
    factory, s = shop
    stop = threading.Event()
    imports: list[str] = []

    def import_loop() -> None:
        n = 0
        while not stop.is_set():
            n += 1  # each file differs (a comment column), so none is skipped as a duplicate
            path = write_csv(tmp_path, f"night{n}.csv", ["EAN;Stock;Note", f"{ISBN};40;{n}"])
            imports.append(import_file(factory, shop=s, path=path, force=True).status)

    def one_reader(n: int) -> str:
        with factory() as session:
            done = reserve(session, requester="form", shop_slug=s.slug, isbn13=ISBN, secret="race",
                           customer=Customer(name=f"R{n}", email=f"r{n}@example.org", phone=None))
            session.commit()
            return done.reservation.state

    importer = threading.Thread(target=import_loop)
    importer.start()
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            states = list(pool.map(one_reader, range(30)))
    finally:
        stop.set()
        importer.join()
    assert states == ["held"] * 30
    assert imports and set(imports) == {"applied"}


@pytest.mark.parametrize(("first", "second"), [("confirmed", "expired"),
                                               ("collected", "cancelled")])
def test_two_changes_at_once_exactly_one_wins(shop: tuple[sessionmaker[Session], Shop],
                                              first: str, second: str) -> None:
    factory, s = shop
    for _round in range(5):
        with factory() as session:
            r = reserve(session, requester="form", shop_slug=s.slug, isbn13=ISBN, secret="race",
                        customer=Customer(name="R", email=f"x{time.monotonic_ns()}@example.org",
                                          phone=None)).reservation
            if second == "expired":  # due now: confirming and expiring are both possible
                session.flush()
                r.expires_at = session.scalar(select(func.clock_timestamp()))
            session.commit()
            reservation_id = r.id
        barrier = threading.Barrier(2)

        def act(target: str, barrier: threading.Barrier = barrier,
                reservation_id: int = reservation_id) -> str:
            actor = {"expired": "system", "cancelled": "reader"}.get(target, "staff")
            with factory() as session:
                barrier.wait()
                try:
                    transition(session, reservation_id=reservation_id, target=target,
                               actor=actor, shop_ids=[s.id] if actor == "staff" else None)
                    session.commit()
                    return target
                except Conflict:
                    session.rollback()
                    return "lost"

        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(act, [first, second]))
        assert results.count("lost") == 1, results
        with factory() as session:
            assert session.get(Reservation, reservation_id).state in results


def test_a_reader_cannot_pass_the_hold_limit_by_sending_at_once(
        shop: tuple[sessionmaker[Session], Shop]) -> None:
    """Six reservations of six books by one reader, all at once: the per-reader limit holds
    (each locks its own stock line, so only the reader's contact lock serialises them)."""
    factory, s = shop
    isbns = [ISBN, "9782330090159", "9782070360024", "9782070413119", "9782070379248",
             "9782070360536"]
    with factory() as session:
        session.add_all(StockLine(shop_id=s.id, isbn13=isbn, code_kind="isbn", on_hand=5,
                                  exported_at=database_now(session)) for isbn in isbns[1:])
        session.commit()
    reader = Customer(name="Pressé", email=f"presse-{os.getpid()}@example.org", phone=None)

    outcomes = outcomes_at_once(factory, lambda session, isbn: reserve(
        session, shop_slug=s.slug, isbn13=isbn, customer=reader, secret="race",
        requester="form"), isbns, success="held")
    assert outcomes == ["held"] * MAX_ACTIVE_PER_CONTACT + ["too_many_holds"] * (
        len(isbns) - MAX_ACTIVE_PER_CONTACT)
