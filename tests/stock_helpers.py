"""Helpers shared by the stock import tests."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.models import Edition, StockLine

STOCK_DATA = Path(__file__).parent / "data" / "stock"


def shelf(session: Session, shop_id: int) -> dict[str, int]:
    """The shop's stock as {code: on_hand}, straight from the database."""
    session.expire_all()
    rows = session.execute(select(StockLine.isbn13, StockLine.on_hand)
                           .where(StockLine.shop_id == shop_id))
    return {code: on_hand for code, on_hand in rows}


def write_csv(folder: Path, name: str, lines: list[str], *, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def delete_orphan_editions(session: Session, *, since: datetime) -> None:
    """Editions that committed imports created since `since` and no stock line uses any more:
    left behind, they would collide with the editions later tests make."""
    session.execute(delete(Edition).where(
        Edition.created_at >= since,
        ~select(StockLine.isbn13).where(StockLine.isbn13 == Edition.isbn13).exists()))
