"""`flask --app wsgi reservations ...`: the sweeper (cron, every minute) and the data purge, for
reservations and order requests alike (`app/orders/`): one cron line each covers both."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app import outbox
from app.orders import retention as order_retention
from app.orders import transitions as order_transitions
from app.reservations import sweeper, transitions
from app.session import session_factory, unit_of_work

reservations_cli = AppGroup("reservations", help="Reservations: sweeper and personal data.")


@reservations_cli.command("sweep")
def sweep() -> None:
    """Record expired holds and orders past their deadline, queue reminders 30 minutes before
    deadlines, send the mail that is due (alongside the mail worker, if one runs: each mail is
    sent by one of them)."""
    with unit_of_work() as session:
        expired = transitions.expire_due(session)
        orders_expired = order_transitions.expire_due(session)
        reminded = sweeper.remind_soon_due(session)
    mailed = outbox.send_due(session_factory())
    click.echo(f"expired: {expired}, orders expired: {orders_expired}, reminders: {reminded}, "
               f"mails sent: {mailed.sent}, failed: {mailed.failed}")


@reservations_cli.command("purge")
@click.option("--days", type=click.IntRange(min=1),
              help="Erase readers' details this many days after their reservation ended "
                   "[default: the PERSONAL_DATA_DAYS setting].")
def purge(days: int | None) -> None:
    """Erase names, emails and phone numbers of reservations and order requests that ended long
    enough ago, and the mail files of the file backend written as long ago."""
    config = current_app.config
    delay = timedelta(days=days if days is not None else int(config["PERSONAL_DATA_DAYS"]))
    with unit_of_work() as session:
        erased = sweeper.purge_personal_data(session, older_than=delay)
        orders_erased = order_retention.purge_personal_data(session, older_than=delay)
    click.echo(f"personal data erased from {erased} reservations")
    click.echo(f"personal data erased from {orders_erased} order requests")
    if config["MAIL_BACKEND"] == "file":
        files = sweeper.erase_mail_files(Path(config["MAIL_FILE_PATH"]), older_than=delay)
        click.echo(f"mail files erased: {files}")
