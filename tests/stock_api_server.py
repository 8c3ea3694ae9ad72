"""A till vendor's stock API on a real local HTTP server, for the pull tests."""
from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class StockApi(BaseHTTPRequestHandler):
    """A till vendor's API: `limit` and `after` paging behind basic auth; or slow, or broken."""

    refs: list[str] = []
    mode = "ok"
    cap = 1000
    afters: list[str | None] = []
    release = threading.Event()
    credentials = "Basic " + base64.b64encode(b"libraire:secret").decode()

    def do_GET(self) -> None:
        if self.mode == "slow":
            self.release.wait(5)
            return
        if self.mode == "broken":
            self.send_error(500)
            return
        if self.headers.get("Authorization") != self.credentials:
            self.send_error(401)
            return
        query = parse_qs(urlsplit(self.path).query)
        after = query.get("after", [None])[0]
        self.afters.append(after)
        start = self.refs.index(after) + 1 if after else 0
        page = self.refs[start:start + min(int(query["limit"][0]), self.cap)]
        body = json.dumps({"total": len(self.refs), "stocks": [
            {"ref": ref, "available": 1, "price": 10} for ref in page]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output clean."""


@contextmanager
def serve(mode: str = "ok", refs: list[str] | None = None,
          cap: int = 1000) -> Iterator[tuple[str, list[str | None]]]:
    """A real HTTP server on a free local port; yields its URL and the `after` values it got."""
    afters: list[str | None] = []
    release = threading.Event()
    handler = type("Api", (StockApi,), {"refs": refs or [], "mode": mode, "afters": afters,
                                        "release": release, "cap": cap})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/api/stocks", afters
    finally:
        release.set()
        server.shutdown()
        server.server_close()
        thread.join()
