"""Tables that serve search: the vocabulary for typo correction, and unmet demand."""
from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models.types import in_list

# An order request counts as a book readers wanted and found in no shop nearby (app.orders).
MISS_KINDS = ("isbn", "query", "order")


class SearchWord(Base):
    """Every distinct folded word of edition titles and authors.

    Trigram similarity over 1.5 M titles takes seconds; over the few hundred thousand distinct
    words it takes milliseconds, so a misspelt word is corrected here, then full-text runs.
    """

    __tablename__ = "search_word"
    __table_args__ = (
        Index("ix_search_word_trgm", "word", postgresql_using="gin",
              postgresql_ops={"word": "gin_trgm_ops"}),
    )

    word: Mapped[str] = mapped_column(Text, primary_key=True)


class SearchMiss(Base):
    """A search that found no copy nearby, counted per day, term and rough area.

    Nothing here identifies a reader: the area is a département (or a 0.1° cell abroad).
    """

    __tablename__ = "search_miss"
    __table_args__ = (
        CheckConstraint(in_list("kind", MISS_KINDS), name="kind_known"),
        CheckConstraint("times > 0", name="times_positive"),
        UniqueConstraint("day", "kind", "term", "area", name="uq_search_miss_day_kind_term_area"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(8))
    term: Mapped[str] = mapped_column(String(200))
    area: Mapped[str] = mapped_column(String(20), default="", server_default="")
    times: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
