"""The outbox as a queue: which mail is due, who sends it, when a failed one is tried again.

Mail is queued in the transaction that causes it (`app.reservations.transitions.queue_mail`,
`queue_import_report` here) and sent by the mail worker (`app/outbox.py`, `flask mail work`),
never by a request. Workers claim one due mail at a time with `SELECT ... FOR UPDATE SKIP
LOCKED` and keep the row locked until the outcome is committed: any number of workers (the
long-running one, the minute's sweep) run side by side, each mail is handled by one of them, and
a worker that dies releases its mail with its connection. Delivery is at least once: a mail the
server accepted just before the database went away is sent again.

A failed mail is tried again after `retry_delay(attempts)`, doubling from a minute up to four
hours, and abandoned (`failed_at`) when its next try would come more than `GIVE_UP_AFTER` after
it was queued. Every moment is the database's, so all workers agree.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.clock import database_now
from app.models import ImportRun, OutboxMail, Shop
from app.models.import_run import STOCK_KEPT
from app.models.outbox import IMPORT_REPORT

FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=4)
GIVE_UP_AFTER = timedelta(hours=48)
# The error kept for an operator; a server's answer fits, a traceback does not.
ERROR_CHARS = 500


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed try: 1, 2, 4 ... minutes, at most 4 h."""
    return min(FIRST_RETRY * (1 << min(attempts - 1, 16)), LONGEST_RETRY)


def claim_due(session: Session, mail_id: int | None = None) -> OutboxMail | None:
    """Lock and return the mail that has waited longest among those due now (or mail `mail_id`
    if it is still due), skipping any other worker's; None when there is none. The lock lasts
    until the session commits."""
    query = (select(OutboxMail)
             .where(OutboxMail.sent_at.is_(None), OutboxMail.failed_at.is_(None),
                    OutboxMail.next_attempt_at <= func.now())
             .order_by(OutboxMail.next_attempt_at, OutboxMail.id)
             .limit(1)
             .with_for_update(skip_locked=True))
    if mail_id is not None:
        query = query.where(OutboxMail.id == mail_id)
    return session.scalar(query)


def record_sent(item: OutboxMail) -> None:
    """The mail left (or there was no one left to tell)."""
    item.attempts += 1
    item.sent_at = func.now()
    item.last_error = None


def record_failure(session: Session, item: OutboxMail, error: BaseException) -> bool:
    """Keep the error and schedule the next try, or abandon the mail; True if abandoned."""
    now = database_now(session)
    item.attempts += 1
    item.last_error = describe(error)
    retry_at = now + retry_delay(item.attempts)
    if retry_at - item.created_at > GIVE_UP_AFTER:
        item.failed_at = now
        return True
    item.next_attempt_at = retry_at
    return False


def describe(error: BaseException) -> str:
    """`ClassName: message`, cut to ERROR_CHARS: what an operator needs to fix the server.

    A database error is told by the driver's own, without the statement and its parameters
    (which SQLAlchemy's message quotes, a reader's address among them)."""
    if isinstance(error, DBAPIError) and error.orig is not None:
        error = error.orig
    words = f"{type(error).__name__}: {error}".strip().removesuffix(":")
    return words if len(words) <= ERROR_CHARS else words[:ERROR_CHARS - 1] + "…"


def needs_report(run: ImportRun) -> bool:
    """A shop hears about an import that kept its old stock or left lines aside."""
    return run.status in STOCK_KEPT or run.rejected_lines > 0


def queue_import_report(session: Session, *, run_id: int) -> bool:
    """Queue the report mail of a finished import run if its shop should hear about it and has
    an address; True if queued."""
    run = session.get(ImportRun, run_id)
    if run is None or not needs_report(run):
        return False
    shop = session.get(Shop, run.shop_id)
    if shop is None or not shop.email:
        return False
    session.add(OutboxMail(import_run_id=run.id, kind=IMPORT_REPORT))
    return True


@dataclass(frozen=True)
class QueueState:
    """What an operator asks of the outbox: how much waits, since when, and what was given up."""

    due: int
    waiting_retry: int
    abandoned: int
    oldest_queued_at: datetime | None


def queue_state(session: Session) -> QueueState:
    queued = OutboxMail.sent_at.is_(None) & OutboxMail.failed_at.is_(None)
    due, waiting, abandoned, oldest = session.execute(select(
        func.count().filter(queued, OutboxMail.next_attempt_at <= func.now()),
        func.count().filter(queued, OutboxMail.next_attempt_at > func.now()),
        func.count().filter(OutboxMail.failed_at.is_not(None)),
        func.min(OutboxMail.created_at).filter(queued),
    )).one()
    return QueueState(due=due, waiting_retry=waiting, abandoned=abandoned,
                      oldest_queued_at=oldest)
