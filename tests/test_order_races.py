"""One reader's order requests sent at once, and two staff clicks on one order, on committed
data with real concurrent connections."""
from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from app.errors import Conflict
from app.models import OrderRequest, OutboxMail, SearchMiss, Shop
from app.orders import lifecycle
from app.orders.request import request_order
from app.orders.transitions import transition
from app.reservations.reserve import Customer
from tests.concurrency import outcomes_at_once
from tests.factories import point

ISBNS = ["9782070368228", "9782330090159", "9782070360024", "9782070413119", "9782070379248",
         "9782070360536"]


@pytest.fixture()
def shop(engine: Engine) -> Iterator[tuple[sessionmaker[Session], Shop]]:
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with factory() as session:
        shop = Shop(slug=f"order-race-{os.getpid()}-{time.monotonic_ns()}", name="Course",
                    postcode="99000", location=point(44.84, -0.58))
        session.add(shop)
        session.commit()
    yield factory, shop
    with factory() as session:
        ids = select(OrderRequest.id).where(OrderRequest.shop_id == shop.id)
        session.execute(delete(OutboxMail).where(OutboxMail.order_request_id.in_(ids)))
        session.execute(delete(OrderRequest).where(OrderRequest.shop_id == shop.id))
        session.execute(delete(SearchMiss).where(SearchMiss.area == "99"))
        session.execute(delete(Shop).where(Shop.id == shop.id))
        session.commit()


def test_a_reader_cannot_pass_the_limit_by_sending_at_once(
        shop: tuple[sessionmaker[Session], Shop]) -> None:
    factory, s = shop
    reader = Customer(name="Pressé", email=f"presse-{os.getpid()}@example.org", phone=None)

    outcomes = outcomes_at_once(factory, lambda session, isbn: request_order(
        session, shop_slug=s.slug, isbn13=isbn, customer=reader, secret="race",
        requester="form"), ISBNS + ISBNS[:2], success="requested")
    assert outcomes.count("requested") == lifecycle.MAX_ACTIVE_PER_CONTACT
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(OrderRequest).where(
            OrderRequest.shop_id == s.id)) == lifecycle.MAX_ACTIVE_PER_CONTACT


def test_two_staff_clicks_at_once_change_an_order_once(
        shop: tuple[sessionmaker[Session], Shop]) -> None:
    factory, s = shop
    with factory() as session:
        order_id = request_order(session, shop_slug=s.slug, isbn13=ISBNS[0], secret="race",
                                 requester="form", customer=Customer(
                                     name="R", email=f"r-{os.getpid()}@example.org",
                                     phone=None)).order.id
        session.commit()

    def click(target: str) -> str:
        with factory() as session:
            try:
                transition(session, order_id=order_id, target=target, actor="staff",
                           shop_ids=[s.id], reason="out_of_print")
                session.commit()
                return "won"
            except Conflict:
                session.rollback()
                return "lost"

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(click, [lifecycle.ARRIVED, lifecycle.DECLINED]))
    assert outcomes == ["lost", "won"]
    with factory() as session:
        kinds = session.scalars(select(OutboxMail.kind).where(
            OutboxMail.order_request_id == order_id)).all()
    assert len([k for k in kinds if k in ("order_arrived", "order_declined")]) == 1


def test_a_double_click_sent_twice_at_once_replays_the_first(
        shop: tuple[sessionmaker[Session], Shop]) -> None:
    factory, s = shop
    reader = Customer(name="Double", email=f"double-{os.getpid()}@example.org", phone=None)

    def send(_: int) -> tuple[int, bool]:
        with factory() as session:
            done = request_order(session, shop_slug=s.slug, isbn13=ISBNS[0], customer=reader,
                                 secret="race", requester="form", idempotency_key="same-form")
            session.commit()
            return done.order.id, done.replayed

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(send, range(2)))
    assert outcomes[0][0] == outcomes[1][0] and sorted(r for _, r in outcomes) == [False, True]
