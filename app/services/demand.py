"""Unmet demand: searches that found no copy nearby, and order requests, counted so a network
sees what is missing."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.models import SearchMiss, Shop, shop_network


def record_miss(session: Session, *, kind: str, term: str, area: str, day: date) -> None:
    """Count one miss. No reader detail is stored: the term, a rough area and the day."""
    statement = insert(SearchMiss).values(day=day, kind=kind, term=term[:200], area=area[:20])
    session.execute(statement.on_conflict_do_update(
        constraint="uq_search_miss_day_kind_term_area",
        set_={"times": SearchMiss.times + 1},
    ))


@dataclass(frozen=True)
class MissCount:
    kind: str
    term: str
    times: int
    areas: int
    # Order requests readers sent to a shop for this book (app.orders): demand a shop met by
    # ordering, or could not; counted beside the searches, in the same row.
    orders: int = 0


def top_misses(session: Session, *, since: date, limit: int = 50,
               areas: list[str] | None = None) -> list[MissCount]:
    """The books most wanted that nobody nearby had, since `since`, optionally in some areas:
    searches that found no copy nearby, and order requests, one row per book or query."""
    is_order = SearchMiss.kind == "order"
    # An order is about an ISBN: it shares the row of that ISBN's searches.
    kind = case((is_order, "isbn"), else_=SearchMiss.kind)
    searches = func.coalesce(func.sum(SearchMiss.times).filter(~is_order), 0)
    orders = func.coalesce(func.sum(SearchMiss.times).filter(is_order), 0)
    query = (select(kind.label("kind"), SearchMiss.term, searches.label("times"),
                    func.count(func.distinct(SearchMiss.area)).label("areas"),
                    orders.label("orders"))
             .where(SearchMiss.day >= since)
             .group_by(kind, SearchMiss.term)
             .order_by(func.sum(SearchMiss.times).desc(), SearchMiss.term)
             .limit(limit))
    if areas is not None:
        query = query.where(SearchMiss.area.in_(areas))
    return [MissCount(*row) for row in session.execute(query)]


def network_areas(session: Session, *, shop_ids: list[int]) -> list[str]:
    """The départements a staff member's networks cover: where their shops' partners are."""
    network_ids = select(shop_network.c.network_id).where(shop_network.c.shop_id.in_(shop_ids))
    partner_ids = select(shop_network.c.shop_id).where(shop_network.c.network_id.in_(network_ids))
    postcodes = session.scalars(
        select(func.distinct(func.left(Shop.postcode, 2)))
        .where(Shop.id.in_(partner_ids) | Shop.id.in_(shop_ids), Shop.postcode != ""))
    return sorted(postcodes)


def default_window(today: date) -> date:
    return today - timedelta(days=30)
