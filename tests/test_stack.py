"""The production stack, started by scripts/stack.sh: nginx -> gunicorn (3 workers) -> Redis ->
the test database, rate limits on, and the mail worker sending to a local SMTP server (aiosmtpd).

Many readers come through one nginx as they would from the Internet: the test connects from
other loopback addresses (127.0.0.2, 127.0.0.3...: all of 127/8 is this machine), nginx appends
each one to X-Forwarded-For, and the app, trusting only nginx's 127.0.0.1, keys limits on it.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session

from app.clock import database_now
from app.limits import RESERVE_LIMIT
from app.models import OutboxMail, Reservation, Shop, StockLine
from app.reservations.codes import hash_code
from config import Config
from tests.factories import point

ROOT = Path(__file__).resolve().parent.parent
ISBN = "9782070368228"
SLUG = f"stack-{os.getpid()}"
PER_MINUTE = int(RESERVE_LIMIT.split()[0])
WORKERS = 3


@dataclass(frozen=True)
class Stack:
    directory: Path
    settings: dict[str, str]

    def script(self, *args: str) -> None:
        """scripts/stack.sh on this stack; its output is shown only when it fails."""
        done = subprocess.run(["bash", str(ROOT / "scripts" / "stack.sh"), *args],
                              env={**os.environ, "RAYONS_STACK_DIR": str(self.directory),
                                   "RAYONS_STACK_WORKERS": str(WORKERS),
                                   "RAYONS_STACK_MAIL_TIMEOUT": "3",
                                   "RAYONS_STACK_MAIL_POLL": "1"},
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr

    def port(self, name: str) -> int:
        return int(self.settings[f"STACK_{name}_PORT"])

    def log(self, name: str) -> str:
        return (self.directory / name).read_text()


@pytest.fixture(scope="module")
def stack(engine: Engine) -> Iterator[Stack]:
    """The stack on the test database (DATABASE_URL, migrated by `engine`), in its own folder
    under var/stack/, removed afterwards."""
    directory = ROOT / "var" / "stack" / f"test-{os.getpid()}"
    shutil.rmtree(directory, ignore_errors=True)
    started = Stack(directory, {})
    try:
        started.script("start")
        settings = dict(line.split("=", 1)
                        for line in (directory / "stack.env").read_text().splitlines())
        yield Stack(directory, settings)
    finally:
        started.script("stop")
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def shop(engine: Engine) -> Iterator[str]:
    """A committed shop with plenty of copies, and everything reserved there, removed after."""
    with Session(engine) as session:
        shop = Shop(slug=SLUG, name="Librairie du test", location=point(44.84, -0.58),
                    opening_hours="Mo-Su 00:00-24:00")
        session.add(shop)
        session.flush()
        session.add(StockLine(shop_id=shop.id, isbn13=ISBN, code_kind="isbn", on_hand=5000,
                              exported_at=database_now(session)))
        session.commit()
        shop_id = shop.id
    yield SLUG
    with Session(engine) as session:
        session.execute(delete(Reservation).where(Reservation.shop_id == shop_id))
        session.execute(delete(Shop).where(Shop.id == shop_id))
        session.commit()


@dataclass(frozen=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(port: int, method: str, path: str, *, reader: str, body: object = None,
         headers: dict[str, str] | None = None) -> Answer:
    """One request from the loopback address `reader`, on a connection of its own."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30,
                                            source_address=(reader, 0))
    try:
        payload = None if body is None else json.dumps(body).encode()
        sent = {"Content-Type": "application/json"} if payload else {}
        connection.request(method, path, body=payload, headers={**sent, **(headers or {})})
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def reserve(stack: Stack, reader: str, n: int, *, port: int | None = None,
            headers: dict[str, str] | None = None, contact: bool = True) -> Answer:
    """A reservation; without `contact`, one the app refuses (422) before any query, which
    still counts against the reader's limit."""
    email = {"email": f"r{n}.{reader.replace('.', '-')}@example.org"} if contact else {}
    return call(port or stack.port("HTTP"), "POST", "/api/v1/reservations", reader=reader,
                body={"shop": SLUG, "isbn": ISBN, "name": "Camille", **email}, headers=headers)


