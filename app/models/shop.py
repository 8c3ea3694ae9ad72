"""Shops and the networks that pool their stock."""
from __future__ import annotations

from geoalchemy2 import Geography, WKBElement
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.models.types import CreatedAt, Timestamp, in_list

FEED_FORMATS = ("delimited", "xlsx", "onix", "json", "scanner")
PRICE_UNITS = ("euros", "cents", "thousandths")
SLUG_PATTERN = "^[a-z0-9]+(-[a-z0-9]+)*$"

shop_network = Table(
    "shop_network",
    Base.metadata,
    Column("shop_id", ForeignKey("shop.id", ondelete="CASCADE"), primary_key=True),
    Column("network_id", ForeignKey("network.id", ondelete="CASCADE"), primary_key=True),
)


class Network(Base):
    """A group of shops shown together: a city network, a regional portal."""

    __tablename__ = "network"
    __table_args__ = (CheckConstraint(f"slug ~ '{SLUG_PATTERN}'", name="slug_format"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[CreatedAt]

    shops: Mapped[list[Shop]] = relationship(
        secondary=shop_network, back_populates="networks", order_by="Shop.name"
    )


class Shop(Base):
    __tablename__ = "shop"
    __table_args__ = (
        CheckConstraint(f"slug ~ '{SLUG_PATTERN}'", name="slug_format"),
        CheckConstraint("length(btrim(name)) > 0", name="name_not_blank"),
        CheckConstraint("country ~ '^[A-Z]{2}$'", name="country_iso2"),
        CheckConstraint(
            "feed_format IS NULL OR " + in_list("feed_format", FEED_FORMATS),
            name="feed_format_known",
        ),
        CheckConstraint(in_list("feed_price_unit", PRICE_UNITS), name="feed_price_unit_known"),
        # The directory's order, a page at a time (app/services/directory.py). The predicate is
        # written as the services write it, or PostgreSQL could not tell that the index applies.
        Index("ix_shop_directory_order", "city", "name", "id",
              postgresql_where=text("active IS TRUE")),
        # The map's view boxes are latitude/longitude rectangles (app/services/shop_map.py).
        Index("ix_shop_active_geometry", text("(location::geometry)"), postgresql_using="gist",
              postgresql_where=text("active IS TRUE")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(Text, default="")
    postcode: Mapped[str] = mapped_column(String(16), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    country: Mapped[str] = mapped_column(String(2), default="FR")
    location: Mapped[WKBElement] = mapped_column(
        Geography(geometry_type="POINT", srid=4326, spatial_index=True)
    )
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    website: Mapped[str] = mapped_column(String(500), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    # The OSM `opening_hours` expression, holidays included, evaluated by geo.opening_hours.
    opening_hours: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    # Stock feed settings: None means "detect from the file's content".
    feed_format: Mapped[str | None] = mapped_column(String(20))
    feed_encoding: Mapped[str | None] = mapped_column(String(20))
    feed_price_unit: Mapped[str] = mapped_column(String(12), default="euros",
                                                 server_default="euros")
    feed_pull_url: Mapped[str | None] = mapped_column(Text)
    feed_location_code: Mapped[str | None] = mapped_column(String(80), unique=True)
    # The bookseller's column map (importers.column_map.ColumnMap.as_json) for files whose
    # columns cannot be guessed; None means "find the columns by their headers".
    feed_columns: Mapped[dict[str, str] | None] = mapped_column(JSONB)
    api_token_hash: Mapped[str | None] = mapped_column(String(128), unique=True)
    # Export time of the last applied stock snapshot: every line of the shop is "as of" this.
    # Lines themselves keep the export time of the file that last changed them, so a nightly
    # merge rewrites only changed rows.
    stock_exported_at: Mapped[Timestamp | None]
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[Timestamp] = mapped_column(server_default=func.now(), onupdate=func.now())

    networks: Mapped[list[Network]] = relationship(
        secondary=shop_network, back_populates="shops", order_by="Network.name"
    )

    def __repr__(self) -> str:
        return f"<Shop {self.slug}>"

