"""The order request's pages: entry points, the reader's form and page, the staff desk's section,
permissions, CSRF, the abuse limits, the mails and the commands."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from app.clock import database_now
from app.models import OrderRequest, Shop
from tests.factories import make_edition, make_shop, make_staff, make_stock_line
from tests.test_staff_desk import sign_in

ISBN = "9782070368228"
UNKNOWN_ISBN = "9782330090159"


@pytest.fixture()
def shops(session: Session) -> tuple[Shop, Shop]:
    make_edition(session, isbn13=ISBN)
    mine = make_shop(session, slug="mine", name="Ma Librairie", lat=44.84, lon=-0.58,
                     email="mine@example.org", opening_hours="Mo-Su 00:00-24:00")
    other = make_shop(session, slug="other", name="L'Autre", lat=44.86, lon=-0.56,
                      opening_hours="Mo-Su 00:00-24:00")
    return mine, other


def form(client: FlaskClient, url: str, **fields: str) -> dict[str, str]:
    page = client.get(url).get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page)
    assert key, page
    return {"name": "Camille", "email": "camille@example.org", "consent": "y",
            "idempotency_key": key.group(1), **fields}


def place_order(client: FlaskClient, isbn: str = ISBN, slug: str = "mine", **fields: str) -> str:
    """Send the form; return the code of the order's secret link."""
    url = f"/commander/{slug}/{isbn}"
    response = client.post(url, data=form(client, url, **fields))
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].split("/commandes/")[1].split("?")[0]


def test_the_book_page_offers_to_order_when_nobody_has_it(client: FlaskClient,
                                                          shops: tuple[Shop, Shop]) -> None:
    page = client.get(f"/livres/{UNKNOWN_ISBN}?lieu=Bordeaux").get_data(as_text=True)
    assert f'href="/commander/{UNKNOWN_ISBN}?lieu=Bordeaux"' in page
    assert "Le faire commander par une librairie" in page


def test_the_book_page_offers_my_own_shop_beside_reserving(client: FlaskClient, session: Session,
                                                           shops: tuple[Shop, Shop]) -> None:
    make_stock_line(session, shop=shops[1], isbn13=ISBN, on_hand=1)
    page = client.get(f"/livres/{ISBN}").get_data(as_text=True)
    assert f'href="/reserver/other/{ISBN}"' in page
    assert "Commander dans ma librairie" in page and f'href="/commander/{ISBN}"' in page


def test_a_search_hit_nobody_holds_offers_to_order(client: FlaskClient, session: Session,
                                                   shops: tuple[Shop, Shop]) -> None:
    # The words the importer would have fed the typo corrector with.
    session.execute(text("INSERT INTO search_word (word) SELECT DISTINCT "
                         "rayons_words(title || ' ' || authors) FROM edition "
                         "ON CONFLICT DO NOTHING"))
    page = client.get("/recherche?q=etranger+camus").get_data(as_text=True)
    assert f'href="/commander/{ISBN}"' in page
    # An ISBN typed in the search box leads to its book page, which offers the order.
    typed = client.get("/recherche?q=978-2-330-09015-9")
    assert typed.headers["Location"].endswith(f"/livres/{UNKNOWN_ISBN}")


def test_the_shop_picker_lists_the_nearest_shops(client: FlaskClient,
                                                 shops: tuple[Shop, Shop]) -> None:
    blank = client.get(f"/commander/{ISBN}").get_data(as_text=True)
    assert 'id="lieu"' in blank and "order-shop-" not in blank
    page = client.get(f"/commander/{ISBN}?lieu=Bordeaux").get_data(as_text=True)
    assert page.index('id="order-shop-mine"') < page.index('id="order-shop-other"')
    assert f'href="/commander/mine/{ISBN}"' in page
    assert client.get("/commander/978-2-07-036822-8").headers["Location"] == f"/commander/{ISBN}"
    for bad in ("9782070368229", "2000000000015", "nothing"):
        assert client.get(f"/commander/{bad}").status_code == 404
    assert client.get(f"/commander/nowhere/{ISBN}").status_code == 404


