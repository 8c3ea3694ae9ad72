"""Outgoing mail: Flask-Mailman configured from the environment (see config.py).

Mail is only ever sent by the mail worker (`app/outbox.py`), never inside a request: a slow or
hung mail server (`MAIL_TIMEOUT` seconds per exchange) holds up a worker, not a reader.
"""
from __future__ import annotations

from flask import Flask, render_template
from flask_mailman import EmailMultiAlternatives, Mail

mail = Mail()


def init_app(app: Flask) -> None:
    mail.init_app(app)


def compose(*, to: list[str], subject: str, template: str,
            **context: object) -> EmailMultiAlternatives:
    """Render `email/<template>.txt` and `.html` into one message, ready to `send()` (which
    raises when the server refuses it or cannot be reached)."""
    text = render_template(f"email/{template}.txt", **context)
    html = render_template(f"email/{template}.html", **context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=to)
    message.attach_alternative(html, "text/html")
    return message
