"""Book editions, keyed by ISBN-13 and filled from the shops' own files."""
from __future__ import annotations

from sqlalchemy import CheckConstraint, Computed, Index, String, Text, func, literal_column
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
    )

    isbn13: Mapped[str] = mapped_column(String(13), primary_key=True)
    title: Mapped[str] = mapped_column(Text, default="", server_default="")
    authors: Mapped[str] = mapped_column(Text, default="", server_default="")
    publisher: Mapped[str] = mapped_column(Text, default="", server_default="")
    search_vector: Mapped[str] = mapped_column(TSVECTOR,
                                               Computed(SEARCH_VECTOR_SQL, persisted=True))
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[Timestamp] = mapped_column(server_default=func.now(), onupdate=func.now())
