"""gunicorn's access log without readers' reservation codes.

A reservation code is the reader's only proof of their hold: whoever reads it can see the
reader's name and cancel. It travels in URLs (`/reservations/<code>`, the API's
`/api/v1/reservations/<code>`, an order request's `/commandes/<code>`), and from there into the
request line and, through the Referer header, into the log lines of every asset the confirmation
page loads. Log files outlive the personal-data purge and are read by more people than the
database, so every code is replaced by the first hex digits of the SHA-256 that the database
stores (`reservation.code_hash`, `order_request.code_hash`): an operator can still find the
reservation or order a line is about, nobody can use it.

`gunicorn.conf.py` names `RedactingLogger` as its `logger_class`. With `LOG_FORMAT=json` (the
production default, see config.py) each access is one JSON object, like the app's own lines
(`app/logs.py`), with the request id the app put in `X-Request-Id`.
"""
from __future__ import annotations

import json
import os
import re
from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger

from app.reservations.codes import hash_code
from config import Config

# The reader's routes only: a path that starts there, in a request line (after the method and a
# space) or in a full URL (after the host). Staff routes (`/staff/reservations/<id>/...`) carry a
# row id, not a code, and stay readable.
_CODE_IN_URL = re.compile(r'(?P<before>(?:^|\s|//[^/\s"]*)'
                          r'(?:(?:/api/v1)?/reservations/|/commandes/))'
                          r'(?P<code>[^/?#\s"]+)')
HASH_HEX_DIGITS = 12


def redact_codes(text: str) -> str:
    """`text` with every reservation code in a URL replaced by `#` and its hash's first digits."""
    return _CODE_IN_URL.sub(_hashed, text)


def _hashed(match: re.Match[str]) -> str:
    digest = hash_code(match["code"]).hex()[:HASH_HEX_DIGITS]
    return f"{match['before']}#{digest}"


class RedactingLogger(Logger):
    """gunicorn's logger, with codes redacted from every value an access-log format can print."""

    def __init__(self, cfg: Any) -> None:
        super().__init__(cfg)
        self._json = Config.from_environ()["LOG_FORMAT"] == "json"

    def access(self, resp: Any, req: Any, environ: dict[str, Any],
               request_time: timedelta) -> None:
        if not self._json:
            super().access(resp, req, environ, request_time)
            return
        if not self.access_log_enabled:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        line = {"time": atoms["t"], "level": "INFO", "logger": "access",
                "request_id": atoms.get("{x-request-id}o", "-"), "remote": atoms["h"],
                "pid": os.getpid(),
                "request": atoms["r"], "status": atoms["s"], "bytes": atoms["B"] or 0,
                "duration_ms": atoms["M"], "referer": atoms["f"], "user_agent": atoms["a"]}
        self.access_log.info(json.dumps(line, ensure_ascii=False))

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any],
              request_time: timedelta) -> dict[str, Any]:
        values: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        return {key: redact_codes(value) if isinstance(value, str) else value
                for key, value in values.items()}
