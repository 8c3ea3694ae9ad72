"""Test fixtures on a real PostGIS.

`make test` (scripts/rayons.sh) starts the private cluster, creates a fresh `rayons_test_<pid>`
database, exports its URL as RAYONS_TEST_DATABASE_URL (or passes DATABASE_URL on when that is set:
it must be disposable) and drops it afterwards. Migrations run once per session; every test runs
inside an outer transaction that is rolled back, and the code under test commits into savepoints
(SQLAlchemy's "join into an external transaction"): the app's request and command sessions are
bound to the test's connection (`app` fixture), and so is the browser journeys' live server
(tests/e2e/conftest.py). Tests of concurrency and of gunicorn commit real data through their own
connections and remove it themselves.

No test may depend on the hour it runs at or on the tests before it: factories number their
names from 1 in every test (`_fresh_names`), and a test whose result depends on the time of day
pins the Python clock (`app.clock`) with the `pinned_clock` fixture. SQL keeps the database's
clock; factories take the times SQL compares from it (see `tests/factories.py`).
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from app import create_app, migrate, outbox
from app.db import make_engine
from app.limits import limiter
from tests.factories import reset_names

# A Tuesday morning in Bordeaux: the factories' shops (Tu-Sa 09:30-12:30,14:00-19:00) are open.
PINNED_AT = datetime.fromisoformat("2026-11-24T10:00:00+01:00")


@pytest.fixture(autouse=True)
def _fresh_names() -> None:
    reset_names()


@pytest.fixture(scope="session", autouse=True)
def _moved_clock() -> Iterator[None]:
    """RAYONS_TEST_CLOCK=<ISO moment> runs the whole suite with the Python clock started there
    and ticking, to show that no test depends on the hour, the weekday or a DST change.

    It moves what `app.clock` and `datetime.now` read in the test process (the app under test,
    the browser journeys' live server), not the database's clock nor other processes, as a
    deployment whose app servers and database disagree by hours would not work either. Unlike
    libfaketime, it leaves `time.sleep` and the monotonic clock alone.
    """
    moment = os.environ.get("RAYONS_TEST_CLOCK")
    if not moment:
        yield
        return
    with time_machine.travel(datetime.fromisoformat(moment), tick=True):
        yield


@pytest.fixture()
def pinned_clock() -> Iterator[Callable[[datetime], None]]:
    """Stop the Python clock at PINNED_AT; call the fixture's value to move it elsewhere."""
    with time_machine.travel(PINNED_AT, tick=False) as traveller:
        yield traveller.move_to


@pytest.fixture(scope="session")
def database_url() -> str:
    url = os.environ.get("RAYONS_TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not url:
        pytest.exit("no test database: run `make test` (or set DATABASE_URL to a disposable "
                    "PostGIS database)", returncode=2)
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    with engine.begin() as conn:
        migrate.upgrade(connection=conn)
    yield engine
    engine.dispose()


@pytest.fixture()
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture()
def test_sessionmaker(connection: Connection) -> sessionmaker[Session]:
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                        expire_on_commit=False)


@pytest.fixture()
def session(test_sessionmaker: sessionmaker[Session]) -> Iterator[Session]:
    with test_sessionmaker() as session:
        yield session


@pytest.fixture()
def make_app(database_url: str, test_sessionmaker: sessionmaker[Session]
             ) -> Callable[..., Flask]:
    """Build the test app, with more configuration for the tests that need it."""
    def make(**overrides: object) -> Flask:
        app = create_app({"TESTING": True, "DATABASE_URL": database_url,
                          "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False,
                          "MAIL_BACKEND": "locmem", **overrides})
        app.extensions["rayons.sessionmaker"] = test_sessionmaker
        app.extensions["rayons.read_sessionmaker"] = test_sessionmaker
        if app.config["RATELIMIT_STORAGE_URI"] == "memory://":
            with app.app_context():
                limiter.reset()  # each test starts with fresh rate-limit counters
        return app
    return make


@pytest.fixture()
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture()
def deliver_mail(app: Flask, test_sessionmaker: sessionmaker[Session]
                 ) -> Callable[[], list[Any]]:
    """Run one pass of the mail worker over the test's data (what `flask mail work` does after
    a request's commit); returns every message the locmem backend has received so far."""
    def deliver() -> list[Any]:
        with app.app_context():
            outbox.send_due(test_sessionmaker)
        return list(getattr(app.extensions["mailman"], "outbox", []))
    return deliver


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def cli(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()
