"""The stock push API (`PUT /api/v1/shops/<slug>/stock`): a till sends its stock file with the
shop's bearer token. Errors are RFC 9457 problem documents."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from app.errors import Unauthorized
from app.import_report_mail import report_mailer
from app.models.import_run import STOCK_TAKEN
from app.services import shop_tokens
from app.session import db_session, import_limits, session_factory
from importers import gates, pipeline, report

bp = Blueprint("stock_push", __name__, url_prefix="/api/v1")


def _bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@bp.put("/shops/<slug>/stock")
def push_stock(slug: str) -> ResponseReturnValue:
    """Till software pushes a full stock snapshot; answered with the import report."""
    token = _bearer_token()
    shop = shop_tokens.shop_for_token(db_session(), slug=slug, token=token) if token else None
    if shop is None:
        raise Unauthorized("missing, wrong or revoked token for this shop", code="invalid_token")
    # The import runs in its own transaction; do not keep this one open while it works.
    db_session().commit()
    factory = session_factory()
    result = pipeline.import_push(
        factory, shop=shop, body=request.stream,
        spool_dir=Path(current_app.config["UPLOAD_DIR"]) / shop.slug,
        max_bytes=current_app.config["MAX_CONTENT_LENGTH"], expected_bytes=request.content_length,
        source_name=request.headers.get("X-Filename") or request.args.get("filename"),
        force=request.args.get("force") == "1", on_finished=report_mailer(factory),
        limits=import_limits())
    session = db_session()
    body = report.as_dict(session, report.run_by_id(session, result.run_id),
                          interrupted=result.interrupted, advice=gates.PUSH_ADVICE)
    status = 200 if result.status in STOCK_TAKEN else 422
    return jsonify(body), status
