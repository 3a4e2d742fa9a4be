"""A real SMTP server for tests: aiosmtpd on a free loopback port, keeping what it receives."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


def free_port() -> int:
    """Return a loopback port nobody listens on (also how a test gets a closed port)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return cast(EmailMessage, message_from_bytes(self.raw, policy=policy.default))

    @property
    def text(self) -> str:
        return cast(str, self.message.get_content())


@dataclass
class Inbox:
    """The server's handler (aiosmtpd calls the handle_* hooks): keeps every message it accepts.

    Addresses in `reject` are refused for good, as a server does for an unknown mailbox.
    """

    received: list[Received] = field(default_factory=list)
    reject: set[str] = field(default_factory=set)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.reject:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        )
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        return [mail for mail in self.received if address in mail.rcpt_tos]


@dataclass
class SmtpServer:
    port: int
    inbox: Inbox


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    """Run an SMTP server on loopback for the duration of the block."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname=HOST, port=port)
    controller.start()
    try:
        yield SmtpServer(port=port, inbox=inbox)
    finally:
        controller.stop()
