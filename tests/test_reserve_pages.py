"""A reader reserves from the book page, gets a code and a mail, follows and cancels it."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Reservation, Shop
from tests.factories import make_edition, make_shop, make_stock_line

ISBN = "9782070368228"


@pytest.fixture()
def shop(session: Session) -> Shop:
    make_edition(session, isbn13=ISBN)
    shop = make_shop(session, slug="la-mouette", name="La Mouette", email="shop@mouette.example",
                     opening_hours="Mo-Su 00:00-24:00")
    make_stock_line(session, shop=shop, isbn13=ISBN, on_hand=1)
    return shop


def form(client: FlaskClient, url: str) -> dict[str, str]:
    page = client.get(url).get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page)
    assert key, page
    return {"name": "Camille", "email": "camille@example.org", "consent": "y",
            "idempotency_key": key.group(1)}


def test_reserve_then_follow_and_cancel(app: Flask, client: FlaskClient, session: Session,
                                        shop: Shop, deliver_mail: Callable[[], list[Any]]
                                        ) -> None:
    book = client.get(f"/livres/{ISBN}").get_data(as_text=True)
    assert f'href="/reserver/la-mouette/{ISBN}"' in book
    url = f"/reserver/la-mouette/{ISBN}"
    data = form(client, url)
    response = client.post(url, data=data)
    assert response.status_code == 302
    status_url = response.headers["Location"]
    code = status_url.split("/reservations/")[1].split("?")[0]
    page = client.get(status_url).get_data(as_text=True)
    assert "Réservé !" in page and code in page and "L&#39;Étranger" in page
    assert "Mis de côté" not in page and "Gardé pour vous" in page
    # The request only queued its mail; the mail worker sends it.
    assert getattr(app.extensions["mailman"], "outbox", []) == []
    mails = deliver_mail()
    assert {m.to[0] for m in mails} == {"camille@example.org", "shop@mouette.example"}
    reader_mail = next(m for m in mails if m.to == ["camille@example.org"])
    assert code in reader_mail.body and "La Mouette" in reader_mail.body
    # A double click replays the same form: same reservation, same code.
    again = client.post(url, data=data)
    assert again.headers["Location"] == status_url
    assert session.scalar(select(func.count()).select_from(Reservation)) == 1
    # The book is no longer available here.
    assert f'href="/reserver/la-mouette/{ISBN}"' not in client.get(f"/livres/{ISBN}").get_data(
        as_text=True)
    client.post(f"/reservations/{code}/cancel")
    assert "Annulée" in client.get(f"/reservations/{code}").get_data(as_text=True)


def test_last_copy_taken_offers_the_next_shops(client: FlaskClient, session: Session,
                                               shop: Shop) -> None:
    partner = make_shop(session, slug="partner", name="Le Partenaire")
    make_stock_line(session, shop=partner, isbn13=ISBN, on_hand=1)
    url = f"/reserver/la-mouette/{ISBN}"
    first, second = form(client, url), form(client, url)
    assert client.post(url, data=first).status_code == 302
    lost = client.post(url, data={**second, "email": "other@example.org"})
    assert lost.status_code == 409
    page = lost.get_data(as_text=True)
    assert "quelqu&#39;un d&#39;autre" in page or "quelqu'un d'autre" in page
    assert f'href="/reserver/partner/{ISBN}"' in page


def test_missing_consent_or_contact_is_refused(client: FlaskClient, shop: Shop) -> None:
    url = f"/reserver/la-mouette/{ISBN}"
    data = form(client, url)
    assert client.post(url, data={**data, "consent": ""}).status_code == 422
    assert client.post(url, data={**data, "email": ""}).status_code == 422


def test_unknown_codes_and_shops_are_404(client: FlaskClient, shop: Shop) -> None:
    assert client.get("/reservations/notacode").status_code == 404
    assert client.get(f"/reserver/nowhere/{ISBN}").status_code == 404
    assert client.get("/reserver/la-mouette/123").status_code == 404


def test_a_reader_using_english_gets_english_mail(client: FlaskClient, shop: Shop,
                                                  deliver_mail: Callable[[], list[Any]]
                                                  ) -> None:
    client.get("/?lang=en")
    url = f"/reserver/la-mouette/{ISBN}"
    assert client.post(url, data=form(client, url)).status_code == 302
    mails = deliver_mail()
    reader_mail = next(m for m in mails if m.to == ["camille@example.org"])
    shop_mail = next(m for m in mails if m.to == ["shop@mouette.example"])
    assert reader_mail.subject.startswith("Your reservation")
    assert "Reservation code" in reader_mail.body
    assert shop_mail.subject.startswith("Nouvelle réservation")  # the shop reads French


def test_the_form_shows_copies_even_when_many_shops_hold_the_book(
    client: FlaskClient, session: Session, shop: Shop
) -> None:
    for _ in range(60):  # more holders than any list of nearest shops returns
        make_stock_line(session, shop=make_shop(session, city="Agen"), isbn13=ISBN, on_hand=1)
    page = client.get(f"/reserver/la-mouette/{ISBN}").get_data(as_text=True)
    assert 'id="reserve-form"' in page


def test_a_forged_form_key_replays_nothing(client: FlaskClient, session: Session,
                                           shop: Shop) -> None:
    """The form's key is issued and signed by the server: a key made up by a page (or copied
    without its signature) is ignored, so it can never fetch another reader's reservation."""
    url = "/reserver/la-mouette/9782070368228"
    fields = form(client, url)
    assert client.post(url, data=fields).status_code == 302
    replay = client.post(url, data=fields)  # a double click: the same reservation
    assert replay.status_code == 302
    assert session.scalar(select(func.count()).select_from(Reservation)) == 1
    forged = {**fields, "idempotency_key": fields["idempotency_key"].split(".")[0] + ".0000",
              "email": "autre@example.org"}
    assert client.post(url, data=forged).status_code == 409  # a new request: no copy left


def test_code_guesses_share_one_budget_across_pages_and_api(client: FlaskClient) -> None:
    """A guesser cannot get 30 tries a minute from each endpoint that takes a code."""
    statuses = [client.get(f"/reservations/guess{n}").status_code for n in range(20)]
    statuses += [client.get(f"/api/v1/reservations/guess{n}").status_code for n in range(20)]
    assert statuses[:30] == [404] * 30 and set(statuses[30:]) == {429}
