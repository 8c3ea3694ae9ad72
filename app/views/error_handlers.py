"""Turn errors into HTML pages or RFC 9457 problem JSON, depending on who asked, worded in the
page's language (French unless the reader chose English) or, for the API, in the request's
(`lang`, then Accept-Language: app/i18n.py)."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadHost, HTTPException

from app.errors import RayonsError
from app.templating.problems import error_message


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _sent_from_here() -> bool:
    """Whether the browser says the form came from one of our pages (`Origin`, else `Referer`).

    Only then are its fields offered back: a form another site posted must not come back to
    the reader, ready to send with a valid token, as if they had typed it.
    """
    ours = request.host_url.rstrip("/")
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin == ours
    return (request.referrer or "").startswith(ours + "/")


def _problem(body: dict[str, object], status: int) -> ResponseReturnValue:
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(RayonsError)
    def _rayons_error(exc: RayonsError) -> ResponseReturnValue:
        message = error_message(code=exc.code, status=exc.status, fallback=exc.message)
        if _wants_json():
            return _problem({**exc.extra, "type": f"about:blank#{exc.code}", "title": exc.code,
                             "status": exc.status, "detail": message, "code": exc.code},
                            exc.status)
        return render_template("error.html", status=exc.status, message=message), exc.status

    @app.errorhandler(CSRFError)
    def _lost_form_token(exc: CSRFError) -> ResponseReturnValue:
        """A form sent without its session (cookie expired or refused, page left open for
        hours): the reader's fields come back in a form to send again with a fresh token,
        rather than a bare 400 that loses what they typed. Files cannot come back: the page
        then asks to send the form again."""
        if _wants_json():
            return _problem({"type": "about:blank#csrf", "title": exc.name, "status": 400,
                             "detail": error_message(code=None, status=400,
                                                     fallback=exc.description or ""),
                             "code": "csrf"}, 400)
        resend = (request.method == "POST" and not request.files
                  and "password" not in request.form and _sent_from_here())
        fields = [(key, value) for key, value in request.form.items(multi=True)
                  if key != "csrf_token"] if resend else []
        return render_template("lost_form.html", fields=fields, resend=resend,
                               action=request.full_path if request.query_string else request.path
                               ), 400

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> ResponseReturnValue:
        status = exc.code or 500
        message = error_message(code=None, status=status, fallback=exc.description or "")
        # The headers the error carries besides its body: the `Allow` list of a 405
        # (RFC 9110 requires it), the `Retry-After` of a 429.
        headers = [(name, value) for name, value in exc.get_headers()
                   if name.lower() != "content-type"]
        if _wants_json():
            response = jsonify({"type": "about:blank", "title": exc.name, "status": status,
                                "detail": message})
            response.status_code = status
            response.mimetype = "application/problem+json"
            response.headers.extend(headers)
            return response
        if isinstance(exc, BadHost):
            # A Host header that is no host name: Flask could not bind the URL map, so the page,
            # whose links are built with url_for, cannot be rendered.
            return exc.description or "", status, {"Content-Type": "text/plain; charset=utf-8"}
        return render_template("error.html", status=status, message=message), status, headers
