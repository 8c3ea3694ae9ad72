"""The report mail: tell a shop about an import that needs its attention (refused, failed, or
with rejected lines).

The stock pipeline sends nothing itself: the web and CLI edges give it `report_mailer(...)` as
its `on_finished` step, which runs once the import has committed and queues the mail in the
outbox; the mail worker (`app/outbox.py`) renders it here when it sends it.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from flask_mailman import EmailMultiAlternatives
from sqlalchemy.orm import Session, sessionmaker

from app import mail
from app.models import ImportRun, Shop
from app.services.mail_queue import queue_import_report
from importers.report import RunResult, column_lines, rejections

MAILED_LINES = 20


def import_report(session: Session, *, run_id: int) -> EmailMultiAlternatives | None:
    """The report mail of a run for its shop's address; None if there is no one to tell.

    Needs an app context (templates, PUBLIC_URL)."""
    run = session.get(ImportRun, run_id)
    shop = session.get(Shop, run.shop_id) if run else None
    if run is None or shop is None or not shop.email:
        return None
    if run.status == "applied":
        subject = f"Import du stock de {shop.name} : {run.rejected_lines} ligne(s) à vérifier"
    else:
        subject = f"Import du stock de {shop.name} refusé : votre stock précédent est conservé"
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    return mail.compose(
        to=[shop.email], subject=subject, template="import_report", shop=shop, run=run,
        rejections=rejections(session, run.id, limit=MAILED_LINES),
        columns=column_lines(run),
        report_url=f"{base}/staff/shops/{shop.slug}/imports/{run.id}",
    )


def report_mailer(factory: sessionmaker[Session]) -> Callable[[RunResult], None]:
    """The pipeline's `on_finished` step: queue the run's report mail if the shop should hear
    about it, in a small transaction of its own after the import's.

    It brings its own session, so it also works from the night's worker threads.
    """
    def queue_report(result: RunResult) -> None:
        with factory() as session:
            if queue_import_report(session, run_id=result.run_id):
                session.commit()

    return queue_report
