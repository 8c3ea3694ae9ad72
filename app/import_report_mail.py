"""The report mail: tell a shop about an import that needs its attention (refused, failed, or
with rejected lines).

The stock pipeline sends nothing itself: the web and CLI edges give it `report_mailer(...)` as
its `on_finished` step, which runs once the import has committed.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from sqlalchemy.orm import Session, sessionmaker

from app import mail
from app.models import ImportRun, Shop
from app.models.import_run import STOCK_KEPT
from importers.report import RunResult, rejections

MAILED_LINES = 20


def needs_mail(run: ImportRun) -> bool:
    return run.status in STOCK_KEPT or run.rejected_lines > 0


def mail_import_report(session: Session, *, run_id: int) -> bool:
    """Mail the report to the shop's address when something went wrong; True if a mail left.

    Needs an app context (templates, mail settings, PUBLIC_URL)."""
    run = session.get(ImportRun, run_id)
    if run is None or not needs_mail(run):
        return False
    shop = session.get(Shop, run.shop_id)
    if shop is None or not shop.email:
        return False
    if run.status == "applied":
        subject = f"Import du stock de {shop.name} : {run.rejected_lines} ligne(s) à vérifier"
    else:
        subject = f"Import du stock de {shop.name} refusé : votre stock précédent est conservé"
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    return mail.send(
        to=[shop.email], subject=subject, template="import_report", shop=shop, run=run,
        rejections=rejections(session, run.id, limit=MAILED_LINES),
        report_url=f"{base}/staff/shops/{shop.slug}/imports/{run.id}",
    )


def report_mailer(factory: sessionmaker[Session]) -> Callable[[RunResult], None]:
    """The pipeline's `on_finished` step for the current app: mail the run's report if the shop
    should hear about it.

    It brings its own app context and session, so it also works from the night's worker
    threads, which have neither.
    """
    app_context = current_app.app_context  # bound to the app itself, not to the proxy

    def mail_report(result: RunResult) -> None:
        with app_context(), factory() as session:
            mail_import_report(session, run_id=result.run_id)

    return mail_report
