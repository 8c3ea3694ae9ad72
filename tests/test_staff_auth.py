"""Staff sign-in: hashed passwords, rotated sessions, real logout, throttling, rate limits."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.conftest import PINNED_AT
from tests.factories import make_shop, make_staff

PASSWORD = "correct horse battery"


def login(client: FlaskClient, email: str, password: str = PASSWORD,
          address: str = "127.0.0.1") -> int:
    return client.post("/staff/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address}).status_code


def test_login_rotates_the_session_and_logout_kills_a_replayed_cookie(
    client: FlaskClient, session: Session
) -> None:
    staff = make_staff(session, shops=[make_shop(session)])
    client.get("/?lang=en")  # something in the session before login
    with client.session_transaction() as before:
        before["planted"] = "by an attacker"
    assert login(client, staff.email) == 302
    with client.session_transaction() as after:
        assert "planted" not in after and after["staff_id"] == staff.id
        stolen = dict(after)
    assert client.get("/staff/").status_code == 200
    client.post("/staff/logout")
    assert client.get("/staff/").status_code == 302
    with client.session_transaction() as replay:
        replay.update(stolen)  # the old cookie, replayed
    assert client.get("/staff/").status_code == 302


def test_wrong_password_and_unknown_email_read_the_same(client: FlaskClient,
                                                        session: Session) -> None:
    staff = make_staff(session, shops=[make_shop(session)])
    wrong = client.post("/staff/login", data={"email": staff.email, "password": "nope"})
    unknown = client.post("/staff/login", data={"email": "ghost@example.org", "password": "x"})
    assert wrong.status_code == unknown.status_code == 401
    message = "Adresse e-mail ou mot de passe incorrect, ou compte temporairement bloqué."
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)


def test_a_guesser_waits_but_cannot_lock_the_bookseller_out(
        client: FlaskClient, session: Session, pinned_clock: Callable[[datetime], None]) -> None:
    staff = make_staff(session, shops=[make_shop(session)])
    for _ in range(5):
        assert login(client, staff.email, "wrong password", address="203.0.113.9") == 401
    # The guesser must now wait, even with the right password: guessing cannot go faster...
    assert login(client, staff.email, address="203.0.113.9") == 401
    # ...but the bookseller, from the shop's address, signs in at once.
    assert login(client, staff.email, address="198.51.100.7") == 302
    # Once the wait (2 s after the 5th failure) is over, the guesser's next try is checked.
    pinned_clock(PINNED_AT + timedelta(seconds=3))
    assert login(client, staff.email, address="203.0.113.9") == 302


def test_many_addresses_delay_an_account_by_seconds_only(
        client: FlaskClient, session: Session, pinned_clock: Callable[[datetime], None]) -> None:
    staff = make_staff(session, shops=[make_shop(session)])
    for n in range(40):
        assert login(client, staff.email, "wrong", address=f"203.0.113.{n}") == 401
    assert login(client, staff.email, address="198.51.100.7") == 401  # everyone waits...
    pinned_clock(PINNED_AT + timedelta(seconds=31))
    assert login(client, staff.email, address="198.51.100.7") == 302  # ...30 s at most


def test_login_attempts_are_rate_limited(client: FlaskClient) -> None:
    statuses = [login(client, f"x{n}@example.org", "x") for n in range(12)]
    assert 429 in statuses


def test_forms_need_csrf_tokens(app: Flask, client: FlaskClient, session: Session) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    staff = make_staff(session, shops=[make_shop(session)])
    assert login(client, staff.email) == 400  # no token: refused before any password check
    page = client.get("/staff/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post("/staff/login", data={"email": staff.email, "password": PASSWORD,
                                                 "csrf_token": token})
    assert response.status_code == 302
