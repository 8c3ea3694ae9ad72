"""The API keeps the promises of /api/v1/openapi.json.

Schemathesis reads the document from the app itself, generates requests for every operation,
valid and invalid, and sends them in process (WSGI). Every answer must be documented: no server
error, a documented status and content type, the documented headers, a body that matches the
schema. The push endpoint is fuzzed without a valid token, so it must always answer 401.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks
from schemathesis.generation.case import Case
from sqlalchemy.orm import Session

from app.services import shop_tokens
from tests.factories import make_shop
from tests.stock_helpers import STOCK_DATA
from tests.test_public_api import ISBN, stock_five_towns

EXAMPLES_PER_OPERATION = 25
CHECKS = [checks.not_a_server_error, checks.status_code_conformance,
          checks.content_type_conformance, checks.response_headers_conformance,
          checks.response_schema_conformance]
# Deterministic, so a failure is reproducible and CI never flakes; every request hits the
# database, hence no deadline and no complaint when generation waits on slow answers.
FUZZING = settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                   derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def test_every_answer_is_documented(app: Flask, session: Session) -> None:
    stock_five_towns(session)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} == {
        "GET /api/v1/availability", "GET /api/v1/editions", "GET /api/v1/shops",
        "PUT /api/v1/shops/{slug}/stock", "POST /api/v1/reservations",
        "GET /api/v1/reservations/{code}", "DELETE /api/v1/reservations/{code}"}
    for operation in operations:
        strategies = [operation.as_strategy(mode) for mode in GenerationMode]
        if operation.label == "GET /api/v1/availability":
            # Random codes are hardly ever a stocked book: ask for the one on the shelves too.
            strategies.append(operation.as_strategy(query={"isbn": ISBN}))

        @FUZZING
        @given(case=st.one_of(strategies))
        def answers_as_documented(case: Case) -> None:
            response = case.call_and_validate(checks=CHECKS)
            if case.method == "PUT":
                assert response.status_code == 401

        answers_as_documented()


@pytest.mark.parametrize(("path", "query", "listed"), [
    ("/api/v1/availability", {"isbn": ISBN, "near": "Pau", "radius_km": "500"}, "shops"),
    ("/api/v1/editions", {"q": ISBN, "lat": "43.3", "lon": "-0.37"}, "editions"),
    ("/api/v1/shops", {"near": "Pau"}, "shops"),
    ("/api/v1/shops", {}, "shops"),
])
def test_answers_with_real_data_validate(app: Flask, session: Session, path: str,
                                         query: dict[str, str], listed: str) -> None:
    """Full answers, with shops, distances and hours, which random requests rarely get."""
    stock_five_towns(session)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    response = schema[path]["GET"].Case(query=query).call_and_validate(checks=CHECKS)
    assert response.status_code == 200 and response.json()[listed]


@pytest.mark.parametrize(("body", "status"), [
    ((STOCK_DATA / "provider_api_stocks.json").read_bytes(), 200),
    ("titre;prix\nL'Étranger;7,90\n".encode(), 422),  # no code nor quantity column
])
def test_push_reports_validate(app: Flask, session: Session, tmp_path: Path, body: bytes,
                               status: int) -> None:
    """The import report, applied or refused, as a till receives it."""
    app.config["UPLOAD_DIR"] = str(tmp_path)
    shop = make_shop(session)
    token = shop_tokens.issue_token(session, shop=shop)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    case = schema["/api/v1/shops/{slug}/stock"]["PUT"].Case(
        path_parameters={"slug": shop.slug}, headers={"Authorization": f"Bearer {token}"},
        body=body, media_type="application/octet-stream")
    response = case.call_and_validate(checks=CHECKS)
    assert response.status_code == status and response.json()["run_id"]
