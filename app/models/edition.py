"""Book editions, keyed by ISBN-13 and filled from the shops' own files."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models.types import CreatedAt, Timestamp

# `unaccent()` is only STABLE, so indexes and generated columns go through this IMMUTABLE wrapper,
# created by the first migration (it pins the dictionary, which makes the promise true).
UNACCENT = "rayons_unaccent"

# The title French-stemmed, authors and publisher plain, and the starts of title and author words
# (`^rou`: a word being typed is looked up as one index entry; see the migration that added
# `rayons_word_starts`).
SEARCH_VECTOR_SQL = (
    f"setweight(to_tsvector('french'::regconfig, {UNACCENT}(coalesce(title, ''))), 'A') || "
    f"setweight(to_tsvector('simple'::regconfig, {UNACCENT}(coalesce(authors, ''))), 'B') || "
    f"setweight(to_tsvector('simple'::regconfig, {UNACCENT}(coalesce(publisher, ''))), 'D') || "
    "rayons_word_starts(coalesce(title, '') || ' ' || coalesce(authors, ''))"
)


class Edition(Base):
    __tablename__ = "edition"
    __table_args__ = (
        # ISBN-13 (978/979) and ISMN (9790) editions; other product codes never become editions.
        CheckConstraint("isbn13 ~ '^97[89][0-9]{10}$'", name="isbn13_format"),
        Index("ix_edition_search_vector", "search_vector", postgresql_using="gin"),
        # Typo-tolerant matching on accent-free, lower-cased "title authors".
        Index(
            "ix_edition_title_authors_trgm",
            literal_column(f"{UNACCENT}(lower(title || ' ' || authors))").label("title_authors"),
            postgresql_using="gin",
            postgresql_ops={"title_authors": "gin_trgm_ops"},
        ),
        # The few editions still without a title, for the enrichment job (importers/enrichment.py)
        Index("ix_edition_untitled", "isbn13", postgresql_where=text("title = ''")),
    )

    isbn13: Mapped[str] = mapped_column(String(13), primary_key=True)
    title: Mapped[str] = mapped_column(Text, default="", server_default="")
    authors: Mapped[str] = mapped_column(Text, default="", server_default="")
    publisher: Mapped[str] = mapped_column(Text, default="", server_default="")
    search_vector: Mapped[str] = mapped_column(TSVECTOR,
                                               Computed(SEARCH_VECTOR_SQL, persisted=True))
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[Timestamp] = mapped_column(server_default=func.now(), onupdate=func.now())


LOOKUP_OUTCOMES = ("found", "not_found", "failed")


class EditionLookup(Base):
    """When the enrichment job last asked the open bibliographic services about an edition without
    a title, and what came of it, so that a miss is not asked again every night: the job skips the
    edition until `retry_after` (weeks after a miss, a day after a failure).

    A table of its own rather than columns of `edition`: imports rewrite edition rows, and the
    few untitled ones are all this needs.
    """

    __tablename__ = "edition_lookup"
    __table_args__ = (
        CheckConstraint(f"outcome IN ({', '.join(repr(o) for o in LOOKUP_OUTCOMES)})",
                        name="outcome_known"),
    )

    isbn13: Mapped[str] = mapped_column(
        String(13), ForeignKey("edition.isbn13", ondelete="CASCADE"), primary_key=True)
    outcome: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)  # the service that gave the title
    attempts: Mapped[int] = mapped_column(default=1, server_default="1")
    looked_up_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    retry_after: Mapped[datetime] = mapped_column(DateTime(timezone=True))
