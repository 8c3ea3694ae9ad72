"""The network directory page ("Nos librairies")."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

from app.services.directory import shop_status
from app.templating.words import open_status_label
from tests.factories import make_network, make_shop

PARIS = ZoneInfo("Europe/Paris")
HOURS = "Tu-Sa 09:30-12:30,14:00-19:00; Mo 14:00-19:00"


def test_directory_lists_shops_in_french(client: FlaskClient, session: Session) -> None:
    make_shop(session, slug="la-mouette", name="Librairie La Mouette", address="3 rue du Port",
              postcode="64200", city="Biarritz", phone="05 59 00 11 22",
              website="https://la-mouette.example", opening_hours=HOURS)
    page = client.get("/").get_data(as_text=True)
    assert "<h1>Nos librairies</h1>" in page
    assert "Librairie La Mouette" in page and "3 rue du Port" in page
    assert "64200 Biarritz" in page
    assert 'href="tel:0559001122"' in page and 'href="https://la-mouette.example"' in page
    assert "Aujourd'hui :" in page
    assert ("Ouvert maintenant" in page) or ("Fermé" in page)


def test_directory_in_english_on_request(client: FlaskClient, session: Session) -> None:
    make_shop(session)
    page = client.get("/?lang=en").get_data(as_text=True)
    assert "<h1>Our bookshops</h1>" in page
    assert "<h1>Our bookshops</h1>" in client.get("/").get_data(as_text=True)  # remembered


def test_directory_filters_by_network(client: FlaskClient, session: Session) -> None:
    city = make_network(session, slug="bordeaux", name="Librairies de Bordeaux")
    make_shop(session, name="Dans le réseau", networks=[city])
    make_shop(session, name="Hors réseau")
    page = client.get("/?network=bordeaux").get_data(as_text=True)
    assert "Dans le réseau" in page and "Hors réseau" not in page
    assert client.get("/?network=inconnu").status_code == 404


def test_inactive_shops_are_hidden(client: FlaskClient, session: Session) -> None:
    make_shop(session, name="Librairie fermée définitivement", active=False)
    assert "fermée définitivement" not in client.get("/").get_data(as_text=True)


def test_shop_without_hours_says_so(client: FlaskClient, session: Session) -> None:
    make_shop(session, opening_hours="")
    assert "Horaires non communiqués" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("local_time", "expected"),
    [
        ("2026-11-24 10:00", "Ouvert maintenant · ferme à 12:30"),  # Tuesday morning
        ("2026-11-24 13:00", "Fermé · ouvre à 14:00"),  # lunch break
        ("2026-11-23 10:00", "Fermé · ouvre à 14:00"),  # Monday: afternoon only
        ("2026-11-28 20:00", "Fermé · ouvre lundi à 14:00"),  # Saturday night, closed Sunday
        ("2026-11-24 18:59", "Ouvert maintenant · ferme à 19:00"),
    ],
)
def test_open_status_labels(app: Flask, session: Session, local_time: str, expected: str) -> None:
    shop = make_shop(session, opening_hours=HOURS)
    at = datetime.fromisoformat(local_time).replace(tzinfo=PARIS)
    with app.test_request_context("/"):
        assert open_status_label(shop_status(shop, at), at) == expected


def test_open_status_in_english(app: Flask, session: Session) -> None:
    shop = make_shop(session, opening_hours=HOURS)
    at = datetime(2026, 11, 28, 20, 0, tzinfo=PARIS)
    with app.test_request_context("/?lang=en"):
        assert open_status_label(shop_status(shop, at), at) == "Closed · opens Monday at 14:00"


def test_directory_query_count_does_not_grow_with_shops(
    client: FlaskClient, session: Session, connection: Connection
) -> None:
    network = make_network(session)
    statements: list[str] = []
    event.listen(connection, "before_cursor_execute",
                 lambda *args: statements.append(args[2]))
    make_shop(session, networks=[network])
    statements.clear()
    client.get("/")
    few = len(statements)
    for _ in range(10):
        make_shop(session, networks=[network])
    statements.clear()
    client.get("/")
    assert len(statements) == few
