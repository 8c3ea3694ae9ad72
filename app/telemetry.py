"""The web edge of logs and metrics: a request id for every request, its latency, reservation
outcomes, and `GET /metrics` for Prometheus behind a bearer token (`METRICS_TOKEN`).

The request id comes from the proxy (`X-Request-Id`, e.g. nginx's `$request_id`) when it looks
like one, else it is drawn here; it is in every log line of the request (`app/logs.py`), in the
answer's `X-Request-Id` header, and so in gunicorn's access log (`gunicorn.conf.py`).
"""
from __future__ import annotations

import hmac
import re
import time
import uuid

from flask import Blueprint, Flask, Response, abort, current_app, g, request

from app import logs, metrics
from app.session import db_session, replica_status

bp = Blueprint("telemetry", __name__)
_VALID_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
# The reservation endpoints and what their answers mean; anything else is "other".
_RESERVING = {"reservations_api.create", "reserve.reserve_form"}
_OUTCOMES = {201: "held", 302: "held", 200: "replayed", 409: "unavailable", 422: "invalid",
             400: "invalid", 429: "limited"}


def _start() -> None:
    incoming = request.headers.get("X-Request-Id", "")
    request_id = incoming if _VALID_ID.fullmatch(incoming) else uuid.uuid4().hex
    g.request_id = request_id
    g.request_token = logs.request_id.set(request_id)
    g.request_started = time.perf_counter()


def _finish(response: Response) -> Response:
    response.headers["X-Request-Id"] = g.get("request_id", "-")
    endpoint = request.endpoint or "unmatched"
    started = g.get("request_started")
    if started is not None and endpoint != "telemetry.scrape":
        metrics.REQUEST_SECONDS.labels(endpoint, request.method, str(response.status_code)) \
            .observe(time.perf_counter() - started)
    if endpoint in _RESERVING and request.method == "POST":
        metrics.RESERVATIONS.labels(_OUTCOMES.get(response.status_code, "other")).inc()
    return response


def _forget(_error: BaseException | None) -> None:
    token = g.pop("request_token", None)
    if token is not None:
        logs.request_id.reset(token)


@bp.get("/metrics")
def scrape() -> Response:
    """Prometheus' scrape; 404 unless METRICS_TOKEN is set and sent as a bearer token, so the
    figures never become public by accident."""
    expected = current_app.config["METRICS_TOKEN"]
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer" or not hmac.compare_digest(
            sent.strip().encode(), expected.encode()):
        abort(404)
    body = metrics.exposition(db_session(), replica_status())
    return Response(body, mimetype="text/plain; version=0.0.4; charset=utf-8",
                    headers={"Cache-Control": "no-store"})


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)
    app.teardown_request(_forget)
    app.register_blueprint(bp)
