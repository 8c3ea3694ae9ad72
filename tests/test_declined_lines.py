"""A copy the shop declined ("not on the shelf") is offered nowhere until a newer file arrives.

Issue #14, point 3: right after a decline the next reader was sent to the same shop. The rule
(architecture §3): a declined reservation withholds every copy of its line until the shop's
stock snapshot is exported after the decline; every reader-facing surface reads it through the
`counting_hold` view.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from app.clock import database_now
from app.models import Shop
from app.reservations.reserve import Customer, NoCopyLeft, reserve
from app.reservations.transitions import transition
from app.services import availability, search
from importers.pipeline import import_file
from tests.factories import make_edition, make_shop, make_staff, make_stock_line
from tests.stock_helpers import write_csv
from tests.test_staff_desk import sign_in

ISBN = "9782070368228"
READER = Customer(name="Camille", email="camille@example.org", phone=None)
BORDEAUX = (44.8378, -0.5792)


def import_stock(factory: sessionmaker[Session], folder: Path, shop: Shop, lines: list[str], *,
                 exported_hours_from_now: float) -> None:
    """The shop's till file, imported as every file is, exported at a moment around now."""
    exported_at = database_now(factory()) + timedelta(hours=exported_hours_from_now)
    path = write_csv(folder, f"{shop.slug}-{exported_hours_from_now}.csv",
                     ["EAN;Titre;Auteur;Stock", *lines])
    assert import_file(factory, shop=shop, path=path,
                       exported_at=exported_at).status == "applied"


@pytest.fixture()
def shops(session: Session, test_sessionmaker: sessionmaker[Session],
          tmp_path: Path) -> tuple[Shop, Shop]:
    near = make_shop(session, slug="near", name="La Proche", opening_hours="Mo-Su 00:00-24:00")
    far = make_shop(session, slug="far", name="La Lointaine", lat=44.86, lon=-0.55,
                    opening_hours="Mo-Su 00:00-24:00")
    # Last night's files: 3 copies here, 1 there.
    import_stock(test_sessionmaker, tmp_path, near, [f"{ISBN};L'Étranger;Albert Camus;3"],
                 exported_hours_from_now=-10)
    import_stock(test_sessionmaker, tmp_path, far, [f"{ISBN};L'Étranger;Albert Camus;1"],
                 exported_hours_from_now=-10)
    return near, far


def offered(session: Session) -> list[str]:
    found = availability.nearest_holders(session, isbn13=ISBN, origin=BORDEAUX, radius_km=None)
    return [h.slug for h in found.holders]


def decline_one(session: Session, shop: Shop) -> None:
    held = reserve(session, requester="form", shop_slug=shop.slug, isbn13=ISBN,
                   customer=READER, secret="s").reservation
    transition(session, reservation_id=held.id, target="declined", actor="staff",
               shop_ids=[shop.id])


def test_a_decline_withholds_every_copy_of_the_line_everywhere(
        client: FlaskClient, session: Session, shops: tuple[Shop, Shop]) -> None:
    near, _ = shops
    assert offered(session) == ["near", "far"]
    decline_one(session, near)
    # The file said 3 copies and only one was asked for: the shop looked, the shelf is empty.
    assert offered(session) == ["far"]
    assert availability.available_copies(session, shop_id=near.id, isbn13=ISBN) == 0
    book = client.get(f"/livres/{ISBN}?lat={BORDEAUX[0]}&lon={BORDEAUX[1]}").get_data(
        as_text=True)
    assert f"/reserver/far/{ISBN}" in book and f"/reserver/near/{ISBN}" not in book
    api = client.get(f"/api/v1/availability?isbn={ISBN}&lat={BORDEAUX[0]}&lon={BORDEAUX[1]}")
    assert [s["slug"] for s in api.get_json()["shops"]] == ["far"]
    hits = search.search_editions(session, query="étranger", origin=BORDEAUX).hits
    assert [(hit.isbn13, hit.shops_with_copy) for hit in hits] == [(ISBN, 1)]
    with pytest.raises(NoCopyLeft) as refused:
        reserve(session, requester="form", shop_slug="near", isbn13=ISBN,
                customer=Customer(name="Noé", email="noe@example.org", phone=None), secret="s")
    assert [h.slug for h in refused.value.alternatives] == ["far"]


def test_only_a_file_exported_after_the_decline_offers_the_line_again(
        session: Session, test_sessionmaker: sessionmaker[Session], tmp_path: Path,
        shops: tuple[Shop, Shop]) -> None:
    near, _ = shops
    decline_one(session, near)
    # A file exported before the decline (a late upload of this morning's export) arrives after
    # it: it cannot know what the shop found on its shelf, so the line stays withheld.
    import_stock(test_sessionmaker, tmp_path, near,
                 [f"{ISBN};L'Étranger;Albert Camus;2", "9782070360024;La Peste;Albert Camus;1"],
                 exported_hours_from_now=-1)
    assert offered(session) == ["far"]
    # Tonight's file, exported after the decline, still lists two copies: offered again.
    import_stock(test_sessionmaker, tmp_path, near, [f"{ISBN};L'Étranger;Albert Camus;2"],
                 exported_hours_from_now=1)
    assert offered(session) == ["near", "far"]
    assert availability.available_copies(session, shop_id=near.id, isbn13=ISBN) == 2


def test_a_decline_on_the_desk_takes_the_shop_off_the_book_page_at_once(
        client: FlaskClient, session: Session, shops: tuple[Shop, Shop]) -> None:
    """The issue's journey: staff decline, the next reader looks at the book."""
    near, _ = shops
    held = reserve(session, requester="form", shop_slug="near", isbn13=ISBN, customer=READER,
                   secret="s").reservation
    sign_in(client, make_staff(session, shops=[near]))
    assert client.post(f"/staff/shops/near/reservations/{held.id}/decline").status_code == 302
    form = client.get(f"/reserver/near/{ISBN}").get_data(as_text=True)
    assert 'id="reserve-form"' not in form
    assert f"/reserver/far/{ISBN}" in form  # the next reader is offered the other shop


def test_a_decline_at_one_shop_leaves_other_books_and_shops_alone(
        session: Session, shops: tuple[Shop, Shop]) -> None:
    near, far = shops
    other_isbn = "9782070360024"
    make_edition(session, isbn13=other_isbn, title="La Peste")
    make_stock_line(session, shop=near, isbn13=other_isbn, on_hand=1)
    decline_one(session, near)
    assert availability.available_copies(session, shop_id=near.id, isbn13=other_isbn) == 1
    assert availability.available_copies(session, shop_id=far.id, isbn13=ISBN) == 1
