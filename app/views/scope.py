"""Which shops a reader's page or an API answer is about: `network=<slug>` (one network's
shops) or, for the search box of a shop's page, `shop=<slug>` (one shop's shelves).

Every reader's page and the read API take the same arguments, resolve them here and carry them
on in their links (search -> book -> reserve), so a reader who came through a network's page
stays among its shops. An unknown network or shop is a 404 that says which (an HTML page, or a
problem document `unknown_network` / `unknown_shop` under /api/).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request
from flask_babel import gettext
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import Network, Shop
from app.services import directory
from app.services.availability import EVERY_SHOP, Scope


@dataclass(frozen=True)
class ReaderScope:
    """The network or shop a request is scoped to (neither: every shop)."""

    network: Network | None = None
    shop: Shop | None = None

    @property
    def scope(self) -> Scope:
        """What the services take."""
        if self.network is not None:
            return Scope(network_id=self.network.id)
        return EVERY_SHOP if self.shop is None else Scope(shop_id=self.shop.id)

    def args(self) -> dict[str, Any]:
        """The arguments links keep, so the next page has the same scope (`Any`: url_for's
        keyword values, which a `str` dict would also check against `_external`)."""
        if self.network is not None:
            return {"network": self.network.slug}
        return {} if self.shop is None else {"shop": self.shop.slug}


def network_named(session: Session, slug: str) -> Network:
    """The network with this slug, or a 404 that names it in the reader's language."""
    try:
        return directory.network_by_slug(session, slug)
    except NotFound:
        raise NotFound(gettext("There is no network called “%(network)s”.", network=slug),
                       code="unknown_network") from None


def network_arg(session: Session) -> Network | None:
    """The `network` argument, resolved; None when absent or empty."""
    slug = request.args.get("network", "").strip()
    return network_named(session, slug) if slug else None


def reader_scope(session: Session, *, shops: bool = False) -> ReaderScope:
    """The request's scope: `network`, or (where `shops` says a page takes it) `shop`."""
    network = network_arg(session)
    slug = request.args.get("shop", "").strip() if shops and network is None else ""
    if not slug:
        return ReaderScope(network=network)
    shop = directory.active_shop(session, slug)
    if shop is None:
        raise NotFound(gettext("There is no bookshop called “%(shop)s”.", shop=slug),
                       code="unknown_shop")
    return ReaderScope(shop=shop)
