"""POST/GET/DELETE /api/v1/reservations, the sweeper and the purge (mail: test_mail_worker.py)."""
from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.clock import database_now
from app.models import OutboxMail, Reservation, Shop
from app.reservations import codes
from tests.factories import make_edition, make_shop, make_stock_line

ISBN = "9782070368228"


@pytest.fixture()
def shop(session: Session) -> Shop:
    make_edition(session, isbn13=ISBN)
    shop = make_shop(session, slug="la-mouette", opening_hours="Mo-Su 00:00-24:00",
                     email="shop@mouette.example")
    make_stock_line(session, shop=shop, isbn13=ISBN, on_hand=1)
    return shop


def reserve(client: FlaskClient, **overrides: object):  # type: ignore[no-untyped-def]
    body = {"shop": "la-mouette", "isbn": "978-2-07-036822-8", "name": "Camille",
            "email": "camille@example.org"}
    body.update(overrides)
    return client.post("/api/v1/reservations", json=body)


def test_create_read_cancel(client: FlaskClient, shop: Shop) -> None:
    created = reserve(client, idempotency_key="k1")
    assert created.status_code == 201
    body = created.get_json()
    assert body["state"] == "held" and body["title"] == "L'Étranger" and body["deadline"]
    assert re.fullmatch(r"[2-9A-HJKMNP-TV-Z]{6}", body["pickup_code"])
    replay = reserve(client, idempotency_key="k1")
    assert replay.status_code == 200 and replay.get_json()["code"] == body["code"]
    read = client.get(f"/api/v1/reservations/{body['code']}")
    assert read.status_code == 200 and read.headers["Cache-Control"] == "no-store"
    cancelled = client.delete(f"/api/v1/reservations/{body['code']}")
    assert cancelled.get_json()["state"] == "cancelled"
    again = client.delete(f"/api/v1/reservations/{body['code']}")
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    # Deleted, so gone: a read no longer answers the reservation (RFC 9110).
    gone = client.get(f"/api/v1/reservations/{body['code']}")
    assert gone.status_code == 410 and gone.get_json()["code"] == "reservation_cancelled"


@pytest.mark.parametrize(("overrides", "status", "code"), [
    ({"locale": "en"}, 201, None),
    ({"locale": None}, 201, None),
    ({"email": None, "phone": "06 12 34 56 78"}, 201, None),
    ({"email": "   ", "phone": "06 12 34 56 78"}, 201, None),  # blank: not given
    ({"locale": "de"}, 422, "invalid_body"),
    ({"locale": {}}, 422, "invalid_body"),
    ({"locale": " fr"}, 422, "invalid_body"),
    ({"email": None, "phone": "²²²²²²"}, 422, "invalid_phone"),  # not digits one can dial
    # Held to the document's maxLength as sent, blanks included.
    ({"email": None, "phone": "06 12 34 56 78" + " " * 40}, 422, "too_long"),
    ({"phone": " " * 41}, 422, "too_long"),
    ({"isbn": "ISBN 978-2-07-036822-8"}, 422, "invalid_isbn"),
])
def test_the_body_is_read_as_documented(client: FlaskClient, shop: Shop,
                                        overrides: dict[str, object], status: int,
                                        code: str | None) -> None:
    response = reserve(client, **overrides)
    assert response.status_code == status, response.get_json()
    assert response.get_json().get("code") == code or status == 201


def test_errors(client: FlaskClient, session: Session, shop: Shop) -> None:
    partner = make_shop(session, slug="partner")
    make_stock_line(session, shop=partner, isbn13=ISBN, on_hand=1)
    assert reserve(client).status_code == 201
    lost = reserve(client, email="other@example.org")
    assert lost.status_code == 409
    assert [a["slug"] for a in lost.get_json()["alternatives"]] == ["partner"]
    assert reserve(client, isbn="978-2-07-036822-9").get_json()["title"] == "invalid_isbn"
    assert reserve(client, email=None).status_code == 422
    assert reserve(client, shop="nowhere").status_code == 404
    assert client.post("/api/v1/reservations", data="nope").status_code == 422
    assert client.get("/api/v1/reservations/unknown").status_code == 404


