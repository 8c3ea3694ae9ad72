"""Mail off the request path: a reservation never waits for a mail server, the worker sends what
was queued, backs off over hours on the database's clock, keeps the real error, gives up after
two days, never sends a mail twice with two workers at once, and wakes as soon as mail is
queued. Real SMTP listeners (one that answers, one that hangs) and the real database."""
from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, delete, select, text
from sqlalchemy.orm import Session, sessionmaker

from app import create_app, mail_worker, outbox
from app.clock import database_now
from app.models import ImportRun, OutboxMail, Reservation, Shop
from app.reservations.transitions import queue_mail
from app.services import mail_queue
from app.session import session_factory
from tests.factories import make_edition, make_reservation, make_shop, make_stock_line, point
from tests.smtp import free_port, hung_smtp_listener, smtp_listener

ISBN = "9782070368228"
ROOT = Path(__file__).resolve().parent.parent


def mail_app(database_url: str, *, port: int, timeout_s: int = 10,
             factory: sessionmaker[Session] | None = None) -> Flask:
    """The app with mail over SMTP to 127.0.0.1:`port`; on the test's connection if `factory`,
    else on its own connections to the test database."""
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "s",
                      "MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port,
                      "MAIL_TIMEOUT": timeout_s, "RATELIMIT_ENABLED": False})
    if factory is not None:
        app.extensions["rayons.sessionmaker"] = factory
        app.extensions["rayons.read_sessionmaker"] = factory
    return app


@contextmanager
def own_connections(app: Flask) -> Iterator[Flask]:
    """The app as built, on its own pools to the test database, closed afterwards."""
    try:
        yield app
    finally:
        for key in ("rayons.sessionmaker", "rayons.read_sessionmaker"):
            session_factory(app, key=key).kw["bind"].dispose()


@pytest.fixture()
def shop(session: Session) -> Shop:
    make_edition(session, isbn13=ISBN)
    shop = make_shop(session, slug="la-mouette", opening_hours="Mo-Su 00:00-24:00",
                     email="shop@mouette.example")
    make_stock_line(session, shop=shop, isbn13=ISBN, on_hand=1)
    return shop


def test_a_hung_mail_server_never_slows_a_reservation(
    database_url: str, session: Session, test_sessionmaker: sessionmaker[Session], shop: Shop
) -> None:
    with hung_smtp_listener() as hung:
        app = mail_app(database_url, port=hung, timeout_s=10, factory=test_sessionmaker)
        started = time.monotonic()
        created = app.test_client().post("/api/v1/reservations", json={
            "shop": "la-mouette", "isbn": ISBN, "name": "Camille",
            "email": "camille@example.org"})
        # A bound, not a benchmark: sending in the request would wait 10 s for the greeting.
        assert time.monotonic() - started < 2
        assert created.status_code == 201
        # The worker meets the hung server: one timeout, then it leaves the rest for later
        # rather than spending a timeout on each mail.
        with mail_app(database_url, port=hung, timeout_s=1,
                      factory=test_sessionmaker).app_context():
            done = outbox.send_due(test_sessionmaker)
    assert (done.sent, done.failed, done.server_down) == (0, 1, True)
    first, second = session.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()
    assert (first.attempts, second.attempts) == (1, 0)
    assert first.last_error is not None and first.last_error.startswith("SMTPServerDisconnected")
    assert "timed out" in first.last_error
    assert first.next_attempt_at == database_now(session) + timedelta(minutes=1)

    # Later, with a server that answers: `flask mail work --once` sends both, the first one
    # once its retry is due.
    first.next_attempt_at = database_now(session)
    session.flush()
    with smtp_listener() as (inbox, port):
        result = mail_app(database_url, port=port, factory=test_sessionmaker).test_cli_runner(
        ).invoke(args=["mail", "work", "--once"])
    assert "mails sent: 2, failed: 0" in result.output, result.output
    reader = next(m for m in inbox.messages if m["To"] == "camille@example.org")
    code = created.get_json()["code"]
    assert code in reader.get_body(("plain",)).get_content()
    session.expire_all()
    assert all(m.sent_at is not None and m.last_error is None
               for m in session.scalars(select(OutboxMail)))


