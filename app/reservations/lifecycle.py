"""The reservation lifecycle as data: every state, every allowed change, and the hold's clock.

Every rule about a reservation's life is declared here once and read everywhere else: the
model's CHECK constraints and partial indexes, reserving, the one guard every change of state
goes through (the sweeper's expiry included), the staff desk's queries and buttons, the labels
readers and staff see, which buttons a card shows and whether a reader's page shows a deadline
(`staff_verbs`, `is_active`, given to templates by `app/templating`). Changing a rule here changes
it everywhere. Two restatements remain, each checked by `tests/test_lifecycle.py`: the
`counting_hold` SQL view (availability needs the rule inside the query planner), checked against
`COUNTS_UNTIL_DEADLINE`, `COUNTS_UNTIL_NEXT_FILE` and `WITHHOLDS_ALL_UNTIL_NEXT_FILE`; and the
words "two hours" in the texts that promise the hold's length, pinned to HOLD_DURATION.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from geo.opening_hours import HoursError, parse_hours

if TYPE_CHECKING:
    from app.models.shop import Shop

Actor = Literal["reader", "staff", "system"]


def N_(message: str) -> str:
    """Mark a label for the translation catalogue (`make translations` extracts `N_`); the
    template filter translates it in the reader's language when the page is rendered."""
    return message


# --- States -------------------------------------------------------------------------------------

HELD = "held"
CONFIRMED = "confirmed"
DECLINED = "declined"
COLLECTED = "collected"
EXPIRED = "expired"
CANCELLED = "cancelled"
STATES = (HELD, CONFIRMED, DECLINED, COLLECTED, EXPIRED, CANCELLED)
INITIAL_STATE = HELD

# A copy is put aside for the reader until the deadline: the staff desk lists these, the
# sweeper reminds and expires them, and a reader may have MAX_ACTIVE_PER_CONTACT of them.
ACTIVE_STATES = (HELD, CONFIRMED)
# Nothing more can happen to these; the reader's details are erased some days after.
ENDED_STATES = tuple(state for state in STATES if state not in ACTIVE_STATES)

# Which reservations count against a shop's copies (architecture §3). The stock file counts the
# copies on the shelf, so a held copy counts until its deadline, and a collected copy counts
# until a stock file exported after the collection shows it gone from the shelf.
COUNTS_UNTIL_DEADLINE = ACTIVE_STATES
COUNTS_UNTIL_NEXT_FILE = (COLLECTED,)
# A decline says the shop looked and found no copy on its shelf, whatever its last file said:
# the line withholds every copy of that book at that shop until a file exported after the
# decline shows the shelf again (architecture §3), so the next reader is not sent for it.
WITHHOLDS_ALL_UNTIL_NEXT_FILE = (DECLINED,)
# What the view counts for such a line: more copies than any file may list
# (importers/validate.MAX_QUANTITY), so every "available" computed from it is 0.
WITHHELD_LINE_HOLDS = 1_000_000_000
COUNTING_STATES = COUNTS_UNTIL_DEADLINE + COUNTS_UNTIL_NEXT_FILE + WITHHOLDS_ALL_UNTIL_NEXT_FILE

# Each state past `held` has the timestamp of the transition that led to it (a CHECK per state).
STATE_TIMESTAMPS = {
    CONFIRMED: "confirmed_at",
    DECLINED: "declined_at",
    COLLECTED: "collected_at",
    EXPIRED: "expired_at",
    CANCELLED: "cancelled_at",
}

# What readers and staff read for each state; translated at render time.
STATE_LABELS = {
    HELD: N_("Held for you"),
    CONFIRMED: N_("Set aside by the bookshop"),
    DECLINED: N_("Not available after all"),
    COLLECTED: N_("Collected"),
    EXPIRED: N_("Expired"),
    CANCELLED: N_("Cancelled"),
}


# --- Transitions --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Transition:
    """Who may move a reservation to a state, from which states, and what follows."""

    actors: frozenset[Actor]
    sources: frozenset[str]
    # "before": only while the hold runs (a lapsed hold cannot be confirmed any more);
    # "after": only once the deadline has passed; None: either.
    deadline: Literal["before", "after"] | None
    # The kind of mail queued in `outbox_mail` when the change happens.
    mail: str | None
    # The staff desk's button for this change (`/staff/shops/<slug>/reservations/<id>/<verb>`).
    staff_verb: str | None = None


