"""Log lines an operator can search and a reader need not fear: one setup for every process.

`configure` sends every logger's records (the importers' INFO lines included) to standard error,
as JSON lines in production (one object per line: time, level, logger, message, request id,
exception) and as readable text in development (`LOG_FORMAT` chooses). Each line of a request
carries its request id (`request_id`, set by the web edge from `X-Request-Id` or drawn), so the
access log, the app's lines and the proxy's can be joined.

No personal data: whatever a message or a traceback says, email addresses come out as
`<email>` (an SMTP refusal quotes its recipient; a database error may quote a row). Reservation
codes never reach a log line either: the app logs reservation ids, and the access log hashes
codes (`app/access_log.py`).
"""
from __future__ import annotations

import logging
import re
import sys
from contextvars import ContextVar
from typing import TextIO

from pythonjsonlogger.json import JsonFormatter

LOG_FORMATS = ("json", "text")
# The request being served in this thread, for every record logged while it is.
request_id: ContextVar[str] = ContextVar("request_id", default="-")
_EMAIL = re.compile(r"[^\s@<>\"'(),;:\[\]]+@[^\s@<>\"'(),;:\[\]]+\.[A-Za-z]{2,}")
_TEXT_LAYOUT = "%(asctime)s %(levelname)s [%(name)s] %(request_id)s %(message)s"
_HANDLER_NAME = "rayons"


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a record comes, not when the handler was made:
    a process (or a test's capture) that replaces standard error is still heard."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


def without_emails(text: str) -> str:
    return _EMAIL.sub("<email>", text)


class _RedactingText(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return without_emails(super().format(record))


class _RedactingJson(JsonFormatter):
    def format(self, record: logging.LogRecord) -> str:
        return without_emails(super().format(record))


def configure(*, log_format: str, level: str = "INFO") -> None:
    """Route every logger to standard error in `log_format`; calling it again replaces only
    what an earlier call installed, so handlers of others (a test's capture) stay."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}")
    formatter: logging.Formatter
    if log_format == "json":
        formatter = _RedactingJson(
            "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False)
    else:
        formatter = _RedactingText(_TEXT_LAYOUT)
    handler = _Stderr()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)

