"""Never oversold: many readers racing for few copies through the real HTTP stack."""
from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from app.clock import database_now
from app.models import Reservation, Shop, StockLine
from tests.factories import point
from tests.live_gunicorn import gunicorn

ISBN = "9782070368228"
REQUESTS = 200


@pytest.fixture()
def committed(engine: Engine) -> Iterator[tuple[sessionmaker[Session], list[int]]]:
    """A session factory on committed data, and the shops made with it, removed afterwards."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    created: list[int] = []
    yield factory, created
    with factory() as session:
        session.execute(delete(Reservation).where(Reservation.shop_id.in_(created)))
        session.execute(delete(Shop).where(Shop.id.in_(created)))
        session.commit()


def committed_shop(factory: sessionmaker[Session], created: list[int], copies: int) -> str:
    slug = f"race-{os.getpid()}-{time.monotonic_ns()}"
    with factory() as session:
        shop = Shop(slug=slug, name="Librairie disputée", location=point(44.84, -0.58),
                    opening_hours="Mo-Su 00:00-24:00")
        session.add(shop)
        session.flush()
        session.add(StockLine(shop_id=shop.id, isbn13=ISBN, code_kind="isbn", on_hand=copies,
                              exported_at=database_now(session)))
        session.commit()
        created.append(shop.id)
    return slug


def post(base: str, slug: str, n: int) -> int:
    body = json.dumps({"shop": slug, "isbn": ISBN, "name": f"Lecteur {n}",
                       "email": f"lecteur{n}@example.org"}).encode()
    request = urllib.request.Request(base + "/api/v1/reservations", data=body, method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Idempotency-Key": f"{slug}-{n}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@pytest.mark.parametrize("copies", [1, 3])
def test_never_oversold(committed: tuple[sessionmaker[Session], list[int]], database_url: str,
                        copies: int) -> None:
    sessions, created = committed
    with gunicorn(database_url) as base:
        for _round in range(2):
            slug = committed_shop(sessions, created, copies)
            with ThreadPoolExecutor(max_workers=50) as pool:
                statuses = Counter(pool.map(lambda n, s=slug: post(base, s, n), range(REQUESTS)))
            assert statuses == {201: copies, 409: REQUESTS - copies}, statuses
            with sessions() as session:
                held = session.scalars(select(Reservation)
                                       .join(Shop, Shop.id == Reservation.shop_id)
                                       .where(Shop.slug == slug))
                assert len(list(held)) == copies