def test_a_failing_mail_backs_off_on_the_database_clock_then_is_abandoned(
    pinned_clock: Callable[[datetime], None], database_url: str, session: Session,
    test_sessionmaker: sessionmaker[Session], shop: Shop
) -> None:
    """The Python clock is pinned days away from the database's: the schedule must follow the
    database, which every worker shares."""
    queue_mail(session, [(make_reservation(session, shop=shop).id, "reserved")])
    session.flush()
    queued = session.scalars(select(OutboxMail)).one()
    now = database_now(session)  # the test's transaction: the same moment for every pass
    app = mail_app(database_url, port=free_port(), factory=test_sessionmaker)  # no one there
    delays = []
    for _ in range(11):
        queued.next_attempt_at = now  # the retry has come due
        session.flush()
        with app.app_context():
            assert outbox.send_due(test_sessionmaker).failed == 1
        session.refresh(queued)
        delays.append((queued.next_attempt_at - now) / timedelta(minutes=1))
    assert delays == [1, 2, 4, 8, 16, 32, 64, 128, 240, 240, 240]
    assert queued.attempts == 11 and queued.failed_at is None
    assert (queued.last_error or "").startswith("ConnectionRefusedError: ")

    cli = app.test_cli_runner()
    # Queued 43 h ago: a retry in 4 h still comes within two days.
    queued.created_at, queued.next_attempt_at = now - timedelta(hours=43), now
    session.flush()
    with app.app_context():
        assert outbox.send_due(test_sessionmaker).abandoned == 0
    session.refresh(queued)
    assert "due: 0, waiting for a retry: 1, abandoned: 0" in cli.invoke(
        args=["mail", "status"]).output
    # Queued 45 h ago: the next retry would come after two days: abandoned, and counted.
    queued.created_at, queued.next_attempt_at = now - timedelta(hours=45), now
    session.flush()
    with app.app_context():
        assert outbox.send_due(test_sessionmaker).abandoned == 1
    session.refresh(queued)
    assert queued.failed_at == now and queued.sent_at is None
    with app.app_context():  # never tried again
        assert outbox.send_due(test_sessionmaker) == outbox.Pass()
    assert "due: 0, waiting for a retry: 0, abandoned: 1" in cli.invoke(
        args=["mail", "status"]).output


def test_a_mail_that_breaks_its_transaction_still_backs_off(
    monkeypatch: pytest.MonkeyPatch, database_url: str, session: Session,
    test_sessionmaker: sessionmaker[Session], shop: Shop, deliver_mail: Callable[[], list[Any]]
) -> None:
    """A report whose rendering fails in the database (here a division by zero) leaves its
    transaction aborted: the failure is recorded all the same, and the next mail still leaves."""
    run = ImportRun(shop_id=shop.id, source_name="stock.csv", sha256="0" * 64, format="csv",
                    started_at=database_now(session))
    session.add(run)
    session.flush()
    session.add(OutboxMail(import_run_id=run.id, kind="import_report"))
    queue_mail(session, [(make_reservation(session, shop=shop).id, "reserved")])
    session.flush()

    def broken_report(failing: Session, *, run_id: int) -> None:
        failing.execute(text("SELECT 1 / 0"))

    monkeypatch.setattr(outbox, "import_report", broken_report)
    (sent,) = deliver_mail()
    assert sent.to == ["lecteur@example.org"]
    report = session.scalars(select(OutboxMail).where(OutboxMail.import_run_id == run.id)).one()
    session.refresh(report)
    assert report.attempts == 1 and report.sent_at is None
    assert report.last_error == "DivisionByZero: division by zero"
    assert report.next_attempt_at == database_now(session) + timedelta(minutes=1)


@pytest.mark.parametrize(("error", "unreachable"), [
    (ConnectionRefusedError(111, "Connection refused"), True),
    (TimeoutError("timed out"), True),
    (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), True),
    (smtplib.SMTPRecipientsRefused({"x@example.org": (550, b"no such user")}), False),
    (smtplib.SMTPDataError(554, b"rejected as spam"), False),
    (smtplib.SMTPSenderRefused(553, b"sender refused", "rayons@example.org"), False),
    (KeyError("template variable"), False),
])
def test_only_a_server_out_of_reach_ends_a_pass(error: Exception, unreachable: bool) -> None:
    assert outbox.server_unreachable(error) is unreachable


