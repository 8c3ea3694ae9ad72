"""Renders an order request's queued mail (Flask side): the reader's, in their language, with
their secret link; the shop's notice, in French. Sent by the mail worker (`app/outbox.py`)."""
from __future__ import annotations

from flask import current_app
from flask_babel import force_locale, gettext
from flask_mailman import EmailMultiAlternatives
from sqlalchemy.orm import Session

from app import mail
from app.models import OrderRequest, Shop
from app.orders.lifecycle import PICKUP_WITHIN, SHOP_MAIL_KINDS
from app.orders.request import order_code


def order_mail(session: Session, *, order_id: int, kind: str) -> EmailMultiAlternatives | None:
    """The rendered mail; None if there is no one left to tell (details erased, no address)."""
    order = session.get(OrderRequest, order_id)
    shop = session.get(Shop, order.shop_id) if order else None
    if order is None or shop is None or order.personal_data_erased_at:
        return None
    shop_mail = kind in SHOP_MAIL_KINDS
    to = shop.email if shop_mail else order.customer_email
    if not to:
        return None
    with force_locale("fr" if shop_mail else order.locale):
        return mail.compose(
            to=[to], subject=order_subject(kind, order), template="order", kind=kind,
            order=order, shop=shop, code=order_code(current_app.config["SECRET_KEY"],
                                                    order.code_seed),
            base_url=current_app.config["PUBLIC_URL"].rstrip("/"),
            pickup_days=PICKUP_WITHIN.days)


def order_title(order: OrderRequest) -> str:
    """The book's title, or "unknown title" with its ISBN when the catalogue had none."""
    if order.title_snapshot:
        return order.title_snapshot
    return gettext("Unknown title (ISBN %(isbn)s)", isbn=order.isbn13)


def order_subject(kind: str, order: OrderRequest) -> str:
    title = order_title(order)
    subjects: dict[str, str] = {
        "order_requested": gettext("Your order request: %(title)s", title=title),
        "order_shop_new": gettext("New order request: %(title)s", title=title),
        "order_ordered": gettext("Ordered for you: %(title)s", title=title),
        "order_arrived": gettext("Your book has arrived: %(title)s", title=title),
        "order_collected": gettext("Enjoy your reading: %(title)s", title=title),
        "order_declined": gettext("Your order could not be placed: %(title)s", title=title),
        "order_cancelled": gettext("Order cancelled: %(title)s", title=title),
        "order_expired": gettext("Your order has ended: %(title)s", title=title),
        "order_shop_cancelled": gettext("Order request cancelled by the reader: %(title)s",
                                        title=title),
    }
    return subjects[kind]
