"""Staff accounts: creation and password hashing (argon2id)."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import Conflict, InvalidInput, NotFound
from app.models import Shop, StaffUser
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
              role: str = "staff") -> StaffUser:
    """Create an account working for the given shops. Emails are unique whatever their case."""
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
    shops = list(session.scalars(select(Shop).where(Shop.slug.in_(shop_slugs))))
    unknown = sorted(set(shop_slugs) - {s.slug for s in shops})
    if unknown or not shops:
        raise NotFound(f"unknown shop: {', '.join(unknown) or '(none given)'}", code="unknown_shop")
    user = StaffUser(email=email, password_hash=hash_password(password), role=role, shops=shops)
    session.add(user)
    session.flush()
    return user
