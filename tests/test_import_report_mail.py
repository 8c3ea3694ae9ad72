"""Shops are mailed when their import needs attention (the report mail the edges give the
pipeline as its `on_finished` step), through a real SMTP listener."""
from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from app.import_report_mail import report_mailer
from importers.pipeline import import_file
from tests.factories import make_shop
from tests.smtp import smtp_listener
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
        app = smtp_app(database_url, test_sessionmaker, port)
        with app.app_context():
            result = import_file(test_sessionmaker, shop=shop, path=broken,
                                 on_finished=report_mailer(test_sessionmaker))
    assert result.status == "rejected"
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["To"] == "stock@la-mouette.example"
    assert message["Subject"].strip() == ("Import du stock de La Mouette refusé : "
                                  "votre stock précédent est conservé")
    text = message.get_body(("plain",)).get_content()
    assert "fichier coupé" in text or "coupé" in text
    assert f"https://rayons.example/staff/shops/la-mouette/imports/{result.run_id}" in text
    assert message.get_body(("html",)) is not None


def test_rejected_lines_are_mailed_and_clean_imports_are_not(
    app: Flask, session: Session, test_sessionmaker: sessionmaker[Session]
) -> None:
    shop = make_shop(session, email="stock@shop.example")
    outbox = app.extensions["mailman"]
    with app.app_context():
        mail_report = report_mailer(test_sessionmaker)
        import_file(test_sessionmaker, shop=shop, path=STOCK_DATA / "two_cols_no_header.txt",
                    on_finished=mail_report)
        assert getattr(outbox, "outbox", []) == []
        import_file(test_sessionmaker, shop=shop, path=STOCK_DATA / "excel_export.xlsx",
                    on_finished=mail_report)
    (message,) = outbox.outbox
    assert "1 ligne(s) à vérifier" in message.subject
    assert "ligne 5, code" in message.body and "9782070000000" in message.body


def test_a_mail_server_down_loses_nothing(database_url: str, session: Session,
                                          test_sessionmaker: sessionmaker[Session]) -> None:
    from tests.smtp import free_port

    shop = make_shop(session, email="stock@shop.example")
    app = smtp_app(database_url, test_sessionmaker, free_port())  # nothing listens there
    with app.app_context():
        result = import_file(test_sessionmaker, shop=shop, path=STOCK_DATA / "excel_export.xlsx",
                             on_finished=report_mailer(test_sessionmaker))
    assert result.status == "applied"
