"""Helpers shared by the stock import tests."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import StockLine

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
