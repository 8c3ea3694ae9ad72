"""The reader's address behind trusted proxies: X-Forwarded-* believed only from them."""
from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.proxies import TrustedProxies
from config import Config, ConfigError, trusted_networks
from tests.factories import make_edition, make_shop, make_staff, make_stock_line

PROXY = "10.0.0.1"


def seen(trusted: str, remote: str, headers: dict[str, str]) -> dict[str, Any]:
    """The environ an app behind TrustedProxies receives."""
    received: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Callable[..., object]) -> Iterable[bytes]:
        received.update(environ)
        return []
    environ = {"REMOTE_ADDR": remote, "wsgi.url_scheme": "http", "HTTP_HOST": "127.0.0.1:8000",
               **{"HTTP_" + name.upper().replace("-", "_"): value
                  for name, value in headers.items()}}
    TrustedProxies(app, trusted_networks(trusted))(environ, lambda *args: None)
    return received


@pytest.mark.parametrize(("trusted", "remote", "forwarded_for", "reader"), [
    # The proxy's own entry names the reader; what the client wrote before it is ignored.
    (PROXY, PROXY, "203.0.113.7", "203.0.113.7"),
    (PROXY, PROXY, "198.51.100.1, 203.0.113.7", "203.0.113.7"),
    # Not from a trusted proxy: the peer is the reader, whatever it claims.
    (PROXY, "203.0.113.7", "198.51.100.1", "203.0.113.7"),
    ("10.0.0.0/8", "192.168.1.1", "198.51.100.1", "192.168.1.1"),
    # A chain of trusted proxies (a load balancer, then nginx) is walked through.
    ("10.0.0.0/8", "10.0.0.2", "198.51.100.1, 203.0.113.7, 10.0.0.3", "203.0.113.7"),
    # An entry that is no address ends the walk at the last address known.
    (PROXY, PROXY, "not-an-address", PROXY),
    ("10.0.0.0/8", "10.0.0.2", "unknown, 10.0.0.3", "10.0.0.3"),
    # A reader inside the trusted network, and a trusted peer that forwards nothing.
    ("10.0.0.0/8", "10.0.0.2", "10.0.0.9", "10.0.0.9"),
    (PROXY, PROXY, "", PROXY),
    ("::1", "::1", "2001:db8::7", "2001:db8::7"),
    ("127.0.0.1", "::ffff:127.0.0.1", "203.0.113.7", "203.0.113.7"),
])
def test_the_reader_is_the_first_address_outside_the_trusted_proxies(
        trusted: str, remote: str, forwarded_for: str, reader: str) -> None:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    assert seen(trusted, remote, headers)["REMOTE_ADDR"] == reader


