"""Bookshop staff accounts and the shops they may act for."""
from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.models.shop import Network, Shop
from app.models.types import CreatedAt, Timestamp, in_list

# `staff` works for its shops (desk, stock); `network_admin` coordinates networks: it follows
# every shop of its networks (their stock and imports, read only) and acts for its own shops only.
ROLES = ("staff", "network_admin")

staff_shop = Table(
    "staff_shop",
    Base.metadata,
    Column("staff_user_id", ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True),
    Column("shop_id", ForeignKey("shop.id", ondelete="CASCADE"), primary_key=True),
)

staff_network = Table(
    "staff_network",
    Base.metadata,
    Column("staff_user_id", ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True),
    Column("network_id", ForeignKey("network.id", ondelete="CASCADE"), primary_key=True),
)


class StaffUser(Base):
    __tablename__ = "staff_user"
    __table_args__ = (
        CheckConstraint(in_list("role", ROLES), name="role_known"),
        CheckConstraint("position('@' in email) > 1", name="email_has_at"),
        CheckConstraint("left(password_hash, 10) = '$argon2id$'", name="password_argon2id"),
        # One account per address, whatever its case.
        Index("uq_staff_user_email_lower", func.lower(Column("email")), unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="staff", server_default="staff")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    # Bumped at logout and password change: sessions carry it, so an old cookie stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    last_login_at: Mapped[Timestamp | None]
    created_at: Mapped[CreatedAt]

    shops: Mapped[list[Shop]] = relationship(secondary=staff_shop, order_by="Shop.name")
    # Only a network_admin has any (app/services/staff.py).
    networks: Mapped[list[Network]] = relationship(secondary=staff_network,
                                                   order_by="Network.name")


class LoginFailure(Base):
    """Failed sign-ins counted per key: one account from one address, and one account from
    anywhere (app/services/auth.py). The key is a SHA-256: no email or address is stored."""

    __tablename__ = "login_failure"
    __table_args__ = (CheckConstraint("octet_length(key) = 32", name="key_sha256"),)

    key: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[Timestamp]
