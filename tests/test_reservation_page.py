"""What the reader reads before and after reserving (issue #14, points 5, 6, 9 and 11).

- the form says how long it will hold the copy, computed by the hold's own function;
- a form at a shop whose copies are all held offers the other shops, with open/closed status;
- the reservation page counts down, and past the deadline says "expired" without a Cancel
  button even before the sweeper records it;
- a declined reservation's page offers the nearby shops that have the book;
- a reader who gave only a phone number is told what they will and will not receive.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import database_now
from app.models import Reservation, Shop
from app.reservations.codes import code_for, hash_code
from app.reservations.lifecycle import hold_deadline
from app.reservations.transitions import expire_due, transition
from app.templating.words import time_left_label
from tests.factories import make_edition, make_reservation, make_shop, make_stock_line

ISBN = "9782070368228"
ALWAYS_OPEN = "Mo-Su 00:00-24:00"


@pytest.fixture()
def shop(session: Session) -> Shop:
    make_edition(session, isbn13=ISBN)
    shop = make_shop(session, slug="la-mouette", name="La Mouette", opening_hours=ALWAYS_OPEN)
    make_stock_line(session, shop=shop, isbn13=ISBN, on_hand=1)
    return shop


def reservation_with_code(app: Flask, session: Session, shop: Shop,
                          **overrides: Any) -> tuple[Reservation, str]:
    """A reservation whose page can be opened: its code derived as `reserve` derives it."""
    seed = b"seed-" + str(len(overrides)).encode() + bytes(15)
    code = code_for(app.config["SECRET_KEY"], seed)
    return make_reservation(session, shop=shop, code_seed=seed, code_hash=hash_code(code),
                            pickup_code="K7P4XM", **overrides), code


def form_fields(client: FlaskClient, url: str, **fields: str) -> dict[str, str]:
    page = client.get(url).get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page)
    assert key, page
    return {"name": "Camille", "consent": "y", "idempotency_key": key.group(1), **fields}


def test_the_page_counts_down_from_the_servers_deadline(
        app: Flask, client: FlaskClient, session: Session, shop: Shop) -> None:
    r, code = reservation_with_code(app, session, shop,
                                    expires_at=database_now(session) + timedelta(hours=2))
    page = client.get(f"/reservations/{code}").get_data(as_text=True)
    assert 'data-seconds-left="7200"' in page and ">2 h 00 min</span>" in page
    assert 'data-pattern-days="{d} j {h} h"' in page  # the script's words, in French
    assert '<script src="/static/js/countdown.js" defer></script>' in page
    assert "Gardé pour vous" in page and "Annuler ma réservation" in page
    assert "K7P 4XM" in page and code in page  # the short code beside the long one
    assert r.state == "held"


def test_past_the_deadline_the_page_says_expired_before_the_sweeper(
        app: Flask, client: FlaskClient, session: Session, shop: Shop) -> None:
    now = database_now(session)
    r, code = reservation_with_code(app, session, shop, created_at=now - timedelta(hours=3),
                                    expires_at=now - timedelta(minutes=1))
    page = client.get(f"/reservations/{code}").get_data(as_text=True)
    assert "Expiré" in page and "Votre réservation a pris fin" in page
    assert "Gardé pour vous" not in page and "Annuler ma réservation" not in page
    assert "data-countdown" not in page
    # A Cancel click from a page loaded before the deadline changes nothing: the hold expired.
    client.post(f"/reservations/{code}/cancel")
    session.expire_all()
    assert r.state == "held"  # not recorded yet: the sweeper will
    assert expire_due(session) == 1
    assert session.get(Reservation, r.id).state == "expired"  # type: ignore[union-attr]


@pytest.mark.parametrize(("seconds", "french", "english"), [
    (45 * 60, "45 min", "45 min"),
    (59, "1 min", "1 min"),
    (0, "0 min", "0 min"),
    (65 * 60, "1 h 05 min", "1 h 05 min"),
    ((2 * 24 + 3) * 3600, "2 j 3 h", "2 d 3 h"),
])
def test_time_left_reads_the_same_in_both_languages_and_the_script(
        app: Flask, seconds: int, french: str, english: str) -> None:
    with app.test_request_context():
        for locale, expected in (("fr", french), ("en", english)):
            with force_locale(locale):
                assert time_left_label(seconds) == expected


def test_the_form_shows_the_deadline_it_will_give(
        client: FlaskClient, session: Session, shop: Shop) -> None:
    """A shop closed until a later day: the form says that day, and the hold gives it."""
    local = database_now(session).astimezone(ZoneInfo(shop.timezone))
    opening_day = local.date() + timedelta(days=3)
    shop.opening_hours = f"{opening_day.strftime('%a')[:2]} 09:00-12:00"
    session.flush()
    url = f"/reserver/la-mouette/{ISBN}"
    page = client.get(url).get_data(as_text=True)
    day = format_date(opening_day, "EEEE d MMM", locale="fr")
    assert f"Si vous réservez maintenant, il est gardé jusqu'à {day}, 11:00." in page
    assert client.post(url, data=form_fields(client, url, email="c@example.org")).status_code \
        == 302
    held = session.scalar(select(Reservation))
    assert held is not None
    assert held.expires_at == hold_deadline(shop, database_now(session))
    assert held.expires_at.astimezone(ZoneInfo(shop.timezone)).strftime("%H:%M") == "11:00"


def test_a_form_whose_copies_are_all_held_offers_the_other_shops(
        client: FlaskClient, session: Session, shop: Shop) -> None:
    near = make_shop(session, slug="proche", name="La Proche", lat=44.85, lon=-0.58,
                     opening_hours=ALWAYS_OPEN)
    closed = make_shop(session, slug="fermee", name="La Fermée", lat=44.84, lon=-0.58,
                       opening_hours="2020 Jan 01 10:00-11:00")
    for other in (near, closed):
        make_stock_line(session, shop=other, isbn13=ISBN, on_hand=1)
    make_reservation(session, shop=shop, isbn13=ISBN)  # the only copy here is held
    page = client.get(f"/reserver/la-mouette/{ISBN}").get_data(as_text=True)
    assert 'id="reserve-form"' not in page
    assert "Aucun exemplaire disponible dans cette librairie" in page
    links = re.findall(r'href="/reserver/([a-z-]+)/' + ISBN, page)
    assert links == ["fermee", "proche"]  # nearest to the shop first
    assert "Ouvert" in page and "Fermé" in page  # each with whether it is open


def test_a_declined_readers_page_offers_the_nearby_shops(
        app: Flask, client: FlaskClient, session: Session, shop: Shop) -> None:
    near = make_shop(session, slug="proche", name="La Proche", lat=44.85, lon=-0.58,
                     opening_hours=ALWAYS_OPEN)
    far = make_shop(session, slug="loin", name="La Lointaine", lat=44.95, lon=-0.58,
                    opening_hours=ALWAYS_OPEN)
    for other in (near, far):
        make_stock_line(session, shop=other, isbn13=ISBN, on_hand=1)
    now = database_now(session)
    _, code = reservation_with_code(app, session, shop, state="declined",
                                    declined_at=now, expires_at=now + timedelta(hours=1))
    page = client.get(f"/reservations/{code}").get_data(as_text=True)
    assert "Finalement indisponible" in page
    assert "n'a pas trouvé l'exemplaire" in page
    assert re.findall(r'href="/reserver/([a-z-]+)/' + ISBN, page) == ["proche", "loin"]
    assert page.count("Ouvert") >= 2  # open/closed status of each
    assert "Annuler ma réservation" not in page and "data-countdown" not in page


def test_a_declined_reader_without_alternatives_is_told_so(
        app: Flask, client: FlaskClient, session: Session, shop: Shop) -> None:
    now = database_now(session)
    _, code = reservation_with_code(app, session, shop, state="declined", declined_at=now)
    page = client.get(f"/reservations/{code}").get_data(as_text=True)
    assert "Aucune autre librairie proche" in page


def test_a_phone_only_reader_is_not_promised_mail(
        client: FlaskClient, session: Session, shop: Shop,
        deliver_mail: Callable[[], list[Any]]) -> None:
    url = f"/reserver/la-mouette/{ISBN}"
    form = client.get(url).get_data(as_text=True)
    assert "Nous n'envoyons pas de SMS" in form
    response = client.post(url, data=form_fields(client, url, phone="06 12 34 56 78"))
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Une confirmation vous a été envoyée" not in page
    assert "rien ne vous sera envoyé" in page and "Gardez cette page" in page
    # Later visits keep saying where news will be: on this page, not in a mailbox.
    code = response.headers["Location"].split("/reservations/")[1].split("?")[0]
    again = client.get(f"/reservations/{code}").get_data(as_text=True)
    assert "revenez sur cette page" in again
    # Nothing to send: the reader has no address, and this shop gave none either.
    assert deliver_mail() == []


def test_an_email_reader_is_told_a_confirmation_was_sent(
        client: FlaskClient, session: Session, shop: Shop) -> None:
    url = f"/reserver/la-mouette/{ISBN}"
    response = client.post(url, data=form_fields(client, url, email="c@example.org"))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Une confirmation vous a été envoyée" in page and "rien ne vous sera" not in page


def test_the_countdown_and_deadline_speak_english_too(
        app: Flask, client: FlaskClient, session: Session, shop: Shop) -> None:
    client.get("/?lang=en")
    form = client.get(f"/reserver/la-mouette/{ISBN}").get_data(as_text=True)
    assert "If you reserve now, it is held until" in form
    assert "We send no text messages" in form
    _, code = reservation_with_code(app, session, shop,
                                    expires_at=database_now(session) + timedelta(days=2))
    page = client.get(f"/reservations/{code}").get_data(as_text=True)
    assert "Time left to collect" in page and ">2 d 0 h</span>" in page
    assert 'data-pattern-hours="{h} h {m} min"' in page and 'data-expired-label="Expired"' in page


def test_the_decline_mail_offers_the_same_shops_as_the_page(
        app: Flask, client: FlaskClient, session: Session, shop: Shop,
        deliver_mail: Callable[[], list[Any]]) -> None:
    near = make_shop(session, slug="proche", name="La Proche", lat=44.85, lon=-0.58,
                     opening_hours=ALWAYS_OPEN)
    make_stock_line(session, shop=near, isbn13=ISBN, on_hand=1)
    r, code = reservation_with_code(app, session, shop, customer_email="c@example.org")
    transition(session, reservation_id=r.id, target="declined", actor="staff")
    mail = next(m for m in deliver_mail() if "indisponible" in m.subject.lower())
    assert "La Proche, 2 rue Sainte-Catherine, 33000 Bordeaux (Ouvert" in mail.body
    assert f"/reserver/proche/{ISBN}" in mail.body
    page = client.get(f"/reservations/{code}").get_data(as_text=True)
    assert re.findall(r'href="/reserver/([a-z-]+)/' + ISBN, page) == ["proche"]
