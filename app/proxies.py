"""The reader's address, and the scheme and host they asked for, behind trusted reverse proxies.

Behind nginx every request comes from the proxy's address: rate limits and the sign-in throttle
keyed on it would put every reader in one bucket. Each proxy appends the address it received the
request from to `X-Forwarded-For`, so the list ends with what trusted proxies wrote and starts
with whatever the client sent, which anyone can forge. `TrustedProxies` therefore reads it from
the right: starting from the connecting peer, as long as the address in hand belongs to
TRUSTED_PROXIES (networks, config.py) it is a proxy and the entry before it names who connected
to it. The first address outside the trusted networks is the reader. A peer outside them is the
reader itself, whatever headers it sends; with no trusted network (the default: the app faces
the readers directly) the middleware is not even installed.

Unlike werkzeug's `ProxyFix`, which trusts a fixed number of hops from any peer, nothing here
depends on who connected: a client that reaches gunicorn directly gains nothing by forging
headers, and a chain of proxies (a load balancer, then nginx) needs only their networks.

`X-Forwarded-Proto` and `X-Forwarded-Host` (the scheme and host the reader used, for absolute
links) are taken from the proxy that faced the reader: the value it appended, counted from the
right like the addresses, or the first value when inner proxies passed the header on unchanged.
The environ is changed in place, so gunicorn's access log shows the reader's address too.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from flask import Flask

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class TrustedProxies:
    """WSGI middleware: REMOTE_ADDR, the URL scheme and Host as the reader sent them."""

    def __init__(self, app: WSGIApplication, networks: Iterable[Network]) -> None:
        self.app = app
        self.networks = tuple(networks)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        peer = parse_address(environ.get("REMOTE_ADDR", ""))
        if peer is not None and self.trusts(peer):
            self._rewrite(environ, peer)
        return self.app(environ, start_response)

    def trusts(self, address: Address) -> bool:
        return any(address in network for network in self.networks)

    def _rewrite(self, environ: dict[str, Any], peer: Address) -> None:
        client, hops = peer, 0
        for entry in reversed(_values(environ.get("HTTP_X_FORWARDED_FOR", ""))):
            if not self.trusts(client):
                break
            forwarded = parse_address(entry)
            if forwarded is None:  # garbage can only come from the client's end of the list
                break
            client, hops = forwarded, hops + 1
        environ["REMOTE_ADDR"] = str(client)
        # The proxy that faced the reader is the `hops`-th from here (the peer when no list).
        facing = max(hops, 1)
        scheme = _from_facing_proxy(environ.get("HTTP_X_FORWARDED_PROTO", ""), facing)
        if scheme in ("http", "https"):
            environ["wsgi.url_scheme"] = scheme
        host = _from_facing_proxy(environ.get("HTTP_X_FORWARDED_HOST", ""), facing)
        if host:
            environ["HTTP_HOST"] = host


def parse_address(text: str) -> Address | None:
    """An IP address, IPv4-mapped IPv6 addresses read as IPv4; None for anything else."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _values(header: str) -> list[str]:
    return [value.strip() for value in header.split(",") if value.strip()]


def _from_facing_proxy(header: str, facing: int) -> str:
    values = _values(header)
    if not values:
        return ""
    return values[max(len(values) - facing, 0)]


def init_app(app: Flask) -> None:
    """Wrap the app when TRUSTED_PROXIES names networks; leave it alone otherwise."""
    networks: tuple[Network, ...] = tuple(app.config.get("TRUSTED_PROXIES", ()))
    if networks:
        # Flask's documented way to add WSGI middleware, which mypy sees as replacing a method.
        app.wsgi_app = TrustedProxies(app.wsgi_app, networks)  # type: ignore[method-assign]
