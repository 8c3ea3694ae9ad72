"""Unmet demand: searches that found no copy nearby, counted so a network sees what is missing."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
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


def top_misses(session: Session, *, since: date, limit: int = 50,
               areas: list[str] | None = None) -> list[MissCount]:
    """The most searched books nobody nearby had, since `since`, optionally in some areas."""
    query = (select(SearchMiss.kind, SearchMiss.term, func.sum(SearchMiss.times).label("times"),
                    func.count(func.distinct(SearchMiss.area)).label("areas"))
             .where(SearchMiss.day >= since)
             .group_by(SearchMiss.kind, SearchMiss.term)
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
