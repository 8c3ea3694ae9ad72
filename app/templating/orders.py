"""Template words for order requests: states, decline reasons, the book's title or "unknown
title", and the buttons a desk card shows (all read from `app.orders.lifecycle`)."""
from __future__ import annotations

from flask import Flask
from flask_babel import gettext

from app.order_mail import order_title
from app.orders.lifecycle import DECLINE_REASONS, HAPPY_PATH, STATE_LABELS, is_active, staff_verbs


def order_state_label(state: str) -> str:
    label = STATE_LABELS.get(state)
    return gettext(label) if label is not None else state


def decline_reason_label(reason: str | None) -> str:
    label = DECLINE_REASONS.get(reason or "")
    return gettext(label) if label is not None else ""


def init_app(app: Flask) -> None:
    app.add_template_filter(order_state_label, "order_state")
    app.add_template_filter(decline_reason_label, "decline_reason")
    app.add_template_filter(order_title, "order_title")
    app.add_template_global(staff_verbs, "order_verbs")
    app.jinja_env.globals.update(order_path=HAPPY_PATH, decline_reasons=tuple(DECLINE_REASONS))
    app.add_template_test(is_active, "order_active")
