"""The lifecycle's declarations, and the places that must agree with them without importing them.

The `counting_hold` SQL view restates "which holds count against a shop's copies" for the query
planner; here every state is tried against it, so the view and `lifecycle` cannot drift apart.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app import outbox
from app.clock import database_now
from app.errors import Conflict
from app.models import OutboxMail, Reservation
from app.reservations import lifecycle
from app.reservations.lifecycle import (
    ACTIVE_STATES,
    CONFIRMED,
    COUNTS_UNTIL_DEADLINE,
    COUNTS_UNTIL_NEXT_FILE,
    ENDED_STATES,
    EXPIRED,
    HELD,
    MAIL_KINDS,
    STATE_TIMESTAMPS,
    STATES,
    TRANSITIONS,
    WITHHELD_LINE_HOLDS,
    WITHHOLDS_ALL_UNTIL_NEXT_FILE,
)
from app.reservations.transitions import expire_due
from tests.factories import make_reservation, make_shop

HOUR = timedelta(hours=1)


def counted(session: Session, shop_id: int) -> int:
    return session.scalar(text("SELECT coalesce(sum(holds), 0) FROM counting_hold "
                               "WHERE shop_id = :shop_id"), {"shop_id": shop_id}) or 0


def reservation_in(session: Session, state: str, *, deadline_passed: bool,
                   file_after_change: bool) -> Reservation:
    """A reservation in `state`, its deadline passed or not, at a shop whose latest stock file
    was exported after (or before) the change that led to that state."""
    now = database_now(session)
    changed_at = now - HOUR
    shop = make_shop(session, stock_exported_at=now if file_after_change else now - 2 * HOUR)
    values: dict[str, object] = {"state": state, "created_at": now - 3 * HOUR,
                                 "expires_at": now - HOUR / 2 if deadline_passed else now + HOUR}
    if state in STATE_TIMESTAMPS:
        values[STATE_TIMESTAMPS[state]] = changed_at
    return make_reservation(session, shop=shop, **values)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize(("deadline_passed", "file_after_change"),
                         [(False, False), (True, False), (False, True)])
def test_the_counting_hold_view_agrees_with_the_lifecycle(
        session: Session, state: str, deadline_passed: bool, file_after_change: bool) -> None:
    r = reservation_in(session, state, deadline_passed=deadline_passed,
                       file_after_change=file_after_change)
    expected = ((state in COUNTS_UNTIL_DEADLINE and not deadline_passed)
                or (state in COUNTS_UNTIL_NEXT_FILE and not file_after_change))
    withheld = state in WITHHOLDS_ALL_UNTIL_NEXT_FILE and not file_after_change
    assert counted(session, r.shop_id) == (WITHHELD_LINE_HOLDS if withheld else int(expected))


def test_the_table_is_complete() -> None:
    assert set(TRANSITIONS) == set(STATE_TIMESTAMPS) == set(STATES) - {HELD}
    assert set(lifecycle.STATE_LABELS) == set(STATES)
    assert set(ACTIVE_STATES) | set(lifecycle.ENDED_STATES) == set(STATES)
    for rule in TRANSITIONS.values():
        assert rule.sources <= set(ACTIVE_STATES)  # an ended reservation never changes again
    assert lifecycle.STAFF_ACTIONS == {"confirm": "confirmed", "decline": "declined",
                                       "collect": "collected", "cancel": "cancelled"}
    assert set(lifecycle.MAIL_KINDS) == {"reserved", "shop_new", "confirmed", "declined",
                                         "expired", "reminder", "cancelled", "collected",
                                         "resent"}


def test_expiry_takes_only_due_holds_in_the_tables_source_states(session: Session) -> None:
    due = {state: reservation_in(session, state, deadline_passed=True, file_after_change=False)
           for state in STATES}
    running = reservation_in(session, HELD, deadline_passed=False, file_after_change=False)
    assert expire_due(session) == len(ACTIVE_STATES)
    session.expire_all()
    for state, r in due.items():
        assert r.state == (EXPIRED if state in ACTIVE_STATES else state)
    assert due[HELD].expired_at is not None and running.state == HELD
    mailed = set(session.scalars(select(OutboxMail.reservation_id).where(
        OutboxMail.kind == TRANSITIONS[EXPIRED].mail)))
    assert mailed == {due[state].id for state in ACTIVE_STATES}
    assert expire_due(session) == 0


def test_expiry_reads_the_transition_table(session: Session,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    held = reservation_in(session, "held", deadline_passed=True, file_after_change=False)
    confirmed = reservation_in(session, "confirmed", deadline_passed=True, file_after_change=False)
    monkeypatch.setitem(TRANSITIONS, EXPIRED,
                        replace(TRANSITIONS[EXPIRED], sources=frozenset({HELD}), mail=None))
    assert expire_due(session) == 1
    session.expire_all()
    assert (held.state, confirmed.state) == (EXPIRED, "confirmed")
    assert session.scalar(select(OutboxMail.id).where(OutboxMail.kind == "expired")) is None


def test_expiry_needs_the_deadline_passed_and_the_system_allowed(
        session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    reservation_in(session, HELD, deadline_passed=False, file_after_change=False)
    assert expire_due(session) == 0
    monkeypatch.setitem(TRANSITIONS, EXPIRED, replace(TRANSITIONS[EXPIRED], actors=frozenset()))
    with pytest.raises(Conflict) as refused:
        expire_due(session)
    assert refused.value.code == "not_allowed"


def test_every_mail_kind_has_a_subject_in_both_languages(app: Flask, session: Session) -> None:
    """The outbox words each kind the lifecycle can queue: a new kind without a subject would
    fail only when its first mail is sent."""
    reservation = make_reservation(session, shop=make_shop(session), title_snapshot="Nadja")
    with app.test_request_context():
        for locale in ("fr", "en"):
            with force_locale(locale):
                subjects = {kind: outbox.subject(kind, reservation) for kind in MAIL_KINDS}
            assert all("Nadja" in subject for subject in subjects.values()), subjects
            assert len(set(subjects.values())) == len(MAIL_KINDS)


@pytest.mark.parametrize(("state", "verbs"), [
    (HELD, {"confirm", "decline", "collect", "cancel"}),
    (CONFIRMED, {"decline", "collect", "cancel"}),
    *((state, set()) for state in ENDED_STATES),
])
def test_the_desk_offers_the_tables_verbs(state: str, verbs: set[str]) -> None:
    assert lifecycle.staff_verbs(state) == verbs


def test_texts_that_spell_the_rules_out_match_them() -> None:
    """Readers are told "two hours of the shop's opening time" in words (reserve page, API
    description): change those texts with HOLD_DURATION. The reminder and the per-reader limit
    are formatted from their constants."""
    assert lifecycle.HOLD_DURATION == timedelta(hours=2)
    assert lifecycle.REMINDER_MINUTES * 60 == lifecycle.REMINDER_BEFORE.total_seconds()


@pytest.mark.parametrize("state", STATES)
def test_a_reader_is_shown_expiry_from_the_deadline_not_the_recorded_state(state: str) -> None:
    """The reader's page and the desk's look-up use `state_at`: a running hold past its deadline
    reads as expired before the sweeper records it; every other state reads as recorded."""
    deadline = datetime(2026, 11, 24, 12, tzinfo=UTC)
    assert lifecycle.state_at(state, deadline, deadline - HOUR) == state
    lapsed = lifecycle.state_at(state, deadline, deadline)
    assert lapsed == (EXPIRED if state in ACTIVE_STATES else state)
