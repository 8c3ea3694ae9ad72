"""The network directory page ("Nos librairies")."""
from __future__ import annotations

import html
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, event, text
from sqlalchemy.orm import Session

from app.services.directory import PAGE_SIZE, shop_status
from app.templating.words import open_status_label
from tests.factories import make_network, make_shop, make_shops_in_bulk
from tests.test_maps import embedded_map

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


SHOP_ENTRY = re.compile(r'<li id="shop-([a-z0-9-]+)">')
NEXT_PAGE = re.compile(r'<a href="([^"]+)" rel="next">')


def listed_slugs(page: str) -> list[str]:
    return SHOP_ENTRY.findall(page)


def test_a_national_directory_stays_small(client: FlaskClient, session: Session,
                                          pinned_clock: object) -> None:
    """3,000 shops: the page holds one page of them and a map without markers.

    The page repeats each listed shop's opening status, whose words change with the hour: the
    clock is pinned so that the size measured is the same at any hour of the week.
    """
    make_shops_in_bulk(session, 3000)
    page = client.get("/").get_data(as_text=True)
    assert "3000 librairies · page 1 sur 60" in page
    assert len(listed_slugs(page)) == PAGE_SIZE
    assert embedded_map(page)["m"] == []
    assert len(page.encode()) < 100_000, f"{len(page.encode()) / 1000:.1f} kB"


def test_pages_lead_to_every_shop_in_town_order(client: FlaskClient, session: Session) -> None:
    make_shops_in_bulk(session, 120)
    seen, path = [], "/"
    while path:
        page = client.get(html.unescape(path)).get_data(as_text=True)
        seen += listed_slugs(page)
        path = next(iter(NEXT_PAGE.findall(page)), "")
    in_town_order = session.execute(text(
        "SELECT slug FROM shop WHERE active ORDER BY city, name, id")).scalars().all()
    assert seen == in_town_order and len(seen) == 120
    assert 'href="/?page=2" rel="prev"' in client.get("/?page=3").get_data(as_text=True)
    for page_number in ("4", "0", "-1", "x", "02", "1000000"):
        assert client.get(f"/?page={page_number}").status_code == 404, page_number


def test_town_initials_lead_to_the_first_page_of_their_towns(
        client: FlaskClient, session: Session) -> None:
    make_shops_in_bulk(session, 260)  # ten towns for each letter, A to Z
    page = client.get("/").get_data(as_text=True)
    initials = {letter: link for link, letter in re.findall(
        r'<a href="([^"]*)"(?: aria-current="page")?>([A-Z])</a>', page)}
    assert list(initials) == [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    for letter, link in initials.items():
        target = client.get(html.unescape(link)).get_data(as_text=True)
        towns = re.findall(r"<br>33000 ([A-Z])ville", target)
        assert letter in towns
        previous = re.findall(r'<a href="([^"]+)" rel="prev">', target)
        if previous:  # the letter's first town is on this page, not the one before
            before = client.get(html.unescape(previous[0])).get_data(as_text=True)
            assert letter not in re.findall(r"<br>33000 ([A-Z])ville", before)


def test_directory_near_a_place_lists_the_nearest_first(
        client: FlaskClient, session: Session) -> None:
    city = make_network(session, slug="sud-ouest")
    make_shop(session, slug="lille", city="Lille", lat=50.6292, lon=3.0573, networks=[city])
    make_shop(session, slug="bordeaux", city="Bordeaux", lat=44.8378, lon=-0.5792)
    make_shop(session, slug="pau", city="Pau", lat=43.2951, lon=-0.3708, networks=[city])
    page = client.get("/?lieu=Pau").get_data(as_text=True)
    assert listed_slugs(page) == ["pau", "bordeaux", "lille"]
    assert "Près de Pau" in page and '<span class="distance">' in page
    assert 'class="initials"' not in page  # an index by town only for the list by town
    data = embedded_map(page)
    (south, west), (north, east) = data["b"]  # the reader and the listed shops in view
    for lat, lon in [data["r"], (50.6292, 3.0573), (44.8378, -0.5792), (43.2951, -0.3708)]:
        assert south <= lat <= north and west <= lon <= east
    assert listed_slugs(client.get("/?lieu=Pau&network=sud-ouest").get_data(as_text=True)) \
        == ["pau", "lille"]


DIRECTORY_LINK = re.compile(r'<a href="([^"]*)#shop-([a-z0-9-]+)">Toutes nos librairies</a>')


def test_a_shop_page_leads_to_its_page_of_the_directory(
        client: FlaskClient, session: Session) -> None:
    make_shops_in_bulk(session, 120)
    make_shop(session, slug="withdrawn", active=False)
    for slug in ("bulk-1", "bulk-77", "bulk-120"):
        response = client.get(f"/librairies/{slug}")
        assert response.status_code == 200
        link = DIRECTORY_LINK.search(response.get_data(as_text=True))
        assert link is not None and link[2] == slug
        page = client.get(html.unescape(link[1])).get_data(as_text=True)
        assert slug in listed_slugs(page)
        assert f'<a href="/librairies/{slug}">' in page  # and the directory links back
    assert client.get("/librairies/withdrawn").status_code == 404
    assert client.get("/librairies/nowhere").status_code == 404


def test_language_switch_stays_on_the_same_page(client: FlaskClient, session: Session) -> None:
    network = make_network(session, slug="bordeaux")
    make_shops_in_bulk(session, 60)
    make_shop(session, networks=[network])
    page = client.get("/?page=2&lang=fr").get_data(as_text=True)
    assert 'href="?page=2&amp;lang=en" hreflang="en"' in page
    english = client.get("/?page=2&lang=en").get_data(as_text=True)
    assert "<h1>Our bookshops</h1>" in english and "page 2 of 2" in english
    assert 'href="?network=bordeaux&amp;lang=fr"' in client.get(
        "/?network=bordeaux").get_data(as_text=True)