def test_rate_limit_on_reserve(app: Flask, client: FlaskClient, shop: Shop) -> None:
    statuses = [reserve(client, email=f"r{n}@example.org").status_code for n in range(12)]
    assert statuses.count(429) >= 1 and 500 not in statuses


def test_sweeper_expires_reminds_and_sends(cli: FlaskCliRunner, app: Flask, session: Session,
                                           client: FlaskClient, shop: Shop) -> None:
    code = reserve(client).get_json()["code"]
    r = session.scalars(select(Reservation)).one()
    r.expires_at = database_now(session) + timedelta(minutes=20)
    session.flush()
    result = cli.invoke(args=["reservations", "sweep"])
    assert "reminders: 1" in result.output
    r.created_at = database_now(session) - timedelta(hours=3)
    r.expires_at = database_now(session) - timedelta(minutes=1)
    session.flush()
    result = cli.invoke(args=["reservations", "sweep"])
    assert "expired: 1" in result.output
    session.refresh(r)
    assert r.state == "expired"
    subjects = [m.subject for m in app.extensions["mailman"].outbox]
    assert any("30 minutes" in s for s in subjects) and any("expiré" in s for s in subjects)
    assert client.get(f"/api/v1/reservations/{code}").get_json()["state"] == "expired"


def test_purge_erases_personal_data_after_the_delay(cli: FlaskCliRunner, session: Session,
                                                    client: FlaskClient, shop: Shop) -> None:
    reserve(client)
    r = session.scalars(select(Reservation)).one()
    r.state, r.cancelled_at = "cancelled", database_now(session) - timedelta(days=31)
    session.flush()
    assert "erased from 1" in cli.invoke(args=["reservations", "purge", "--days", "30"]).output
    session.refresh(r)
    assert (r.customer_name, r.customer_email, r.customer_phone) == (None, None, None)
    assert r.personal_data_erased_at is not None and r.title_snapshot == "L'Étranger"


@pytest.mark.parametrize(("setting", "args", "erased"), [
    (30, [], False),                # the default: 30 days
    (10, [], True),                 # PERSONAL_DATA_DAYS shortens it
    (10, ["--days", "30"], False),  # --days overrides the setting
])
def test_purge_delay_comes_from_the_setting(app: Flask, cli: FlaskCliRunner, session: Session,
                                            client: FlaskClient, shop: Shop, setting: int,
                                            args: list[str], erased: bool) -> None:
    reserve(client)
    r = session.scalars(select(Reservation)).one()
    r.state, r.cancelled_at = "cancelled", database_now(session) - timedelta(days=20)
    session.flush()
    app.config["PERSONAL_DATA_DAYS"] = setting
    output = cli.invoke(args=["reservations", "purge", *args]).output
    assert f"erased from {int(erased)} reservations" in output
    session.refresh(r)
    assert (r.personal_data_erased_at is not None) is erased


def test_someone_elses_idempotency_key_gives_them_nothing(client: FlaskClient,
                                                           session: Session, shop: Shop) -> None:
    """The attack found in review: reader A reserved with key `order-1001`; another client sent
    the same key with its own name and got 200 with A's code, then cancelled A's hold with it."""
    make_stock_line(session, shop=make_shop(session, slug="la-cigale"), isbn13=ISBN, on_hand=1)
    mine = reserve(client, idempotency_key="order-1001")
    assert mine.status_code == 201
    my_code = mine.get_json()["code"]
    theirs = reserve(client, idempotency_key="order-1001", name="Mallory",
                     email="mallory@example.org")
    # The last copy is A's: the stranger's request is a new request, refused for want of copies,
    # and never a replay of A's.
    assert theirs.status_code == 409 and theirs.get_json()["code"] == "no_copy_left"
    assert my_code not in theirs.get_data(as_text=True)
    # The same key for another shop: a new reservation, not a conflict telling the key exists.
    elsewhere = reserve(client, idempotency_key="order-1001", shop="la-cigale", name="Mallory",
                        email="mallory@example.org")
    assert elsewhere.status_code == 201 and elsewhere.get_json()["code"] != my_code
    client.delete(f"/api/v1/reservations/{elsewhere.get_json()['code']}")
    assert client.get(f"/api/v1/reservations/{my_code}").get_json()["state"] == "held"


