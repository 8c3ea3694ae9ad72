"""The headers every answer carries so a browser holds the pages to what they are.

A Content-Security-Policy allows only this site's own scripts and styles, plus the few inline
ones the pages carry, each marked with the request's nonce (`csp_nonce()` in templates); map
tiles may come from MAP_TILE_URL's origin. No page may be framed (clickjacking on the staff desk
or a reservation page) except the widget, made to be embedded by bookshops' sites: its view
marks the request `embeddable`. In production, browsers are told to come back over HTTPS only
(HSTS), and the session cookie is `Secure` (config.py).
"""
from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g

HSTS_SECONDS = 365 * 24 * 3600


def csp_nonce() -> str:
    """This request's nonce for inline scripts and styles, drawn on first use."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    nonce: str = g.csp_nonce
    return nonce


def mark_embeddable() -> None:
    """Let this answer be framed by any site (the widget)."""
    g.embeddable = True


def _tile_origin(tile_url: str) -> str:
    parts = urlsplit(tile_url.replace("{s}", "a"))
    if not parts.scheme or not parts.netloc:
        return ""
    host = parts.netloc.replace("a.", "*.", 1) if "{s}" in tile_url else parts.netloc
    return f"{parts.scheme}://{host}"


def policy(*, nonce: str | None, tile_origin: str, embeddable: bool) -> str:
    """The policy; `nonce` None when the answer has no inline script or style (JSON, most pages
    of the API), which then need no random draw."""
    inline = f" 'nonce-{nonce}'" if nonce else ""
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self'{inline}",
        f"style-src 'self'{inline}",
        " ".join(filter(None, ["img-src 'self' data:", tile_origin])),
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors *" if embeddable else "frame-ancestors 'none'",
    ])


def init_app(app: Flask) -> None:
    app.add_template_global(csp_nonce, "csp_nonce")
    tile_origin = _tile_origin(app.config["MAP_TILE_URL"])

    @app.after_request
    def _security_headers(response: Response) -> Response:
        embeddable = bool(g.get("embeddable"))
        # A nonce exists only if a template drew one for an inline script or style.
        response.headers["Content-Security-Policy"] = policy(
            nonce=g.get("csp_nonce"), tile_origin=tile_origin, embeddable=embeddable)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        if not embeddable:
            response.headers["X-Frame-Options"] = "DENY"
        if current_app.config.get("ENV") == "production":
            response.headers["Strict-Transport-Security"] = f"max-age={HSTS_SECONDS}"
        return response
