"""Every change of a reservation's state after reserving, through one guard over the table.

Each change is one conditional UPDATE on the current state (`lifecycle.TRANSITIONS`: who may,
from which states, before or after the deadline): of two racing changes exactly one wins, and
the other learns why it lost. The sweeper's expiry is the same guarded UPDATE for every due hold
at once, so it can neither expire what the table forbids nor forget the mail the table names.
"""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, insert, update
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound
from app.models import OutboxMail, Reservation
from app.reservations.lifecycle import EXPIRED, STATE_TIMESTAMPS, TRANSITIONS, Actor


def queue_mail(session: Session, mails: Sequence[tuple[int, str]]) -> None:
    """Queue mails, as (reservation id, kind), in `outbox_mail`, in the transaction that caused
    them: the mail worker sends them once that has committed (`app/outbox.py`), and never for a
    change that was rolled back. One INSERT for all, and no ORM objects: a reservation's two
    mails ride along its transaction for one round trip."""
    if mails:
        session.execute(insert(OutboxMail), [{"reservation_id": reservation_id, "kind": kind}
                                             for reservation_id, kind in mails])


def transition(session: Session, *, reservation_id: int, target: str, actor: Actor,
               shop_ids: list[int] | None = None, staff_id: int | None = None,
               reason: str | None = None) -> Reservation:
    """Move one reservation to `target` if `actor` may and its current state allows it.

    `shop_ids` limits staff to their own shops: another shop's reservation is "not found".
    """
    where = [Reservation.id == reservation_id]
    if shop_ids is not None:
        where.append(Reservation.shop_id.in_(shop_ids))
    changed = _guarded_update(session, target=target, actor=actor, where=where,
                              staff_id=staff_id, reason=reason)
    if not changed:
        _explain_refusal(session, reservation_id, target, shop_ids)
    reservation = session.get(Reservation, reservation_id, populate_existing=True)
    assert reservation is not None
    return reservation


def expire_due(session: Session) -> int:
    """Record every hold whose deadline has passed, as the `system`'s `expired` transition for
    all of them in one conditional UPDATE; return how many.

    Correctness never waits for this: availability checks deadlines itself. Recording the state
    lets the reader's page say so and sends the reader the table's mail.
    """
    return len(_guarded_update(session, target=EXPIRED, actor="system", where=[]))


def _guarded_update(session: Session, *, target: str, actor: str,
                    where: Sequence[ColumnElement[bool]], staff_id: int | None = None,
                    reason: str | None = None) -> list[int]:
    """The one guard: apply `TRANSITIONS[target]` to the reservations `where` selects, record
    the transition's moment, queue its mail; return the ids that changed."""
    rule = TRANSITIONS[target]
    if actor not in rule.actors:
        raise Conflict(f"{actor} cannot make a reservation {target}", code="not_allowed")
    conditions = [*where, Reservation.state.in_(rule.sources)]
    # The database clock decides, so every app process agrees on whether a hold has lapsed.
    if rule.deadline == "before":
        conditions.append(Reservation.expires_at > func.now())
    elif rule.deadline == "after":
        conditions.append(Reservation.expires_at <= func.now())
    # The wall clock, not the transaction's start: a collection must read as later than a file
    # exported while the transaction was open.
    values: dict[str, object] = {"state": target, STATE_TIMESTAMPS[target]: func.clock_timestamp()}
    if staff_id is not None:
        values["acted_by_staff_id"] = staff_id
    if reason:
        values["cancel_reason"] = reason[:500]
    changed = list(session.scalars(
        update(Reservation).where(*conditions).values(**values).returning(Reservation.id)))
    if rule.mail is not None:
        queue_mail(session, [(reservation_id, rule.mail) for reservation_id in changed])
    return changed


def _explain_refusal(session: Session, reservation_id: int, target: str,
                     shop_ids: list[int] | None) -> None:
    current = session.get(Reservation, reservation_id, populate_existing=True)
    if current is None or (shop_ids is not None and current.shop_id not in shop_ids):
        raise NotFound("no such reservation", code="unknown_reservation")
    rule = TRANSITIONS[target]
    if current.state in rule.sources and rule.deadline == "before":
        raise Conflict("this hold has expired", code="expired")
    raise Conflict(f"this reservation is already {current.state}", code=f"already_{current.state}")
