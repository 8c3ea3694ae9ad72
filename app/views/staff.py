"""Staff pages: the dashboard and unmet demand. Signing in and out is in `staff_auth.py`, a
shop's stock pages in `staff_stock.py`, its reservations in `staff_desk.py`."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from app import clock
from app.services import demand, editions
from app.session import db_session
from app.views.staff_auth import current_staff, staff_required

bp = Blueprint("staff", __name__, url_prefix="/staff")


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

