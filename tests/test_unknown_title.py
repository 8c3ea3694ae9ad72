"""A book no file or catalogue named is shown as "Titre inconnu", everywhere, and still found by
its ISBN (`book_title`, the one home of the fallback)."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Reservation, SearchWord, Shop
from tests.factories import make_edition, make_shop, make_staff, make_stock_line

ISBN = "9782490123490"


@pytest.fixture()
def shop(session: Session) -> Shop:
    make_edition(session, isbn13=ISBN, title="", authors="Iris Kervella", publisher="")
    session.add(SearchWord(word="kervella"))  # what an import adds to the vocabulary
    shop = make_shop(session, slug="la-dune", name="La Dune", email="shop@dune.example",
                     opening_hours="Mo-Su 00:00-24:00")
    make_stock_line(session, shop=shop, isbn13=ISBN, on_hand=2)
    return shop


def test_search_and_book_page_say_the_title_is_unknown(client: FlaskClient, shop: Shop) -> None:
    found = client.get("/recherche?q=kervella").get_data(as_text=True)
    assert "Titre inconnu" in found and f"/livres/{ISBN}" in found
    by_isbn = client.get("/recherche?q=978-2-490-12349-0")
    assert by_isbn.headers["Location"] == f"/livres/{ISBN}"
    page = client.get(f"/livres/{ISBN}").get_data(as_text=True)
    assert "<h1>Titre inconnu</h1>" in page and f"ISBN {ISBN}" in page
    assert "Livre 978" not in page
    assert "Unknown title" in client.get("/recherche?q=kervella&lang=en").get_data(as_text=True)


def test_reservation_pages_mails_and_desk_say_the_title_is_unknown(
    client: FlaskClient, session: Session, shop: Shop, deliver_mail: Callable[[], list[Any]]
) -> None:
    url = f"/reserver/la-dune/{ISBN}"
    form_page = client.get(url).get_data(as_text=True)
    assert "Réserver « Titre inconnu »" in form_page
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', form_page)
    assert key
    response = client.post(url, data={"name": "Camille", "email": "camille@example.org",
                                      "consent": "y", "idempotency_key": key.group(1)})
    assert response.status_code == 302
    reservation = session.scalars(select(Reservation)).one()
    assert reservation.title_snapshot == ""  # the words come at display, in the reader's language
    status = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<strong>Titre inconnu</strong>" in status
    mails = deliver_mail()
    reader = next(m for m in mails if m.to == ["camille@example.org"])
    assert reader.subject.endswith("Titre inconnu") and "Titre inconnu" in reader.body
    assert "ISBN " not in reader.subject
    staff = make_staff(session, shops=[shop])
    client.post("/staff/login", data={"email": staff.email, "password": "correct horse battery"})
    desk = client.get("/staff/shops/la-dune/reservations").get_data(as_text=True)
    assert "<strong>Titre inconnu</strong>" in desk and ISBN in desk
