"""The JSON API (`/api/v1`). Errors are RFC 9457 problem documents."""
from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from app.errors import PayloadTooLarge, Unauthorized
from app.models import ImportRun
from app.services import shop_tokens
from app.services.import_mail import import_and_report
from app.session import db_session, session_factory
from importers import report

bp = Blueprint("api", __name__, url_prefix="/api/v1")
CHUNK = 1 << 16


def _bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _spool_body(folder: Path, limit: int) -> Path:
    """Stream the request body to disk, never holding it in memory, refusing past `limit`."""
    folder.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=folder, prefix="push-", delete=False)
    written = 0
    with handle:
        while chunk := request.stream.read(CHUNK):
            written += len(chunk)
            if written > limit:
                handle.close()
                Path(handle.name).unlink()
                raise PayloadTooLarge(f"file larger than {limit} bytes", code="file_too_large")
            handle.write(chunk)
    return Path(handle.name)


@bp.put("/shops/<slug>/stock")
def push_stock(slug: str) -> ResponseReturnValue:
    """Till software pushes a full stock snapshot; answered with the import report."""
    token = _bearer_token()
    shop = shop_tokens.shop_for_token(db_session(), slug=slug, token=token) if token else None
    if shop is None:
        raise Unauthorized("missing, wrong or revoked token for this shop", code="invalid_token")
    # The import runs in its own transaction; do not keep this one open while it works.
    db_session().commit()
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    path = _spool_body(Path(current_app.config["UPLOAD_DIR"]) / shop.slug, limit)
    name = request.headers.get("X-Filename") or request.args.get("filename") or path.name
    result = import_and_report(session_factory(), shop_slug=shop.slug, path=path, source_name=name,
                         force=request.args.get("force") == "1")
    session = db_session()
    run = session.get(ImportRun, result.run_id)
    assert run is not None
    status = 200 if result.status in ("applied", "skipped_duplicate") else 422
    return jsonify(report.as_dict(session, run)), status
