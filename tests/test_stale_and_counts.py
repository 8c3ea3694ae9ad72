"""A book page and the availability API with a shop whose count is old, with more shops than
the page lists, and with no place given (issue #14, points 8 and 11)."""
from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.clock import database_now
from app.models import Shop
from tests.factories import make_edition, make_shop, make_stock_line

ISBN = "9782070368228"
PAU = "lat=43.2951&lon=-0.3708"


def stocked(session: Session, slug: str, lat: float, lon: float, *, days_old: float) -> Shop:
    shop = make_shop(session, slug=slug, name=f"Librairie {slug}", lat=lat, lon=lon,
                     stock_exported_at=database_now(session) - timedelta(days=days_old))
    make_stock_line(session, shop=shop, isbn13=ISBN, on_hand=1)
    return shop


def holders_in_page(page: str) -> list[str]:
    return [part.split('"', 1)[0] for part in page.split('id="holder-')[1:]]


def test_a_shop_with_an_old_count_is_marked_and_listed_after_fresh_ones(
        client: FlaskClient, session: Session) -> None:
    make_edition(session, isbn13=ISBN)
    stocked(session, "oloron", 43.300, -0.380, days_old=20)  # nearest, three weeks old
    stocked(session, "tarbes", 43.330, -0.300, days_old=0.5)  # last night's file
    stocked(session, "dax", 43.400, -0.450, days_old=6)  # within the week
    page = client.get(f"/livres/{ISBN}?{PAU}").get_data(as_text=True)
    assert holders_in_page(page) == ["tarbes", "dax", "oloron"]
    oloron = page.split('id="holder-oloron"')[1]
    assert "appelez la librairie avant de vous déplacer" in oloron.split("</li>")[0]
    assert "appelez" not in page.split('id="holder-tarbes"')[1].split("</li>")[0]

    api = client.get(f"/api/v1/availability?isbn={ISBN}&{PAU}").get_json()
    assert [(s["slug"], s["stock_stale"]) for s in api["shops"]] == [
        ("tarbes", False), ("dax", False), ("oloron", True)]


def test_the_age_that_makes_a_count_old_is_a_setting(client: FlaskClient,
                                                     session: Session) -> None:
    client.application.config["STALE_STOCK_DAYS"] = 30
    make_edition(session, isbn13=ISBN)
    stocked(session, "oloron", 43.300, -0.380, days_old=20)
    stocked(session, "tarbes", 43.330, -0.300, days_old=0.5)
    page = client.get(f"/livres/{ISBN}?{PAU}").get_data(as_text=True)
    assert holders_in_page(page) == ["oloron", "tarbes"]
    assert "appelez la librairie" not in page


def test_a_book_page_says_how_many_shops_have_it_and_shows_them_all_on_request(
        client: FlaskClient, session: Session) -> None:
    make_edition(session, isbn13=ISBN)
    for n in range(12):
        stocked(session, f"shop-{n:02d}", 43.30 + n * 0.01, -0.37, days_old=1)
    page = client.get(f"/livres/{ISBN}?{PAU}").get_data(as_text=True)
    assert len(holders_in_page(page)) == 10
    assert "12 librairies l’ont" in page
    assert "les 10 plus proches ci-dessous" in page
    every = page.split('class="count"')[1].split("</p>")[0]
    assert "tous=1" in every and "les voir toutes" in every
    all_of_them = client.get(f"/livres/{ISBN}?{PAU}&tous=1").get_data(as_text=True)
    assert len(holders_in_page(all_of_them)) == 12
    assert "les voir toutes" not in all_of_them


def test_without_a_place_the_page_asks_for_one(client: FlaskClient, session: Session) -> None:
    make_edition(session, isbn13=ISBN)
    stocked(session, "oloron", 43.300, -0.380, days_old=1)
    page = client.get(f"/livres/{ISBN}").get_data(as_text=True)
    assert 'class="notice ask-place"' in page and 'href="#lieu"' in page
    assert "ask-place" not in client.get(f"/livres/{ISBN}?{PAU}").get_data(as_text=True)


def test_shops_beyond_the_radius_are_counted_and_shown_on_request(
        client: FlaskClient, session: Session) -> None:
    """Two shops near Pau, three more 50-90 km away: the page lists the near ones, counts all
    five, and "show them all" lists the five, however far."""
    make_edition(session, isbn13=ISBN)
    stocked(session, "near-1", 43.300, -0.380, days_old=1)
    stocked(session, "near-2", 43.330, -0.300, days_old=1)
    for n, lat in enumerate((43.75, 43.95, 44.10)):
        stocked(session, f"far-{n}", lat, -0.37, days_old=1)
    page = client.get(f"/livres/{ISBN}?{PAU}").get_data(as_text=True)
    assert holders_in_page(page) == ["near-1", "near-2"]
    count = page.split('class="count"')[1].split("</p>")[0]
    assert "5 librairies l’ont" in count and "tous=1" in count
    every = client.get(f"/livres/{ISBN}?{PAU}&tous=1").get_data(as_text=True)
    assert holders_in_page(every) == ["near-1", "near-2", "far-0", "far-1", "far-2"]
