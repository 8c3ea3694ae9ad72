"""The way back to a reservation (issue #14, point 13).

A short pickup code read aloud at the counter, unique among the shop's active reservations and
looked up on the desk within that shop only; and a reader's running reservations mailed again
to the address they were made with, the form answering the same whatever it found.
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.clock import database_now
from app.models import OutboxMail, Reservation, Shop
from app.reservations import codes
from app.reservations.codes import new_pickup_code, read_pickup_code, spaced_pickup_code
from app.reservations.lifecycle import PICKUP_ALPHABET, PICKUP_CODE_LENGTH, RESENT_MAIL
from app.reservations.resend import resend_active
from app.reservations.reserve import Customer, reserve
from tests.factories import make_edition, make_reservation, make_shop, make_staff, make_stock_line
from tests.test_staff_desk import sign_in

ISBN = "9782070368228"
READER = Customer(name="Camille", email="Camille@Example.org", phone=None)


@pytest.fixture()
def shops(session: Session) -> tuple[Shop, Shop]:
    make_edition(session, isbn13=ISBN)
    mine = make_shop(session, slug="mine", name="Ma Librairie", opening_hours="Mo-Su 00:00-24:00",
                     email="mine@example.org")
    other = make_shop(session, slug="other", name="L'Autre", lat=44.86, lon=-0.56,
                      opening_hours="Mo-Su 00:00-24:00")
    for shop in (mine, other):
        make_stock_line(session, shop=shop, isbn13=ISBN, on_hand=3)
    return mine, other


def test_a_reservation_gets_a_code_easy_to_read_aloud(session: Session,
                                                      shops: tuple[Shop, Shop]) -> None:
    held = reserve(session, requester="form", shop_slug="mine", isbn13=ISBN, customer=READER,
                   secret="s").reservation
    code = held.pickup_code
    assert code is not None and len(code) == PICKUP_CODE_LENGTH
    assert set(code) <= set(PICKUP_ALPHABET) and not set(code) & set("01OIL")
    assert spaced_pickup_code(code) == f"{code[:3]} {code[3:]}"


def test_codes_in_use_at_the_shop_are_drawn_again(session: Session, shops: tuple[Shop, Shop],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    mine, other = shops
    make_reservation(session, shop=mine, pickup_code="AAAAAA")
    make_reservation(session, shop=mine, pickup_code="BBBBBB", state="collected",
                     collected_at=database_now(session))
    # The draw yields AAAAAA (taken here), then BBBBBB (only by an ended reservation).
    draws = itertools.chain("AAAAAA", itertools.repeat("B"))
    monkeypatch.setattr(codes.secrets, "choice", lambda _alphabet: next(draws))
    assert new_pickup_code(session, shop_id=mine.id) == "BBBBBB"
    # Another shop may have the same code at the same time.
    draws = itertools.chain("AAAAAA", itertools.repeat("C"))
    assert new_pickup_code(session, shop_id=other.id) == "AAAAAA"


def test_the_schema_keeps_active_codes_unique_per_shop(session: Session,
                                                       shops: tuple[Shop, Shop]) -> None:
    mine, other = shops
    make_reservation(session, shop=mine, pickup_code="CCCCCC")
    make_reservation(session, shop=other, pickup_code="CCCCCC")
    with pytest.raises(IntegrityError) as refused, session.begin_nested():
        make_reservation(session, shop=mine, pickup_code="CCCCCC")
    assert "uq_reservation_active_pickup_code" in str(refused.value)
    with pytest.raises(IntegrityError) as malformed, session.begin_nested():
        make_reservation(session, shop=mine, pickup_code="OOOOOO")
    assert "ck_reservation_pickup_code_format" in str(malformed.value)


@pytest.mark.parametrize(("typed", "read"), [
    ("k7p 4xm", "K7P4XM"), ("K7P-4XM", "K7P4XM"), (" k7p4xm ", "K7P4XM"),
    ("K7P4X", None), ("K7P4XM2", None), ("K7P4X0", None), ("", None),
])
def test_staff_may_type_a_code_loosely(typed: str, read: str | None) -> None:
    assert read_pickup_code(typed) == read


def test_the_desk_finds_a_code_among_its_own_reservations_only(
        client: FlaskClient, session: Session, shops: tuple[Shop, Shop]) -> None:
    mine, other = shops
    ours = make_reservation(session, shop=mine, pickup_code="K7P4XM", customer_name="Camille")
    make_reservation(session, shop=other, pickup_code="Q9R2ST", customer_name="Noé")
    sign_in(client, make_staff(session, shops=[mine]))
    found = client.get("/staff/shops/mine/reservations/code?code=k7p 4xm")
    assert found.status_code == 200
    page = found.get_data(as_text=True)
    assert "Camille" in page and "Gardé pour vous" in page
    assert f'action="/staff/shops/mine/reservations/{ours.id}/collect"' in page
    theirs = client.get("/staff/shops/mine/reservations/code?code=Q9R2ST").get_data(as_text=True)
    assert "Aucune réservation de cette librairie n&#39;a ce code" in theirs or \
        "Aucune réservation de cette librairie n'a ce code" in theirs
    assert "Noé" not in theirs
    assert client.get("/staff/shops/other/reservations/code?code=Q9R2ST").status_code == 404


def test_the_desk_tells_staff_to_phone_a_reader_without_email(
        client: FlaskClient, session: Session, shops: tuple[Shop, Shop]) -> None:
    mine, _ = shops
    make_reservation(session, shop=mine, customer_email=None, customer_phone="0612345678")
    sign_in(client, make_staff(session, shops=[mine]))
    desk = client.get("/staff/shops/mine/reservations").get_data(as_text=True)
    assert "appelez-le si vous refusez" in desk


def test_the_desk_says_when_a_looked_up_hold_has_lapsed(
        client: FlaskClient, session: Session, shops: tuple[Shop, Shop]) -> None:
    mine, _ = shops
    now = database_now(session)
    make_reservation(session, shop=mine, pickup_code="K7P4XM", created_at=now - timedelta(hours=3),
                     expires_at=now - timedelta(minutes=5))
    sign_in(client, make_staff(session, shops=[mine]))
    page = client.get("/staff/shops/mine/reservations/code?code=K7P4XM").get_data(as_text=True)
    assert "Expiré" in page


def test_the_confirmation_page_and_mail_carry_both_codes(
        client: FlaskClient, session: Session, shops: tuple[Shop, Shop],
        deliver_mail: Callable[[], list[Any]]) -> None:
    url = f"/reserver/mine/{ISBN}"
    form = client.get(url).get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', form)
    assert key
    response = client.post(url, data={"name": "Camille", "email": "camille@example.org",
                                      "consent": "y", "idempotency_key": key.group(1)})
    held = session.scalar(select(Reservation))
    assert held is not None and held.pickup_code
    spaced = spaced_pickup_code(held.pickup_code)
    assert spaced in client.get(response.headers["Location"]).get_data(as_text=True)
    reader_mail = next(m for m in deliver_mail() if m.to == ["camille@example.org"])
    assert spaced in reader_mail.body and "Code de retrait" in reader_mail.body


def test_a_reader_gets_their_running_reservations_sent_again(
        client: FlaskClient, session: Session, shops: tuple[Shop, Shop],
        deliver_mail: Callable[[], list[Any]]) -> None:
    now = database_now(session)
    mine, other = shops
    running = [reserve(session, requester="form", shop_slug=slug, isbn13=ISBN, customer=READER,
                       secret="s").reservation for slug in ("mine", "other")]
    make_reservation(session, shop=mine, customer_email="camille@example.org",
                     state="cancelled", cancelled_at=now)
    make_reservation(session, shop=mine, customer_email="camille@example.org",
                     created_at=now - timedelta(hours=3), expires_at=now - timedelta(minutes=1))
    deliver_mail()  # the reservations' own mails
    answer = client.post("/mes-reservations", data={"email": "camille@EXAMPLE.org "})
    assert answer.status_code == 200
    queued = set(session.scalars(select(OutboxMail.reservation_id).where(
        OutboxMail.kind == RESENT_MAIL)))
    assert queued == {r.id for r in running}
    resent = [m for m in deliver_mail() if "envoyée à nouveau" in m.subject]
    assert len(resent) == 2 and {m.to[0] for m in resent} == {"Camille@Example.org"}
    assert all("voici à nouveau votre réservation" in m.body for m in resent)
    # Asking again at once sends nothing more: the form cannot flood a mailbox.
    again = client.post("/mes-reservations", data={"email": "camille@example.org"})
    assert again.get_data(as_text=True) == answer.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(OutboxMail).where(
        OutboxMail.kind == RESENT_MAIL)) == 2
    assert resend_active(session, email="camille@example.org") == 0


def test_the_answer_is_the_same_whether_or_not_reservations_exist(
        client: FlaskClient, session: Session, shops: tuple[Shop, Shop]) -> None:
    reserve(session, requester="form", shop_slug="mine", isbn13=ISBN, customer=READER, secret="s")
    known = client.post("/mes-reservations", data={"email": "camille@example.org"})
    unknown = client.post("/mes-reservations", data={"email": "personne@example.org"})
    assert known.status_code == unknown.status_code == 200
    strip = re.compile(r'name="csrf_token" type="hidden" value="[^"]*"')
    assert strip.sub("", known.get_data(as_text=True)) == strip.sub("", unknown.get_data(
        as_text=True))
    assert "Si des réservations sont en cours avec cette adresse" in known.get_data(as_text=True)
    bad = client.post("/mes-reservations", data={"email": "pas une adresse"})
    assert bad.status_code == 422 and "adresse e-mail valide" in bad.get_data(as_text=True)


def test_asking_again_and_again_is_rate_limited(client: FlaskClient) -> None:
    statuses = [client.post("/mes-reservations", data={"email": f"r{n}@example.org"}).status_code
                for n in range(6)]
    assert statuses == [200] * 5 + [429]


def test_code_look_ups_on_the_desk_are_rate_limited(
        client: FlaskClient, session: Session, shops: tuple[Shop, Shop]) -> None:
    mine, _ = shops
    sign_in(client, make_staff(session, shops=[mine]))
    statuses = [client.get(f"/staff/shops/mine/reservations/code?code=AAAA{n:02d}").status_code
                for n in range(31)]
    assert statuses == [200] * 30 + [429]
