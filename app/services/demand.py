"""Unmet demand: searches that found no copy nearby, counted so a network sees what is missing."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.models import SearchMiss


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
               area_prefix: str | None = None) -> list[MissCount]:
    query = (select(SearchMiss.kind, SearchMiss.term, func.sum(SearchMiss.times).label("times"),
                    func.count(func.distinct(SearchMiss.area)).label("areas"))
             .where(SearchMiss.day >= since)
             .group_by(SearchMiss.kind, SearchMiss.term)
             .order_by(func.sum(SearchMiss.times).desc(), SearchMiss.term)
             .limit(limit))
    if area_prefix:
        query = query.where(SearchMiss.area.startswith(area_prefix, autoescape=True))
    return [MissCount(*row) for row in session.execute(query)]


def default_window(today: date) -> date:
    return today - timedelta(days=30)
