"""What a shop's staff see of their reservations: to handle now, waiting, at risk, today."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.clock import database_now
from app.models import Reservation, Shop
from app.models.types import in_list
from app.reservations.lifecycle import ACTIVE_STATES, CONFIRMED, HELD

# Holds whose book tonight's file shows fewer copies of than there are active holds.
AT_RISK = text(f"""
    SELECT r.id FROM reservation r
    LEFT JOIN stock_line sl ON sl.shop_id = r.shop_id AND sl.isbn13 = r.isbn13
    WHERE r.shop_id = :shop_id AND {in_list("r.state", ACTIVE_STATES)} AND r.expires_at > now()
      AND coalesce(sl.on_hand, 0) < (
          SELECT count(*) FROM reservation o
          WHERE o.shop_id = r.shop_id AND o.isbn13 = r.isbn13
            AND {in_list("o.state", ACTIVE_STATES)} AND o.expires_at > now())
""")


@dataclass(frozen=True)
class Desk:
    shop: Shop
    new: list[Reservation]
    waiting: list[Reservation]
    history: list[Reservation]
    at_risk: set[int]
    sent_by: dict[int, str]
    now: datetime


def for_shop(session: Session, *, shop: Shop) -> Desk:
    # The database's clock: the page's countdowns compare it with deadlines SQL checks.
    now = database_now(session)
    active = list(session.scalars(
        select(Reservation).where(Reservation.shop_id == shop.id,
                                  Reservation.state.in_(ACTIVE_STATES),
                                  Reservation.expires_at > func.now())
        .order_by(Reservation.expires_at)))
    today_start = func.date_trunc("day", func.now(), shop.timezone)
    history = list(session.scalars(
        select(Reservation).where(Reservation.shop_id == shop.id,
                                  Reservation.created_at >= today_start)
        .order_by(Reservation.created_at.desc())))
    at_risk = set(session.scalars(AT_RISK, {"shop_id": shop.id}))
    partner_ids = {r.redirected_from_shop_id for r in active + history if r.redirected_from_shop_id}
    sent_by = dict(session.execute(select(Shop.id, Shop.name).where(Shop.id.in_(partner_ids)))
                   .all()) if partner_ids else {}
    return Desk(shop=shop, new=[r for r in active if r.state == HELD],
                waiting=[r for r in active if r.state == CONFIRMED], history=history,
                at_risk=at_risk, sent_by=sent_by, now=now)


def find_by_pickup_code(session: Session, *, shop: Shop, code: str) -> Reservation | None:
    """The shop's reservation with this pickup code: the active one (codes are unique among a
    shop's active reservations), else the latest that had it, so the desk can say it ended.
    Only this shop's reservations: a code never reveals another shop's."""
    return session.scalar(
        select(Reservation).where(Reservation.shop_id == shop.id,
                                  Reservation.pickup_code == code)
        .order_by(Reservation.state.in_(ACTIVE_STATES).desc(), Reservation.created_at.desc())
        .limit(1))
