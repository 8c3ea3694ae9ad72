"""Who is signed in: the staff member behind the session cookie, checked on every request."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import abort, g, redirect, request, session, url_for

from app.models import Shop, StaffUser
from app.services import auth
from app.session import db_session

P = ParamSpec("P")
R = TypeVar("R")


def current_staff() -> StaffUser | None:
    if "staff_user" not in g:
        user_id, version = session.get("staff_id"), session.get("staff_v")
        g.staff_user = None
        if isinstance(user_id, int) and isinstance(version, int):
            g.staff_user = auth.signed_in_user(db_session(), user_id=user_id,
                                               session_version=version)
    user: StaffUser | None = g.staff_user
    return user


def sign_in(user: StaffUser) -> None:
    """A new session for the new identity: nothing from before the login survives."""
    session.clear()
    session["staff_id"] = user.id
    session["staff_v"] = user.session_version
    session.permanent = False


def staff_required(view: Callable[P, R]) -> Callable[P, R]:
    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if current_staff() is None:
            # R is a view's ResponseReturnValue, which a redirect is; mypy cannot know R.
            return redirect(url_for("staff.login", next=request.full_path))  # type: ignore[return-value]
        return view(*args, **kwargs)

    return wrapper


def shop_or_404(slug: str) -> Shop:
    """Another shop's pages do not exist for this user: 404, not 403, so nothing leaks."""
    user = current_staff()
    shop = auth.staff_shop(db_session(), user=user, slug=slug) if user else None
    if shop is None:
        abort(404)
    return shop
