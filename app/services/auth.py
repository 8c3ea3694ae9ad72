"""Staff sign-in: password check, lockout after repeated failures, session invalidation.

The messages never say whether an email exists: a wrong email and a wrong password read the same.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.errors import Unauthorized
from app.models import Shop, StaffUser
from app.services.staff import hash_password, verify_password

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
GENERIC_REFUSAL = "Adresse e-mail ou mot de passe incorrect, ou compte temporairement bloqué."


@cache
def _dummy_hash() -> str:
    return hash_password("no account has this password")


class LoginRefused(Unauthorized):
    code = "login_refused"


def authenticate(session: Session, *, email: str, password: str, now: datetime) -> StaffUser:
    user = session.scalar(
        select(StaffUser).where(func.lower(StaffUser.email) == email.strip().lower())
        .with_for_update()
    )
    if user is None:
        # Spend the same time as a real check so timing does not reveal unknown emails.
        verify_password(_dummy_hash(), password)
        raise LoginRefused(GENERIC_REFUSAL)
    if not user.active or (user.locked_until is not None and user.locked_until > now):
        raise LoginRefused(GENERIC_REFUSAL)
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
        session.flush()
        raise LoginRefused(GENERIC_REFUSAL)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    session.flush()
    return user


def end_sessions(session: Session, *, user_id: int) -> None:
    """Make every cookie issued so far for this user worthless (logout, password change)."""
    session.execute(update(StaffUser).where(StaffUser.id == user_id)
                    .values(session_version=StaffUser.session_version + 1))


def signed_in_user(session: Session, *, user_id: int, session_version: int) -> StaffUser | None:
    user = session.get(StaffUser, user_id)
    if user is None or not user.active or user.session_version != session_version:
        return None
    return user


def staff_shop(session: Session, *, user: StaffUser, slug: str) -> Shop | None:
    """The shop if this user works for it; None otherwise (the caller answers 404)."""
    return next((s for s in user.shops if s.slug == slug), None)