@pytest.mark.parametrize(("remote", "forwarded", "scheme", "host"), [
    (PROXY, {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "rayons.example"},
     "https", "rayons.example"),
    # Only from a trusted proxy.
    ("203.0.113.7", {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"},
     "http", "127.0.0.1:8000"),
    # Two proxies: the outer one faced the reader; its value is the first when the inner one
    # passed the header on, and its own entry when the inner one appended.
    ("10.0.0.2", {"X-Forwarded-For": "203.0.113.7, 10.0.0.1", "X-Forwarded-Proto": "https"},
     "https", "127.0.0.1:8000"),
    ("10.0.0.2", {"X-Forwarded-For": "203.0.113.7, 10.0.0.1",
                  "X-Forwarded-Proto": "ftp, https, http"}, "https", "127.0.0.1:8000"),
    (PROXY, {"X-Forwarded-Proto": "gopher"}, "http", "127.0.0.1:8000"),
])
def test_scheme_and_host_come_from_the_proxy_that_faced_the_reader(
        remote: str, forwarded: dict[str, str], scheme: str, host: str) -> None:
    environ = seen("10.0.0.0/8", remote, forwarded)
    assert (environ["wsgi.url_scheme"], environ["HTTP_HOST"]) == (scheme, host)


@pytest.mark.parametrize(("raw", "networks"), [
    ("", ()),
    ("127.0.0.1", (ipaddress.ip_network("127.0.0.1/32"),)),
    ("10.0.0.0/8, ::1", (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1"))),
])
def test_trusted_proxies_from_the_environment(raw: str, networks: tuple[object, ...]) -> None:
    assert Config.from_environ({"TRUSTED_PROXIES": raw})["TRUSTED_PROXIES"] == networks


@pytest.mark.parametrize("raw", ["10.0.0.1/8", "localhost", "10.0.0.0/33"])
def test_a_wrong_trusted_network_stops_the_start(raw: str) -> None:
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        Config.from_environ({"TRUSTED_PROXIES": raw})


def reserve(client: FlaskClient, reader: str, n: int, *, peer: str = PROXY) -> int:
    return client.post("/api/v1/reservations", json={
        "shop": "la-mouette", "isbn": "9782070368228", "name": "Camille",
        "email": f"{reader}-{n}@example.org"},
        environ_base={"REMOTE_ADDR": peer}, headers={"X-Forwarded-For": reader}).status_code


@pytest.fixture()
def stocked(session: Session) -> None:
    make_edition(session, isbn13="9782070368228")
    shop = make_shop(session, slug="la-mouette", opening_hours="Mo-Su 00:00-24:00")
    make_stock_line(session, shop=shop, isbn13="9782070368228", on_hand=100)


@pytest.fixture()
def proxied(make_app: Callable[..., Flask], stocked: None) -> FlaskClient:
    return make_app(TRUSTED_PROXIES=trusted_networks(PROXY)).test_client()


def test_behind_the_proxy_each_reader_has_their_own_limit(proxied: FlaskClient) -> None:
    first = [reserve(proxied, "203.0.113.7", n) for n in range(11)]
    assert first == [201] * 10 + [429]
    assert reserve(proxied, "203.0.113.8", 0) == 201


def test_a_forged_forwarded_for_gives_no_fresh_limit(proxied: FlaskClient) -> None:
    """From outside the trusted proxies, a new X-Forwarded-For on every request changes
    nothing: the connecting address is the reader's."""
    statuses = [reserve(proxied, f"198.51.100.{n}", n, peer="203.0.113.9") for n in range(11)]
    assert statuses == [201] * 10 + [429]


def test_without_trusted_proxies_the_header_is_ignored(client: FlaskClient, stocked: None) -> None:
    """The default trusts no proxy: even from the proxy's address, the header is not read."""
    statuses = [reserve(client, f"198.51.100.{n}", n) for n in range(11)]
    assert statuses == [201] * 10 + [429]


def test_links_use_the_scheme_and_host_the_reader_used(proxied: FlaskClient) -> None:
    answer = proxied.get("/api/v1/shops", environ_base={"REMOTE_ADDR": PROXY}, headers={
        "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "rayons.example"})
    [shop] = answer.get_json()["shops"]
    assert shop["links"]["shop"].startswith("https://rayons.example/")


def test_the_sign_in_throttle_tells_readers_behind_the_proxy_apart(
        make_app: Callable[..., Flask], session: Session,
        pinned_clock: Callable[[datetime], None]) -> None:
    """A guesser behind the shared proxy waits; the bookseller behind it signs in at once."""
    staff = make_staff(session, shops=[make_shop(session)])
    client = make_app(TRUSTED_PROXIES=trusted_networks(PROXY)).test_client()

    def login(password: str, reader: str) -> int:
        return client.post("/staff/login", data={"email": staff.email, "password": password},
                           environ_base={"REMOTE_ADDR": PROXY},
                           headers={"X-Forwarded-For": reader}).status_code
    for _ in range(5):
        assert login("wrong", "203.0.113.9") == 401
    assert login("correct horse battery", "203.0.113.9") == 401
    assert login("correct horse battery", "198.51.100.7") == 302
