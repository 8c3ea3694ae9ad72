"""Errors that carry an HTTP status and a message safe to show to the user (no Flask here)."""
from __future__ import annotations

from typing import Any


class RayonsError(Exception):
    """Base of the errors a service raises on purpose; the message is shown as is."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        # Machine-readable members added to an API problem document (e.g. the `reason` of an
        # invalid ISBN), so a client can react without parsing the message.
        self.extra = extra or {}


class NotFound(RayonsError):
    status = 404
    code = "not_found"


class Conflict(RayonsError):
    status = 409
    code = "conflict"


class Gone(RayonsError):
    status = 410
    code = "gone"


class InvalidInput(RayonsError):
    status = 422
    code = "invalid_input"


class Unauthorized(RayonsError):
    status = 401
    code = "unauthorized"


class PayloadTooLarge(RayonsError):
    status = 413
    code = "payload_too_large"
