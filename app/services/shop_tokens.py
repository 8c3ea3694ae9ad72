"""Per-shop API tokens for till software pushing stock files: shown once, stored hashed."""
from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Shop

TOKEN_PREFIX = "rayons_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, *, shop: Shop) -> str:
    """A new token replaces the previous one; the plain token is returned once and not kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    shop.api_token_hash = _digest(token)
    session.flush()
    return token


def revoke_token(session: Session, *, shop: Shop) -> None:
    shop.api_token_hash = None
    session.flush()


def shop_for_token(session: Session, *, slug: str, token: str) -> Shop | None:
    """The shop when `token` is this shop's token.

    None for a wrong or revoked token, and for another shop's token.
    """
    shop = session.scalar(select(Shop).where(Shop.slug == slug))
    if shop is None or shop.api_token_hash is None:
        return None
    if not hmac.compare_digest(shop.api_token_hash, _digest(token)):
        return None
    return shop