def test_order_follow_and_cancel_with_the_secret_link(
        app: Flask, client: FlaskClient, session: Session, shops: tuple[Shop, Shop],
        deliver_mail: Callable[[], list[Any]]) -> None:
    code = place_order(client, isbn=UNKNOWN_ISBN)
    page = client.get(f"/commandes/{code}?new=1").get_data(as_text=True)
    assert "Titre inconnu" in page and UNKNOWN_ISBN in page
    assert "Demande envoyée à la librairie" in page and "Annuler ma commande" in page
    mails = deliver_mail()
    assert {m.to[0] for m in mails} == {"camille@example.org", "mine@example.org"}
    reader = next(m for m in mails if m.to == ["camille@example.org"])
    assert reader.subject == f"Votre demande de commande : Titre inconnu (ISBN {UNKNOWN_ISBN})"
    assert f"/commandes/{code}" in reader.body
    shop_mail = next(m for m in mails if m.to == ["mine@example.org"])
    assert "Camille" in shop_mail.body and "/staff/shops/mine/reservations#orders" in shop_mail.body
    assert client.post(f"/commandes/{code}/cancel").status_code == 302
    assert "Annulée" in client.get(f"/commandes/{code}").get_data(as_text=True)
    told = [m for m in deliver_mail() if m.to == ["mine@example.org"]]
    assert told[-1].subject.startswith("Demande de commande annulée par le lecteur")
    assert "Camille" in told[-1].body
    assert "Demander à une autre librairie" in client.get(f"/commandes/{code}").get_data(
        as_text=True)
    assert client.get("/commandes/not-a-code").status_code == 404


def test_a_reader_in_english_gets_english_pages_and_mail(
        client: FlaskClient, shops: tuple[Shop, Shop],
        deliver_mail: Callable[[], list[Any]]) -> None:
    client.get("/?lang=en")
    code = place_order(client)
    assert "Request sent to the bookshop" in client.get(f"/commandes/{code}").get_data(
        as_text=True)
    reader = next(m for m in deliver_mail() if m.to == ["camille@example.org"])
    assert reader.subject == "Your order request: L'Étranger"


def test_the_desk_walks_an_order_to_collected_and_the_reader_sees_each_step(
        client: FlaskClient, session: Session, shops: tuple[Shop, Shop],
        deliver_mail: Callable[[], list[Any]]) -> None:
    code = place_order(client)
    o = session.scalars(select(OrderRequest)).one()
    sign_in(client, make_staff(session, shops=[shops[0]]))
    desk = client.get("/staff/shops/mine/reservations").get_data(as_text=True)
    assert f'id="order-{o.id}"' in desk and "Demandes de commande (1)" in desk
    for verb, label in [("order", "Commandé par la librairie"),
                        ("arrive", "Arrivé : vous attend en librairie"),
                        ("collect", "Retiré")]:
        response = client.post(f"/staff/shops/mine/orders/{o.id}/{verb}")
        assert response.status_code == 302 and response.headers["Location"].endswith("#orders")
        assert label in client.get(f"/commandes/{code}").get_data(as_text=True)
    again = client.post(f"/staff/shops/mine/orders/{o.id}/collect", follow_redirects=True)
    assert "déjà été traitée" in again.get_data(as_text=True)
    subjects = [m.subject for m in deliver_mail() if m.to == ["camille@example.org"]]
    assert subjects == ["Votre demande de commande : L'Étranger",
                        "Commandé pour vous : L'Étranger", "Votre livre est arrivé : L'Étranger",
                        "Bonne lecture : L'Étranger"]


