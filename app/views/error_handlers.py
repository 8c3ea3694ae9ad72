"""Turn errors into HTML pages or RFC 9457 problem JSON, depending on who asked."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import BadHost, HTTPException

from app.errors import RayonsError


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def init_app(app: Flask) -> None:
    @app.errorhandler(RayonsError)
    def _rayons_error(exc: RayonsError) -> ResponseReturnValue:
        if _wants_json():
            body = {**exc.extra, "type": f"about:blank#{exc.code}", "title": exc.code,
                    "status": exc.status, "detail": exc.message, "code": exc.code}
            response = jsonify(body)
            response.status_code = exc.status
            response.mimetype = "application/problem+json"
            return response
        return render_template("error.html", status=exc.status, message=exc.message), exc.status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> ResponseReturnValue:
        status = exc.code or 500
        # The headers the error carries besides its body: the `Allow` list of a 405
        # (RFC 9110 requires it), the `Retry-After` of a 429.
        headers = [(name, value) for name, value in exc.get_headers()
                   if name.lower() != "content-type"]
        if _wants_json():
            response = jsonify({"type": "about:blank", "title": exc.name, "status": status,
                                "detail": exc.description})
            response.status_code = status
            response.mimetype = "application/problem+json"
            response.headers.extend(headers)
            return response
        if isinstance(exc, BadHost):
            # A Host header that is no host name: Flask could not bind the URL map, so the page,
            # whose links are built with url_for, cannot be rendered.
            return exc.description or "", status, {"Content-Type": "text/plain; charset=utf-8"}
        return (render_template("error.html", status=status, message=exc.description), status,
                headers)
