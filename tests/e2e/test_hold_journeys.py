"""A reader's hold on a 375 px phone, in Chromium: the countdown and its end, and a decline.

Issue #14, points 3, 5, 6, 9 and 13. Every page is checked for horizontal overflow (the phone
must never scroll sideways) and the browser for CSP violations and errors.

The database's clock decides whether a hold has lapsed (as for availability), and inside a test
it is the test transaction's start: it cannot be moved. So "the clock passes the deadline" is
played on both sides: the browser's clock is fast-forwarded past it (the page's script turns the
page to "expired" by itself), then the hold's times are moved back by as much as the clock would
have moved, and the page is loaded again with no sweeper run.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.clock import database_now
from app.models import Reservation, Shop
from tests.e2e.conftest import LiveServer, PageProblems
from tests.e2e.test_journeys import app, inbox, sign_in, stock  # noqa: F401 (fixtures)
from tests.factories import make_shop, make_staff

pytestmark = pytest.mark.e2e
ORDRE = "9782330090159;L'Ordre du jour;Éric Vuillard;Actes Sud"
PHONE = {"width": 375, "height": 812}


def assert_fits(page: Page) -> None:
    """No horizontal scrolling: the page is no wider than the phone's screen."""
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page.url} is {widths[0]} px wide on a {widths[1]} px screen"


def reserve_at(page: Page, live_server: LiveServer, slug: str, *, email: str = "",
               phone: str = "") -> str:
    page.goto(live_server.url(f"/reserver/{slug}/9782330090159"))
    expect(page.locator(".deadline-preview")).to_contain_text("gardé jusqu'à")
    assert_fits(page)
    page.fill("#name", "Camille Lectrice")
    if email:
        page.fill("#email", email)
    if phone:
        page.fill("#phone", phone)
    page.check("input[name=consent]")
    page.click("#reserve-submit")
    expect(page.locator("h1")).to_have_text("Votre réservation")
    return page.url.split("?")[0]


@pytest.fixture()
def shops(session: Session, test_sessionmaker: sessionmaker[Session],
          tmp_path: Path) -> tuple[Shop, Shop]:
    near = make_shop(session, slug="chartrons", name="Librairie des Chartrons",
                     lat=44.8530, lon=-0.5700, opening_hours="Mo-Su 00:00-24:00")
    partner = make_shop(session, slug="bastide", name="Librairie de la Bastide",
                        lat=44.8420, lon=-0.5580, opening_hours="Mo-Su 00:00-24:00")
    stock(test_sessionmaker, tmp_path, near, [ORDRE + ";1"])
    stock(test_sessionmaker, tmp_path, partner, [ORDRE + ";1"])
    return near, partner


