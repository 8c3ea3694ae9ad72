"""Staff sign-in: password check, throttling of repeated failures, session invalidation.

The messages never say whether an email exists: a wrong email and a wrong password read the same.

Failures are counted per account *and address*, and per account from anywhere, and each count
makes the next attempt wait, longer after each failure. There is no lockout: a stranger guessing
a bookseller's password from their own address delays only themselves (up to 15 minutes between
tries); many addresses together delay the account by at most 30 seconds, so its owner can always
sign in, while a guesser is held to a couple of thousand tries a day at most.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.errors import Unauthorized
from app.models import LoginFailure, Network, Shop, StaffUser
from app.services.staff import hash_password, verify_password


@dataclass(frozen=True)
class Throttle:
    """Failures allowed without waiting, then a wait doubling from one second up to `longest`."""

    free: int
    longest: timedelta

    def wait(self, failures: int) -> timedelta:
        if failures < self.free:
            return timedelta(0)
        return min(timedelta(seconds=2 ** min(failures - self.free, 20)), self.longest)


FROM_ONE_ADDRESS = Throttle(free=3, longest=timedelta(minutes=15))
FROM_ANYWHERE = Throttle(free=20, longest=timedelta(seconds=30))
GENERIC_REFUSAL = "Adresse e-mail ou mot de passe incorrect, ou compte temporairement bloqué."


@cache
def _dummy_hash() -> str:
    return hash_password("no account has this password")


class LoginRefused(Unauthorized):
    code = "login_refused"


def _key(*parts: str) -> bytes:
    return hashlib.sha256("\x00".join(parts).encode()).digest()


def authenticate(session: Session, *, email: str, password: str, address: str,
                 now: datetime) -> StaffUser:
    """The account, or LoginRefused: wrong email or password, inactive account, or an attempt
    made before the wait its earlier failures (see the module) asked for."""
    folded = email.strip().lower()
    throttles = {_key("address", folded, address): FROM_ONE_ADDRESS,
                 _key("account", folded): FROM_ANYWHERE}
    counted = session.scalars(select(LoginFailure).where(LoginFailure.key.in_(throttles))
                              .with_for_update())
    if any(now < row.last_failure_at + throttles[row.key].wait(row.failures) for row in counted):
        raise LoginRefused(GENERIC_REFUSAL)  # not even checked: guessing cannot go faster
    user = session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == folded))
    if user is None:
        # Spend the same time as a real check so timing does not reveal unknown emails.
        verify_password(_dummy_hash(), password)
    if user is None or not user.active or not verify_password(user.password_hash, password):
        for key in throttles:
            session.execute(insert(LoginFailure).values(key=key, failures=1, last_failure_at=now)
                            .on_conflict_do_update(index_elements=[LoginFailure.key], set_={
                                "failures": LoginFailure.failures + 1, "last_failure_at": now}))
        raise LoginRefused(GENERIC_REFUSAL)
    session.execute(delete(LoginFailure).where(LoginFailure.key.in_(throttles)))
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


def coordinated_network(session: Session, *, user: StaffUser, slug: str) -> Network | None:
    """The network if this user coordinates it; None otherwise (the caller answers 404)."""
    return next((n for n in user.networks if n.slug == slug), None)


def followed_shop(session: Session, *, user: StaffUser, slug: str) -> Shop | None:
    """The shop if this user may read its stock and imports: one it works for, or one of a
    network it coordinates. Acting for a shop (reservations, uploads) needs `staff_shop`."""
    shop = staff_shop(session, user=user, slug=slug)
    if shop is not None:
        return shop
    return next((s for n in user.networks for s in n.shops if s.slug == slug), None)
