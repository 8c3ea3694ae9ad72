"""`flask --app wsgi reservations ...`: the sweeper (cron, every minute) and the data purge."""
from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import AppGroup

from app.services import reservation_jobs
from app.session import session_factory, unit_of_work

reservations_cli = AppGroup("reservations", help="Reservations: sweeper and personal data.")


@reservations_cli.command("sweep")
def sweep() -> None:
    """Record expired holds, queue reminders 30 minutes before deadlines, send queued mail."""
    with unit_of_work() as session:
        expired = reservation_jobs.expire_due(session)
        reminded = reservation_jobs.remind_soon_due(session)
    sent, failed = reservation_jobs.send_pending(session_factory())
    click.echo(f"expired: {expired}, reminders: {reminded}, mails sent: {sent}, failed: {failed}")


@reservations_cli.command("purge")
@click.option("--days", default=30, show_default=True, type=click.IntRange(min=1),
              help="Erase readers' details this many days after their reservation ended.")
def purge(days: int) -> None:
    """Erase names, emails and phone numbers of reservations that ended long enough ago."""
    with unit_of_work() as session:
        erased = reservation_jobs.purge_personal_data(session, older_than=timedelta(days=days))
    click.echo(f"personal data erased from {erased} reservations")
