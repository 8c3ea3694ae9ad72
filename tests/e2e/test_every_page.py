"""Every page a reader or a bookseller meets, on a 375 px phone and a 1280 px desktop, in French
and in English: it fits the window's width (no sideways scrolling) and axe-core finds no WCAG 2.2
A/AA violation (`target-size` included).

The pages are reached with the data of a real day: two shops that imported their files (one line
rejected, so the import report has something to show), a reader's reservation that is held,
another that the shop declined, and the shop's staff signed in.

A reader who uses only the keyboard reserves a copy from the book page: a skip link first, the
map's markers no tab stops, and each "Reserve" link named with its shop.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.models import ImportRun, Shop
from app.orders.request import request_order
from app.reservations.lifecycle import DECLINED
from app.reservations.reserve import Customer, Reserved, reserve
from app.reservations.transitions import transition
from tests.e2e.conftest import DESKTOP, PHONE, LiveServer, audit
from tests.e2e.test_journeys import ORDRE, PASSWORD, stock
from tests.factories import make_network, make_shop, make_staff

pytestmark = pytest.mark.e2e
ISBN = "9782330090159"
UNSTOCKED = "9782070360024"  # no shop has it: the reader asks for it to be ordered


def _reserve(session: Session, name: str) -> Reserved:
    return reserve(session, shop_slug="chartrons", isbn13=ISBN, requester="form",
                   secret="journey", customer=Customer(name=name, phone=None,
                                                       email=f"{name.lower()}@example.org"))


def _two_shops(session: Session, factory: sessionmaker[Session], tmp_path: Path) -> Shop:
    """Two shops with the book, the near one with one rejected line in its file; returns it."""
    near = make_shop(session, slug="chartrons", name="Librairie des Chartrons",
                     lat=44.8530, lon=-0.5700, postcode="33000", city="Bordeaux",
                     address="12 rue Notre-Dame", opening_hours="Mo-Su 00:00-24:00",
                     email="chartrons@example.org", phone="05 56 00 00 00",
                     website="https://chartrons.example")
    far = make_shop(session, slug="pessac", name="Librairie de Pessac", lat=44.8067,
                    lon=-0.6311, postcode="33600", city="Pessac",
                    opening_hours="Mo-Su 00:00-24:00")
    stock(factory, tmp_path, far, [ORDRE + ";1"])
    (tmp_path / "near").mkdir()
    stock(factory, tmp_path / "near", near,
          [ORDRE + ";3", "9782070368228;L'Étranger;Albert Camus;Gallimard;1",
           "9782070368229;Ligne abîmée;;;2"])
    return near


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_every_page_fits_the_window_and_passes_axe(
    page: Page, live_server: LiveServer, session: Session,
    test_sessionmaker: sessionmaker[Session], tmp_path: Path,
    screenshot: Callable[[str], Path], language: str,
) -> None:
    near = _two_shops(session, test_sessionmaker, tmp_path)
    near.networks.append(make_network(session, slug="gironde", name="Librairies de Gironde"))
    staff = make_staff(session, shops=[near])
    ordered = request_order(session, shop_slug="chartrons", isbn13=UNSTOCKED, requester="form",
                            secret="journey", customer=Customer(name="Alix", phone=None,
                                                                email="alix@example.org"))
    held = _reserve(session, "Camille")
    declined = _reserve(session, "Dominique")
    transition(session, reservation_id=declined.reservation.id, target=DECLINED,
               actor="staff", reason="Pas en rayon")
    run = session.scalars(select(ImportRun).where(ImportRun.shop_id == near.id)
                          .order_by(ImportRun.id.desc())).first()
    assert run is not None and run.rejected_lines

    problems: list[str] = []

    def check(path: str) -> None:
        """Every page's findings at once: one run shows all there is to fix."""
        page.goto(live_server.url(path))
        try:
            audit(page, path)
        except AssertionError as found:
            problems.append(str(found))

    page.goto(live_server.url(f"/?lang={language}"))
    for path in ["/", "/recherche?q=vuillard+ordre&lieu=Bordeaux", f"/livres/{ISBN}?lieu=Bordeaux",
                 f"/reserver/chartrons/{ISBN}", f"/reservations/{held.code}",
                 f"/reservations/{declined.code}", "/librairies/chartrons", "/reseaux/gironde",
                 f"/commander/{UNSTOCKED}?lieu=Bordeaux", f"/commander/chartrons/{UNSTOCKED}",
                 f"/commandes/{ordered.code}", "/livres/9780000000002", "/staff/login"]:
        check(path)
    screenshot(f"sign-in-{language}")
    page.fill("#email", staff.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/staff/")
    for path in ["/staff/", "/staff/shops/chartrons/reservations", "/staff/shops/chartrons/stock",
                 f"/staff/shops/chartrons/imports/{run.id}", "/staff/partners",
                 f"/staff/partners/pessac/{ISBN}"]:
        check(path)
    page.goto(live_server.url(f"/reservations/{held.code}"))
    screenshot(f"reservation-{language}")
    assert not problems, "\n\n".join(problems)


def _tab_until(page: Page, wanted: str, *, limit: int = 40) -> list[str]:
    """Press Tab until the focused element matches the CSS selector `wanted`; the stops passed
    on the way, as "tag#id.class" (and the map's own stops marked "in map")."""
    stops: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(wanted) => document.activeElement.matches(wanted)", wanted):
            return stops
        stops.append(page.evaluate("""() => {
            const e = document.activeElement;
            return `${e.tagName.toLowerCase()}#${e.id}.${[...e.classList].join(".")}`
                   + (e.closest("#map") ? " in map" : "");
        }"""))
    raise AssertionError(f"{wanted} not reached in {limit} tab stops: {stops}")


def test_a_reader_reserves_with_the_keyboard_alone(
    page: Page, live_server: LiveServer, session: Session,
    test_sessionmaker: sessionmaker[Session], tmp_path: Path,
    screenshot: Callable[[str], Path],
) -> None:
    _two_shops(session, test_sessionmaker, tmp_path)
    page.goto(live_server.url(f"/livres/{ISBN}?lieu=Bordeaux"))
    page.wait_for_selector("#map .leaflet-marker-icon")

    # The first stop skips the header, and shows itself while focused.
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None and box["y"] >= 0
    page.keyboard.press("Enter")
    expect(page.locator("main#content")).to_be_focused()

    # From the search form to the first shop of the list, the map costs its own controls only
    # (the map, zoom in, zoom out, Leaflet's credit): its markers are no stops (the issue counted
    # 14 stops inside the map).
    stops = _tab_until(page, "li.holder a.button")
    in_map = [stop for stop in stops if stop.endswith("in map")]
    assert len(in_map) <= 4 and not any("leaflet-marker" in stop for stop in in_map), stops
    # Each "Reserve" link says which shop it is for.
    expect(page.locator("li.holder a.button").first).to_have_accessible_name(
        "Réserver (Librairie des Chartrons)")
    expect(page.get_by_role("link", name="Réserver (Librairie de Pessac)")).to_have_count(1)

    page.keyboard.press("Enter")
    page.wait_for_url(f"**/reserver/chartrons/{ISBN}")
    _tab_until(page, "#name")
    page.keyboard.type("Camille Lectrice")
    _tab_until(page, "#email")
    page.keyboard.type("camille@example.org")
    _tab_until(page, "input[name=consent]")
    page.keyboard.press("Space")
    _tab_until(page, "#reserve-submit")
    page.keyboard.press("Enter")
    expect(page.locator(".notice.success")).to_contain_text("Réservé")
    screenshot("reserved-by-keyboard")
