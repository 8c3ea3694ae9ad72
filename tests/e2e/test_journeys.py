"""The two journeys of the reservation issue, in Chromium, with mail through a real SMTP
listener (sent by a pass of the mail worker, as `flask mail work` would after each commit)."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session, sessionmaker

from app import create_app, outbox
from app.limits import limiter
from app.models import Shop
from importers.pipeline import import_file
from tests.e2e.conftest import LiveServer, PageProblems
from tests.factories import make_shop, make_staff
from tests.smtp import Inbox, smtp_listener
from tests.stock_helpers import write_csv

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery"
HEADER = "EAN;Titre;Auteur;Editeur;Stock"
ORDRE = "9782330090159;L'Ordre du jour;Éric Vuillard;Actes Sud"


@pytest.fixture()
def inbox() -> Iterator[tuple[Inbox, int]]:
    with smtp_listener() as listener:
        yield listener


@pytest.fixture()
def app(database_url: str, test_sessionmaker: sessionmaker[Session],
        inbox: tuple[Inbox, int]) -> Flask:
    """The real configuration for these journeys: CSRF on, mail over SMTP."""
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "journey",
                      "MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1",
                      "MAIL_PORT": inbox[1], "PUBLIC_URL": "http://rayons.test"})
    app.extensions["rayons.sessionmaker"] = test_sessionmaker
    app.extensions["rayons.read_sessionmaker"] = test_sessionmaker
    with app.app_context():
        limiter.reset()
    return app


def stock(factory: sessionmaker[Session], tmp_path: Path, shop: Shop, lines: list[str]) -> None:
    path = write_csv(tmp_path, f"{shop.slug}.csv", [HEADER, *lines])
    assert import_file(factory, shop=shop, path=path).status == "applied"


def deliver(app: Flask, factory: sessionmaker[Session]) -> None:
    """What the mail worker does once a page's request has committed (no page is loading: the
    live server shares the test's connection)."""
    with app.app_context():
        outbox.send_due(factory)


def sign_in(page: Page, live_server: LiveServer, email: str) -> None:
    page.goto(live_server.url("/staff/login"))
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Mes librairies")


def test_reader_reserves_staff_confirms_and_hands_over(
    app: Flask, page: Page, live_server: LiveServer, session: Session,
    test_sessionmaker: sessionmaker[Session],
    tmp_path: Path, inbox: tuple[Inbox, int], screenshot: Callable[[str], Path],
    page_problems: PageProblems,
) -> None:
    near = make_shop(session, slug="chartrons", name="Librairie des Chartrons",
                     lat=44.8530, lon=-0.5700, postcode="33000", city="Bordeaux",
                     opening_hours="Mo-Su 00:00-24:00", email="chartrons@example.org")
    far = make_shop(session, slug="pessac", name="Librairie de Pessac", lat=44.8067,
                    lon=-0.6311, postcode="33600", city="Pessac",
                    opening_hours="Mo-Su 00:00-24:00")
    stock(test_sessionmaker, tmp_path, near, [ORDRE + ";2"])
    stock(test_sessionmaker, tmp_path, far, [ORDRE + ";1"])
    staff = make_staff(session, shops=[near])

    page.goto(live_server.url("/"))
    page.fill("#q", "vuillard ordre du jour")
    page.fill("#lieu", "Bordeaux")
    page.click("form.search button[type=submit]")
    page.click("text=L'Ordre du jour")
    first = page.locator("li.holder").first
    expect(first.locator("h3")).to_have_text("Librairie des Chartrons")
    expect(first.locator(".available")).to_have_text("2 exemplaires disponibles")
    screenshot("book-page")
    first.locator("a.button").click()
    page.fill("#name", "Camille Lectrice")
    page.fill("#email", "camille@example.org")
    page.check("input[name=consent]")
    page.click("#reserve-submit")
    expect(page.locator(".notice.success")).to_contain_text("Réservé")
    code = page.locator("code.code").inner_text()
    screenshot("reservation")
    deliver(app, test_sessionmaker)
    reader_mail = next(m for m in inbox[0].messages if m["To"] == "camille@example.org")
    assert code in reader_mail.get_body(("plain",)).get_content()
    status_url = page.url

    sign_in(page, live_server, staff.email)
    page.goto(live_server.url("/staff/shops/chartrons/reservations"))
    card = page.locator(".reservation-card", has_text="Camille Lectrice")
    screenshot("staff-desk")
    card.locator("button[data-action=confirm]").click()
    expect(page.locator(".reservations.waiting")).to_contain_text("Camille Lectrice")
    page.goto(status_url)
    expect(page.locator(".state")).to_have_text("Mis de côté par la librairie")
    page.goto(live_server.url("/staff/shops/chartrons/reservations"))
    page.locator(".reservations.waiting .reservation-card").locator(
        "button[data-action=collect]").click()
    page.goto(status_url)
    expect(page.locator(".state")).to_have_text("Retiré")
    page.goto(live_server.url("/livres/9782330090159?lieu=Bordeaux"))
    expect(page.locator("#holder-chartrons .available")).to_have_text("1 exemplaire disponible")
    deliver(app, test_sessionmaker)
    assert any(re.search("Mis de côté", str(m["Subject"])) for m in inbox[0].messages)
    page_problems.assert_clean()


def test_bookseller_sends_a_customer_to_a_partner(
    app: Flask, page: Page, live_server: LiveServer, session: Session,
    test_sessionmaker: sessionmaker[Session],
    tmp_path: Path, inbox: tuple[Inbox, int], screenshot: Callable[[str], Path],
    page_problems: PageProblems,
) -> None:
    counter = make_shop(session, slug="comptoir", name="Le Comptoir", lat=44.84, lon=-0.58,
                        opening_hours="Mo-Su 00:00-24:00")
    partner = make_shop(session, slug="partenaire", name="La Partenaire", lat=44.86, lon=-0.56,
                        opening_hours="Mo-Su 00:00-24:00", email="partenaire@example.org")
    stock(test_sessionmaker, tmp_path, counter, ["9782070368228;Autre livre;;;1"])
    stock(test_sessionmaker, tmp_path, partner, [ORDRE + ";1"])
    bookseller = make_staff(session, shops=[counter])
    partner_staff = make_staff(session, shops=[partner])

    sign_in(page, live_server, bookseller.email)
    page.goto(live_server.url("/staff/shops/comptoir/partners"))
    page.fill("#q", "ordre du jour vuillard")
    page.click("form[role=search] button[type=submit]")
    page.click("text=L'Ordre du jour")
    page.locator("#partner-partenaire a.button").click()
    page.fill("#name", "Client du comptoir")
    page.fill("#email", "client@example.org")
    page.click("form.stack button[type=submit]")
    expect(page.locator(".notice.success")).to_contain_text("La Partenaire")
    screenshot("sent")
    deliver(app, test_sessionmaker)
    assert any(m["To"] == "client@example.org" for m in inbox[0].messages)
    assert any(m["To"] == "partenaire@example.org" for m in inbox[0].messages)

    page.context.clear_cookies()
    sign_in(page, live_server, partner_staff.email)
    page.goto(live_server.url("/staff/shops/partenaire/reservations"))
    expect(page.locator(".reservation-card .sent-by")).to_have_text("envoyé par Le Comptoir")
    screenshot("partner-desk")
    page_problems.assert_clean()
