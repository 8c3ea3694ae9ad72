"""What each shop's latest file says is on its shelves."""
from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.isbn import KINDS as CODE_KINDS
from app.isbn import PUBLIC_CODE_KINDS
from app.models.types import Timestamp, in_list


class StockLine(Base):
    """One product code in one shop.

    Holds never change `on_hand`: it is the shop's own count, copies set aside for our readers
    included. Availability subtracts active holds at read time (architecture §3).
    """

    __tablename__ = "stock_line"
    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("price_cents IS NULL OR price_cents >= 0", name="price_not_negative"),
        CheckConstraint("isbn13 ~ '^[0-9]{13}$'", name="code_13_digits"),
        CheckConstraint(in_list("code_kind", CODE_KINDS), name="code_kind_known"),
        CheckConstraint(
            "code_kind <> 'internal' OR left(isbn13, 1) = '2'", name="internal_codes_start_with_2"
        ),
        # The search path: "who holds this ISBN", answered from the index alone.
        Index(
            "ix_stock_line_public_holders",
            "isbn13",
            "shop_id",
            postgresql_include=["on_hand"],
            postgresql_where=text(f"on_hand > 0 AND {in_list('code_kind', PUBLIC_CODE_KINDS)}"),
        ),
    )

    shop_id: Mapped[int] = mapped_column(
        ForeignKey("shop.id", ondelete="CASCADE"), primary_key=True
    )
    isbn13: Mapped[str] = mapped_column(String(13), primary_key=True)
    code_kind: Mapped[str] = mapped_column(String(10))
    on_hand: Mapped[int] = mapped_column(Integer)
    price_cents: Mapped[int | None] = mapped_column(Integer)
    exported_at: Mapped[Timestamp]
    import_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_run.id", ondelete="SET NULL"), index=True
    )
    updated_at: Mapped[Timestamp] = mapped_column(server_default=func.now(), onupdate=func.now())
