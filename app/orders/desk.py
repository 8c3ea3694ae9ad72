"""What a shop's staff see of their order requests: the running ones, and the last ended."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import database_now
from app.models import OrderRequest, Shop
from app.orders.lifecycle import ACTIVE_STATES, ARRIVED, ORDERED, REQUESTED

# Ended orders the desk keeps in sight: enough to answer a reader at the counter.
RECENT_ENDED = 20


@dataclass(frozen=True)
class OrderDesk:
    shop: Shop
    # To answer (order or decline), placed with the supplier, arrived and waiting for the reader.
    requested: list[OrderRequest]
    ordered: list[OrderRequest]
    arrived: list[OrderRequest]
    recent: list[OrderRequest]
    now: datetime

    @property
    def running(self) -> int:
        return len(self.requested) + len(self.ordered) + len(self.arrived)


def for_shop(session: Session, *, shop: Shop) -> OrderDesk:
    """One shop's orders; nothing of another shop's (every query filters on `shop.id`)."""
    active = list(session.scalars(
        select(OrderRequest).where(OrderRequest.shop_id == shop.id,
                                   OrderRequest.state.in_(ACTIVE_STATES))
        .order_by(OrderRequest.created_at)))
    recent = list(session.scalars(
        select(OrderRequest).where(OrderRequest.shop_id == shop.id,
                                   OrderRequest.state.not_in(ACTIVE_STATES))
        .order_by(OrderRequest.created_at.desc()).limit(RECENT_ENDED)))
    return OrderDesk(shop=shop, requested=[o for o in active if o.state == REQUESTED],
                     ordered=[o for o in active if o.state == ORDERED],
                     arrived=[o for o in active if o.state == ARRIVED], recent=recent,
                     now=database_now(session))
