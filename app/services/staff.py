"""Staff accounts: creation and password hashing (argon2id).

A `staff` account works for one or more shops. A `network_admin` coordinates one or more
networks: it follows their shops' stock and imports (read only; `auth.followed_shop`) and may
also work for shops of its own."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import Conflict, InvalidInput, NotFound
from app.models import Network, Shop, StaffUser
from app.models.staff import ROLES

MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def add_staff(session: Session, *, email: str, password: str, shop_slugs: list[str],
              role: str = "staff", network_slugs: list[str] | None = None) -> StaffUser:
    """Create an account working for the given shops and, for a network_admin, coordinating the
    given networks. Emails are unique whatever their case."""
    email = email.strip()
    if "@" not in email[1:]:
        raise InvalidInput(f"invalid email address: {email!r}", code="invalid_email")
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r} (expected one of {', '.join(ROLES)})",
                           code="invalid_role")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password too short: at least {MIN_PASSWORD_LENGTH} characters",
                           code="weak_password")
    if session.scalar(select(StaffUser.id).where(func.lower(StaffUser.email) == email.lower())):
        raise Conflict(f"a staff account already exists for {email}", code="staff_exists")
    network_slugs = network_slugs or []
    if role == "network_admin" and not network_slugs:
        raise InvalidInput("a network_admin account needs at least one network",
                           code="network_required")
    if role != "network_admin" and network_slugs:
        raise InvalidInput("only a network_admin account coordinates networks",
                           code="networks_need_network_admin")
    shops = list(session.scalars(select(Shop).where(Shop.slug.in_(shop_slugs))))
    unknown = sorted(set(shop_slugs) - {s.slug for s in shops})
    if unknown or not (shops or network_slugs):
        raise NotFound(f"unknown shop: {', '.join(unknown) or '(none given)'}", code="unknown_shop")
    networks = list(session.scalars(select(Network).where(Network.slug.in_(network_slugs))))
    unknown = sorted(set(network_slugs) - {n.slug for n in networks})
    if unknown:
        raise NotFound(f"unknown network: {', '.join(unknown)}", code="unknown_network")
    user = StaffUser(email=email, password_hash=hash_password(password), role=role, shops=shops,
                     networks=networks)
    session.add(user)
    session.flush()
    return user
