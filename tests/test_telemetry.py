"""Logs an operator can search (JSON lines, a request id on each, no email address) and the
figures Prometheus scrapes (behind a token; several gunicorn workers added up)."""
from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from app import logs
from app.models import OutboxMail
from tests.factories import make_edition, make_shop, make_stock_line
from tests.live_gunicorn import serve
from tests.test_reservation_contention import committed, committed_shop, post

__all__ = ["committed"]  # the fixture, used by name below
TOKEN = "scrape-me-please"


@pytest.fixture()
def json_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    logs.configure(log_format="json")
    yield
    logs.configure(log_format="text")
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == "rayons"]:
        root.removeHandler(handler)


def test_json_lines_carry_the_request_id_and_no_email(json_logs: None,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    token = logs.request_id.set("abc123def456")
    try:
        logging.getLogger("rayons.test").warning("SMTP refused <camille.martin@example.org>: %s",
                                                 "550 no such user lea@exemple.fr")
    finally:
        logs.request_id.reset(token)
    (line,) = [json.loads(text) for text in capsys.readouterr().err.splitlines()]
    assert line["level"] == "WARNING" and line["logger"] == "rayons.test" and line["time"]
    assert line["request_id"] == "abc123def456"
    assert line["message"] == "SMTP refused <<email>>: 550 no such user <email>"


@pytest.mark.parametrize(("sent", "kept"), [("0f1e2d3c4b5a69788796a5b4c3d2e1f0", True),
                                            ("short", False), ("bad id with spaces", False)])
def test_every_answer_names_its_request(client: FlaskClient, sent: str, kept: bool) -> None:
    answer = client.get("/healthz", headers={"X-Request-Id": sent})
    assert (answer.headers["X-Request-Id"] == sent) is kept
    assert len(answer.headers["X-Request-Id"]) >= 8


def test_metrics_need_the_token(app: Flask, client: FlaskClient) -> None:
    assert client.get("/metrics").status_code == 404  # no token configured: no endpoint
    app.config["METRICS_TOKEN"] = TOKEN
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200 and "rayons_outbox_unsent" in answer.get_data(as_text=True)


def test_metrics_count_reservations_imports_and_mail(app: Flask, client: FlaskClient,
                                                     session: Session) -> None:
    app.config["METRICS_TOKEN"] = TOKEN
    make_edition(session, isbn13="9782070368228")
    shop = make_shop(session, slug="la-mouette", opening_hours="Mo-Su 00:00-24:00")
    make_stock_line(session, shop=shop, isbn13="9782070368228", on_hand=1)

    def scrape() -> dict[str, float]:
        text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).get_data(
            as_text=True)
        return {name: float(value) for name, _, value in
                (line.rpartition(" ") for line in text.splitlines() if not line.startswith("#"))}

    before = scrape()
    body = {"shop": "la-mouette", "isbn": "9782070368228", "name": "Camille",
            "email": "camille@example.org"}
    assert client.post("/api/v1/reservations", json=body).status_code == 201
    assert client.post("/api/v1/reservations", json=body).status_code == 409  # the only copy
    after = scrape()

    def grew(name: str) -> float:
        return after.get(name, 0) - before.get(name, 0)

    assert grew('rayons_reservation_requests_total{outcome="held"}') == 1
    assert grew('rayons_reservation_requests_total{outcome="unavailable"}') == 1
    queued = session.scalar(select(func.count()).select_from(OutboxMail).where(
        OutboxMail.sent_at.is_(None), OutboxMail.failed_at.is_(None)))
    assert after["rayons_outbox_unsent"] == queued
    assert grew("rayons_outbox_unsent") == 2  # the reader's mail and the shop's, for the worker
    assert 'rayons_import_runs_recent{status="applied"}' in after
    assert after['rayons_replica_state{state="none"}'] == 1  # no replica in this app
    timed = ('rayons_http_request_duration_seconds_count{endpoint="reservations_api.create",'
             'method="POST",status="201"}')
    assert grew(timed) == 1


def test_gunicorn_workers_log_json_and_add_up_their_counts(
        engine: Engine, database_url: str, tmp_path: Path,
        committed: tuple[sessionmaker[Session], list[int]]) -> None:
    """Through the real server: every worker's requests in one scrape, JSON access and app
    lines joined by the request id, and no reader's email address anywhere."""
    sessions, created = committed
    slug = committed_shop(sessions, created, copies=3)
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    with serve(database_url, workers=2, threads=2, access_log=access, error_log=errors,
               env={"LOG_FORMAT": "json", "METRICS_TOKEN": TOKEN}) as served:
        statuses = [post(served.base, slug, n) for n in range(3)]
        for _ in range(20):
            urllib.request.urlopen(served.base + "/healthz", timeout=5).read()
        scrape = urllib.request.Request(served.base + "/metrics",
                                        headers={"Authorization": f"Bearer {TOKEN}"})
        text = urllib.request.urlopen(scrape, timeout=5).read().decode()
        with pytest.raises(urllib.error.HTTPError):  # and not for anyone else
            urllib.request.urlopen(served.base + "/metrics", timeout=5)
    assert statuses == [201, 201, 201]
    (timed,) = [sample.value for family in text_string_to_metric_families(text)
                for sample in family.samples
                if sample.name == "rayons_http_request_duration_seconds_count"
                and sample.labels["endpoint"] == "public.healthz"]
    assert timed >= 20  # whichever worker answered (and the start-up polls)
    access_lines = [json.loads(line) for line in access.read_text().splitlines()]
    app_lines = [json.loads(line) for line in errors.read_text().splitlines()
                 if line.startswith("{")]
    held = [line for line in app_lines if "held at shop" in line["message"]]
    reserving = {line["request_id"] for line in access_lines
                 if line["request"].startswith("POST /api/v1/reservations")}
    assert len(held) == 3 and {line["request_id"] for line in held} == reserving
    everything = access.read_text() + errors.read_text()
    assert "@example.org" not in everything and "Lecteur" not in everything
