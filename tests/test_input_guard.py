"""Hostile text at the edge: a clear 4xx naming the field, never a 500 (issue #11, point 2).

Each case once answered 500: a NUL byte or a lone surrogate reaching PostgreSQL, a name longer
than its column, JSON nested deeper than the parser goes.
"""
from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Reservation, Shop
from tests.factories import make_edition, make_shop, make_staff, make_stock_line
from tests.test_staff_desk import sign_in

ISBN = "9782070368228"
API = "/api/v1/reservations"
READER = {"shop": "la-mouette", "isbn": ISBN, "name": "Camille", "email": "camille@example.org"}


@pytest.fixture()
def shop(session: Session) -> Shop:
    make_edition(session, isbn13=ISBN)
    shop = make_shop(session, slug="la-mouette", opening_hours="Mo-Su 00:00-24:00")
    make_stock_line(session, shop=shop, isbn13=ISBN, on_hand=1)
    return shop


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


CASES: list[tuple[str, str, dict[str, Any], int]] = [
    ("GET", "/reserver/la%00mouette/9782070368228", {}, 422),
    ("POST", "/reserver/la-mouette/9782070368228",
     {"data": {"name": "Ca\x00mille", "email": "c@example.org", "consent": "y"}}, 422),
    ("POST", "/staff/login", {"data": {"email": "anne\x00@example.org", "password": "x"}}, 422),
    ("GET", "/staff/shops/la-mouette/partners?q=%00", {}, 422),
    ("GET", "/recherche?q=l%27%C3%A9tranger%00", {}, 422),
    ("GET", "/livres/9782070368228?lieu=Pau%00", {}, 422),
    ("GET", "/api/v1/availability?isbn=9782070368228%00", {}, 422),
    ("GET", "/?network=%00", {}, 422),
    ("POST", API, {"data": json.dumps({**READER, "name": "\\ud800"}).replace("\\\\", "\\"),
                   "content_type": "application/json"}, 422),
    ("POST", API, {"json": {**READER, "name": "Ca\x00mille"}}, 422),
    ("POST", API, {"data": _deep(50_000), "content_type": "application/json"}, 422),
    ("POST", API, {"json": {**READER, "name": "C" * 5000}}, 422),
    ("POST", API, {"json": {**READER, "email": "c" * 300 + "@example.org"}}, 422),
    ("POST", API, {"json": {**READER, "phone": "0" * 100, "email": None}}, 422),
]


@pytest.mark.parametrize(("method", "url", "kwargs", "status"), CASES,
                         ids=[f"{m} {u[:40]} {i}" for i, (m, u, _, _) in enumerate(CASES)])
def test_hostile_text_gets_a_clear_refusal(client: FlaskClient, session: Session, shop: Shop,
                                           method: str, url: str, kwargs: dict[str, Any],
                                           status: int) -> None:
    response = client.open(url, method=method, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert session.scalar(select(func.count()).select_from(Reservation)) == 0


def test_the_api_names_the_field(client: FlaskClient, shop: Shop) -> None:
    problem = client.post(API, json={**READER, "name": "Ca\x00mille"}).get_json()
    assert problem["code"] == "invalid_characters" and problem["detail"].startswith("name")
    problem = client.post(API, json={**READER, "name": "C" * 201}).get_json()
    assert problem["code"] == "too_long" and "name" in problem["detail"]


def test_a_long_idempotency_key_is_only_a_key(client: FlaskClient, shop: Shop) -> None:
    """It is stored as an HMAC: its length no longer meets a column's."""
    assert client.post(API, json={**READER, "idempotency_key": "k" * 5000}).status_code == 201


@pytest.mark.parametrize(("run_id", "status"), [(2**31 - 1, 404), (2**31, 404), (10**400, 404)])
def test_an_id_beyond_the_database_is_not_found(client: FlaskClient, session: Session,
                                                shop: Shop, run_id: int, status: int) -> None:
    """It once overflowed PostgreSQL's integer in the query: 500."""
    sign_in(client, make_staff(session, shops=[shop]))
    response = client.get(f"/staff/shops/la-mouette/imports/{run_id}")
    assert response.status_code == status


@pytest.mark.parametrize("path", ["/", "/api/v1/shops"])
def test_a_host_that_is_no_host_name_is_a_bad_request(client: FlaskClient, path: str) -> None:
    """The error page, which builds links, once failed for want of a URL adapter: 500."""
    response = client.get(path, headers={"Host": "x" * 4000})
    assert response.status_code == 400
