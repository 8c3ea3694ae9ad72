"""Public HTML pages and the health check."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from app import clock, limits
from app.services import directory, health
from app.session import DatabaseNotConfigured, db_session, read_session, reads_only, replica_status
from app.templating.words import open_status_label
from geo.maps import MapMarker, map_payload

bp = Blueprint("public", __name__)


@bp.get("/")
@reads_only
def shop_directory() -> ResponseReturnValue:
    now = clock.now()
    network_slug = request.args.get("network") or None
    listing = directory.list_shops(read_session(), network_slug=network_slug, at=now)
    return render_template("public/directory.html", listing=listing, now=now,
                           map_data=_directory_map(listing, now))


def _directory_map(listing: directory.Listing, now: datetime) -> dict[str, Any] | None:
    """Every listed shop on one map, clustered since a network may have hundreds.

    The popup repeats the list's words, computed here in the reader's language rather than in
    the browser. No link: the list right below has the rest, and 300 links cost 5 kB.
    """
    if not listing.entries:
        return None
    markers = [
        MapMarker(lat=entry.lat, lon=entry.lon, title=entry.shop.name,
                  lines=[entry.shop.address, f"{entry.shop.postcode} {entry.shop.city}",
                         open_status_label(entry.status, now)])
        for entry in listing.entries
    ]
    return map_payload(markers, center=None, reader=None, cluster=True,
                       tile_url=current_app.config["MAP_TILE_URL"],
                       attribution=current_app.config["MAP_TILE_ATTRIBUTION"])


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """503 only when the database fails: without it nothing works. The replica and the
    rate-limit store are reported, never fatal: when the replica lags or is down, reads fall back
    to the primary; with the store gone every worker still serves, with limits counted per
    worker, and a load balancer that pulled every worker because Redis blinked would turn a
    weaker limit into an outage. Alert on `"limits": "degraded"` and the replica's state."""
    try:
        result = health.check(db_session(), timeout_s=current_app.config["HEALTH_DB_TIMEOUT_S"])
    except DatabaseNotConfigured as exc:
        result = health.Health(ok=False, database="unconfigured", reason=str(exc))
    replica = replica_status()
    body: dict[str, Any] = {"replica": {"state": replica.state, "lag_s": replica.lag_s}}
    if result.ok:
        body.update(status="ok", database=result.database, postgis=result.postgis,
                    limits=limits.store_state())
        return jsonify(body), 200, {"Cache-Control": "no-store"}
    body.update(status="error", database=result.database, reason=result.reason,
                limits=limits.store_state())
    return jsonify(body), 503, {"Cache-Control": "no-store"}
