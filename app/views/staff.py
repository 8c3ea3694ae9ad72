"""Staff pages: the dashboard, a coordinated network's shops, and unmet demand. Signing in and
out is in `staff_auth.py`, a shop's stock pages in `staff_stock.py`, its reservations in
`staff_desk.py`."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from app import clock
from app.services import demand, editions
from app.session import db_session
from app.views.staff_auth import current_staff, network_or_404, staff_required
from importers import report

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.get("/")
@staff_required
def dashboard() -> ResponseReturnValue:
    return render_template("staff/dashboard.html", user=current_staff())


@bp.get("/networks/<slug>")
@staff_required
def network(slug: str) -> ResponseReturnValue:
    """For a network coordinator: every shop of the network, how fresh its stock is and how its
    last import went, each linked to the shop's import history."""
    network = network_or_404(slug)
    runs = report.latest_runs(db_session(), shop_ids=[shop.id for shop in network.shops])
    return render_template("staff/network.html", network=network, runs=runs)


@bp.get("/demand")
@staff_required
def unmet_demand() -> ResponseReturnValue:
    """Books readers looked for around the network and found nowhere nearby."""
    user = current_staff()
    assert user is not None
    session = db_session()
    today = clock.today()
    since = demand.default_window(today)
    # A coordinator's networks count as if it worked for their shops.
    followed = [*user.shops, *(shop for network in user.networks for shop in network.shops)]
    areas = demand.network_areas(session, shop_ids=[shop.id for shop in followed])
    misses = demand.top_misses(session, since=since, areas=areas)
    titles = editions.edition_summaries(session, [m.term for m in misses if m.kind == "isbn"])
    return render_template("staff/demand.html", misses=misses, titles=titles, areas=areas,
                           since=since)

