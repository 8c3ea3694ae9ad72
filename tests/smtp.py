"""Real SMTP listeners on 127.0.0.1 for tests that check mail end to end: one that accepts
(aiosmtpd), and one that accepts connections and then never says a word."""
from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage

from aiosmtpd.controller import Controller


class Inbox:
    """Collects every message the listener accepts, parsed; `delay_s` makes the server take
    that long over each message, as a real one over the network does."""

    def __init__(self, delay_s: float = 0) -> None:
        self.messages: list[EmailMessage] = []
        self.delay_s = delay_s

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        raw = envelope.original_content or envelope.content  # type: ignore[attr-defined]
        message = email.message_from_bytes(raw, policy=email.policy.default)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def smtp_listener(delay_s: float = 0) -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox(delay_s)
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@contextmanager
def hung_smtp_listener() -> Iterator[int]:
    """A server that accepts every connection and never sends its greeting: a client waits
    for its timeout. Yields the port."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)  # so that the accepting thread sees the end of the test
    held: list[socket.socket] = []
    closing = threading.Event()

    def accept() -> None:
        while not closing.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            held.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        closing.set()
        thread.join(5)
        listener.close()
        for connection in held:
            connection.close()
