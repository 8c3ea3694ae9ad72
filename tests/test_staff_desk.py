"""Staff handle their own shop's reservations, and only theirs; partner redirects."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Reservation, Shop, StaffUser
from app.reservations.reserve import Customer, reserve
from tests.factories import make_edition, make_shop, make_staff, make_stock_line

ISBN = "9782070368228"
READER = Customer(name="Camille", email="camille@example.org", phone=None)


@pytest.fixture()
def shops(session: Session) -> tuple[Shop, Shop]:
    make_edition(session, isbn13=ISBN)
    mine = make_shop(session, slug="mine", name="Ma Librairie", lat=44.84, lon=-0.58,
                     opening_hours="Mo-Su 00:00-24:00")
    other = make_shop(session, slug="other", name="L'Autre", lat=44.86, lon=-0.56,
                      opening_hours="Mo-Su 00:00-24:00", email="autre@example.org")
    for shop in (mine, other):
        make_stock_line(session, shop=shop, isbn13=ISBN, on_hand=2)
    return mine, other


def sign_in(client: FlaskClient, staff: StaffUser) -> None:
    response = client.post("/staff/login", data={"email": staff.email,
                                                 "password": "correct horse battery"})
    assert response.status_code == 302


def test_staff_confirm_and_collect(client: FlaskClient, session: Session,
                                   shops: tuple[Shop, Shop]) -> None:
    mine, _ = shops
    r = reserve(session, requester="form",
                shop_slug="mine", isbn13=ISBN, customer=READER, secret="s").reservation
    sign_in(client, make_staff(session, shops=[mine]))
    desk = client.get("/staff/shops/mine/reservations").get_data(as_text=True)
    assert "Camille" in desk and f"reservation-{r.id}" in desk
    assert client.post(f"/staff/shops/mine/reservations/{r.id}/confirm").status_code == 302
    session.expire_all()
    assert session.get(Reservation, r.id).state == "confirmed"
    again = client.post(f"/staff/shops/mine/reservations/{r.id}/confirm", follow_redirects=True)
    assert "déjà" in again.get_data(as_text=True)
    client.post(f"/staff/shops/mine/reservations/{r.id}/collect")
    session.expire_all()
    assert session.get(Reservation, r.id).state == "collected"


def test_every_staff_route_hides_other_shops(client: FlaskClient, session: Session,
                                             shops: tuple[Shop, Shop]) -> None:
    mine, other = shops
    theirs = reserve(session, requester="form", shop_slug="other", isbn13=ISBN, customer=READER,
                     secret="s").reservation
    sign_in(client, make_staff(session, shops=[mine]))
    for url in ("/staff/shops/other/reservations", "/staff/shops/other/partners",
                f"/staff/shops/other/partners/mine/{ISBN}", "/staff/shops/other/stock"):
        assert client.get(url).status_code == 404, url
    for action in ("confirm", "decline", "collect", "cancel"):
        for slug in ("mine", "other"):
            url = f"/staff/shops/{slug}/reservations/{theirs.id}/{action}"
            assert client.post(url).status_code == 404, url
    session.expire_all()
    assert session.get(Reservation, theirs.id).state == "held"


def test_bookseller_sends_a_customer_to_a_partner(client: FlaskClient, session: Session,
                                                   shops: tuple[Shop, Shop],
                                                   deliver_mail: Callable[[], list[Any]]
                                                   ) -> None:
    mine, other = shops
    staff = make_staff(session, shops=[mine])
    sign_in(client, staff)
    page = client.get(f"/staff/shops/mine/partners?q={ISBN}").get_data(as_text=True)
    assert "L&#39;Autre" in page and "partner-mine" not in page
    response = client.post(f"/staff/shops/mine/partners/other/{ISBN}",
                           data={"name": "Client au comptoir", "email": "client@example.org",
                                 "idempotency_key": "counter-1"})
    assert response.status_code == 200
    assert "Réservation envoyée" in response.get_data(as_text=True)
    r = session.scalars(select(Reservation)).one()
    assert (r.shop_id, r.redirected_from_shop_id, r.created_by_staff_id) == \
        (other.id, mine.id, staff.id)
    mails = deliver_mail()
    assert {m.to[0] for m in mails} == {"client@example.org", "autre@example.org"}
    shop_mail = next(m for m in mails if m.to == ["autre@example.org"])
    assert "librairie partenaire" in shop_mail.body


def test_holds_at_risk_are_flagged(client: FlaskClient, session: Session,
                                   shops: tuple[Shop, Shop]) -> None:
    from app.models import StockLine

    mine, _ = shops
    r = reserve(session, requester="form",
                shop_slug="mine", isbn13=ISBN, customer=READER, secret="s").reservation
    session.get(StockLine, (mine.id, ISBN)).on_hand = 0  # tonight's file: none on the shelf
    session.flush()
    sign_in(client, make_staff(session, shops=[mine]))
    desk = client.get("/staff/shops/mine/reservations").get_data(as_text=True)
    assert f'class="reservation-card at-risk" id="reservation-{r.id}"' in desk
    assert "À risque" in desk


def test_partner_list_says_which_shops_are_open_now(client: FlaskClient, session: Session,
                                                     shops: tuple[Shop, Shop]) -> None:
    """The customer at the counter asks whether to go today: each partner says open or closed."""
    mine, _ = shops
    make_stock_line(session, shop=make_shop(session, slug="shut", name="Fermée", lat=44.85,
                                            lon=-0.57, opening_hours="off"),
                    isbn13=ISBN, on_hand=1)
    sign_in(client, make_staff(session, shops=[mine]))
    page = client.get(f"/staff/shops/mine/partners?q={ISBN}").get_data(as_text=True)
    other = page.split('id="partner-other"')[1].split("</li>")[0]
    shut = page.split('id="partner-shut"')[1].split("</li>")[0]
    assert 'class="status open"' in other and "Ouvert" in other
    assert 'class="status closed"' in shut
