"""Shops are told when their import needs attention: the edges give the pipeline
`report_mailer` as its `on_finished` step, which queues the report in the outbox, and the mail
worker sends it, through a real SMTP listener."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app import create_app, outbox
from app.import_report_mail import report_mailer
from app.models import OutboxMail
from importers.pipeline import import_file
from tests.factories import make_shop
from tests.smtp import free_port, smtp_listener
from tests.stock_helpers import STOCK_DATA


def smtp_app(database_url: str, factory: sessionmaker[Session], port: int) -> Flask:
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "MAIL_BACKEND": "smtp",
                      "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port,
                      "PUBLIC_URL": "https://rayons.example"})
    app.extensions["rayons.sessionmaker"] = factory
    return app


def test_refused_file_is_mailed_to_the_shop(database_url: str, session: Session,
                                            test_sessionmaker: sessionmaker[Session],
                                            tmp_path: Path) -> None:
    shop = make_shop(session, slug="la-mouette", name="La Mouette",
                     email="stock@la-mouette.example")
    broken = tmp_path / "stock.csv"
    broken.write_bytes(b"EAN;Titre;Stock\n9782070368228;Le Phare;3\n97828900")
    with smtp_listener() as (inbox, port):
        result = import_file(test_sessionmaker, shop=shop, path=broken,
                             on_finished=report_mailer(test_sessionmaker))
        assert inbox.messages == []  # queued, not sent: the import never waits for a server
        with smtp_app(database_url, test_sessionmaker, port).app_context():
            assert outbox.send_due(test_sessionmaker).sent == 1
    assert result.status == "rejected"
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["To"] == "stock@la-mouette.example"
    assert message["Subject"].strip() == ("Import du stock de La Mouette refusé : "
                                  "votre stock précédent est conservé")
    text = message.get_body(("plain",)).get_content()
    assert "fichier coupé" in text or "coupé" in text
    # How the header was read, for a bookseller who may need to correct it.
    assert "- quantité : « Stock » (colonne 3, mot « stock »)" in text.splitlines()
    assert f"https://rayons.example/staff/shops/la-mouette/imports/{result.run_id}" in text
    assert message.get_body(("html",)) is not None


def test_rejected_lines_are_mailed_and_clean_imports_are_not(
    session: Session, test_sessionmaker: sessionmaker[Session],
    deliver_mail: Callable[[], list[Any]]
) -> None:
    shop = make_shop(session, email="stock@shop.example")
    mail_report = report_mailer(test_sessionmaker)
    import_file(test_sessionmaker, shop=shop, path=STOCK_DATA / "two_cols_no_header.txt",
                on_finished=mail_report)
    assert deliver_mail() == []
    import_file(test_sessionmaker, shop=shop, path=STOCK_DATA / "excel_export.xlsx",
                on_finished=mail_report)
    (message,) = deliver_mail()
    assert "1 ligne(s) à vérifier" in message.subject
    assert "ligne 5, code" in message.body and "9782070000000" in message.body


def test_a_shop_without_an_address_queues_nothing(session: Session,
                                                  test_sessionmaker: sessionmaker[Session]
                                                  ) -> None:
    shop = make_shop(session, email=None)
    import_file(test_sessionmaker, shop=shop, path=STOCK_DATA / "excel_export.xlsx",
                on_finished=report_mailer(test_sessionmaker))
    assert session.scalars(select(OutboxMail)).all() == []


def test_a_mail_server_down_loses_nothing(database_url: str, session: Session,
                                          test_sessionmaker: sessionmaker[Session]) -> None:
    shop = make_shop(session, email="stock@shop.example")
    result = import_file(test_sessionmaker, shop=shop, path=STOCK_DATA / "excel_export.xlsx",
                         on_finished=report_mailer(test_sessionmaker))
    assert result.status == "applied"
    with smtp_app(database_url, test_sessionmaker, free_port()).app_context():  # no one there
        done = outbox.send_due(test_sessionmaker)
    assert (done.sent, done.failed, done.server_down) == (0, 1, True)
    queued = session.scalars(select(OutboxMail)).one()
    assert queued.import_run_id == result.run_id and queued.sent_at is None
    assert queued.failed_at is None and (queued.last_error or "").startswith(
        "ConnectionRefusedError: ")
