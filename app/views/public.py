"""Public HTML pages and the health check."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from app.session import DatabaseNotConfigured, db_session
from app.services import directory, health

bp = Blueprint("public", __name__)


@bp.get("/")
def shop_directory() -> ResponseReturnValue:
    now = datetime.now(timezone.utc)
    network_slug = request.args.get("network") or None
    listing = directory.list_shops(db_session(), network_slug=network_slug, at=now)
    return render_template("public/directory.html", listing=listing, now=now)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    try:
        result = health.check(db_session(), timeout_s=current_app.config["HEALTH_DB_TIMEOUT_S"])
    except DatabaseNotConfigured as exc:
        result = health.Health(ok=False, database="unconfigured", reason=str(exc))
    if result.ok:
        body = {"status": "ok", "database": result.database, "postgis": result.postgis}
        return jsonify(body), 200, {"Cache-Control": "no-store"}
    body = {"status": "error", "database": result.database, "reason": result.reason}
    return jsonify(body), 503, {"Cache-Control": "no-store"}