def test_the_error_kept_is_the_real_one_and_short() -> None:
    refused = smtplib.SMTPDataError(554, b"rejected as spam")
    assert mail_queue.describe(refused) == "SMTPDataError: (554, b'rejected as spam')"
    assert mail_queue.describe(TimeoutError()) == "TimeoutError"
    long = mail_queue.describe(ValueError("x" * 2000))
    assert len(long) == mail_queue.ERROR_CHARS and long.startswith("ValueError: xxx")


@pytest.fixture()
def committed_mail(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """A shop with 24 reservations and their queued mail, committed for workers on their own
    connections; removed afterwards (the mail goes with its reservation)."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with factory() as session:
        shop = Shop(slug=f"mail-{os.getpid()}-{time.monotonic_ns()}", name="Courrier",
                    location=point(44.84, -0.58), opening_hours="Mo-Su 00:00-24:00")
        session.add(shop)
        session.flush()
        for n in range(24):
            reservation = make_reservation(session, shop=shop,
                                           customer_email=f"reader{n}@example.org")
            queue_mail(session, [(reservation.id, "reserved")])
        session.commit()
    yield factory
    with factory() as session:
        session.execute(delete(Reservation).where(Reservation.shop_id == shop.id))
        session.execute(delete(Shop).where(Shop.id == shop.id))
        session.commit()


def test_two_workers_at_once_never_send_a_mail_twice(
    database_url: str, committed_mail: sessionmaker[Session]
) -> None:
    with smtp_listener(delay_s=0.02) as (inbox, port), \
            own_connections(mail_app(database_url, port=port)) as app:
        start = threading.Barrier(2)

        def worker(_: int) -> outbox.Pass:
            start.wait()
            with app.app_context():
                return outbox.send_due(session_factory(app))

        with ThreadPoolExecutor(2) as pool:
            passes = list(pool.map(worker, range(2)))
    recipients = Counter(str(m["To"]) for m in inbox.messages)
    assert len(recipients) == 24 and set(recipients.values()) == {1}
    assert sorted(p.sent for p in passes)[0] > 0 and sum(p.sent for p in passes) == 24


def test_the_worker_wakes_as_soon_as_mail_is_queued(
    database_url: str, committed_mail: sessionmaker[Session]
) -> None:
    """Polling only every minute, the worker still sends a mail committed while it sleeps
    within moments: the queuing transaction's NOTIFY wakes it. It stops when told to."""
    with own_connections(create_app({"TESTING": True, "DATABASE_URL": database_url,
                                     "SECRET_KEY": "s", "MAIL_BACKEND": "locmem"})) as app:
        run_worker_and_queue(app, database_url, committed_mail)


def run_worker_and_queue(app: Flask, database_url: str,
                         committed_mail: sessionmaker[Session]) -> None:
    sent = app.extensions["mailman"]
    passes = threading.Semaphore(0)

    def send_pass() -> outbox.Pass:
        with app.app_context():
            done = outbox.send_due(session_factory(app))
        passes.release()
        return done

    stop = threading.Event()
    thread = threading.Thread(target=mail_worker.run, args=(send_pass,), kwargs={
        "database_url": database_url, "poll_s": 60, "stop": stop})
    thread.start()
    try:
        assert passes.acquire(timeout=20)  # the first pass sends what was already queued
        assert len(sent.outbox) == 24
        with committed_mail() as session:
            reservation = session.scalars(select(Reservation)).first()
            assert reservation is not None
            queue_mail(session, [(reservation.id, "confirmed")])
            session.commit()
        assert passes.acquire(timeout=10), "the worker slept through the notification"
        assert len(sent.outbox) == 25
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()


def test_the_worker_command_stops_cleanly_on_sigterm(database_url: str) -> None:
    """What systemd does to stop the service: the worker leaves its wait and exits 0."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "mail", "work", "--poll", "60"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "DATABASE_URL": database_url, "MAIL_BACKEND": "locmem"})
    try:
        assert worker.stdout is not None
        assert worker.stdout.readline().startswith("mail worker: listening")
        time.sleep(0.5)  # into its wait for notifications
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(10) == 0, worker.communicate()[1]
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        for stream in (worker.stdout, worker.stderr):
            if stream:
                stream.close()
