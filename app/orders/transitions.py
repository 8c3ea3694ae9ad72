"""Every change of an order's state after the request, through one guard over the table.

As for reservations, each change is one conditional UPDATE on the current state
(`lifecycle.TRANSITIONS`): of two racing clicks exactly one wins and the other learns why it
lost; staff reach only their own shops' orders (`shop_ids`), another shop's is "not found"; the
sweeper's expiry is the same guarded UPDATE for every due order at once.
"""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, null, select, update
from sqlalchemy.orm import Session

from app.errors import Conflict, InvalidInput, NotFound
from app.models import OrderRequest
from app.orders.lifecycle import (
    DECLINE_REASONS,
    DECLINED,
    EXPIRED,
    PICKUP_WITHIN,
    STATE_TIMESTAMPS,
    TRANSITIONS,
)
from app.orders.request import queue_order_mail
from app.reservations.lifecycle import Actor

NOTE_CHARS = 500


def transition(session: Session, *, order_id: int, target: str, actor: Actor,
               shop_ids: list[int] | None = None, staff_id: int | None = None,
               reason: str | None = None, note: str | None = None) -> OrderRequest:
    """Move one order to `target` if `actor` may and its state allows it.

    A decline needs a `reason` from DECLINE_REASONS ("other" needs a `note` too): the reader
    is told why. `shop_ids` limits staff to their own shops."""
    note = (note or "").strip()[:NOTE_CHARS] or None
    if target == DECLINED and (reason not in DECLINE_REASONS or (reason == "other" and not note)):
        raise InvalidInput("a decline needs a reason", code="missing_reason")
    where = [OrderRequest.id == order_id]
    if shop_ids is not None:
        where.append(OrderRequest.shop_id.in_(shop_ids))
    values: dict[str, object] = {}
    if target == DECLINED:
        values = {"decline_reason": reason, "staff_note": note}
    if staff_id is not None:
        values["acted_by_staff_id"] = staff_id
    if not _guarded_update(session, target=target, actor=actor, where=where, values=values):
        _explain_refusal(session, order_id, shop_ids)
    order = session.get(OrderRequest, order_id, populate_existing=True)
    assert order is not None
    return order


def expire_due(session: Session) -> int:
    """Record every order whose deadline has passed (unanswered requests, uncollected books)
    as the `system`'s `expired`, in one conditional UPDATE; return how many."""
    return len(_guarded_update(session, target=EXPIRED, actor="system", where=[], values={}))


def _guarded_update(session: Session, *, target: str, actor: str,
                    where: Sequence[ColumnElement[bool]], values: dict[str, object]) -> list[int]:
    """The one guard: apply `TRANSITIONS[target]` to the orders `where` selects, record the
    moment, move the deadline, queue the table's mail; return the ids that changed."""
    rule = TRANSITIONS[target]
    if actor not in rule.actors:
        raise Conflict(f"{actor} cannot make an order {target}", code="not_allowed")
    conditions = [*where, OrderRequest.state.in_(rule.sources)]
    if rule.only_when_due:
        conditions.append(OrderRequest.expires_at <= func.now())
    # The wall clock, read once: an arrival's pickup deadline is exactly PICKUP_WITHIN after it.
    moment = session.scalar(select(func.clock_timestamp()))
    values = {**values, "state": target, STATE_TIMESTAMPS[target]: moment}
    if rule.deadline == "clear":
        values["expires_at"] = null()
    elif rule.deadline == "pickup":
        assert moment is not None
        values["expires_at"] = moment + PICKUP_WITHIN
    changed = list(session.scalars(
        update(OrderRequest).where(*conditions).values(**values).returning(OrderRequest.id)))
    kinds = [rule.mail] if rule.shop_mail is None or actor == "staff" else \
        [rule.mail, rule.shop_mail]
    queue_order_mail(session, [(order_id, kind) for order_id in changed for kind in kinds])
    return changed


def _explain_refusal(session: Session, order_id: int, shop_ids: list[int] | None) -> None:
    current = session.get(OrderRequest, order_id, populate_existing=True)
    if current is None or (shop_ids is not None and current.shop_id not in shop_ids):
        raise NotFound("no such order", code="unknown_order")
    raise Conflict(f"this order is already {current.state}", code=f"already_{current.state}")
