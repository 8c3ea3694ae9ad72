"""The BnF SRU interface and Open Library's Books API, replayed on a real local HTTP server from
the recorded-format answers in tests/data/enrichment/ (no network in tests)."""
from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

RECORDED = Path(__file__).parent / "data" / "enrichment"


@dataclass
class Replay:
    """What the server answers and what it was asked."""

    mode: str = "ok"  # ok | broken (HTTP 500) | garbage (200 with a body that is no answer)
    requests: list[tuple[str, dict[str, list[str]]]] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    replay: Replay

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        self.replay.requests.append((url.path, query))
        if self.replay.mode == "broken":
            self.send_error(500)
            return
        if self.replay.mode == "garbage":
            self._send(b"<html>maintenance</html>", "text/html")
        elif url.path == "/api/SRU":
            isbn = re.sub(r"\D", "", query.get("query", [""])[0])
            recorded = RECORDED / f"bnf_{isbn}.xml"
            body = (recorded if recorded.is_file() else RECORDED / "bnf_none.xml").read_bytes()
            self._send(body, "text/xml;charset=UTF-8")
        elif url.path == "/api/books":
            books = json.loads((RECORDED / "openlibrary_books.json").read_text(encoding="utf-8"))
            keys = query.get("bibkeys", [""])[0].split(",")
            self._send(json.dumps({key: books[key] for key in keys if key in books}).encode(),
                       "application/json")
        else:
            self.send_error(404)

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output clean."""


@contextmanager
def serve(replay: Replay) -> Iterator[str]:
    """A real HTTP server on a free local port; yields its base URL."""
    handler = type("Bibliographic", (_Handler,), {"replay": replay})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
