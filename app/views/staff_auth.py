"""Staff sign in and out, and who is signed in: the staff member behind the session cookie,
checked on every request (`staff_required`, `shop_or_404` for the shops a user works for,
`followed_shop_or_404` and `network_or_404` for what a network coordinator follows)."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from app import clock
from app.limits import LOGIN_LIMIT, limiter
from app.models import Network, Shop, StaffUser
from app.services import auth
from app.session import db_session

bp = Blueprint("staff_auth", __name__, url_prefix="/staff")
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
            return redirect(url_for("staff_auth.login", next=request.full_path))  # type: ignore[return-value]
        return view(*args, **kwargs)

    return wrapper


T = TypeVar("T")


def _mine_or_404(lookup: Callable[..., T | None], slug: str) -> T:
    """Another shop's or network's pages do not exist for this user: 404, not 403, so nothing
    leaks."""
    user = current_staff()
    found = lookup(db_session(), user=user, slug=slug) if user else None
    if found is None:
        abort(404)
    return found


def shop_or_404(slug: str) -> Shop:
    """A shop this user works for: its desk, uploads and everything else."""
    return _mine_or_404(auth.staff_shop, slug)


def followed_shop_or_404(slug: str) -> Shop:
    """A shop whose stock and imports this user may read (its own, or a coordinated network's)."""
    return _mine_or_404(auth.followed_shop, slug)


def network_or_404(slug: str) -> Network:
    """A network this user coordinates."""
    return _mine_or_404(auth.coordinated_network, slug)


class LoginForm(FlaskForm):
    email = EmailField(validators=[DataRequired()])
    password = PasswordField(validators=[DataRequired()])


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        db = db_session()
        try:
            user = auth.authenticate(db, email=form.email.data or "",
                                     password=form.password.data or "",
                                     address=request.remote_addr or "", now=clock.now())
        except auth.LoginRefused:
            db.commit()  # keep the failed-attempt count
            error = gettext("Wrong email or password, or account temporarily locked.")
        else:
            db.commit()
            sign_in(user)
            target = request.args.get("next", "")
            # Only local paths: never bounce a fresh session to another site.
            if not target.startswith("/") or target.startswith("//"):
                target = url_for("staff.dashboard")
            return redirect(target)
    status = 401 if error else 200
    return render_template("staff/login.html", form=form, error=error), status


@bp.post("/logout")
@staff_required
def logout() -> ResponseReturnValue:
    user = current_staff()
    assert user is not None
    auth.end_sessions(db_session(), user_id=user.id)
    db_session().commit()
    session.clear()
    return redirect(url_for("staff_auth.login"))
