"""`flask --app wsgi mail ...`: the mail worker, and what waits in the outbox."""
from __future__ import annotations

import signal
import threading

import click
from flask import current_app
from flask.cli import AppGroup

from app import mail_worker, outbox
from app.services.mail_queue import queue_state
from app.session import session_factory, unit_of_work

mail_cli = AppGroup("mail", help="Mail: the worker that sends the outbox, and its state.")


@mail_cli.command("work")
@click.option("--once", is_flag=True, help="Send what is due now, then exit (cron).")
@click.option("--poll", type=click.IntRange(min=1), default=30, show_default=True,
              help="Seconds between looks at the outbox when no notification wakes the worker.")
def work(once: bool, poll: int) -> None:
    """Send queued mail: for ever, woken as mail is queued (a service), or `--once`."""
    factory = session_factory()
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def send_pass() -> outbox.Pass:
        with app.app_context():
            return outbox.send_due(factory)

    if once:
        done = send_pass()
        click.echo(f"mails sent: {done.sent}, failed: {done.failed}, "
                   f"abandoned: {done.abandoned}")
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo(f"mail worker: listening; polling every {poll} s")
    mail_worker.run(send_pass, database_url=app.config["DATABASE_URL"], poll_s=poll, stop=stop)


@mail_cli.command("status")
def status() -> None:
    """How much mail is due, waiting for a retry, or abandoned, and the oldest still queued."""
    with unit_of_work() as session:
        state = queue_state(session)
    oldest = state.oldest_queued_at.isoformat(timespec="seconds") if state.oldest_queued_at \
        else "-"
    click.echo(f"due: {state.due}, waiting for a retry: {state.waiting_retry}, "
               f"abandoned: {state.abandoned}, oldest queued: {oldest}")
