# Stub for Flask-Mailman 1.1 (untyped): only the names Rayons uses. See typings/README.md.
from collections.abc import Sequence

from flask import Flask

class Mail:
    def __init__(self, app: Flask | None = None) -> None: ...
    # Returns the mail state it registered under app.extensions["mailman"].
    def init_app(self, app: Flask) -> object: ...

class EmailMessage:
    def __init__(
        self,
        subject: str = "",
        body: str = "",
        from_email: str | tuple[str, str] | None = None,
        to: Sequence[str] | None = None,
        bcc: Sequence[str] | None = None,
        connection: object | None = None,
        attachments: Sequence[object] | None = None,
        headers: dict[str, str] | None = None,
        cc: Sequence[str] | None = None,
        reply_to: Sequence[str] | None = None,
    ) -> None: ...
    # The number of messages sent (0 without recipients); raises when the backend fails,
    # unless fail_silently.
    def send(self, fail_silently: bool = False) -> int: ...

class EmailMultiAlternatives(EmailMessage):
    def __init__(
        self,
        subject: str = "",
        body: str = "",
        from_email: str | tuple[str, str] | None = None,
        to: Sequence[str] | None = None,
        bcc: Sequence[str] | None = None,
        connection: object | None = None,
        attachments: Sequence[object] | None = None,
        headers: dict[str, str] | None = None,
        alternatives: list[tuple[str, str]] | None = None,
        cc: Sequence[str] | None = None,
        reply_to: Sequence[str] | None = None,
    ) -> None: ...
    def attach_alternative(self, content: str, mimetype: str) -> None: ...
