# Stub for Flask-Mailman 1.1 (untyped): only the names Rayons uses. See typings/README.md.
from collections.abc import Sequence

from flask import Flask

class Mail:
    def __init__(self, app: Flask | None = None) -> None: ...
    # Returns the mail state it registered under app.extensions["mailman"].
    def init_app(self, app: Flask) -> object: ...

class EmailMessage:
    def __init__(self, subject: str = "", body: str = "",
                 to: Sequence[str] | None = None) -> None: ...
    # The number of messages sent (0 without recipients); raises when the backend fails,
    # unless fail_silently.
    def send(self, fail_silently: bool = False) -> int: ...

class EmailMultiAlternatives(EmailMessage):
    def attach_alternative(self, content: str, mimetype: str) -> None: ...
