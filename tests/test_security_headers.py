"""Every answer's security headers; the pages' own behaviour under the policy is checked by the
browser journeys (tests/e2e), which fail on any console error such as a CSP violation."""
from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.security_headers import _tile_origin

ISBN = "9782070368228"


def test_strict_policy_with_a_fresh_nonce_per_answer(client: FlaskClient) -> None:
    widget = f"/widget?isbn={ISBN}"  # a page with inline script and style
    first, second = client.get(widget).headers, client.get(widget).headers
    policy = first["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "object-src 'none'" in policy
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    nonce = re.search(r"'nonce-([^']+)'", policy)
    assert nonce and nonce.group(1) not in second["Content-Security-Policy"]
    assert first["X-Content-Type-Options"] == "nosniff"
    assert first["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in first  # development is plain HTTP


def test_answers_without_inline_code_allow_none(client: FlaskClient) -> None:
    policy = client.get("/api/v1/shops").headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "nonce" not in policy


def test_inline_scripts_carry_the_answers_nonce(client: FlaskClient) -> None:
    response = client.get(f"/widget?isbn={ISBN}")
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])
    assert nonce
    page = response.get_data(as_text=True)
    inline = re.findall(r"<(?:script|style)(?![^>]*\bsrc=)([^>]*)>", page)
    assert inline and all(f'nonce="{nonce.group(1)}"' in attrs or 'type="application/json"'
                          in attrs for attrs in inline)


def test_production_asks_for_https_only() -> None:
    app: Flask = create_app({"ENV": "production", "SECRET_KEY": "a" * 40,
                             "DATABASE_URL": "postgresql://rayons@127.0.0.1:1/none"})
    headers = app.test_client().get("/healthz").headers
    assert headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_session_cookie_is_secure_in_production() -> None:
    from config import Config
    assert Config.from_environ({"RAYONS_ENV": "production"})["SESSION_COOKIE_SECURE"] is True
    assert Config.from_environ({})["SESSION_COOKIE_SECURE"] is False
    # A production-like stack over plain HTTP on a private network may say so.
    assert Config.from_environ({"RAYONS_ENV": "production", "SESSION_COOKIE_SECURE": "0"})[
        "SESSION_COOKIE_SECURE"] is False


def test_tile_origins() -> None:
    assert _tile_origin("https://tile.openstreetmap.org/{z}/{x}/{y}.png") == \
        "https://tile.openstreetmap.org"
    assert _tile_origin("https://{s}.tile.example.org/{z}/{x}/{y}.png") == \
        "https://*.tile.example.org"
    assert _tile_origin("") == ""
