"""Reads on a real streaming replica, writes and read-your-writes on the primary.

The module makes its own small primary (`scripts/rayons.sh cluster` in a scratch folder, on a
free port) and a hot standby of it (`scripts/replica.sh start`, a `pg_basebackup -R`): the
shared development cluster holds gigabytes of other runs' databases, and a base backup of it
would take longer than these tests. Data is committed for real (a replica only sees commits)
and every table emptied after each test.

A paused replay is the proof of where a page read: the primary has changed, the replica still
shows the old state. A replica that lags past the threshold, or stops, is bypassed: the same
pages then show the primary's state, with no error.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from app import create_app, migrate
from app.db import Base, make_engine, make_read_engine
from app.models import SearchMiss, Shop, StockLine
from app.replica import ReplicaMonitor
from app.session import READ_SESSIONMAKER, REPLICA_MONITOR, REPLICA_SESSIONMAKER
from config import Config, ConfigError
from importers.pipeline import import_file
from tests.factories import make_shop
from tests.stock_helpers import write_csv
from tests.test_app import closed_port, unreachable_url

ROOT = Path(__file__).resolve().parent.parent
ISBN = "9782070360024"
PAU = "lieu=Pau"
T = TypeVar("T")
# Pages and API answers routed to the replica, each with the text that shows the shop holds the
# book (or is named so): present on the replica's old state, absent from the primary's new one.
OLD_NAME, NEW_NAME = "Librairie du Gave", "Le Gave renommé"
ROUTED_READS = [
    f"/livres/{ISBN}?{PAU}",
    f"/recherche?q=etranger+camus&{PAU}",
    "/",
    f"/widget?isbn={ISBN}&near=Pau",
    f"/api/v1/availability?isbn={ISBN}&near=Pau",
    "/api/v1/editions?q=etranger&near=Pau",
    "/api/v1/shops?near=Pau",
]


class Stack:
    """The scratch primary and its replica, driven by the project's own scripts."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = {**os.environ,
                    "RAYONS_PG_HOME": str(home / "primary"), "RAYONS_PG_PORT": str(closed_port()),
                    "RAYONS_PG_SHARED_BUFFERS": "128MB",
                    "REPLICA_HOME": str(home / "replica"), "REPLICA_PORT": str(closed_port())}
        self.env["REPLICA_PRIMARY_PORT"] = self.env["RAYONS_PG_PORT"]
        self.env.pop("DATABASE_URL", None)
        self.primary_url = self.script("rayons.sh", "cluster").strip()
        self.replica_url = (f"postgresql+psycopg://rayons@127.0.0.1:{self.env['REPLICA_PORT']}"
                            "/rayons")
        self.primary = make_engine(self.primary_url)
        with self.primary.begin() as conn:
            migrate.upgrade(connection=conn)
        self.script("replica.sh", "start")
        self.replica = make_engine(self.replica_url)

    def script(self, name: str, command: str) -> str:
        return _script(self.env, name, command)

    def commit(self, write: Callable[[Session], T]) -> T:
        """Write on the primary and commit, flushed at once (the cluster's default is not)."""
        with Session(self.primary, expire_on_commit=False) as session:
            session.execute(text("SET LOCAL synchronous_commit = on"))
            result = write(session)
            session.commit()
        return result

    def caught_up(self) -> None:
        """Wait until the replica has replayed everything the primary has written so far."""
        with self.primary.connect() as conn:
            position = conn.exec_driver_sql("SELECT CAST(pg_current_wal_lsn() AS text)").scalar()
        deadline = time.monotonic() + 10
        while True:
            with self.replica.connect() as conn:
                if conn.exec_driver_sql("SELECT pg_last_wal_replay_lsn() >= CAST(%(p)s AS pg_lsn)",
                                        {"p": position}).scalar():
                    return
            assert time.monotonic() < deadline, "the replica did not catch up"
            time.sleep(0.02)

    def empty(self) -> None:
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        self.commit(lambda session: session.execute(
            text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")))

    def close(self) -> None:
        self.primary.dispose()
        self.replica.dispose()
        _stop_clusters(self.env)


def _script(env: dict[str, str], name: str, command: str) -> str:
    done = subprocess.run(["bash", str(ROOT / "scripts" / name), command], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{name} {command}: {done.stderr}"
    return done.stdout


def _stop_clusters(env: dict[str, str]) -> None:
    _script(env, "replica.sh", "destroy")
    _script(env, "rayons.sh", "stop")


def _scratch_home() -> Path:
    """A folder named after this process that the clusters' owner can enter. Clusters left by
    a run that was killed are stopped and removed first: their folder names a dead process."""
    for stale in Path(tempfile.gettempdir()).glob("rayons-replica-test-*"):
        try:
            os.kill(int(stale.name.rsplit("-", 1)[1]), 0)
        except ProcessLookupError:
            _stop_clusters({**os.environ, "RAYONS_PG_HOME": str(stale / "primary"),
                            "REPLICA_HOME": str(stale / "replica")})
            shutil.rmtree(stale, ignore_errors=True)
    home = Path(tempfile.gettempdir()) / f"rayons-replica-test-{os.getpid()}"
    (home / "primary").mkdir(parents=True)
    home.chmod(0o755)
    if os.getuid() == 0:
        shutil.chown(home / "primary", "postgres", "postgres")
    return home


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    home = _scratch_home()
    try:
        stack = Stack(home)
        yield stack
        stack.close()
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _dispose(app: Flask) -> None:
    for key in ("rayons.sessionmaker", READ_SESSIONMAKER, REPLICA_SESSIONMAKER):
        app.extensions[key].kw["bind"].dispose()
    monitor: ReplicaMonitor = app.extensions[REPLICA_MONITOR]
    monitor.replica.dispose()


@pytest.fixture()
def replica_app(stack: Stack) -> Iterator[Flask]:
    """The app on the scratch primary and its replica, judging the replica at every read, with
    a threshold no test reaches unless it means to (it lowers it)."""
    app = create_app({"TESTING": True, "DATABASE_URL": stack.primary_url,
                      "DATABASE_REPLICA_URL": stack.replica_url,
                      "DATABASE_REPLICA_MAX_LAG_S": 60.0, "DATABASE_REPLICA_CHECK_S": 0.0,
                      "SECRET_KEY": "replica-test", "WTF_CSRF_ENABLED": False,
                      "MAIL_BACKEND": "locmem", "RATELIMIT_ENABLED": False, "MAP_TILE_URL": ""})
    yield app
    _dispose(app)
    stack.script("replica.sh", "start")
    stack.script("replica.sh", "resume")
    stack.empty()


@pytest.fixture()
def gave(stack: Stack, tmp_path: Path) -> Shop:
    """A Pau shop with two copies of L'Étranger, imported and committed; the replica has it."""
    shop = stack.commit(lambda session: make_shop(
        session, slug="gave", name=OLD_NAME, lat=43.2951, lon=-0.3708,
        opening_hours="Mo-Su 00:00-24:00"))
    csv = write_csv(tmp_path, "stock.csv", ["EAN;Titre;Auteur;Editeur;Stock",
                                            f"{ISBN};L'Étranger;Albert Camus;Folio;2"])
    result = import_file(sessionmaker(bind=stack.primary), shop=shop, path=csv)
    assert result.status == "applied"
    stack.caught_up()
    return shop


def _sold_out_and_renamed(stack: Stack, shop: Shop) -> None:
    def change(session: Session) -> None:
        session.execute(update(StockLine).where(StockLine.shop_id == shop.id)
                        .values(on_hand=0))
        session.execute(update(Shop).where(Shop.id == shop.id).values(name=NEW_NAME))
    stack.commit(change)


def _shows_the_shop(client: FlaskClient, path: str) -> bool:
    """Whether the answer shows the Gave holding the book (or, for the shop lists, its old
    name); never an error."""
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    body = response.get_data(as_text=True)
    if path.startswith("/recherche"):
        return "Aucune librairie" not in body
    if path.startswith("/api/v1/editions"):
        return bool(response.get_json()["editions"][0]["shops_with_copy"])
    return OLD_NAME in body


def test_pages_that_only_read_are_served_by_the_replica(stack: Stack, replica_app: Flask,
                                                        gave: Shop) -> None:
    client = replica_app.test_client()
    assert all(_shows_the_shop(client, path) for path in ROUTED_READS)
    stack.script("replica.sh", "pause")
    _sold_out_and_renamed(stack, gave)
    # The primary has no copy and a new name; the replica, paused, still shows the old state.
    assert {path: _shows_the_shop(client, path) for path in ROUTED_READS} == dict.fromkeys(
        ROUTED_READS, True)
    health = client.get("/healthz").get_json()["replica"]
    assert health["state"] == "ok" and health["lag_s"] > 0
    stack.script("replica.sh", "resume")
    stack.caught_up()
    assert not any(_shows_the_shop(client, path) for path in ROUTED_READS)
    assert client.get("/healthz").get_json()["replica"]["state"] == "ok"


def test_a_miss_counted_on_a_page_the_replica_serves_is_written_on_the_primary(
        stack: Stack, replica_app: Flask, gave: Shop) -> None:
    _sold_out_and_renamed(stack, gave)
    stack.caught_up()
    assert replica_app.test_client().get(f"/livres/{ISBN}?{PAU}").status_code == 200
    with Session(stack.primary) as session:
        assert session.scalars(select(SearchMiss.term)).all() == [ISBN]


def test_a_reservation_reads_its_own_write_on_the_primary(stack: Stack, replica_app: Flask,
                                                          gave: Shop) -> None:
    client = replica_app.test_client()
    stack.script("replica.sh", "pause")
    response = client.post(f"/reserver/gave/{ISBN}",
                           data={"name": "Camille", "email": "camille@example.org",
                                 "consent": "y"})
    assert response.status_code == 302
    # The replica has not replayed the reservation: its page could only come from the primary.
    assert client.get(response.headers["Location"]).status_code == 200
    made = client.post("/api/v1/reservations", json={
        "shop": "gave", "isbn": ISBN, "name": "Dominique", "email": "dominique@example.org"})
    assert made.status_code == 201
    assert client.get(f"/api/v1/reservations/{made.get_json()['code']}").status_code == 200
    # Both copies are held on the primary; the book page, on the paused replica, still offers
    # them (the reserve form, on the primary, says there is none left).
    assert _shows_the_shop(client, f"/livres/{ISBN}?{PAU}")
    form = client.get(f"/reserver/gave/{ISBN}").get_data(as_text=True)
    assert "Aucun exemplaire disponible dans cette librairie" in form


def _wait_for_state(client: FlaskClient, state: str) -> dict[str, Any]:
    """The replica part of /healthz once it says `state` (within 10 s)."""
    deadline = time.monotonic() + 10
    while True:
        replica: dict[str, Any] = client.get("/healthz").get_json()["replica"]
        if replica["state"] == state:
            return replica
        assert time.monotonic() < deadline, replica
        time.sleep(0.05)


def test_a_replica_lagging_past_the_threshold_is_bypassed(stack: Stack, replica_app: Flask,
                                                          gave: Shop) -> None:
    replica_app.config["DATABASE_REPLICA_MAX_LAG_S"] = 1.0
    monitor: ReplicaMonitor = replica_app.extensions[REPLICA_MONITOR]
    monitor.max_lag_s = 1.0
    client = replica_app.test_client()
    stack.script("replica.sh", "pause")
    _sold_out_and_renamed(stack, gave)
    lagging = _wait_for_state(client, "lagging")
    assert lagging["lag_s"] > 1.0
    # Past the threshold, reads go to the primary: the new state, no error.
    assert not any(_shows_the_shop(client, path) for path in ROUTED_READS)
    stack.script("replica.sh", "resume")
    _wait_for_state(client, "ok")
    assert not any(_shows_the_shop(client, path) for path in ROUTED_READS)


def test_a_stopped_replica_is_bypassed_without_an_error(stack: Stack, replica_app: Flask,
                                                        gave: Shop) -> None:
    monitor: ReplicaMonitor = replica_app.extensions[REPLICA_MONITOR]
    monitor.check_every_s = 3600  # the verdict says `ok` long after the replica stopped
    client = replica_app.test_client()
    assert all(_shows_the_shop(client, path) for path in ROUTED_READS)  # pooled connections
    stack.script("replica.sh", "pause")
    _sold_out_and_renamed(stack, gave)
    stack.script("replica.sh", "stop")
    # The first read fails on a dead connection, marks the replica down and runs on the primary.
    assert not any(_shows_the_shop(client, path) for path in ROUTED_READS)
    assert client.get("/healthz").get_json()["replica"] == {"state": "down", "lag_s": None}
    monitor.check_every_s = 0
    assert client.get("/healthz").get_json()["replica"]["state"] == "down"  # a check, refused
    stack.script("replica.sh", "start")
    _wait_for_state(client, "ok")


def test_an_unreachable_replica_leaves_reads_on_the_primary(database_url: str,
                                                           engine: Engine) -> None:
    app = create_app({"TESTING": True, "DATABASE_URL": database_url,
                      "DATABASE_REPLICA_URL": unreachable_url(), "RATELIMIT_ENABLED": False})
    client = app.test_client()
    try:
        assert client.get("/api/v1/shops?near=Pau").status_code == 200
        health = client.get("/healthz")
        assert health.status_code == 200
        assert health.get_json()["replica"] == {"state": "down", "lag_s": None}
    finally:
        _dispose(app)


def test_without_a_replica_healthz_says_none(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json()["replica"] == {"state": "none", "lag_s": None}


def test_read_connections_refuse_writes_on_the_primary_too(database_url: str,
                                                           engine: Engine) -> None:
    """What a hot standby would refuse, the primary's read engine refuses as well."""
    engine = make_read_engine(database_url)
    with engine.connect() as conn, pytest.raises(Exception, match="read-only transaction"):
        conn.exec_driver_sql("INSERT INTO network (slug, name) VALUES ('ro', 'ro')")
    engine.dispose()


@pytest.mark.parametrize(("environ", "expected"), [
    ({}, ("", 5.0, 2.0)),
    ({"DATABASE_REPLICA_URL": "postgresql://r@replica/rayons", "DATABASE_REPLICA_MAX_LAG_S": "2.5",
      "DATABASE_REPLICA_CHECK_S": "0"}, ("postgresql://r@replica/rayons", 2.5, 0.0)),
])
def test_replica_settings_from_the_environment(environ: dict[str, str],
                                               expected: tuple[str, float, float]) -> None:
    values = Config.from_environ(environ)
    assert (values["DATABASE_REPLICA_URL"], values["DATABASE_REPLICA_MAX_LAG_S"],
            values["DATABASE_REPLICA_CHECK_S"]) == expected


@pytest.mark.parametrize("raw", ["soon", "-1", "nan", "inf"])
def test_a_bad_duration_stops_start_up_with_its_name(raw: str) -> None:
    with pytest.raises(ConfigError, match="DATABASE_REPLICA_MAX_LAG_S"):
        Config.from_environ({"DATABASE_REPLICA_MAX_LAG_S": raw})
