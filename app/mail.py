"""Outgoing mail: Flask-Mailman configured from the environment (see config.py).

Mail always leaves after the transaction that caused it has committed, and a failure to send is
logged, never raised into the work that triggered it.
"""
from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_mailman import EmailMultiAlternatives, Mail

logger = logging.getLogger(__name__)
mail = Mail()


def init_app(app: Flask) -> None:
    mail.init_app(app)


def send(*, to: list[str], subject: str, template: str, **context: object) -> bool:
    """Render `email/<template>.txt` and `.html` and send them; False (logged) on failure."""
    text = render_template(f"email/{template}.txt", **context)
    html = render_template(f"email/{template}.html", **context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=to)
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except Exception:  # a mail server down must not undo what already happened
        logger.exception("mail %r could not be sent", template)
        return False
    return True