def test_a_key_replays_only_its_requesters_identical_request(client: FlaskClient,
                                                             shop: Shop) -> None:
    first = reserve(client, idempotency_key="k2", phone="06 12 34 56 78")
    assert first.status_code == 201
    again = reserve(client, idempotency_key="k2", phone="06 12 34 56 78")
    assert again.status_code == 200 and again.get_json()["code"] == first.get_json()["code"]
    changed = reserve(client, idempotency_key="k2", phone="06 99 99 99 99")
    assert changed.status_code == 409 and changed.get_json()["code"] == "idempotency_key_reused"


def test_codes_come_from_the_server_not_from_the_key(session: Session, client: FlaskClient,
                                                     shop: Shop) -> None:
    code = reserve(client, idempotency_key="k3").get_json()["code"]
    r = session.scalars(select(Reservation)).one()
    assert r.idempotency_key != "k3" and len(r.idempotency_key or "") == 64
    assert code == codes.code_for("test-secret", r.code_seed)
    assert code != codes.code_for("test-secret", b"k3")


def test_purge_also_erases_the_request_key(cli: FlaskCliRunner, session: Session,
                                           client: FlaskClient, shop: Shop) -> None:
    reserve(client, idempotency_key="k4")
    r = session.scalars(select(Reservation)).one()
    r.state, r.cancelled_at = "cancelled", database_now(session) - timedelta(days=31)
    r.cancel_reason = "Camille a appelé : elle passera jeudi"  # free text may name the reader
    mail = session.scalars(select(OutboxMail).where(OutboxMail.reservation_id == r.id)).first()
    assert mail is not None
    mail.last_error = "550 <camille@example.org>: recipient refused"
    session.flush()
    cli.invoke(args=["reservations", "purge"])
    session.refresh(r)
    session.refresh(mail)
    assert (r.idempotency_key, r.request_fingerprint, r.cancel_reason) == (None, None, None)
    assert mail.last_error is None


def test_purge_erases_old_mail_files(app: Flask, cli: FlaskCliRunner, tmp_path: Path) -> None:
    """The file mail backend keeps each mail, code and contact included: as long as the rows."""
    app.config.update(MAIL_BACKEND="file", MAIL_FILE_PATH=str(tmp_path))
    now = clock.now().timestamp()
    ages = {"old.log": timedelta(days=31), "recent.log": timedelta(days=29)}
    for name, age in ages.items():
        (tmp_path / name).write_text("To: camille@example.org")
        os.utime(tmp_path / name, (now - age.total_seconds(),) * 2)
    assert "mail files erased: 1" in cli.invoke(args=["reservations", "purge"]).output
    assert [path.name for path in tmp_path.iterdir()] == ["recent.log"]


def test_a_lapsed_hold_reads_expired_before_the_sweeper_runs(client: FlaskClient,
                                                             session: Session, shop: Shop) -> None:
    """As on the reader's page: the deadline decides, not whether the sweeper has passed."""
    code = reserve(client).get_json()["code"]
    reservation = session.scalars(select(Reservation)).one()
    now = database_now(session)
    reservation.created_at, reservation.expires_at = now - timedelta(hours=3), now - timedelta(
        minutes=1)
    session.flush()
    answer = client.get(f"/api/v1/reservations/{code}").get_json()
    assert (answer["state"], reservation.state) == ("expired", "held")
    refused = client.delete(f"/api/v1/reservations/{code}")
    assert refused.status_code == 409 and refused.get_json()["code"] == "expired"
