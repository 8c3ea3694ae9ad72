"""Staff pages: sign in and out, the dashboard, unmet demand. A shop's stock pages are in
`staff_stock.py`."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask import session as cookie_session
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from app import clock
from app.limits import LOGIN_LIMIT, limiter
from app.services import auth, demand, editions
from app.session import db_session
from app.views.staff_auth import current_staff, sign_in, staff_required

bp = Blueprint("staff", __name__, url_prefix="/staff")


class LoginForm(FlaskForm):
    email = EmailField(validators=[DataRequired()])
    password = PasswordField(validators=[DataRequired()])


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        session = db_session()
        try:
            user = auth.authenticate(session, email=form.email.data or "",
                                     password=form.password.data or "",
                                     now=clock.now())
        except auth.LoginRefused:
            session.commit()  # keep the failed-attempt count
            error = gettext("Wrong email or password, or account temporarily locked.")
        else:
            session.commit()
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
    cookie_session.clear()
    return redirect(url_for("staff.login"))


@bp.get("/")
@staff_required
def dashboard() -> ResponseReturnValue:
    return render_template("staff/dashboard.html", user=current_staff())


@bp.get("/demand")
@staff_required
def unmet_demand() -> ResponseReturnValue:
    """Books readers looked for around the network and found nowhere nearby."""
    user = current_staff()
    assert user is not None
    session = db_session()
    today = clock.today()
    since = demand.default_window(today)
    areas = demand.network_areas(session, shop_ids=[s.id for s in user.shops])
    misses = demand.top_misses(session, since=since, areas=areas)
    titles = editions.edition_summaries(session, [m.term for m in misses if m.kind == "isbn"])
    return render_template("staff/demand.html", misses=misses, titles=titles, areas=areas,
                           since=since)

