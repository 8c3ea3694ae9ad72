"""The order request's lifecycle as data: every state, every allowed change, the deadlines.

An order is slower than a hold: a distributor takes days, so the deadlines are counted in days
of calendar time, not in opening hours. Two deadlines only, both kept in `expires_at`: the shop
must answer a request within ANSWER_WITHIN, and the reader must collect an arrived book within
PICKUP_WITHIN; past either, the sweeper records the order `expired` (the reader is told). An
order placed with the distributor (`ordered`) has no deadline: its arrival is the supplier's.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from app.reservations.lifecycle import MAX_ACTIVE_PER_CONTACT as RESERVATION_LIMIT
from app.reservations.lifecycle import N_, Actor

REQUESTED = "requested"
ORDERED = "ordered"
ARRIVED = "arrived"
COLLECTED = "collected"
DECLINED = "declined"
CANCELLED = "cancelled"
EXPIRED = "expired"
STATES = (REQUESTED, ORDERED, ARRIVED, COLLECTED, DECLINED, CANCELLED, EXPIRED)
INITIAL_STATE = REQUESTED
# The reader's path when all goes well, as the reader's page draws it.
HAPPY_PATH = (REQUESTED, ORDERED, ARRIVED, COLLECTED)

# Still running: on the shop's desk, cancellable by the reader, counted in the reader's limit.
ACTIVE_STATES = (REQUESTED, ORDERED, ARRIVED)
ENDED_STATES = tuple(state for state in STATES if state not in ACTIVE_STATES)

STATE_TIMESTAMPS = {
    ORDERED: "ordered_at",
    ARRIVED: "arrived_at",
    COLLECTED: "collected_at",
    DECLINED: "declined_at",
    CANCELLED: "cancelled_at",
    EXPIRED: "expired_at",
}

STATE_LABELS = {
    REQUESTED: N_("Request sent to the bookshop"),
    ORDERED: N_("Ordered by the bookshop"),
    ARRIVED: N_("Arrived: waiting for you at the bookshop"),
    COLLECTED: N_("Collected"),
    DECLINED: N_("Declined by the bookshop"),
    CANCELLED: N_("Cancelled"),
    EXPIRED: N_("Expired"),
}

# Why a shop declines, as the reader reads it (stored as the key; "other" wants a note).
DECLINE_REASONS = {
    "out_of_print": N_("The book is out of print."),
    "unavailable": N_("The publisher or distributor cannot supply it at the moment."),
    "not_supplied": N_("This bookshop cannot order from this publisher."),
    "other": N_("Another reason, given by the bookshop."),
}

# The shop answers (orders, or declines) within this; the reader collects an arrived book
# within that. Bookshops usually keep an ordered book a fortnight.
ANSWER_WITHIN = timedelta(days=7)
PICKUP_WITHIN = timedelta(days=14)
# Active orders one email address or phone number may have at once: the reservations' limit.
MAX_ACTIVE_PER_CONTACT = RESERVATION_LIMIT

Deadline = Literal["keep", "clear", "pickup"]


@dataclass(frozen=True)
class Transition:
    """Who may move an order to a state, from which states, and what follows."""

    actors: frozenset[Actor]
    sources: frozenset[str]
    # The reader's mail; a change the shop must hear of names its own, sent when someone other
    # than its staff caused it.
    mail: str
    shop_mail: str | None = None
    staff_verb: str | None = None
    # What becomes of `expires_at`: kept, cleared (no deadline while the supplier works), or
    # set to PICKUP_WITHIN from now.
    deadline: Deadline = "keep"
    # Only once `expires_at` has passed (the sweeper's expiry).
    only_when_due: bool = False


TRANSITIONS: dict[str, Transition] = {
    ORDERED: Transition(frozenset({"staff"}), frozenset({REQUESTED}), mail="order_ordered",
                        staff_verb="order", deadline="clear"),
    # A shop may find the book in its back room: arrived straight from requested.
    ARRIVED: Transition(frozenset({"staff"}), frozenset({REQUESTED, ORDERED}),
                        mail="order_arrived", staff_verb="arrive", deadline="pickup"),
    COLLECTED: Transition(frozenset({"staff"}), frozenset({ARRIVED}), mail="order_collected",
                          staff_verb="collect"),
    DECLINED: Transition(frozenset({"staff"}), frozenset({REQUESTED, ORDERED}),
                         mail="order_declined", staff_verb="decline"),
    # By the reader on their page, or by staff for a reader who asks at the counter or on the
    # phone; the shop hears of a reader's own cancellation: it may have ordered the book.
    CANCELLED: Transition(frozenset({"reader", "staff"}), frozenset(ACTIVE_STATES),
                          mail="order_cancelled", staff_verb="cancel",
                          shop_mail="order_shop_cancelled"),
    EXPIRED: Transition(frozenset({"system"}), frozenset({REQUESTED, ARRIVED}),
                        mail="order_expired", only_when_due=True),
}

STAFF_ACTIONS = {rule.staff_verb: target for target, rule in TRANSITIONS.items()
                 if rule.staff_verb is not None}

# Queued by a new request: the reader's receipt with their link, and the shop's notice.
MAIL_ON_REQUEST = ("order_requested", "order_shop_new")
SHOP_MAIL_KINDS = frozenset({"order_shop_new", *(rule.shop_mail for rule in TRANSITIONS.values()
                                                  if rule.shop_mail is not None)})
ORDER_MAIL_KINDS = (*MAIL_ON_REQUEST, *(rule.mail for rule in TRANSITIONS.values()),
                    *sorted(SHOP_MAIL_KINDS - set(MAIL_ON_REQUEST)))


def staff_verbs(state: str) -> tuple[str, ...]:
    """The desk's verbs for an order in `state`, in the table's order (its card's buttons)."""
    return tuple(rule.staff_verb for rule in TRANSITIONS.values()
                 if rule.staff_verb is not None and "staff" in rule.actors
                 and state in rule.sources)


def is_active(state: str) -> bool:
    return state in ACTIVE_STATES