def test_a_decline_tells_the_reader_why(client: FlaskClient, session: Session,
                                        shops: tuple[Shop, Shop],
                                        deliver_mail: Callable[[], list[Any]]) -> None:
    code = place_order(client)
    o = session.scalars(select(OrderRequest)).one()
    sign_in(client, make_staff(session, shops=[shops[0]]))
    url = f"/staff/shops/mine/orders/{o.id}/decline"
    refused = client.post(url, follow_redirects=True).get_data(as_text=True)
    assert "Dites pourquoi vous refusez" in refused
    client.post(url, data={"reason": "out_of_print", "note": "Réédition prévue en mars"})
    page = client.get(f"/commandes/{code}").get_data(as_text=True)
    assert "Le livre est épuisé." in page and "Réédition prévue en mars" in page
    declined = [m for m in deliver_mail() if m.subject.startswith("Votre commande n’a pas")]
    assert len(declined) == 1 and "Le livre est épuisé." in declined[0].body
    assert f"/commander/{ISBN}" in declined[0].body


def test_no_shop_sees_or_acts_on_another_shops_orders(client: FlaskClient, session: Session,
                                                      shops: tuple[Shop, Shop]) -> None:
    place_order(client, slug="other")
    theirs = session.scalars(select(OrderRequest)).one()
    sign_in(client, make_staff(session, shops=[shops[0]]))
    desk = client.get("/staff/shops/mine/reservations").get_data(as_text=True)
    assert f'id="order-{theirs.id}"' not in desk and "Camille" not in desk
    assert client.get("/staff/shops/other/reservations").status_code == 404
    for verb in ("order", "arrive", "collect", "decline", "cancel"):
        for slug in ("mine", "other"):
            response = client.post(f"/staff/shops/{slug}/orders/{theirs.id}/{verb}",
                                   data={"reason": "out_of_print"})
            assert response.status_code == 404, (slug, verb)
    session.refresh(theirs)
    assert theirs.state == "requested"


def test_staff_must_sign_in(client: FlaskClient, session: Session,
                           shops: tuple[Shop, Shop]) -> None:
    place_order(client)
    o = session.scalars(select(OrderRequest)).one()
    response = client.post(f"/staff/shops/mine/orders/{o.id}/order")
    assert response.status_code in (302, 401) and "/staff/login" in response.headers.get(
        "Location", "/staff/login")
    session.refresh(o)
    assert o.state == "requested"


