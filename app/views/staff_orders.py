"""Staff answer their shop's order requests from the desk (ordered, arrived, collected,
declined with a reason). The desk page (`staff_desk.py`) shows them in its own section,
`templates/staff/_orders.html`; every change filters on the signed-in user's own shops."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from app.errors import Conflict, InvalidInput, NotFound
from app.orders.lifecycle import STAFF_ACTIONS
from app.orders.transitions import transition
from app.session import db_session
from app.views.staff_auth import current_staff, shop_or_404, staff_required

bp = Blueprint("staff_orders", __name__, url_prefix="/staff/shops/<slug>")


@bp.post("/orders/<int:order_id>/<action>")
@staff_required
def act(slug: str, order_id: int, action: str) -> ResponseReturnValue:
    shop = shop_or_404(slug)
    if action not in STAFF_ACTIONS:
        abort(404)
    user = current_staff()
    assert user is not None
    session = db_session()
    message = None
    try:
        transition(session, order_id=order_id, target=STAFF_ACTIONS[action], actor="staff",
                   shop_ids=[shop.id], staff_id=user.id,
                   reason=request.form.get("reason") or None,
                   note=request.form.get("note") or None)
        session.commit()
    except NotFound:
        abort(404)
    except InvalidInput:
        session.rollback()
        message = gettext("Say why you decline: the reader is told.")
    except Conflict as exc:
        session.rollback()
        message = gettext("This order was already handled: %(state)s.",
                          state=exc.code.removeprefix("already_"))
    return redirect(url_for("desk.reservations_desk", slug=shop.slug, message=message,
                            _anchor="orders"))
