"""Order requests on a real PostGIS: every state change, the guard, the limits, expiry, the
personal data purge and the unmet-demand count."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.clock import database_now
from app.errors import Conflict, InvalidInput, NotFound
from app.models import OrderRequest, OutboxMail, SearchMiss, Shop
from app.orders import desk, lifecycle, retention
from app.orders.request import TooManyOrders, find_by_code, request_order
from app.orders.transitions import expire_due, transition
from app.reservations.reserve import Customer
from app.services import demand
from tests.factories import make_edition, make_shop

ISBN = "9782070368228"
UNKNOWN_ISBN = "9782330090159"  # a valid ISBN no shop's file has named
SECRET = "test-secret"
READER = Customer(name="Camille", email="camille@example.org", phone=None)


@pytest.fixture()
def shops(session: Session) -> tuple[Shop, Shop]:
    make_edition(session, isbn13=ISBN)
    mine = make_shop(session, slug="mine", name="Ma Librairie", postcode="33000")
    other = make_shop(session, slug="other", name="L'Autre", postcode="64000", city="Pau")
    return mine, other


def order(session: Session, shop: str = "mine", isbn: str = ISBN,
          customer: Customer = READER, key: str | None = None) -> OrderRequest:
    return request_order(session, shop_slug=shop, isbn13=isbn, customer=customer,
                         secret=SECRET, requester="form", idempotency_key=key).order


def mail_kinds(session: Session, order_id: int) -> list[str]:
    return list(session.scalars(select(OutboxMail.kind).where(
        OutboxMail.order_request_id == order_id).order_by(OutboxMail.id)))


def test_a_request_snapshots_the_book_queues_mail_and_counts_as_demand(
        session: Session, shops: tuple[Shop, Shop]) -> None:
    done = request_order(session, shop_slug="mine", isbn13="978-2-07-036822-8", customer=READER,
                         secret=SECRET, requester="form")
    o = done.order
    assert (o.state, o.isbn13, o.title_snapshot, o.shop_name_snapshot) == \
        ("requested", ISBN, "L'Étranger", "Ma Librairie")
    assert o.expires_at - o.created_at == lifecycle.ANSWER_WITHIN
    assert mail_kinds(session, o.id) == ["order_requested", "order_shop_new"]
    assert find_by_code(session, done.code.upper()).id == o.id
    miss = session.scalars(select(SearchMiss)).one()
    assert (miss.kind, miss.term, miss.area, miss.times) == ("order", ISBN, "33", 1)


def test_an_isbn_unknown_to_the_catalogue_is_accepted_without_a_title(
        session: Session, shops: tuple[Shop, Shop]) -> None:
    o = order(session, isbn=UNKNOWN_ISBN)
    assert (o.isbn13, o.title_snapshot, o.authors_snapshot) == (UNKNOWN_ISBN, None, "")


@pytest.mark.parametrize("isbn", ["9782070368229", "2000000000015", "not an isbn"])
def test_an_invalid_or_non_book_code_is_refused(session: Session, shops: tuple[Shop, Shop],
                                                isbn: str) -> None:
    with pytest.raises(NotFound):
        order(session, isbn=isbn)


def test_the_reader_must_be_reachable_and_the_shop_known(session: Session,
                                                         shops: tuple[Shop, Shop]) -> None:
    with pytest.raises(InvalidInput):
        order(session, customer=Customer(name="Camille", email=None, phone=None))
    with pytest.raises(InvalidInput):
        order(session, customer=Customer(name="Camille", email="pas-une-adresse", phone=None))
    with pytest.raises(NotFound):
        order(session, shop="nowhere")


def test_the_happy_path_moves_the_deadline_and_mails_each_step(
        session: Session, shops: tuple[Shop, Shop]) -> None:
    mine, _ = shops
    o = order(session)
    o = transition(session, order_id=o.id, target=lifecycle.ORDERED, actor="staff",
                   shop_ids=[mine.id])
    assert (o.state, o.expires_at) == ("ordered", None) and o.ordered_at is not None
    o = transition(session, order_id=o.id, target=lifecycle.ARRIVED, actor="staff",
                   shop_ids=[mine.id])
    assert o.state == "arrived" and o.arrived_at is not None
    assert o.expires_at is not None
    assert o.expires_at - o.arrived_at == lifecycle.PICKUP_WITHIN
    o = transition(session, order_id=o.id, target=lifecycle.COLLECTED, actor="staff",
                   shop_ids=[mine.id])
    assert o.state == "collected" and o.collected_at is not None
    assert mail_kinds(session, o.id) == ["order_requested", "order_shop_new", "order_ordered",
                                         "order_arrived", "order_collected"]


def test_a_book_found_in_the_back_room_arrives_straight_away(
        session: Session, shops: tuple[Shop, Shop]) -> None:
    o = transition(session, order_id=order(session).id, target=lifecycle.ARRIVED, actor="staff")
    assert o.state == "arrived" and o.ordered_at is None


def test_a_decline_needs_a_reason_and_tells_it(session: Session,
                                               shops: tuple[Shop, Shop]) -> None:
    o = order(session)
    for reason, note in [(None, None), ("bogus", None), ("other", "  ")]:
        with pytest.raises(InvalidInput):
            transition(session, order_id=o.id, target=lifecycle.DECLINED, actor="staff",
                       reason=reason, note=note)
    o = transition(session, order_id=o.id, target=lifecycle.DECLINED, actor="staff",
                   reason="other", note="Le distributeur a fermé")
    assert (o.state, o.decline_reason, o.staff_note) == \
        ("declined", "other", "Le distributeur a fermé")
    assert mail_kinds(session, o.id)[-1] == "order_declined"


@pytest.mark.parametrize("path", [[], [lifecycle.ORDERED], [lifecycle.ARRIVED]])
def test_the_reader_may_cancel_while_it_runs(session: Session, shops: tuple[Shop, Shop],
                                             path: list[str]) -> None:
    o = order(session)
    for target in path:
        transition(session, order_id=o.id, target=target, actor="staff")
    o = transition(session, order_id=o.id, target=lifecycle.CANCELLED, actor="reader")
    # The reader's receipt, and a word to the shop, which may have ordered the book already.
    assert o.state == "cancelled"
    assert mail_kinds(session, o.id)[-2:] == ["order_cancelled", "order_shop_cancelled"]
    with pytest.raises(Conflict) as again:
        transition(session, order_id=o.id, target=lifecycle.CANCELLED, actor="reader")
    assert again.value.code == "already_cancelled"


@pytest.mark.parametrize(("actor", "target"), [
    ("reader", lifecycle.ORDERED), ("reader", lifecycle.COLLECTED),
    ("reader", lifecycle.DECLINED), ("staff", lifecycle.EXPIRED),
])
def test_only_the_tables_actors_may_act(session: Session, shops: tuple[Shop, Shop],
                                        actor: str, target: str) -> None:
    o = order(session)
    with pytest.raises(Conflict) as refused:
        transition(session, order_id=o.id, target=target, actor=actor,  # type: ignore[arg-type]
                   reason="out_of_print")
    assert refused.value.code == "not_allowed"


@pytest.mark.parametrize(("state", "target"), [
    ("requested", lifecycle.COLLECTED), ("arrived", lifecycle.ORDERED),
    ("arrived", lifecycle.DECLINED), ("ordered", lifecycle.ORDERED),
])
def test_a_change_the_table_forbids_is_refused_and_changes_nothing(
        session: Session, shops: tuple[Shop, Shop], state: str, target: str) -> None:
    o = order(session)
    path = {"requested": [], "ordered": [lifecycle.ORDERED], "arrived": [lifecycle.ARRIVED]}
    for step in path[state]:
        transition(session, order_id=o.id, target=step, actor="staff")
    with pytest.raises(Conflict) as refused:
        transition(session, order_id=o.id, target=target, actor="staff", reason="out_of_print")
    assert refused.value.code == f"already_{state}"
    session.refresh(o)
    assert o.state == state


def test_no_shop_can_act_on_another_shops_orders(session: Session,
                                                 shops: tuple[Shop, Shop]) -> None:
    mine, other = shops
    theirs = order(session, shop="other")
    for target in lifecycle.STAFF_ACTIONS.values():
        with pytest.raises(NotFound):
            transition(session, order_id=theirs.id, target=target, actor="staff",
                       shop_ids=[mine.id], reason="out_of_print")
    session.refresh(theirs)
    assert theirs.state == "requested"
    mine_desk, their_desk = desk.for_shop(session, shop=mine), desk.for_shop(session, shop=other)
    assert mine_desk.running == 0 and [o.id for o in their_desk.requested] == [theirs.id]


def test_the_sweeper_expires_unanswered_requests_and_uncollected_books(
        session: Session, shops: tuple[Shop, Shop]) -> None:
    unanswered, ordered, arrived, fresh = (order(session, customer=Customer(
        name="R", email=f"r{n}@example.org", phone=None)) for n in range(4))
    transition(session, order_id=ordered.id, target=lifecycle.ORDERED, actor="staff")
    transition(session, order_id=arrived.id, target=lifecycle.ARRIVED, actor="staff")
    past = database_now(session) - timedelta(seconds=1)
    session.execute(update(OrderRequest).where(OrderRequest.id.in_(
        [unanswered.id, arrived.id])).values(expires_at=past))
    assert expire_due(session) == 2
    states = dict(session.execute(select(OrderRequest.id, OrderRequest.state)).all())
    assert states == {unanswered.id: "expired", ordered.id: "ordered",
                      arrived.id: "expired", fresh.id: "requested"}
    assert mail_kinds(session, arrived.id)[-1] == "order_expired"
    assert expire_due(session) == 0


def test_a_reader_has_at_most_three_orders_running(session: Session,
                                                   shops: tuple[Shop, Shop]) -> None:
    isbns = ["9782070368228", "9782330090159", "9782070360024"]
    for isbn in isbns:
        order(session, isbn=isbn)
    with pytest.raises(TooManyOrders):
        order(session, isbn="9782070413119",
              customer=Customer(name="Camille", email="CAMILLE@example.org", phone=None))
    first = session.scalars(select(OrderRequest).order_by(OrderRequest.id)).first()
    assert first is not None
    transition(session, order_id=first.id, target=lifecycle.CANCELLED, actor="reader")
    assert order(session, isbn="9782070413119").state == "requested"


def test_the_same_book_twice_at_the_same_shop_is_one_request(session: Session,
                                                             shops: tuple[Shop, Shop]) -> None:
    order(session)
    with pytest.raises(Conflict) as twice:
        order(session, customer=Customer(name="Camille", email=None, phone="06 12 34 56 78"))
        order(session)
    assert twice.value.code == "already_requested"
    assert order(session, shop="other").shop_name_snapshot == "L'Autre"


def test_a_retried_form_replays_the_first_request(session: Session,
                                                  shops: tuple[Shop, Shop]) -> None:
    first = request_order(session, shop_slug="mine", isbn13=ISBN, customer=READER,
                          secret=SECRET, requester="form", idempotency_key="k1")
    again = request_order(session, shop_slug="mine", isbn13=ISBN, customer=READER,
                          secret=SECRET, requester="form", idempotency_key="k1")
    assert again.replayed and again.order.id == first.order.id and again.code == first.code
    assert len(mail_kinds(session, first.order.id)) == 2


def test_order_and_reservation_codes_never_coincide() -> None:
    from app.orders.request import order_code
    from app.reservations.codes import code_for

    seed = bytes(20)
    assert order_code(SECRET, seed) != code_for(SECRET, seed)


def test_the_purge_erases_ended_orders_details_everywhere(session: Session,
                                                          shops: tuple[Shop, Shop]) -> None:
    old, recent, running = (order(session, isbn=isbn, key=f"k{isbn}") for isbn in
                            ("9782070368228", "9782330090159", "9782070360024"))
    transition(session, order_id=old.id, target=lifecycle.DECLINED, actor="staff",
               reason="other", note="Camille, rappelez-nous")
    transition(session, order_id=recent.id, target=lifecycle.CANCELLED, actor="reader")
    long_ago = database_now(session) - timedelta(days=31)
    session.execute(update(OrderRequest).where(OrderRequest.id == old.id)
                    .values(declined_at=long_ago))
    session.execute(update(OutboxMail).values(
        last_error="SMTPRecipientsRefused: camille@example.org"))
    assert retention.purge_personal_data(session, older_than=timedelta(days=30)) == 1
    for o in (old, recent, running):
        session.refresh(o)
    assert (old.customer_name, old.customer_email, old.customer_phone, old.staff_note,
            old.idempotency_key, old.request_fingerprint) == (None,) * 6
    assert old.personal_data_erased_at is not None and old.decline_reason == "other"
    assert recent.customer_email == running.customer_email == "camille@example.org"
    errors = dict(session.execute(select(OutboxMail.order_request_id, OutboxMail.last_error)
                                  .distinct()).all())
    assert errors[old.id] is None and errors[recent.id] is not None
    assert retention.purge_personal_data(session, older_than=timedelta(days=30)) == 0


def test_orders_count_beside_searches_in_the_demand_report(session: Session,
                                                           shops: tuple[Shop, Shop]) -> None:
    today = database_now(session).date()
    demand.record_miss(session, kind="isbn", term=ISBN, area="33", day=today)
    demand.record_miss(session, kind="query", term="nadja", area="33", day=today)
    order(session)
    order(session, customer=Customer(name="Dom", email="dom@example.org", phone=None))
    rows = {(m.kind, m.term): (m.times, m.orders) for m in
            demand.top_misses(session, since=today - timedelta(days=1), areas=["33"])}
    assert rows == {("isbn", ISBN): (1, 2), ("query", "nadja"): (1, 0)}


def test_staff_cancel_for_a_reader_who_asks_and_the_shop_gets_no_notice(
        session: Session, shops: tuple[Shop, Shop]) -> None:
    o = order(session)
    o = transition(session, order_id=o.id, target=lifecycle.CANCELLED, actor="staff",
                   shop_ids=[shops[0].id])
    assert o.state == "cancelled" and mail_kinds(session, o.id)[-1] == "order_cancelled"
    assert "order_shop_cancelled" not in mail_kinds(session, o.id)


@pytest.mark.parametrize(("state", "verbs"), [
    ("requested", ("order", "arrive", "decline", "cancel")),
    ("ordered", ("arrive", "decline", "cancel")),
    ("arrived", ("collect", "cancel")),
    *((state, ()) for state in lifecycle.ENDED_STATES),
])
def test_the_desk_offers_the_tables_verbs(state: str, verbs: tuple[str, ...]) -> None:
    assert lifecycle.staff_verbs(state) == verbs
