"""Reserving a copy and every later change of state, on a real PostGIS."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.clock import database_now
from app.errors import Conflict, InvalidInput, NotFound
from app.models import OutboxMail, Reservation
from app.reservations import codes, lifecycle
from app.reservations.reserve import Customer, NoCopyLeft, TooManyHolds, reserve
from app.reservations.transitions import transition
from app.services.availability import nearest_holders
from tests.factories import make_edition, make_shop, make_stock_line

ISBN = "9782070368228"
SECRET = "test-secret"
READER = Customer(name="Camille", email="camille@example.org", phone=None)
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture()
def shop(session: Session):  # type: ignore[no-untyped-def]
    make_edition(session, isbn13=ISBN)
    shop = make_shop(session, slug="la-mouette", lat=44.84, lon=-0.58,
                     opening_hours="Mo-Su 00:00-24:00")
    make_stock_line(session, shop=shop, isbn13=ISBN, on_hand=1)
    return shop


def test_reserve_holds_a_copy_and_snapshots_the_promise(session: Session, shop) -> None:  # type: ignore[no-untyped-def]
    done = reserve(session, requester="form",
                   shop_slug=shop.slug, isbn13=ISBN, customer=READER, secret=SECRET,
                   idempotency_key="form-1")
    r = done.reservation
    assert (r.state, r.title_snapshot, r.shop_name_snapshot) == ("held", "L'Étranger", shop.name)
    assert r.expires_at - r.created_at == timedelta(hours=2)  # open round the clock
    assert len(done.code) >= 26 and r.code_hash == codes.hash_code(done.code)
    assert nearest_holders(session, isbn13=ISBN, origin=None).holders == []
    kinds = sorted(m.kind for m in session.scalars(select(OutboxMail)))
    assert kinds == ["reserved", "shop_new"]
    assert codes.find_by_code(session, done.code.upper()).id == r.id


def test_a_double_click_makes_one_reservation(session: Session, shop) -> None:  # type: ignore[no-untyped-def]
    first = reserve(session, requester="form",
                    shop_slug=shop.slug, isbn13=ISBN, customer=READER, secret=SECRET,
                    idempotency_key="form-1")
    again = reserve(session, requester="form",
                    shop_slug=shop.slug, isbn13=ISBN, customer=READER, secret=SECRET,
                    idempotency_key="form-1")
    assert again.replayed and again.reservation.id == first.reservation.id
    assert again.code == first.code
    assert session.scalar(select(text("count(*)")).select_from(Reservation)) == 1


def test_the_last_copy_goes_once_and_the_loser_gets_alternatives(session: Session, shop) -> None:  # type: ignore[no-untyped-def]
    partner = make_shop(session, slug="partner", lat=44.85, lon=-0.57)
    make_stock_line(session, shop=partner, isbn13=ISBN, on_hand=2)
    reserve(session, requester="form",
            shop_slug=shop.slug, isbn13=ISBN, customer=READER, secret=SECRET)
    other = Customer(name="Dominique", email="dom@example.org", phone=None)
    with pytest.raises(NoCopyLeft) as lost:
        reserve(session, requester="form",
                shop_slug=shop.slug, isbn13=ISBN, customer=other, secret=SECRET)
    assert [h.slug for h in lost.value.alternatives] == ["partner"]


def test_at_most_three_active_holds_per_contact(session: Session, shop) -> None:  # type: ignore[no-untyped-def]
    for n in range(3):
        other = make_shop(session, slug=f"s{n}")
        make_stock_line(session, shop=other, isbn13=ISBN, on_hand=1)
        reserve(session, requester="form",
                shop_slug=other.slug, isbn13=ISBN, customer=READER, secret=SECRET)
    with pytest.raises(TooManyHolds):
        reserve(session, requester="form", shop_slug=shop.slug, isbn13=ISBN,
                customer=Customer(name="C", email="CAMILLE@example.org", phone=None),
                secret=SECRET)


@pytest.mark.parametrize(
    ("customer", "code"),
    [
        (Customer(name=" ", email="a@b.example", phone=None), "missing_name"),
        (Customer(name="A", email=None, phone=None), "missing_contact"),
        (Customer(name="A", email="nope", phone=None), "invalid_email"),
        (Customer(name="A", email='"><svg/onload=alert(1)>@x.fr', phone=None), "invalid_email"),
        (Customer(name="A", email="camille@gmail", phone=None), "invalid_email"),
        (Customer(name="A", email=None, phone="12"), "invalid_phone"),
    ],
)
def test_bad_customer_details(session: Session, shop, customer: Customer, code: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput) as bad:
        reserve(session, requester="form",
                shop_slug=shop.slug, isbn13=ISBN, customer=customer, secret=SECRET)
    assert bad.value.code == code


def test_unknown_shop(session: Session) -> None:
    with pytest.raises(NotFound):
        reserve(session, requester="form",
                shop_slug="nowhere", isbn13=ISBN, customer=READER, secret=SECRET)


@pytest.mark.parametrize(
    ("local_time", "deadline"),
    [
        ("2026-11-24 18:30", "2026-11-25 11:00"),  # closes at 19:00, opens at 09:30
        ("2026-11-24 13:00", "2026-11-24 16:00"),  # during the lunch break
        ("2026-11-24 10:00", "2026-11-24 12:00"),
        ("2026-11-28 20:00", "2026-11-30 16:00"),  # Saturday night: Monday afternoon only
    ],
)
def test_the_hold_lasts_two_hours_of_opening_time(session: Session, local_time: str,
                                                  deadline: str) -> None:
    shop = make_shop(session, opening_hours="Tu-Sa 09:30-12:30,14:00-19:00; Mo 14:00-19:00")
    start = datetime.fromisoformat(local_time).replace(tzinfo=PARIS)
    assert lifecycle.hold_deadline(shop, start) == \
        datetime.fromisoformat(deadline).replace(tzinfo=PARIS)


def test_staff_transitions_and_their_guards(session: Session, shop) -> None:  # type: ignore[no-untyped-def]
    r = reserve(session, requester="form", shop_slug=shop.slug, isbn13=ISBN, customer=READER,
                secret=SECRET).reservation
    confirmed = transition(session, reservation_id=r.id, target="confirmed", actor="staff",
                           shop_ids=[shop.id])
    assert confirmed.state == "confirmed" and confirmed.confirmed_at is not None
    with pytest.raises(Conflict) as again:
        transition(session, reservation_id=r.id, target="confirmed", actor="staff",
                   shop_ids=[shop.id])
    assert again.value.code == "already_confirmed"
    with pytest.raises(NotFound):
        transition(session, reservation_id=r.id, target="collected", actor="staff",
                   shop_ids=[shop.id + 1000])
    with pytest.raises(Conflict):
        transition(session, reservation_id=r.id, target="confirmed", actor="reader")
    collected = transition(session, reservation_id=r.id, target="collected", actor="staff",
                           shop_ids=[shop.id])
    assert collected.state == "collected"
    with pytest.raises(Conflict) as late:
        transition(session, reservation_id=r.id, target="cancelled", actor="reader")
    assert late.value.code == "already_collected"


def test_an_expired_hold_cannot_be_confirmed_and_stops_counting(session: Session, shop) -> None:  # type: ignore[no-untyped-def]
    r = reserve(session, requester="form", shop_slug=shop.slug, isbn13=ISBN, customer=READER,
                secret=SECRET).reservation
    r.created_at = database_now(session) - timedelta(hours=3)
    r.expires_at = database_now(session) - timedelta(seconds=1)
    session.flush()
    assert len(nearest_holders(session, isbn13=ISBN, origin=None).holders) == 1
    with pytest.raises(Conflict) as late:
        transition(session, reservation_id=r.id, target="confirmed", actor="staff",
                   shop_ids=[shop.id])
    assert late.value.code == "expired"
    assert transition(session, reservation_id=r.id, target="expired",
                      actor="system").state == "expired"
