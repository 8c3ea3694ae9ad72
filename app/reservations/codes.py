"""The reader's reservation code, and the keys that make a retried request safe.

The code is the reader's only proof of their reservation: it is derived with the server secret
from a random seed the server draws for each reservation (`code_seed`), never from anything a
client sends, and only its SHA-256 is looked up. The seed lets the outbox put the same code in
every mail.

An idempotency key makes a retried request (a double click, a lost answer) return the first
reservation instead of a second hold. It belongs to whoever sent it: it is stored only as an
HMAC of the requester's scope (the channel and the contact given) and the key, and it replays
only a request with the same fingerprint (every field of the body). Another requester's request
with the same key is simply a new request, so nothing says the key was used before; the same
requester reusing their key for another request gets a conflict. The reservation form's key is
issued and signed by the server (`issue_form_key`), so a page cannot smuggle in another's.

The pickup code is the short companion of the secret code: six characters a reader reads aloud
at the counter (`lifecycle.PICKUP_ALPHABET`), unique among the shop's active reservations. It
opens nothing on the public side (the reader's page needs the secret code); only signed-in staff
look it up, within their own shop and rate-limited (`desk.find_by_pickup_code`), so 729 million
possibilities are plenty.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import Reservation
from app.reservations.lifecycle import ACTIVE_STATES, PICKUP_ALPHABET, PICKUP_CODE_LENGTH

CODE_SEED_BYTES = 20
_FORM_KEY_NONCE_BYTES = 18


def new_code_seed() -> bytes:
    return secrets.token_bytes(CODE_SEED_BYTES)


def code_for(secret: str, seed: bytes) -> str:
    """The reader's code: 160 bits of HMAC of the reservation's seed, base32, lower case."""
    digest = hmac.new(secret.encode(), b"reservation:" + seed, hashlib.sha256).digest()
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


def stored_request_key(secret: str, *, scope: str, key: str) -> str:
    """What is stored for a client's idempotency key: an HMAC of the requester's scope and the
    key (64 hex digits), so the same key from another requester is another key."""
    message = f"idempotency\x00{scope}\x00{key}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def fingerprint(fields: Iterable[object]) -> bytes:
    """The SHA-256 of a request's fields, in order: a replay must repeat every one of them."""
    return hashlib.sha256("\x00".join(str(f) for f in fields).encode()).digest()


def issue_form_key(secret: str) -> str:
    """A one-time key for a reservation form, signed so that only this server's keys count."""
    nonce = secrets.token_urlsafe(_FORM_KEY_NONCE_BYTES)
    return f"{nonce}.{_form_signature(secret, nonce)}"


def checked_form_key(secret: str, value: str | None) -> str | None:
    """The form's key if this server issued it; None for a missing or forged one."""
    nonce, _, signature = (value or "").partition(".")
    if not nonce or not hmac.compare_digest(signature, _form_signature(secret, nonce)):
        return None
    return nonce


def _form_signature(secret: str, nonce: str) -> str:
    message = f"form-key\x00{nonce}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def new_pickup_code(session: Session, *, shop_id: int) -> str:
    """A pickup code no active reservation of the shop has. Candidates are drawn a few at a
    time and checked in one query; the partial unique index is the last word (two readers of
    one shop drawing the same code in the same instant: one in 10^8 even with 100 active)."""
    while True:
        candidates = ["".join(secrets.choice(PICKUP_ALPHABET) for _ in range(PICKUP_CODE_LENGTH))
                      for _ in range(4)]
        taken = set(session.scalars(select(Reservation.pickup_code).where(
            Reservation.shop_id == shop_id, Reservation.state.in_(ACTIVE_STATES),
            Reservation.pickup_code.in_(candidates))))
        for candidate in candidates:
            if candidate not in taken:
                return candidate


def read_pickup_code(typed: str) -> str | None:
    """A code as staff type it (lower case, spaces, a dash) in its stored form; None when it
    cannot be a pickup code (wrong length, a character the alphabet leaves out)."""
    code = "".join(c for c in typed.upper() if c.isalnum())
    if len(code) != PICKUP_CODE_LENGTH or any(c not in PICKUP_ALPHABET for c in code):
        return None
    return code


def spaced_pickup_code(code: str) -> str:
    """`K7P 4XM`: two groups of three are read aloud without losing one's place."""
    half = len(code) // 2
    return f"{code[:half]} {code[half:]}"
