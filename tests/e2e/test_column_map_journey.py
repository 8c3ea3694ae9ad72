"""Issue #13's web journey, in Chromium on a phone-sized screen: a bookseller whose till writes
labels no one can guess sends the file, sees it refused, chooses its columns once on the
preview, and the next night's file of the same layout goes through `stock nightly` untouched.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from app.models import Shop
from tests.e2e.conftest import LiveServer, PageProblems
from tests.e2e.test_journeys import sign_in
from tests.factories import make_shop, make_staff
from tests.stock_helpers import shelf, write_csv

pytestmark = pytest.mark.e2e
PHONE = {"width": 375, "height": 740}
# A till's private labels (no header guess can read them) and a long file name, as tills write.
HEADER = "Zone 1;Zone 2;Zone 3;Zone 4"
FILE_NAME = "export_caisse_inventaire_complet_magasin_principal_2026-12-04.csv"


@pytest.fixture()
def app(make_app: Callable[..., Flask], tmp_path: Path) -> Flask:
    """CSRF on, as in production: every form of the journey must carry its token."""
    return make_app(WTF_CSRF_ENABLED=True, UPLOAD_DIR=str(tmp_path / "uploads"))


def lines(*rows: tuple[str, str, str, int]) -> list[str]:
    return [HEADER, *(f"{code};{title};{price};{count}" for code, title, price, count in rows)]


# The elements sticking out on the right (their box, or text overflowing it), named for the
# failure message; what a sideways-scrolling table holds does not count.
WIDER_THAN_SCREEN = """
[...document.querySelectorAll("body *")]
  .filter((el) => el.getBoundingClientRect().left + Math.max(el.getBoundingClientRect().width,
                                                             el.scrollWidth)
                  > document.documentElement.clientWidth
                  && !el.parentElement.closest(".table-scroll"))
  .map((el) => `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}.${el.className}`)
  .slice(0, 10)
"""


def assert_fits(page: Page) -> None:
    """Nothing wider than the screen: the page never scrolls sideways on a phone (measured once
    the stylesheet has loaded: an unstyled page overflows)."""
    page.wait_for_load_state("load")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    wide = page.evaluate(WIDER_THAN_SCREEN) if overflow > 0 else []
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen: {wide}"


def test_a_bookseller_maps_an_unknown_layout_once_and_the_night_needs_no_help(
        app: Flask, page: Page, live_server: LiveServer, session: Session, tmp_path: Path,
        screenshot: Callable[[str], Path], page_problems: PageProblems) -> None:
    shop: Shop = make_shop(session, slug="la-colline", name="La Colline")
    staff = make_staff(session, shops=[shop])
    session.commit()
    first = write_csv(tmp_path, FILE_NAME, lines(
        ("9782070368228", "L'Étranger", "8,90", 3), ("9782330090159", "L'Ordre du jour", "8", 1)))

    page.set_viewport_size(PHONE)
    sign_in(page, live_server, staff.email)
    page.goto(live_server.url(f"/staff/shops/{shop.slug}/stock"))
    assert_fits(page)
    page.set_input_files("#stock_file", str(first))
    page.click("#upload button[type=submit]")
    expect(page.locator(".verdict")).to_contain_text("Refusé")
    assert_fits(page)
    screenshot("refused")

    page.click("#choose-columns")
    expect(page.locator("h1")).to_contain_text("Choisir les colonnes")
    expect(page.locator("table.preview")).to_contain_text("L'Ordre du jour")
    assert_fits(page)
    screenshot("preview")
    page.select_option("#code", "Zone 1")
    page.select_option("#price", "Zone 3")
    page.select_option("#quantity", "Zone 4")
    page.select_option("#title", "Zone 2")
    page.check("#remember")
    page.click("#column-map button[type=submit]")
    expect(page.locator(".verdict")).to_contain_text("Appliqué")
    expect(page.locator(".notice")).to_contain_text("Correspondance des colonnes enregistrée")
    assert shelf(session, shop.id) == {"9782070368228": 3, "9782330090159": 1}

    # The next night: a new file of the same layout in the shop's drop folder.
    drop = tmp_path / "drop" / shop.slug
    drop.mkdir(parents=True)
    write_csv(drop, "stock.csv", lines(("9782070368228", "L'Étranger", "8,90", 2),
                                       ("9782330090159", "L'Ordre du jour", "8", 4)))
    night = app.test_cli_runner().invoke(
        args=["stock", "nightly", "--workers", "1", str(tmp_path / "drop")])
    assert night.exit_code == 0, night.output
    assert shelf(session, shop.id) == {"9782070368228": 2, "9782330090159": 4}

    page.goto(live_server.url(f"/staff/shops/{shop.slug}/stock"))
    expect(page.locator(".saved-map")).to_contain_text("Zone 4")
    expect(page.locator("table.runs tbody tr").first).to_contain_text("stock.csv")
    assert_fits(page)
    screenshot("after-night")
    page_problems.assert_clean()