def test_every_order_form_needs_its_csrf_token(make_app: Callable[..., Flask], session: Session,
                                               shops: tuple[Shop, Shop]) -> None:
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    data = {"name": "Camille", "email": "camille@example.org", "consent": "y"}
    assert client.post(f"/commander/mine/{ISBN}", data=data).status_code == 400
    staff = make_staff(session, shops=[shops[0]])
    login = client.get("/staff/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', login)
    assert token, login
    client.post("/staff/login", data={"email": staff.email, "password": "correct horse battery",
                                      "csrf_token": token.group(1)})
    assert client.post("/staff/shops/mine/orders/1/order").status_code == 400
    assert client.post("/commandes/some-code/cancel").status_code == 400
    assert session.scalar(select(func.count()).select_from(OrderRequest)) == 0


def test_the_reader_limit_and_a_second_request_for_the_same_book(
        client: FlaskClient, shops: tuple[Shop, Shop]) -> None:
    for isbn in (ISBN, UNKNOWN_ISBN, "9782070360024"):
        place_order(client, isbn=isbn)
    url = "/commander/other/9782070413119"
    too_many = client.post(url, data=form(client, url))
    assert too_many.status_code == 429 and "3 commandes en cours" in too_many.get_data(
        as_text=True)
    url = f"/commander/mine/{ISBN}"
    twice = client.post(url, data=form(client, url, email="dom@example.org"))
    assert twice.status_code == 302
    again = client.post(url, data=form(client, url, email="dom@example.org"))
    assert again.status_code == 409 and "déjà demandé" in again.get_data(as_text=True)


def test_sending_requests_is_rate_limited_per_address(client: FlaskClient,
                                                      shops: tuple[Shop, Shop]) -> None:
    """The reservations' limit (RESERVE_LIMIT, 10 a minute), in the store every worker shares."""
    url = f"/commander/mine/{ISBN}"
    statuses = [client.post(url, data={"name": ""}).status_code for _ in range(11)]
    assert statuses[:10] == [422] * 10 and statuses[10] == 429


def test_order_and_reservation_codes_share_one_guessing_budget(client: FlaskClient) -> None:
    statuses = [client.get(f"/commandes/guess{n}").status_code for n in range(20)]
    statuses += [client.get(f"/reservations/guess{n}").status_code for n in range(20)]
    assert statuses[:30] == [404] * 30 and set(statuses[30:]) == {429}


def test_the_sweep_and_purge_commands_cover_orders(cli: FlaskCliRunner, client: FlaskClient,
                                                   session: Session,
                                                   shops: tuple[Shop, Shop]) -> None:
    code = place_order(client)
    session.execute(update(OrderRequest).values(expires_at=database_now(session)))
    assert "orders expired: 1" in cli.invoke(args=["reservations", "sweep"]).output
    assert "Expiré" in client.get(f"/commandes/{code}").get_data(as_text=True)
    assert "from 0 order requests" in cli.invoke(args=["reservations", "purge"]).output
    out = cli.invoke(args=["reservations", "purge", "--days", "1"]).output
    assert "from 0 order requests" in out  # ended today: kept


def test_every_order_mail_kind_has_a_subject_in_both_languages(app: Flask, session: Session,
                                                               shops: tuple[Shop, Shop]) -> None:
    """A new kind in the table without words would fail only when its first mail is sent."""
    from flask_babel import force_locale

    from app.order_mail import order_subject
    from app.orders.lifecycle import ORDER_MAIL_KINDS
    from app.orders.request import request_order
    from app.reservations.reserve import Customer

    o = request_order(session, shop_slug="mine", isbn13=ISBN, secret="s", requester="form",
                      customer=Customer(name="C", email="c@example.org", phone=None)).order
    with app.test_request_context():
        for locale in ("fr", "en"):
            with force_locale(locale):
                subjects = {kind: order_subject(kind, o) for kind in ORDER_MAIL_KINDS}
            assert all("L'Étranger" in subject for subject in subjects.values()), subjects
            assert len(set(subjects.values())) == len(ORDER_MAIL_KINDS)


def test_no_mail_leaves_for_an_order_whose_details_were_erased(
        client: FlaskClient, session: Session, shops: tuple[Shop, Shop],
        deliver_mail: Callable[[], list[Any]]) -> None:
    place_order(client)
    session.execute(update(OrderRequest).values(
        customer_name=None, customer_email=None, customer_phone=None,
        personal_data_erased_at=database_now(session)))
    assert deliver_mail() == []


def test_the_demand_report_counts_order_requests(client: FlaskClient, session: Session,
                                                 shops: tuple[Shop, Shop]) -> None:
    place_order(client, isbn=UNKNOWN_ISBN)
    sign_in(client, make_staff(session, shops=[shops[0]]))
    page = client.get("/staff/demand").get_data(as_text=True)
    assert "<th>Demandes de commande</th>" in page
    row = page[page.index(f"Titre inconnu ({UNKNOWN_ISBN})"):]
    assert re.search(r'<td>0</td>\s*<td class="orders">1</td>', row), row[:400]


@pytest.mark.parametrize(("fields", "words"), [
    ({"email": "camille@"}, "Cette adresse e-mail n’est pas valide"),
    ({"email": "", "phone": "12"}, "Ce numéro de téléphone n’est pas valide"),
    ({"email": "", "phone": ""}, "Indiquez votre nom et une adresse e-mail"),
])
def test_a_bad_contact_is_named_and_the_form_kept(client: FlaskClient, shops: tuple[Shop, Shop],
                                                  fields: dict[str, str], words: str) -> None:
    url = f"/commander/mine/{ISBN}"
    response = client.post(url, data=form(client, url, **fields))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and words in page
    assert 'value="Camille"' in page  # what the reader typed is still there
