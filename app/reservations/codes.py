"""The reader's reservation code: derived from the form's one-time key, stored only hashed."""
from __future__ import annotations

import base64
import hashlib
import hmac

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import Reservation


def code_for(secret: str, idempotency_key: str) -> str:
    """The reader's code, derived from the form's one-time key with the server secret.

    A retried request recomputes the same code, so a double click shows the reader the same
    reservation and code instead of a second hold; without the secret, codes are unguessable
    (160 bits of HMAC, base32).
    """
    digest = hmac.new(secret.encode(), b"reservation:" + idempotency_key.encode(),
                      hashlib.sha256).digest()
    return _base32(digest[:20])


def _base32(raw: bytes) -> str:
    return base64.b32encode(raw).decode().rstrip("=").lower()


def hash_code(code: str) -> bytes:
    """What is stored and looked up: the SHA-256 of the code, case and spaces ignored."""
    return hashlib.sha256(code.strip().lower().encode()).digest()


def find_by_code(session: Session, code: str) -> Reservation:
    digest = hash_code(code)
    reservation = session.scalar(select(Reservation).where(Reservation.code_hash == digest))
    if reservation is None or not hmac.compare_digest(reservation.code_hash, digest):
        raise NotFound("no reservation has this code", code="unknown_reservation")
    return reservation