# Every change after reserving, keyed by the state it leads to (Indico-style can_* table).
TRANSITIONS: dict[str, Transition] = {
    CONFIRMED: Transition(frozenset({"staff"}), frozenset({HELD}), deadline="before",
                          mail="confirmed", staff_verb="confirm"),
    DECLINED: Transition(frozenset({"staff"}), frozenset(ACTIVE_STATES), deadline=None,
                         mail="declined", staff_verb="decline"),
    COLLECTED: Transition(frozenset({"staff"}), frozenset(ACTIVE_STATES), deadline=None,
                          mail="collected", staff_verb="collect"),
    CANCELLED: Transition(frozenset({"staff", "reader"}), frozenset(ACTIVE_STATES),
                          deadline=None, mail="cancelled", staff_verb="cancel"),
    EXPIRED: Transition(frozenset({"system"}), frozenset(ACTIVE_STATES), deadline="after",
                        mail="expired"),
}

# The staff desk's verbs: confirm -> confirmed, decline -> declined, ...
STAFF_ACTIONS = {rule.staff_verb: target for target, rule in TRANSITIONS.items()
                 if rule.staff_verb is not None}


def staff_verbs(state: str) -> frozenset[str]:
    """The desk's verbs that apply to a reservation in `state` (the buttons its card shows)."""
    return frozenset(rule.staff_verb for rule in TRANSITIONS.values()
                     if rule.staff_verb is not None and "staff" in rule.actors
                     and state in rule.sources)


def is_active(state: str) -> bool:
    """A copy is still put aside: the reader sees a deadline and may cancel."""
    return state in ACTIVE_STATES


def state_at(state: str, expires_at: datetime, now: datetime) -> str:
    """The state a reader must be shown at `now`: an active hold past its deadline has expired,
    whether or not the sweeper has recorded it yet (availability already stopped counting it)."""
    if state in TRANSITIONS[EXPIRED].sources and expires_at <= now:
        return EXPIRED
    return state


# --- Mail ---------------------------------------------------------------------------------------

# Queued by a new hold: the reader's receipt with their code, and the shop's notice.
MAIL_ON_RESERVE = ("reserved", "shop_new")
# Queued by the sweeper REMINDER_BEFORE the deadline of a hold still active.
REMINDER_MAIL = "reminder"
# Queued when a reader asks for their active reservations again (`resend`): code and link.
RESENT_MAIL = "resent"
# Reader mails that carry the code, the deadline and the link to the reservation's page.
MAIL_WITH_CODE = ("reserved", "confirmed", REMINDER_MAIL, RESENT_MAIL)
MAIL_KINDS = (*MAIL_ON_RESERVE,
              *(rule.mail for rule in TRANSITIONS.values() if rule.mail is not None),
              REMINDER_MAIL, RESENT_MAIL)
# Mail for the shop; every other kind goes to the reader, in the reader's language.
SHOP_MAIL_KINDS = frozenset({"shop_new"})


# --- The hold's clock and limits ----------------------------------------------------------------

# A hold lasts this long of the shop's *opening* time (architecture §3): a reservation made half
# an hour before closing runs on into the next opening.
HOLD_DURATION = timedelta(hours=2)
# The reader is reminded this long before the deadline (the reminder mail says how long is left).
REMINDER_BEFORE = timedelta(minutes=30)
REMINDER_MINUTES = int(REMINDER_BEFORE.total_seconds() // 60)
# Active holds one email address or phone number may have at once (the reserve page says "3").
MAX_ACTIVE_PER_CONTACT = 3


# The pickup code's characters: no 0/O, 1/I/L or U, so that a code read aloud or copied by hand
# has one reading (and fewer words spelt by chance). Six of them: 30^6 = 729 million codes.
PICKUP_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
PICKUP_CODE_LENGTH = 6
PICKUP_CODE_PATTERN = f"^[2-9A-HJKMNP-TV-Z]{{{PICKUP_CODE_LENGTH}}}$"


def hold_deadline(shop: Shop, start: datetime) -> datetime:
    """HOLD_DURATION of the shop's opening time from `start`; plain hours if its hours are
    unknown or unreadable, so a hold always ends."""
    if shop.opening_hours:
        try:
            hours = parse_hours(shop.opening_hours, timezone=shop.timezone, country=shop.country)
        except HoursError:
            hours = None
        if hours is not None:
            deadline = hours.after_open_time(start, HOLD_DURATION)
            if deadline is not None:
                return deadline
    return start + HOLD_DURATION
