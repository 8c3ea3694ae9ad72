"""The API keeps the promises of /api/v1/openapi.json.

Schemathesis reads the document from the app itself and runs as its command line would: every
phase (the document's examples, boundary and invalid values of every parameter, random valid
and invalid requests, then chains of calls along the document's links: reserve, read, cancel,
read again) and every check it has, in process (WSGI), rate limits off. Every answer must be
documented (status, content type, headers, body), valid requests accepted, invalid ones refused,
undeclared methods answered 405 with `Allow`, a cancelled reservation gone. The push endpoint is
fuzzed without a valid token, so it must always answer 401.
"""
from __future__ import annotations

import collections
import re
from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from schemathesis import checks, engine
from schemathesis.engine import Status, events
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from app.openapi import FILLED, RESERVE_EXAMPLE
from app.services import shop_tokens
from tests.factories import make_shop, make_stock_line
from tests.stock_helpers import STOCK_DATA
from tests.test_public_api import ISBN, stock_five_towns

# Deterministic, so a failure is reproducible and CI never flakes; bounded, so the whole run
# stays around ten seconds.
ENGINE_CONFIG = {
    "seed": 7, "workers": 1, "continue-on-failure": True,
    "generation": {"max-examples": 30, "deterministic": True, "database": "none",
                   # NUL is refused everywhere (422 `invalid_characters`): tests/test_hostile_input
                   # sends it; here it would only make valid requests invalid.
                   "allow-x00": False},
    # Replaced by the check below, which knows what no schema can say.
    "checks": {"positive_data_acceptance": {"enabled": False}},
}
# Refusals of well-formed requests that depend on data, not form: a place the gazetteer does not
# know, an ISBN whose check digit is wrong, an email address that only has the shape of one (the
# full grammar and the reserved domains are email-validator's). A document cannot express them.
DATA_DEPENDENT_CODES = {"place_not_found", "ambiguous_place", "invalid_email"}
DATA_DEPENDENT_REASONS = {"invalid_check_digit"}


@schemathesis.check
def positive_data_acceptance_beyond_form(ctx: schemathesis.CheckContext,
                                         response: schemathesis.Response,
                                         case: schemathesis.Case) -> bool | None:
    """Schemathesis' `positive_data_acceptance`, except for answers about the data itself: a 422
    for the reasons above, a 410 for a reservation cancelled earlier in the same chain, a 404
    for a network slug that names no network."""
    if response.status_code == 410:
        return None
    if response.status_code == 404 and response.json().get("code") == "unknown_network":
        return None
    if response.status_code == 422:
        problem = response.json()
        if (problem.get("code") in DATA_DEPENDENT_CODES
                or problem.get("reason") in DATA_DEPENDENT_REASONS):
            return None
    result: bool | None = checks.positive_data_acceptance(ctx, response, case)
    return result


@pytest.fixture()
def unlimited_app(database_url: str, test_sessionmaker: sessionmaker[Session]) -> Flask:
    """The test app without rate limits: the fuzzer sends hundreds of reservations."""
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
                      "MAIL_BACKEND": "locmem", "RATELIMIT_ENABLED": False})
    app.extensions["rayons.sessionmaker"] = test_sessionmaker
    app.extensions["rayons.read_sessionmaker"] = test_sessionmaker
    return app


def test_every_answer_is_documented(unlimited_app: Flask, session: Session) -> None:
    stock_five_towns(session)
    # The document's example reservation must be one that works.
    make_stock_line(session, shop=make_shop(session, slug=RESERVE_EXAMPLE["shop"]),
                    isbn13=ISBN, on_hand=100)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", unlimited_app,
                                            config=schemathesis.Config.from_dict(ENGINE_CONFIG))
    failures: set[str] = set()
    errors: list[str] = []
    # (operation, method sent, status): checks also send other methods to an operation's path.
    answered: collections.Counter[tuple[str, str, int]] = collections.Counter()
    for event in engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            for case_id, interaction in recorder.interactions.items():
                if interaction.response is not None and case_id in recorder.cases:
                    label = recorder.cases[case_id].value.operation.label
                    answered[label, interaction.request.method,
                             interaction.response.status_code] += 1
            failures.update(
                f"{node.name}: {node.failure_info.failure.title}\n{node.failure_info.code_sample}"
                for nodes in recorder.checks.values() for node in nodes
                if node.status == Status.FAILURE and node.failure_info is not None)
        elif isinstance(event, events.NonFatalError | events.FatalError):
            errors.append(repr(event))
    assert not errors
    assert not failures, "\n\n".join(sorted(failures))
    labels = {label for label, _, _ in answered}
    assert labels == {
        "GET /api/v1/availability", "GET /api/v1/editions", "GET /api/v1/shops",
        "PUT /api/v1/shops/{slug}/stock", "POST /api/v1/reservations",
        "GET /api/v1/reservations/{code}", "DELETE /api/v1/reservations/{code}"}
    # Real reservations were made, read and cancelled, and read again once cancelled.
    for label, status in [("POST /api/v1/reservations", 201),
                          ("GET /api/v1/reservations/{code}", 200),
                          ("DELETE /api/v1/reservations/{code}", 200),
                          ("GET /api/v1/reservations/{code}", 410)]:
        assert answered[label, label.split()[0], status], (label, status)
    assert {status for label, method, status in answered
            if label == "PUT /api/v1/shops/{slug}/stock" and method == "PUT"} == {401}


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
    response = schema[path]["GET"].Case(query=query).call_and_validate()
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
    response = case.call_and_validate()
    assert response.status_code == status and response.json()["run_id"]


def test_the_document_counts_spaces_as_the_server_strips_them() -> None:
    """A name the document calls filled is one the server keeps after `str.strip()`, for every
    character: schemathesis once sent a name of one "\\x1d" (space to Python, not to ECMA)."""
    filled = re.compile(FILLED["pattern"])
    disagree = [hex(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF
                and bool(filled.search(chr(c))) == chr(c).isspace()]
    assert disagree == []