def test_reserve_then_the_countdown_runs_out_without_the_sweeper(
    page: Page, live_server: LiveServer, session: Session, shops: tuple[Shop, Shop],
    screenshot: Callable[[str], Path], page_problems: PageProblems,
) -> None:
    page.set_viewport_size(PHONE)
    page.clock.install()
    status_url = reserve_at(page, live_server, "chartrons", email="camille@example.org")
    countdown = page.locator(".countdown")
    # Two hours of an always-open shop, give or take the seconds the test took.
    expect(countdown).to_have_text(re.compile(r"^2 h 0\d min$"))
    expect(page.locator(".pickup-code")).to_have_text(re.compile(r"^[2-9A-Z]{3} [2-9A-Z]{3}$"))
    expect(page.get_by_role("button", name="Annuler ma réservation")).to_be_visible()
    assert_fits(page)
    screenshot("countdown")
    # Printed to show at the counter: the codes and the deadline, not the site's furniture.
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.get_by_role("button", name="Annuler ma réservation")).to_be_hidden()
    expect(page.locator(".pickup-code")).to_be_visible()
    expect(page.locator("code.code")).to_be_visible()
    page.emulate_media(media="screen")
    page.clock.run_for("45:00")
    expect(countdown).to_have_text(re.compile(r"^1 h 1\d min$"))
    # The phone's clock passes the deadline: the page turns by itself, no reload.
    page.clock.fast_forward("01:20:00")
    expect(page.locator(".state")).to_have_text("Expiré")
    expect(page.get_by_role("button", name="Annuler ma réservation")).to_be_hidden()
    expect(page.locator(".countdown")).to_be_hidden()
    expect(page.get_by_text("Votre réservation a pris fin")).to_be_visible()
    assert_fits(page)
    screenshot("countdown-ended")
    # The database's clock passes it too; the sweeper has not run: the server says "expired".
    now = database_now(session)
    session.execute(update(Reservation).values(created_at=now - timedelta(hours=2, minutes=5),
                                               expires_at=now - timedelta(minutes=5)))
    page.goto(status_url)
    expect(page.locator(".state")).to_have_text("Expiré")
    expect(page.get_by_role("button", name="Annuler ma réservation")).to_have_count(0)
    assert session.scalar(select(Reservation.state)) == "held"  # not swept
    assert_fits(page)
    screenshot("expired-unswept")
    # Lost the mail? Any page's footer leads to asking for it again.
    page.get_by_role("link", name="Mes réservations").click()
    page.fill("#email", "camille@example.org")
    page.get_by_role("button", name="Envoyer mes réservations").click()
    expect(page.locator(".notice.success")).to_contain_text("Si des réservations sont en cours")
    assert_fits(page)
    screenshot("resend")
    page_problems.assert_clean()


def test_a_declined_phone_only_reader_finds_the_other_shops_on_their_page(
    page: Page, live_server: LiveServer, session: Session, shops: tuple[Shop, Shop],
    screenshot: Callable[[str], Path], page_problems: PageProblems,
) -> None:
    near, _ = shops
    staff = make_staff(session, shops=[near])
    page.set_viewport_size(PHONE)
    status_url = reserve_at(page, live_server, "chartrons", phone="06 12 34 56 78")
    notice = page.locator(".notice.success")
    expect(notice).to_contain_text("rien ne vous sera envoyé")
    expect(notice).not_to_contain_text("Une confirmation vous a été envoyée")
    pickup = page.locator(".pickup-code").inner_text()
    assert_fits(page)
    screenshot("phone-only")

    # At the counter's desk (a bookseller's screen), the code read aloud finds the hold.
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server, staff.email)
    page.goto(live_server.url("/staff/shops/chartrons/reservations"))
    page.fill("#pickup-code", pickup.lower().replace(" ", ""))
    page.get_by_role("button", name="Chercher le code").click()
    found = page.locator(".reservations.found .reservation-card")
    expect(found).to_contain_text("Camille Lectrice")
    assert_fits(page)
    screenshot("desk-code")
    found.locator("button[data-action=decline]").click()

    # Back on the reader's phone: the page says so and offers the shops that have the book.
    page.context.clear_cookies()
    page.set_viewport_size(PHONE)
    page.goto(status_url)
    expect(page.locator(".state")).to_have_text("Finalement indisponible")
    others = page.locator(".alternatives li")
    expect(others).to_have_count(1)
    expect(others.first).to_contain_text("Librairie de la Bastide")
    expect(others.first.locator(".status")).to_contain_text("Ouvert")
    assert_fits(page)
    screenshot("declined")
    # The declined shop is offered to no one until its next file.
    page.goto(live_server.url("/livres/9782330090159?lieu=Bordeaux"))
    expect(page.locator("#holder-chartrons")).to_have_count(0)
    expect(page.locator("#holder-bastide")).to_have_count(1)
    assert_fits(page)
    page.goto(status_url)
    page.get_by_role("link", name="Réserver chez Librairie de la Bastide").click()
    expect(page.locator("h1")).to_contain_text("L'Ordre du jour")
    expect(page.locator(".deadline-preview")).to_be_visible()
    assert_fits(page)
    page_problems.assert_clean()