def readers(first: int, count: int) -> list[str]:
    return [f"127.0.0.{n}" for n in range(first, first + count)]


def test_forty_readers_through_one_nginx_have_forty_limits_shared_by_the_workers(
        stack: Stack, shop: str) -> None:
    """Each reader gets exactly the quota, whichever worker serves each request."""
    crowd = readers(2, 40)

    def one_reader(reader: str) -> list[int]:
        return [reserve(stack, reader, n, contact=n == 0).status for n in range(PER_MINUTE + 1)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = dict(zip(crowd, pool.map(one_reader, crowd), strict=True))
    quota = [201] + [422] * (PER_MINUTE - 1) + [429]
    assert all(got == quota for got in statuses.values()), statuses
    served_by: dict[str, set[str]] = defaultdict(set)
    for line in map(json.loads, stack.log("gunicorn/access.log").splitlines()):  # production
        address, pid = line["remote"], str(line["pid"])
        if line["request"].startswith("POST /api/v1/reservations ") and address in statuses:
            served_by[address].add(pid)
    # The gunicorn log names each reader, not nginx; and most readers' quotas were drawn
    # through several workers, which only a shared count holds to ten.
    assert set(served_by) == set(crowd)
    assert sum(len(pids) > 1 for pids in served_by.values()) > len(crowd) // 2


def test_a_forged_forwarded_for_gives_no_fresh_limit(stack: Stack, shop: str) -> None:
    """Neither through nginx (which appends the real address) nor straight to gunicorn (whose
    peer is then no trusted proxy)."""
    for reader, port in [("127.0.0.50", stack.port("HTTP")), ("127.0.0.51", stack.port("APP"))]:
        statuses = [reserve(stack, reader, n, port=port, contact=False,
                            headers={"X-Forwarded-For": f"198.51.100.{n}"}).status
                    for n in range(PER_MINUTE + 1)]
        assert statuses == [422] * PER_MINUTE + [429], (reader, statuses)


def test_nginx_serves_static_files_and_refuses_bodies_the_app_would(stack: Stack) -> None:
    css = call(stack.port("HTTP"), "GET", "/static/rayons.css", reader="127.0.0.60")
    assert css.status == 200 and css.body == (ROOT / "static" / "rayons.css").read_bytes()
    assert "/static/rayons.css" not in stack.log("gunicorn/access.log")
    too_big = Config.MAX_CONTENT_LENGTH + 1
    refused = call(stack.port("HTTP"), "PUT", f"/api/v1/shops/{SLUG}/stock", reader="127.0.0.60",
                   headers={"Content-Length": str(too_big)})
    assert refused.status == 413 and b"nginx" in refused.body


def test_links_name_the_site_as_the_reader_reached_it(stack: Stack, shop: str) -> None:
    answer = call(stack.port("HTTP"), "GET", "/api/v1/shops", reader="127.0.0.61")
    links = [shop["links"]["shop"] for shop in answer.json()["shops"]]
    assert links and all(link.startswith(f"http://127.0.0.1:{stack.port('HTTP')}/")
                         for link in links), links


def test_nginx_logs_no_reservation_code(stack: Stack, shop: str) -> None:
    code = str(reserve(stack, "127.0.0.70", 0).json()["code"])
    base = f"http://127.0.0.1:{stack.port('HTTP')}"
    for path in [f"/reservations/{code}", f"/api/v1/reservations/{code}",
                 f"//reservations/{code.upper()}?lang=en"]:
        call(stack.port("HTTP"), "GET", path, reader="127.0.0.70")
    call(stack.port("HTTP"), "GET", "/static/rayons.css", reader="127.0.0.70",
         headers={"Referer": f"{base}/reservations/{code}"})
    log = stack.log("nginx/access.log")
    assert code not in log.lower()
    assert log.count("/reservations/#code") == 4 and log.count("/api/v1/reservations/#code") == 1


def sent_mail(engine: Engine, code: str) -> tuple[int, list[str]]:
    """How many of the reservation's mails are sent, and the errors of those still queued."""
    with Session(engine) as session:
        rows = session.execute(select(OutboxMail.sent_at, OutboxMail.last_error).join(
            Reservation, Reservation.id == OutboxMail.reservation_id).where(
            Reservation.code_hash == hash_code(code))).all()
    return (sum(sent is not None for sent, _ in rows),
            [error for sent, error in rows if sent is None and error])


def wait_until(check: Callable[[], bool], what: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def delivered_to(stack: Stack, address: str) -> int:
    """Messages for `address` in the stack's SMTP server's Maildir."""
    new = stack.directory / "smtp" / "maildir" / "new"
    return sum(address in path.read_text(errors="replace")
               for path in (new.iterdir() if new.is_dir() else ()))


def test_the_stacks_mail_worker_sends_what_requests_queue(stack: Stack, shop: str,
                                                           engine: Engine) -> None:
    """The reservation answers with its mail only queued; the stack's `flask mail work`, woken
    by the queue, sends both (the reader's and the shop's) through the stack's SMTP server."""
    created = reserve(stack, "127.0.0.80", 0)
    assert created.status == 201
    code = created.json()["code"]
    wait_until(lambda: sent_mail(engine, code)[0] == 2, "the stack's mail worker sent nothing")
    assert delivered_to(stack, "r0.127-0-0-80@example.org") == 1


def test_a_hung_mail_server_never_slows_a_reservation(stack: Stack, shop: str,
                                                      engine: Engine) -> None:
    """SMTP server stopped mid-life (it accepts connections and never answers): reserving still
    answers at once, the worker's try times out and keeps the error, and once the server runs
    again the mail goes out (retries brought forward as docs/operations.md tells operators)."""
    smtp_pid = int((stack.directory / "smtp" / "smtp.pid").read_text())
    timeout_s = float(stack.settings["MAIL_TIMEOUT"])
    os.kill(smtp_pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        created = reserve(stack, "127.0.0.81", 0)
        answered_s = time.monotonic() - started
        assert created.status == 201
        # Under the timeout of even one SMTP exchange: no mail was attempted in the request.
        assert answered_s < timeout_s, answered_s
        code = created.json()["code"]
        wait_until(lambda: bool(sent_mail(engine, code)[1]), "the worker never tried",
                   timeout_s=timeout_s * 4 + 10)
        assert sent_mail(engine, code)[0] == 0
        assert any("timed out" in error or "Timeout" in error
                   for error in sent_mail(engine, code)[1])
    finally:
        os.kill(smtp_pid, signal.SIGCONT)
    with Session(engine) as session:
        session.execute(update(OutboxMail).where(OutboxMail.sent_at.is_(None),
                                                 OutboxMail.failed_at.is_(None))
                        .values(next_attempt_at=func.now()))
        session.commit()
    wait_until(lambda: sent_mail(engine, code)[0] == 2, "the mail never left after the outage")
    assert delivered_to(stack, "r0.127-0-0-81@example.org") == 1


def test_with_redis_stopped_the_site_still_serves(stack: Stack, shop: str) -> None:
    """Limits fall back to each worker's memory, /healthz says so and stays 200, and each
    worker logs the switch once, not once a request."""
    stack.script("stop", "redis")
    try:
        crowd = readers(80, 6)
        with ThreadPoolExecutor(max_workers=6) as pool:
            statuses = Counter(answer.status for answer in pool.map(
                lambda pair: reserve(stack, *pair),
                [(reader, n) for reader in crowd for n in range(5)]))
        assert statuses == {201: 30}
        health = call(stack.port("HTTP"), "GET", "/healthz", reader="127.0.0.90")
        assert health.status == 200 and health.json()["limits"] == "degraded"
        switches = re.findall(r"ERROR .*rate-limit store \S+ unreachable",
                              stack.log("gunicorn/error.log"))
        assert 1 <= len(switches) <= WORKERS
    finally:
        # Workers would count in memory until their next look at Redis: restart them too.
        stack.script("stop", "gunicorn")
        stack.script("start", "redis", "gunicorn")
    assert call(stack.port("HTTP"), "GET", "/healthz",
                reader="127.0.0.90").json()["limits"] == "shared"
