"""Tell a shop about an import that needs its attention: refused, failed, or with rejected lines."""
from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session, sessionmaker

from app import mail
from app.models import ImportRun, Shop
from importers import report
from importers.runner import RunResult, import_file

MAILED_LINES = 20


def needs_mail(run: ImportRun) -> bool:
    return run.status in ("rejected", "failed") or run.rejected_lines > 0


def mail_import_report(session: Session, *, run_id: int) -> bool:
    """Mail the report to the shop's address when something went wrong; True if a mail left."""
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
        rejections=report.rejections(session, run.id, limit=MAILED_LINES),
        report_url=f"{base}/staff/shops/{shop.slug}/imports/{run.id}",
    )


def mail_after(factory: sessionmaker[Session], result: RunResult) -> RunResult:
    """Once a run has committed, mail its report if the shop should hear about it."""
    with factory() as session:
        mail_import_report(session, run_id=result.run_id)
    return result


def import_and_report(factory: sessionmaker[Session], **kwargs: object) -> RunResult:
    """Import one file (see importers.runner.import_file), then mail the shop if needed."""
    # kwargs are import_file's own keyword arguments, passed through unchecked.
    return mail_after(factory, import_file(factory, **kwargs))  # type: ignore[arg-type]
